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
  std::uint64_t seq = 0;
  event_msg event;
  bool operator==(const stored_event&) const = default;
};
BOOST_DESCRIBE_STRUCT(stored_event, (), (seq, event))

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

std::string ingest_subject(std::string_view node);  // hasys.mgr.evt.ingest.<node>

std::string to_json(const ingest_request& m);
std::string to_json(const ingest_reply& m);

}  // namespace hasys::proto
