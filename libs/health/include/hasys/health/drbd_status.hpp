// DRBD 9's status text (`drbdadm status`, and `drbdsetup status --verbose --statistics`) as the
// monitor needs it (D11): per resource its role and disk, per peer the connection, replication,
// peer disk and out-of-sync KiB. Pure parsing, no I/O: the monitor runs the command.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::health {

struct drbd_peer {
  std::string name;
  std::string connection = "Connected";  // absent from the text while connected
  std::string role;                      // Primary, Secondary, Unknown
  std::string replication;               // Established, SyncSource, SyncTarget, ... ("" unknown)
  std::string peer_disk;                 // UpToDate, Inconsistent, Outdated, DUnknown, ...
  std::uint64_t out_of_sync_kib = 0;     // over its volumes (--statistics only)
  bool operator==(const drbd_peer&) const = default;
};

struct drbd_resource_status {
  std::string name;
  std::string role;
  std::string disk;  // the worst of its volumes (UpToDate only when all are)
  std::vector<drbd_peer> peers;
  bool connected() const;   // every peer's connection is Connected
  bool up_to_date() const;  // the local disk and every peer disk are UpToDate
  std::uint64_t out_of_sync_kib() const;
  // "Connected, UpToDate/UpToDate" or "node-b StandAlone, disk Outdated": for events.
  std::string summary() const;
  bool operator==(const drbd_resource_status&) const = default;
};

// Every resource in the text, in order. Lines it does not understand are skipped; a text with
// no resource line gives an empty list (the caller says "cannot read DRBD's status").
std::vector<drbd_resource_status> parse_drbd_status(std::string_view text);

}  // namespace hasys::health
