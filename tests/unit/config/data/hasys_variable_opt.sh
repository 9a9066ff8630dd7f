# The sample hasys_variable_opt.sh exactly as printed in the seed manual (HA_SYS V5, server set-up, section 2).
export HB_GRPN=GROUP-Linux ..... (1)
export HB_SYSN=linux1 ..... (2)
export HB_TCPH=192.168.1.235 ..... (3)
export HB_TCPH1=192.168.1.216
export HB_TCPG=192.168.1.235 ..... (4)
export HB_TCPG1=192.168.1.216
export HB_GATEWAYIP=192.168.1.1 ..... (5)
export HB_SCKH=29954 ..... (6)
export HB_SCKG=29955 ..... (7)
export HM_SCKS=29956 ..... (8)
export HM_SCKR=29957
export HB_WEB_SERVER_USE=Y ..... (9)
export HB_WEB_SERVER_IP=192.168.1.221
export HB_WEB_REPT_PORT=49990 ..... (10)
export HB_WEB_SMSP_PORT=49991
export HB_LOG_MANAGEMENT=N ..... (11)
export HB_LOG_SIZE=10
.....
export SHARED_DISK_MANAGEMENT_WAIT_TIME=60 ..... (12)
export FAILOVER_CONDITION_MANAGEMENT=Y ..... (13)
export FCONDITION_WTIME=60
export HB_WEB_SERVER_REMOTE=Y ..... (14)
export DSYNC_RECONNECT_RCNT=6 ..... (15)
export DSYNC_RECONNECT_WTIME=30
