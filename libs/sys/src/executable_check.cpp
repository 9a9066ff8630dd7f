// check_executable: the reasons a script would not start, found before anything runs.
#include <hasys/sys/process.hpp>

#include "spawn.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace hasys::sys {

namespace {

struct identity {
  std::string name;
  uid_t uid;
  gid_t gid;
  std::vector<gid_t> groups;
};

std::string mode_text(mode_t m) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(m & 07777));
  return text;
}

// Permission bits for who: owner, group or other class, as the kernel picks them (no ACLs).
bool permits(const struct stat& st, const identity& who, mode_t user_bit, mode_t group_bit,
             mode_t other_bit) {
  if (st.st_uid == who.uid) return (st.st_mode & user_bit) != 0;
  const bool in_group = st.st_gid == who.gid || std::find(who.groups.begin(), who.groups.end(),
                                                          st.st_gid) != who.groups.end();
  return (st.st_mode & (in_group ? group_bit : other_bit)) != 0;
}

std::string by(const identity& who) { return "user \"" + who.name + "\""; }

std::string check_directories(const std::filesystem::path& p, const identity& who) {
  if (who.uid == 0) return {};
  const auto absolute = std::filesystem::absolute(p);
  for (auto dir = absolute.parent_path();; dir = dir.parent_path()) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && !permits(st, who, S_IXUSR, S_IXGRP, S_IXOTH)) {
      return p.string() + ": directory " + dir.string() + " (mode " + mode_text(st.st_mode) +
             ") is not searchable by " + by(who);
    }
    if (dir == dir.root_path()) return {};
  }
}

// For a "#!" script: the interpreter must exist and be executable, the script readable.
std::string check_interpreter(const std::filesystem::path& p, const struct stat& st,
                              const identity& who) {
  std::ifstream in(p, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line) || line.rfind("#!", 0) != 0) return {};
  if (who.uid != 0 && !permits(st, who, S_IRUSR, S_IRGRP, S_IROTH)) {
    return p.string() + ": a script (mode " + mode_text(st.st_mode) + ") that " + by(who) +
           " cannot read, and its interpreter must";
  }
  const auto begin = line.find_first_not_of(" \t", 2);
  if (begin == std::string::npos) return p.string() + ": the #! line names no interpreter";
  const auto interpreter = line.substr(begin, line.find_first_of(" \t\r", begin) - begin);
  struct stat ist {};
  if (::stat(interpreter.c_str(), &ist) != 0 || !S_ISREG(ist.st_mode)) {
    return p.string() + ": interpreter " + interpreter + " from the #! line does not exist";
  }
  return {};
}

std::string check_for(const std::filesystem::path& p, const identity& who) {
  if (p.empty()) return "no program path given";
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    const int e = errno;
    if (e == ENOENT) return p.string() + ": no such file";
    if (e == EACCES) return p.string() + ": a directory on the path is not searchable";
    return p.string() + ": " + std::strerror(e);
  }
  if (S_ISDIR(st.st_mode)) return p.string() + ": a directory, not a program";
  if (!S_ISREG(st.st_mode)) return p.string() + ": not a regular file";
  constexpr mode_t any_exec = S_IXUSR | S_IXGRP | S_IXOTH;
  const bool executable =
      who.uid == 0 ? (st.st_mode & any_exec) != 0 : permits(st, who, S_IXUSR, S_IXGRP, S_IXOTH);
  if (!executable) {
    return p.string() + ": not executable by " + by(who) + " (mode " + mode_text(st.st_mode) + ")";
  }
  if (auto reason = check_directories(p, who); !reason.empty()) return reason;
  return check_interpreter(p, st, who);
}

}  // namespace

std::string check_executable(const std::filesystem::path& p) {
  const auto me = detail::current_user();
  identity who{me.name, ::geteuid(), ::getegid(), {}};
  const int n = ::getgroups(0, nullptr);
  if (n > 0) {
    who.groups.resize(static_cast<std::size_t>(n));
    who.groups.resize(static_cast<std::size_t>(std::max(0, ::getgroups(n, who.groups.data()))));
  }
  return check_for(p, who);
}

std::string check_executable(const std::filesystem::path& p, std::string_view user) {
  std::string error;
  const auto found = detail::lookup_user(std::string(user), error);
  if (!found) return p.string() + ": " + error;
  return check_for(p, {found->name, found->uid, found->gid, found->groups});
}

}  // namespace hasys::sys
