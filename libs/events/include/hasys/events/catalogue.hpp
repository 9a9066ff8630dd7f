// The event catalogue (issue 10, E1): every event code the daemons raise, with its severity as
// raised, its English title (the seed's vocabulary: the text up to its bracket) and its Korean
// title. The texts on the bus stay English (the seed's reference vocabulary); the manager and
// its UI show either language from here. A unit test finds every code in the sources here.
#pragma once

#include <hasys/proto/messages.hpp>

#include <span>
#include <string>
#include <string_view>

namespace hasys::events {

struct catalogue_entry {
  std::string_view code;
  std::string_view en;  // the English title, as the text begins
  std::string_view ko;  // 한국어
};

std::span<const catalogue_entry> catalogue();
const catalogue_entry* find(std::string_view code);

// The event's text in Korean: its English title replaced by the Korean one, the bracket (names,
// values, evidence) kept. A text that does not begin with its title keeps it in the bracket; an
// unknown code keeps the text.
std::string korean_text(const proto::event_msg& e);

}  // namespace hasys::events
