// The text hasysctl status shows for one group: both nodes, links, gateway, flow (the menu's item 8
// shows the same).
#pragma once

#include <hasys/proto/messages.hpp>
#include <string>

namespace hasys::ctl {

// Several lines, each ending in '\n'.
std::string status_text(const proto::status_msg& s);

}  // namespace hasys::ctl
