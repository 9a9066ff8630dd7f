// Starting a child: everything prepared in the parent, then fork and async-signal-safe steps only.
#pragma once

#include "unique_fd.hpp"

#include <hasys/sys/process.hpp>

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace hasys::sys::detail {

struct user_identity {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups, as initgroups would set them
  std::string home;
};

// The passwd entry and group list of user; nullopt with a reason in error when there is none.
std::optional<user_identity> lookup_user(const std::string& user, std::string& error);
// The identity of the effective user of this process.
user_identity current_user();

// What the child needs, as plain strings and arrays built before fork.
struct spawn_plan {
  std::string program;  // argv[0] resolved against cwd
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "KEY=value"
  std::string cwd;
  std::optional<user_identity> user;  // the run-as user (environment, messages)
  bool switch_user = false;           // set groups, gid and uid in the child
};

// Validates o and builds the plan; nullopt with a reason in error (the process does not start).
std::optional<spawn_plan> prepare_spawn(const run_options& o, std::string& error);

struct spawned_child {
  pid_t pid = -1;
  unique_fd output;  // read end of the merged stdout/stderr pipe, non-blocking
  unique_fd report;  // read end of the start report: EOF = exec succeeded, bytes = it failed
};

// fork + the child's set-up + exec. nullopt with a reason in error when fork or a pipe fails.
std::optional<spawned_child> spawn(const spawn_plan& plan, std::string& error);

// The reason carried by a start report written by a child that could not exec.
std::string describe_start_failure(const spawn_plan& plan, const void* report, std::size_t size);

}  // namespace hasys::sys::detail
