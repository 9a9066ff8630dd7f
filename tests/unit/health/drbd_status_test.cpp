// DRBD 9 status texts (the shapes `drbdadm status` and `drbdsetup status --verbose --statistics`
// print), parsed for the monitor (D11).
#include <hasys/health/drbd_status.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace hasys::health {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(HASYS_DRBD_FIXTURES) + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(drbd_status, a_connected_up_to_date_resource) {
  auto r = parse_drbd_status(fixture("connected.txt"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].name, "r0");
  EXPECT_EQ(r[0].role, "Primary");
  EXPECT_EQ(r[0].disk, "UpToDate");
  ASSERT_EQ(r[0].peers.size(), 1u);
  EXPECT_EQ(r[0].peers[0].name, "node-b");
  EXPECT_EQ(r[0].peers[0].connection, "Connected") << "drbdadm leaves it out while connected";
  EXPECT_EQ(r[0].peers[0].peer_disk, "UpToDate");
  EXPECT_TRUE(r[0].connected());
  EXPECT_TRUE(r[0].up_to_date());
  EXPECT_EQ(r[0].summary(), "node-b Connected, UpToDate/UpToDate");
}

TEST(drbd_status, a_resync_in_progress_with_statistics_counts_out_of_sync_kib) {
  auto r = parse_drbd_status(fixture("syncing_statistics.txt"));
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].peers.size(), 1u);
  const auto& p = r[0].peers[0];
  EXPECT_EQ(p.connection, "Connected");
  EXPECT_EQ(p.replication, "SyncSource");
  EXPECT_EQ(p.peer_disk, "Inconsistent");
  EXPECT_EQ(p.out_of_sync_kib, 765884u);
  EXPECT_TRUE(r[0].connected());
  EXPECT_FALSE(r[0].up_to_date());
  EXPECT_EQ(r[0].summary(),
            "node-b Connected, UpToDate/Inconsistent, SyncSource, 765884 KiB out of sync");
}

TEST(drbd_status, a_standalone_resource_is_not_connected) {
  auto r = parse_drbd_status(fixture("standalone.txt"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].disk, "Outdated");
  EXPECT_EQ(r[0].peers.at(0).connection, "StandAlone");
  EXPECT_FALSE(r[0].connected());
  EXPECT_EQ(r[0].summary(), "node-a StandAlone, disk Outdated");
}

TEST(drbd_status, several_resources_and_volumes_keep_the_worst_disk) {
  auto r = parse_drbd_status(fixture("two_resources_two_volumes.txt"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].name, "data");
  EXPECT_EQ(r[0].disk, "Inconsistent") << "one of two volumes is not up to date";
  EXPECT_TRUE(r[0].connected());
  EXPECT_FALSE(r[0].up_to_date());
  EXPECT_EQ(r[1].name, "logs");
  EXPECT_EQ(r[1].peers.at(0).connection, "Connecting");
  EXPECT_FALSE(r[1].connected());
}

TEST(drbd_status, text_that_is_not_drbd_status_gives_nothing) {
  EXPECT_TRUE(parse_drbd_status("").empty());
  EXPECT_TRUE(parse_drbd_status("  disk:UpToDate\n").empty()) << "no resource line";
  EXPECT_TRUE(parse_drbd_status("'r0' not defined in your config (for this host).\n").empty())
      << "an error message is no resource";
}

}  // namespace
}  // namespace hasys::health
