// A daemon that takes a new configuration by starting itself again in place (issue 11): the
// same process id, the same supervisor, the same command line — the ordinary restart path, which
// adopts what the daemon runs. Nothing of the old image survives: every descriptor is closed on
// exec, so the peer end of each connection sees it close.
#pragma once

#include <string>

namespace hasys::daemon {

// Called once by main() with its own arguments.
void remember_command_line(int argc, char** argv);
// Replaces the process image with /proc/self/exe and the remembered arguments. Returns only when
// exec failed, with the reason.
std::string restart_in_place();

}  // namespace hasys::daemon
