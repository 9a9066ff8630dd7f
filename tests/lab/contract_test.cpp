// The bus contract (issue 10 item 6): every message the lab's real services send — on a node's
// bus and on the manager hub, plain publications, requests between daemons and replies to
// clients — is checked against docs/asyncapi.yaml by tests/contract/check_asyncapi.py: each
// subject must belong to a documented channel, each payload must validate against its schema
// and carry no field the document does not name.
#include "node_view.hpp"

#include <gtest/gtest.h>

#include <fstream>

using hasys::lab::lab;
using hasys::lab::line_reader;
using hasys::lab::run_command;
using hasys::lab::wait_status;
using namespace std::chrono_literals;

namespace {

const std::string source_dir = HASYS_SOURCE_DIR;
std::string event_query(const std::string& kind, const std::string& scope = R"("*")",
                        const std::string& field = "text", const std::string& keyword = "",
                        int page_size = 5) {
  return R"({"v":1,"kind":")" + kind + R"(","scope":[)" + scope + R"(],"field":")" + field +
         R"(","keyword":")" + keyword +
         R"(","from_unix_ms":0,"to_unix_ms":0,"severities":[],"groups":[],"servers":[],)" +
         R"("page":1,"page_size":)" + std::to_string(page_size) + "}";
}

std::vector<std::string> tap(const lab& l, const std::string& credentials, int seconds,
                             std::vector<std::string> until, std::vector<std::string> requests,
                             const std::string& subject) {
  std::vector<std::string> argv{HASYS_BUS_TAP,
                                "--url",
                                "nats://127.0.0.1:4222",
                                "--credentials",
                                (l.dir() / credentials).string(),
                                "--for",
                                std::to_string(seconds)};
  for (auto& u : until) argv.insert(argv.end(), {"--until", u});
  for (std::size_t i = 0; i + 1 < requests.size(); i += 2)
    if (requests[i].starts_with('!'))
      argv.insert(argv.end(), {"--bad-request", requests[i].substr(1), requests[i + 1]});
    else
      argv.insert(argv.end(), {"--request", requests[i], requests[i + 1]});
  argv.push_back(subject);
  return argv;
}

// Reads a tap to its end; its lines go to the capture file.
void drain(line_reader& r, std::ofstream& out, std::chrono::seconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (auto line = r.next_line(std::chrono::duration_cast<std::chrono::milliseconds>(
             end - std::chrono::steady_clock::now())))
    out << *line << '\n';
}

}  // namespace

TEST(contract, what_the_services_send_matches_the_asyncapi_document) {
  SKIP_UNLESS_ROOT();
  lab l("ct");
  ASSERT_TRUE(wait_status(l, "a", {"--role", "active", "--peer-role", "standby"}, 30s));

  // The hub: an integrator hears forwarded events; the manager account hears the nodes' batches
  // and asks the store for everything it answers (forward every event first, so one comes).
  auto itsm = l.spawn(
      "mgr", tap(l, "mgr/itsm.cred", 60, {"hasys.itsm.{group}.{node}"}, {}, "hasys.itsm.>"));
  auto mgr = l.spawn(
      "mgr", tap(l, "mgr/manager.cred", 60, {"hasys.mgr.evt.ingest.{node}"},
                 {"hasys.mgr.evt.faults.set",
                  R"({"v":1,"rules":[{"server":"*","code":"*","store":true,"forward":true}]})",
                  "hasys.mgr.evt.faults.get", "{}", "hasys.mgr.evt.query", event_query("detailed"),
                  "hasys.mgr.evt.query", event_query("window"), "hasys.mgr.evt.query",
                  event_query("basic", R"("lab")", "code", "mode"), "hasys.mgr.evt.export",
                  R"({"v":1,"format":"csv","max_rows":10,"query":)" + event_query("detailed") + "}",
                  // Refused, so its error reply is checked too (the request itself is not
                  // what the document describes).
                  "!hasys.mgr.evt.query", event_query("detailed", R"("*")", "text", "", 5000)},
                 "hasys.mgr.>"));
  ASSERT_TRUE(mgr.wait_for(
      R"("kind":"reply","subject":"hasys.mgr.evt.query","data":{"v":1,"ok":false)", 20s))
      << mgr.transcript();

  // Node a's own bus: what its daemons publish, ask each other and answer. The mode changes
  // raise events, which the node forwards (ingest) and the hub forwards to the integrator; a
  // killed application makes the monitor ask the executor for its restart.
  const std::string cmd = R"({"v":1,"origin":"hasysctl","user":"contract-test"})";
  auto node = l.spawn(
      "a", tap(l, "a/bus.cred", 60,
               {"hasys.{group}.{node}.status", "hasys.{group}.{node}.metrics",
                "hasys.{group}.{node}.metrics.heartbeat", "hasys.local.{group}.{node}.health",
                "hasys.local.{group}.{node}.restart", "hasys.evt.{group}.{node}",
                "hasys.mgr.evt.ingest.{node}"},
               {"hasys.lab.node-a.cmd.status", cmd, "hasys.lab.node-a.cmd.set_mode_manual", cmd,
                "hasys.lab.node-a.cmd.set_mode_auto", cmd, "hasys.lab.node-a.cmd.no_such_verb", cmd,
                "hasys.lab.node-a.exec.status", cmd, "hasys.lab.node-a.exec.ready", cmd,
                // Remote configuration: read, a change checked (refused, then accepted) and
                // dropped - nothing is written.
                "hasys.lab.node-a.cmd.config_get", R"({"v":1})", "hasys.lab.node-a.cmd.config_prepare",
                R"({"v":1,"action_id":"c1","user":"contract-test","origin":"test","expected_version":"","changes":{"polling_count":0}})",
                "hasys.lab.node-a.cmd.config_prepare",
                R"({"v":1,"action_id":"c2","user":"contract-test","origin":"test","expected_version":"","changes":{"polling_count":4}})",
                "hasys.lab.node-a.cmd.config_abort", R"({"v":1,"action_id":"c2","version":"","user":"contract-test"})"},
               "hasys.>"));
  ASSERT_TRUE(node.wait_for(R"("kind":"reply","subject":"hasys.lab.node-a.exec.ready")", 20s))
      << node.transcript();
  ASSERT_OK(l.run("kill", "a", "web", "--signal", "KILL"));

  const auto capture = l.dir() / "contract.jsonl";
  {
    std::ofstream out(capture);
    for (const auto& line : {mgr.transcript(), node.transcript(), itsm.transcript()}) out << line;
    // The taps end by themselves once each has heard every channel it waits for (60 s at most).
    drain(node, out, 65s);
    drain(mgr, out, 65s);
    drain(itsm, out, 65s);
  }
  auto r = run_command({"/usr/bin/python3",
                        source_dir + "/tests/contract/check_asyncapi.py",
                        source_dir + "/docs/asyncapi.yaml",
                        capture.string(),
                        "--require",
                        "hasys.{group}.{node}.status",
                        "--require",
                        "hasys.{group}.{node}.metrics",
                        "--require",
                        "hasys.{group}.{node}.metrics.heartbeat",
                        "--require",
                        "hasys.{group}.{node}.cmd.{verb}",
                        "--require",
                        "hasys.{group}.{node}.exec.{verb}",
                        "--require",
                        "hasys.local.{group}.{node}.health",
                        "--require",
                        "hasys.local.{group}.{node}.restart",
                        "--require",
                        "hasys.evt.{group}.{node}",
                        "--require",
                        "hasys.mgr.evt.ingest.{node}",
                        "--require",
                        "hasys.mgr.evt.query",
                        "--require",
                        "hasys.mgr.evt.export",
                        "--require",
                        "hasys.mgr.evt.faults.get",
                        "--require",
                        "hasys.mgr.evt.faults.set",
                        "--require",
                        "hasys.itsm.{group}.{node}"},
                       60s);
  EXPECT_EQ(r.exit, 0) << r.out << "\n(capture: " << capture << ")";
}

TEST(contract, the_checker_refuses_what_the_document_does_not_describe) {
  // Needs no root: the checker against the document alone. Its own examples must validate, and
  // a wrong enum, a missing field, an extra field, an unknown subject or a wrong reply must fail.
  auto r = run_command({"/usr/bin/python3", source_dir + "/tests/contract/check_asyncapi.py",
                        source_dir + "/docs/asyncapi.yaml", "--self-test"},
                       30s);
  EXPECT_EQ(r.exit, 0) << r.out;
}
