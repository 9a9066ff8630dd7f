// Virtual IP system calls on worker lanes with deadlines and fault rules; the kernel backend
// (libs/sys) and the file-backed stand-in kernel of --simulate.
#include "address_system.hpp"

#include <hasys/daemon/boot_id.hpp>
#include <hasys/sys/neighbour_discovery.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace hasys::executor {

namespace {

// A netlink reply takes well under a millisecond; a call this late means a stuck kernel path.
// A lease refresh later than half a lease is worth nothing; a change may wait longer (its flow
// node has its own timeout on top).
std::chrono::milliseconds deadline_for(std::string_view op) {
  if (op == "refresh") return 500ms;
  if (op == "check" || op == "release") return 2000ms;
  return 5000ms;
}

std::string where(const vip_target& t) { return sys::to_string(t.address) + " on " + t.interface; }

// The system calls themselves, synchronous; they run on a lane.
class backend {
 public:
  virtual ~backend() = default;
  virtual bool simulated() const noexcept = 0;
  virtual verify_result query(const vip_target& t) = 0;
  virtual verify_result refresh(const vip_target& t) = 0;
  virtual change_result add(const vip_target& t) = 0;
  virtual change_result remove(const vip_target& t) = 0;
  // The interface's index and hardware address, for probes and announces.
  virtual bool link(const vip_target& t, int& index, sys::mac_address& mac, std::string& error) = 0;
  virtual std::optional<sys::mac_address> neighbour(const std::string& ip) = 0;
  virtual change_result burst(int index, const vip_target& t, const sys::mac_address& mac) = 0;
};

class kernel_backend final : public backend {
 public:
  bool simulated() const noexcept override { return false; }

  verify_result query(const vip_target& t) override {
    sys::diagnostics d;
    auto idx = sys::interface_index(t.interface, d);
    if (!idx) return {flow::presence::absent, {}};  // no interface: the address cannot be on it
    auto r = sys::has_address(*idx, t.address.ip, d);
    if (!r) return {flow::presence::unknown, d.message.empty() ? r.error().message() : d.message};
    return {*r ? flow::presence::present : flow::presence::absent, {}};
  }

  verify_result refresh(const vip_target& t) override {
    sys::diagnostics d;
    auto idx = sys::interface_index(t.interface, d);
    if (!idx) return {flow::presence::absent, {}};
    const auto ec = sys::refresh_address(*idx, t.address, t.lease, d);
    if (!ec) return {flow::presence::present, {}};
    if (ec == sys::make_error_code(sys::errc::address_absent)) return {flow::presence::absent, {}};
    return {flow::presence::unknown, d.message.empty() ? ec.message() : d.message};
  }

  change_result add(const vip_target& t) override {
    sys::diagnostics d;
    auto idx = sys::interface_index(t.interface, d);
    if (!idx) return {false, d.message};
    if (auto ec = sys::add_address(*idx, t.address, t.lease, {}, d))
      return {false, d.message.empty() ? ec.message() : d.message};
    return {true, {}};
  }

  change_result remove(const vip_target& t) override {
    sys::diagnostics d;
    auto idx = sys::interface_index(t.interface, d);
    if (!idx) return {true, {}};  // no interface: the address cannot be on it either
    if (auto ec = sys::remove_address(*idx, t.address, d))
      return {false, d.message.empty() ? ec.message() : d.message};
    return {true, {}};
  }

  bool link(const vip_target& t, int& index, sys::mac_address& mac, std::string& error) override {
    sys::diagnostics d;
    auto idx = sys::interface_index(t.interface, d);
    if (!idx) {
      error = d.message;
      return false;
    }
    auto m = sys::hardware_address(*idx, d);
    if (!m) {
      error = d.message.empty() ? m.error().message() : d.message;
      return false;
    }
    index = *idx;
    mac = *m;
    return true;
  }

  std::optional<sys::mac_address> neighbour(const std::string& ip) override {
    boost::system::error_code ec;
    auto a = asio::ip::make_address(ip, ec);
    if (ec) return std::nullopt;
    return sys::neighbour(a);
  }

  change_result burst(int index, const vip_target& t, const sys::mac_address& mac) override {
    constexpr int count = 3;
    sys::diagnostics d;
    const auto ec = t.address.ip.is_v4() ? sys::send_gratuitous_arp(index, t.address.ip.to_v4(), mac, count, d)
                                         : sys::send_unsolicited_na(index, t.address.ip.to_v6(), mac, count, d);
    if (ec) return {false, d.message.empty() ? ec.message() : d.message};
    return {true, {}};
  }
};

// The stand-in kernel: "<interface> <address>/<prefix>" -> expiry on the monotonic clock (ms;
// 0 = forever), in a JSON file. The monotonic clock is the same for every process of one boot,
// so a lease runs out across an executor restart exactly as the kernel's would.
class simulated_backend final : public backend {
 public:
  explicit simulated_backend(std::filesystem::path file) : file_(std::move(file)) {}
  bool simulated() const noexcept override { return true; }

  verify_result query(const vip_target& t) override {
    std::lock_guard lock(mutex_);
    auto table = load();
    return {table.contains(key(t)) ? flow::presence::present : flow::presence::absent, {}};
  }
  verify_result refresh(const vip_target& t) override {
    std::lock_guard lock(mutex_);
    auto table = load();
    auto it = table.find(key(t));
    if (it == table.end()) return {flow::presence::absent, {}};
    it->second = expiry(t);
    save(table);
    return {flow::presence::present, {}};
  }
  change_result add(const vip_target& t) override {
    std::lock_guard lock(mutex_);
    auto table = load();
    table[key(t)] = expiry(t);
    save(table);
    return {true, {}};
  }
  change_result remove(const vip_target& t) override {
    std::lock_guard lock(mutex_);
    auto table = load();
    table.erase(key(t));
    save(table);
    return {true, {}};
  }
  bool link(const vip_target&, int& index, sys::mac_address& mac, std::string&) override {
    index = 1;
    mac = {0x02, 0, 0, 0, 0, 0x01};
    return true;
  }
  std::optional<sys::mac_address> neighbour(const std::string&) override { return std::nullopt; }
  change_result burst(int, const vip_target&, const sys::mac_address&) override { return {true, {}}; }

 private:
  static std::string key(const vip_target& t) { return t.interface + " " + sys::to_string(t.address); }
  static std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  static std::int64_t expiry(const vip_target& t) {
    return t.lease.count() > 0 ? now_ms() + std::chrono::milliseconds(t.lease).count() : 0;
  }
  std::map<std::string, std::int64_t> load() const {
    std::map<std::string, std::int64_t> table;
    std::ifstream in(file_);
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    auto v = json::parse(text.str(), ec);
    if (ec || !v.is_object()) return table;
    const auto now = now_ms();
    for (const auto& [k, e] : v.get_object()) {
      const auto at = e.is_int64() ? e.get_int64() : 0;
      if (at == 0 || at > now) table[std::string(k)] = at;  // an expired lease is gone
    }
    return table;
  }
  void save(const std::map<std::string, std::int64_t>& table) const {
    json::object o;
    for (const auto& [k, e] : table) o[k] = e;
    try {
      daemon::write_file_atomically(file_, json::serialize(o) + "\n");
    } catch (const std::exception&) {
      // The stand-in kernel's file cannot be written: the next look finds the old table.
    }
  }

  std::filesystem::path file_;
  std::mutex mutex_;  // the two lanes both write it
};

// Lanes, deadlines and fault rules around a backend.
class lane_addresses final : public address_system {
 public:
  lane_addresses(executor_lanes& lanes, const fault_plan& faults, std::unique_ptr<backend> b)
      : lanes_(lanes), faults_(faults), backend_(std::move(b)) {}

  bool simulated() const noexcept override { return backend_->simulated(); }

  asio::awaitable<verify_result> query(const vip_target& t) override {
    auto* b = backend_.get();
    auto call = [b, t] { return b->query(t); };
    co_return co_await on<verify_result>(lanes_.changes, "check", t, std::move(call));
  }

  asio::awaitable<verify_result> refresh(const vip_target& t) override {
    auto* b = backend_.get();
    auto call = [b, t] { return b->refresh(t); };
    co_return co_await on<verify_result>(lanes_.lease, "refresh", t, std::move(call));
  }

  asio::awaitable<verify_result> release(const vip_target& t) override {
    auto* b = backend_.get();
    const fault_plan* faults = &faults_;
    auto call = [b, t, faults] {
      // The removal itself may fail (the fault rule stands for it); the look afterwards decides.
      std::string removal_error;
      if (auto f = faults->lookup("remove", t.node); f.fail) removal_error = *f.fail;
      else if (auto r = b->remove(t); !r.ok) removal_error = r.error;
      auto seen = faults->lookup("check", t.node).fail ? verify_result{flow::presence::unknown, "injected fault"}
                                                       : b->query(t);
      if (seen.seen == flow::presence::absent) return seen;
      if (!removal_error.empty()) seen.error = "removal failed: " + removal_error;
      else if (seen.seen == flow::presence::present) seen.error = "still present after its removal";
      return seen;
    };
    co_return co_await on<verify_result>(lanes_.lease, "release", t, std::move(call));
  }

  asio::awaitable<change_result> add(const vip_target& t) override {
    auto* b = backend_.get();
    auto call = [b, t] { return b->add(t); };
    co_return co_await on<change_result>(lanes_.changes, "add", t, std::move(call));
  }

  asio::awaitable<change_result> remove(const vip_target& t) override {
    auto* b = backend_.get();
    auto call = [b, t] { return b->remove(t); };
    co_return co_await on<change_result>(lanes_.changes, "remove", t, std::move(call));
  }

  asio::awaitable<probe_result> probe(const vip_target& t, const std::string& peer_address,
                                      std::chrono::milliseconds wait) override {
    struct link_info {
      bool ok = false;
      int index = 0;
      sys::mac_address mac{}, peer{};
      bool have_peer = false;
      std::string error;
    };
    auto* b = backend_.get();
    auto call = [b, t, peer_address] {
      link_info i;
      i.ok = b->link(t, i.index, i.mac, i.error);
      if (auto p = peer_address.empty() ? std::nullopt : b->neighbour(peer_address)) {
        i.peer = *p;
        i.have_peer = true;
      }
      return i;
    };
    auto info = co_await on<link_info>(lanes_.changes, "probe", t, std::move(call));
    if (!info.ok) co_return probe_result{false, {}, "duplicate-address probe: " + info.error};
    if (simulated()) co_return probe_result{true, {}, {}};
    auto ex = co_await asio::this_coro::executor;
    auto claimed = co_await sys::probe_address(ex, info.index, t.address.ip, info.mac, wait);
    if (!claimed) co_return probe_result{false, {}, "duplicate-address probe: " + claimed.error().message()};
    probe_result out{true, {}, {}};
    for (const auto& m : *claimed)
      if (!info.have_peer || m != info.peer) out.strangers.push_back(m);
    co_return out;
  }

  asio::awaitable<change_result> announce(const vip_target& t) override {
    auto* b = backend_.get();
    auto call = [b, t] {
      int index = 0;
      sys::mac_address mac{};
      std::string error;
      if (!b->link(t, index, mac, error)) return change_result{false, error};
      return b->burst(index, t, mac);
    };
    co_return co_await on<change_result>(lanes_.changes, "announce", t, std::move(call));
  }

 private:
  template <class R>
  static R failed(std::string why) {
    R r{};
    r.error = std::move(why);
    if constexpr (std::is_same_v<R, verify_result>) r.seen = flow::presence::unknown;
    return r;
  }

  // Runs call() on the lane after the fault rule for `op`; a missed deadline is a failure that
  // says so (for a verification: unknown, never a guess).
  template <class R, class F>
  asio::awaitable<R> on(daemon::blocking_lane& lane, const char* op, const vip_target& t, F call) {
    const fault_plan* faults = &faults_;
    const std::string node = t.node, name = op;
    auto task = [faults, node, name, call = std::move(call)]() mutable -> R {
      if (faults->enabled()) {
        const auto f = faults->lookup(name, node);
        if (f.delay.count() > 0) std::this_thread::sleep_for(f.delay);  // a slow kernel reply
        if (f.fail) return failed<R>(*f.fail);
      }
      return call();
    };
    // GCC 12: no temporaries inside a co_await expression (they are destroyed twice).
    const auto deadline = deadline_for(name);
    auto r = co_await lane.run(std::move(task), deadline);
    if (!r)
      co_return failed<R>(name + " " + where(t) + ": no reply within " + std::to_string(deadline.count()) +
                          " ms (" + lane.name() + " lane backlog " + std::to_string(lane.backlog()) + ")");
    co_return std::move(*r);
  }

  executor_lanes& lanes_;
  const fault_plan& faults_;
  std::unique_ptr<backend> backend_;
};

}  // namespace

std::unique_ptr<address_system> make_kernel_addresses(executor_lanes& lanes, const fault_plan& faults) {
  return std::make_unique<lane_addresses>(lanes, faults, std::make_unique<kernel_backend>());
}

std::unique_ptr<address_system> make_simulated_addresses(executor_lanes& lanes, const fault_plan& faults,
                                                         std::filesystem::path file) {
  return std::make_unique<lane_addresses>(lanes, faults, std::make_unique<simulated_backend>(std::move(file)));
}

}  // namespace hasys::executor
