// Issue 9 in the netns lab: a shared disk (W4, D10) — one real ext4 file system on a loop device
// that both nodes can mount, each in its own mount namespace (hasys-lab up --shared-disk). The
// mount tables of both nodes are sampled every millisecond: never both mounted at once.
#include "node_view.hpp"
#include "vip_watch.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

using hasys::lab::event_stream;
using hasys::lab::expect_serving;
using hasys::lab::expect_settled;
using hasys::lab::lab;
using hasys::lab::up_options;
using hasys::lab::vip_watch;
using hasys::lab::wait_status;
using namespace std::chrono_literals;

namespace {

const std::string vip = "198.51.100.100";
constexpr auto settle = 10s;

up_options with_shared_disk() {
  up_options o;
  o.shared_disk = true;
  return o;
}

// Why the shared disk cannot be made here (no free loop device, no mkfs.ext4), or nothing.
std::optional<std::string> no_shared_disk() {
  if (std::system("command -v mkfs.ext4 >/dev/null 2>&1") != 0)
    return "needs mkfs.ext4 (e2fsprogs) for the shared disk";
  if (std::system("losetup --find >/dev/null 2>&1") != 0)
    return "needs a free loop device (losetup --find fails here)";
  return std::nullopt;
}

#define SKIP_UNLESS_SHARED_DISK()                          \
  do {                                                     \
    SKIP_UNLESS_ROOT();                                    \
    if (auto why = no_shared_disk()) GTEST_SKIP() << *why; \
  } while (false)

// Samples whether the mount point is mounted in each node's mount namespace (read through a
// process of the node: /proc/<pid>/mountinfo), every millisecond, on a thread of its own.
class mount_watch {
 public:
  mount_watch(const lab& l, std::string mount_point) : mount_point_(" " + mount_point + " ") {
    for (const char* n : {"a", "b"}) {
      auto pid = l.node_pid(n, "nats");
      if (!pid) throw std::runtime_error(std::string("no nats-server on node ") + n);
      files_.push_back("/proc/" + std::to_string(*pid) + "/mountinfo");
    }
    thread_ = std::thread([this] { run(); });
  }
  ~mount_watch() {
    stop_ = true;
    thread_.join();
  }
  mount_watch(const mount_watch&) = delete;
  mount_watch& operator=(const mount_watch&) = delete;

  struct summary {
    long samples = 0;
    long both = 0;  // samples with the file system mounted on both nodes
    std::array<bool, 2> now{};
    std::array<long, 2> mounted_samples{};
  };
  summary get() const {
    std::lock_guard lock(m_);
    return s_;
  }

 private:
  bool mounted(const std::string& file) const {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);)
      if (line.find(mount_point_) != std::string::npos) return true;
    return false;
  }
  void run() {
    while (!stop_) {
      const bool a = mounted(files_[0]);
      const bool b = mounted(files_[1]);
      {
        std::lock_guard lock(m_);
        ++s_.samples;
        s_.now = {a, b};
        s_.mounted_samples[0] += a;
        s_.mounted_samples[1] += b;
        if (a && b) ++s_.both;
      }
      std::this_thread::sleep_for(1ms);
    }
  }

  std::string mount_point_;
  std::vector<std::string> files_;
  mutable std::mutex m_;
  summary s_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

bool wait_mounted(const mount_watch& w, std::array<bool, 2> want,
                  std::chrono::milliseconds within) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    if (w.get().now == want) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

std::string mount_point(const lab& l) { return (l.dir() / "shared").string(); }

}  // namespace

TEST(shared_disk,
     an_unmounted_shared_disk_under_the_active_fails_the_service_over_and_says_why) {  // D10
  SKIP_UNLESS_SHARED_DISK();
  lab l("sd1", with_shared_disk());
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  ASSERT_TRUE(wait_status(l, "a", {"--healthy", "yes", "--peer-healthy", "yes"}, settle));
  mount_watch m(l, mount_point(l));
  ASSERT_TRUE(wait_mounted(m, {true, false}, 5s)) << "the Active mounts the shared disk";
  event_stream ea(l, "a");
  ASSERT_OK(l.exec("a", "umount " + mount_point(l)));
  auto gone = ea.wait_for("disk_unmounted", 5s);
  ASSERT_TRUE(gone) << ea.transcript();
  EXPECT_NE(gone->text.find(mount_point(l)), std::string::npos) << gone->text;
  auto why = ea.wait_for("deactivating", 5s);
  ASSERT_TRUE(why) << ea.transcript();
  EXPECT_NE(why->text.find("disk data: " + mount_point(l) + " is not mounted"), std::string::npos)
      << why->text;
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  EXPECT_TRUE(wait_mounted(m, {false, true}, 5s)) << "the new Active mounted it";
  EXPECT_EQ(m.get().both, 0);
  EXPECT_EQ(w.longest_overlap(), 0ms);
}

TEST(shared_disk,
     in_a_manual_failover_the_peer_mounts_only_after_the_active_confirmed_the_unmount) {  // D10, W4
  SKIP_UNLESS_SHARED_DISK();
  lab l("sd2", with_shared_disk());
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  ASSERT_TRUE(wait_status(l, "a", {"--peer-healthy", "yes"}, settle));
  mount_watch m(l, mount_point(l));
  ASSERT_TRUE(wait_mounted(m, {true, false}, 5s));
  // A process of node a works in the file system for 1.5 s more: its unmount is refused (busy)
  // until then, and the takeover must wait for it.
  auto holder =
      l.spawn("a", {"sh", "-c", "cd " + mount_point(l) + " && echo holding && exec sleep 1.5"});
  ASSERT_TRUE(holder.wait_for("holding", 5s)) << holder.transcript();
  event_stream ea(l, "a");
  ASSERT_OK(l.ctl("a", "failover", "--group", "lab"));
  auto busy = ea.wait_for("disk_busy", 5s);
  ASSERT_TRUE(busy) << ea.transcript();
  EXPECT_TRUE(m.get().now[0]) << "still mounted on a while busy";
  EXPECT_FALSE(m.get().now[1]) << "and not on b";
  auto confirmed = ea.wait_for("disk_unmount_confirmed", 10s);
  ASSERT_TRUE(confirmed) << ea.transcript();
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  EXPECT_TRUE(wait_mounted(m, {false, true}, 5s)) << "b mounted it after the confirmation";
  const auto s = m.get();
  EXPECT_EQ(s.both, 0) << "mounted on both nodes in " << s.both << " of " << s.samples
                       << " samples";
  EXPECT_GT(s.samples, 500) << "sampled often enough to see an overlap";
  EXPECT_EQ(w.longest_overlap(), 0ms);
}
