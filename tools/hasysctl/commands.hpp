// The command groups of hasysctl, one file each; main.cpp dispatches the first word to them.
#pragma once

#include "cli.hpp"

namespace hasys::ctl {

int config_command(arguments args);  // config_cmd.cpp: check, import
int key_command(arguments args);     // key_cmd.cpp: generate
// status_cmd.cpp: the node's view of its groups
int status_command(arguments args);
int watch_command(arguments args);
int wait_command(arguments args);
int events_command(arguments args);
// operate_cmd.cpp: operator commands (R2-R6)
int failover_command(arguments args);
int partition_command(arguments args);
int force_command(arguments args);
int mode_command(arguments args);
int maintenance_command(arguments args);
int cmd_command(arguments args);
int common_command(arguments args);  // the executor's common start/stop program (W8)
int ready_command(arguments args);   // the Standby readiness check (issue 9)
int drbd_command(arguments args);    // drbd reconnect (D11)
// menu_cmd.cpp: the seed's numbered menu (also the hasys executable)
int menu_command(arguments args);

}  // namespace hasys::ctl
