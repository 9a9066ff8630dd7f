// The event store's bus messages (issue 10): a node's forwarder hands a batch of its stored
// events (with their EVENTS stream sequence) to the manager's event store, which answers once
// they are committed. Described once (Boost.Describe); Boost.JSON converts both ways.
#pragma once

#include <hasys/proto/messages.hpp>

#include <boost/describe/class.hpp>
#include <boost/json/fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::proto {

// event_msg's own JSON conversions (messages.cpp), for the structs below that hold one.
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const event_msg& m);
event_msg tag_invoke(boost::json::value_to_tag<event_msg>, const boost::json::value& jv);

// One event as the node stored it: its sequence in the node's EVENTS stream (E5: the manager
// keeps each (node, seq) once) and the event.
struct stored_event {
  int v = 1;
  std::uint64_t seq = 0;
  event_msg event;
  bool operator==(const stored_event&) const = default;
};
BOOST_DESCRIBE_STRUCT(stored_event, (), (v, seq, event))

// hasys.mgr.evt.ingest.<node> — request, node -> manager.
struct ingest_request {
  int v = 1;
  std::string node;
  std::vector<stored_event> events;  // in stream order
  bool operator==(const ingest_request&) const = default;
};
BOOST_DESCRIBE_STRUCT(ingest_request, (), (v, node, events))

// The reply, sent once the batch is committed (ok), or why not.
struct ingest_reply {
  int v = 1;
  bool ok = false;
  std::uint64_t stored = 0;      // new rows
  std::uint64_t duplicates = 0;  // (node, seq) already kept: a batch sent again
  std::uint64_t last_seq = 0;    // the highest seq of the batch
  std::string error;
  bool operator==(const ingest_reply&) const = default;
};
BOOST_DESCRIBE_STRUCT(ingest_reply, (), (v, ok, stored, duplicates, last_seq, error))

// hasys.mgr.evt.query — request to the manager's event store (E2, E3). Always scoped: the
// groups the asking user may see ("*": every group, for admins); an empty scope sees nothing.
struct event_query {
  int v = 1;
  // "detailed": every filter below; "basic": `field` contains `keyword` (E3 basic search);
  // "window": per group in `groups` (or the scope), the events of the last 10 minutes, or the
  // latest 10 when there are none (E2).
  std::string kind = "detailed";
  std::vector<std::string> scope;
  std::string field = "text";           // basic: "text", "code", "group", "server"
  std::string keyword;                  // case-insensitive substring; empty: any
  std::int64_t from_unix_ms = 0;        // node time, inclusive; 0: open
  std::int64_t to_unix_ms = 0;          // node time, exclusive; 0: open
  std::vector<std::string> severities;  // "information", "warning", "critical"; empty: all
  std::vector<std::string> groups;      // within the scope; empty: all of it
  std::vector<std::string> servers;
  int page = 1;         // from 1
  int page_size = 100;  // 1..1000
  bool operator==(const event_query&) const = default;
};
BOOST_DESCRIBE_STRUCT(event_query, (),
                      (v, kind, scope, field, keyword, from_unix_ms, to_unix_ms, severities, groups,
                       servers, page, page_size))

struct event_row {
  std::int64_t id = 0;
  std::string node;  // the node that stored and forwarded it
  std::uint64_t seq = 0;
  std::int64_t received_unix_ms = 0;
  event_msg event;
  bool operator==(const event_row&) const = default;
};
BOOST_DESCRIBE_STRUCT(event_row, (), (id, node, seq, received_unix_ms, event))

// The reply: newest first.
struct event_page {
  int v = 1;
  bool ok = false;
  std::string error;
  std::uint64_t total = 0;  // matches over all pages, counted up to 10,000
  bool total_exact = true;  // false: there are more than `total` (10,000+)
  int page = 1;
  int page_size = 100;
  std::vector<event_row> events;
  bool operator==(const event_page&) const = default;
};
BOOST_DESCRIBE_STRUCT(event_page, (), (v, ok, error, total, total_exact, page, page_size, events))

// hasys.mgr.evt.export — request to the manager's event store (E3 export): every event of the
// query (its filters and scope; paging ignored), newest first, written as it is read into a
// file of the store's export folder on the manager host; the reply names it.
struct export_request {
  int v = 1;
  std::string format = "xlsx";  // "xlsx" or "csv"
  event_query query;
  std::uint64_t max_rows = 1'000'000;  // 1..1,000,000
  bool operator==(const export_request&) const = default;
};
BOOST_DESCRIBE_STRUCT(export_request, (), (v, format, query, max_rows))

struct export_reply {
  int v = 1;
  bool ok = false;
  std::string error;
  std::string file;  // absolute path on the manager host; removed by the store after an hour
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
  bool operator==(const export_reply&) const = default;
};
BOOST_DESCRIBE_STRUCT(export_reply, (), (v, ok, error, file, rows, bytes))

inline constexpr std::string_view export_subject = "hasys.mgr.evt.export";
std::string to_json(const export_request& m);
std::string to_json(const export_reply& m);

// E4 fault management: per server and event code, whether the manager keeps the event and
// whether it forwards it to integrators on hasys.itsm.<group>.<node> (the seed's TruITM). A rule
// for a server wins over a rule for "*"; with no rule an event is kept and not forwarded.
struct fault_rule {
  std::string server;  // a node name, or "*"
  std::string code;    // an event code, or "*"
  bool store = true;
  bool forward = false;
  bool operator==(const fault_rule&) const = default;
};
BOOST_DESCRIBE_STRUCT(fault_rule, (), (server, code, store, forward))

// hasys.mgr.evt.faults.get (reply) and hasys.mgr.evt.faults.set (request: the whole set, which
// replaces the old one; reply ingest_reply-like {ok, error} as fault_rules_reply).
struct fault_rules {
  int v = 1;
  std::vector<fault_rule> rules;
  bool operator==(const fault_rules&) const = default;
};
BOOST_DESCRIBE_STRUCT(fault_rules, (), (v, rules))

struct fault_rules_reply {
  int v = 1;
  bool ok = false;
  std::string error;
  std::vector<fault_rule> rules;  // the set in force after the request
  bool operator==(const fault_rules_reply&) const = default;
};
BOOST_DESCRIBE_STRUCT(fault_rules_reply, (), (v, ok, error, rules))

inline constexpr std::string_view faults_get_subject = "hasys.mgr.evt.faults.get";
inline constexpr std::string_view faults_set_subject = "hasys.mgr.evt.faults.set";
std::string itsm_subject(std::string_view group, std::string_view node);  // hasys.itsm.<g>.<n>
std::string to_json(const fault_rules& m);
std::string to_json(const stored_event& m);  // what hasys.itsm.<g>.<n> carries
std::string to_json(const fault_rules_reply& m);

std::string ingest_subject(std::string_view node);  // hasys.mgr.evt.ingest.<node>
inline constexpr std::string_view query_subject = "hasys.mgr.evt.query";
std::string to_json(const event_query& m);
std::string to_json(const event_page& m);

std::string to_json(const ingest_request& m);
std::string to_json(const ingest_reply& m);

}  // namespace hasys::proto
