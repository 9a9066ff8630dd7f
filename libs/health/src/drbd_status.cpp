// Parsing DRBD 9's status output: indentation gives the nesting (resource, volume or peer, peer
// volume, statistics), every other token is key:value.
#include <hasys/health/drbd_status.hpp>

#include <charconv>

namespace hasys::health {

namespace {

struct token {
  std::string_view key, value;  // key empty: a bare word (a peer's name)
};

std::vector<token> tokens_of(std::string_view line) {
  std::vector<token> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) {
      auto word = line.substr(i, j - i);
      auto colon = word.find(':');
      if (colon == std::string_view::npos)
        out.push_back({{}, word});
      else
        out.push_back({word.substr(0, colon), word.substr(colon + 1)});
    }
    i = j;
  }
  return out;
}

// How bad a disk state is for "the worst of the volumes".
int badness(std::string_view disk) {
  if (disk == "UpToDate") return 0;
  if (disk == "Consistent") return 1;
  if (disk == "Outdated") return 2;
  if (disk == "Inconsistent") return 3;
  if (disk.empty()) return -1;
  return 4;  // Diskless, Failed, DUnknown, Attaching, Negotiating...
}

}  // namespace

std::vector<drbd_resource_status> parse_drbd_status(std::string_view text) {
  std::vector<drbd_resource_status> out;
  drbd_peer* peer = nullptr;
  bool in_resource = false;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t indent = 0;
    while (indent < line.size() && line[indent] == ' ') ++indent;
    auto toks = tokens_of(line);
    if (toks.empty()) continue;
    if (indent == 0) {  // "r0 role:Primary" or "r0 node-id:0 role:Primary suspended:no"
      // A resource line names the resource and says its role; an error message does not.
      std::string_view role;
      for (const auto& t : toks)
        if (t.key == "role") role = t.value;
      peer = nullptr;
      in_resource = toks[0].key.empty() && !role.empty();
      if (in_resource) out.push_back({std::string(toks[0].value), std::string(role), {}, {}});
      continue;
    }
    if (!in_resource) continue;  // under a line that was no resource
    auto& r = out.back();
    if (toks[0].key.empty()) {  // a peer: "node-b role:Secondary" / "node-b connection:StandAlone"
      r.peers.push_back({std::string(toks[0].value)});
      peer = &r.peers.back();
      for (const auto& t : toks) {
        if (t.key == "connection") peer->connection = t.value;
        if (t.key == "role") peer->role = t.value;
      }
      continue;
    }
    for (const auto& t : toks) {
      if (t.key == "disk" && badness(t.value) > badness(r.disk)) r.disk = t.value;
      if (!peer) continue;
      if (t.key == "replication") peer->replication = t.value;
      if (t.key == "peer-disk" && badness(t.value) > badness(peer->peer_disk))
        peer->peer_disk = t.value;
      if (t.key == "out-of-sync") {
        std::uint64_t kib = 0;
        std::from_chars(t.value.data(), t.value.data() + t.value.size(), kib);
        peer->out_of_sync_kib += kib;
      }
    }
  }
  return out;
}

bool drbd_resource_status::connected() const {
  for (const auto& p : peers)
    if (p.connection != "Connected") return false;
  return !peers.empty();
}

bool drbd_resource_status::up_to_date() const {
  if (disk != "UpToDate") return false;
  for (const auto& p : peers)
    if (p.peer_disk != "UpToDate") return false;
  return true;
}

std::uint64_t drbd_resource_status::out_of_sync_kib() const {
  std::uint64_t n = 0;
  for (const auto& p : peers) n += p.out_of_sync_kib;
  return n;
}

std::string drbd_resource_status::summary() const {
  if (peers.empty())
    return name + ": no peer configured, disk " + (disk.empty() ? "unknown" : disk);
  std::string s;
  for (const auto& p : peers) {
    if (!s.empty()) s += "; ";
    s += p.name + " " + p.connection;
    if (p.connection == "Connected")
      s += ", " + (disk.empty() ? std::string("?") : disk) + "/" +
           (p.peer_disk.empty() ? "?" : p.peer_disk);
    else
      s += ", disk " + (disk.empty() ? std::string("unknown") : disk);
    if (!p.replication.empty() && p.replication != "Established") s += ", " + p.replication;
    if (p.out_of_sync_kib) s += ", " + std::to_string(p.out_of_sync_kib) + " KiB out of sync";
  }
  return s;
}

}  // namespace hasys::health
