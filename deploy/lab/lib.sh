# Network namespace, bridge, veth and process helpers for hasys-lab (sourced, not run).
# shellcheck shell=bash disable=SC2034,SC2154  # variables shared with hasys-lab, which sources this
# Expects: $prefix, $lab_dir. Everything it creates lives in namespaces named "$prefix-*".

readonly pub_net=198.51.100
readonly hb_net=192.0.2
readonly gateway_ip=198.51.100.1
readonly client_ip=198.51.100.50
readonly manager_ip=198.51.100.10
readonly manager_port=8443  # hasys-manager-api in the mgr namespace
# Processes that emulate the wire, not the node: never frozen or killed by fault commands.
readonly infra_daemons="netem-pub netem-hb"

die() { echo "hasys-lab: $*" >&2; exit 1; }
say() { echo "hasys-lab[$prefix]: $*"; }

ns_name() { echo "$prefix-$1"; }
is_node_role() { [[ $1 =~ ^[abc]$ ]]; }

# Each node has a mount namespace of its own, kept as a bind of its nsfs file under $mntns_dir (as
# `ip netns` keeps network namespaces under /run/netns): every process of the node runs in it, so
# the executor's mounts are seen by the node's monitor and by nobody else (two servers, one shared
# disk). It is a slave of the host's: the host's mounts still show inside. Its /sys is that of the
# node's network namespace, as `ip netns exec` would give.
readonly mntns_dir=/run/hasys-lab
mntns_file() { echo "$mntns_dir/$prefix-$1.mnt"; }

ensure_mntns() {  # node
  local file
  file=$(mntns_file "$1")
  if nsenter --mount="$file" true 2>/dev/null; then return; fi
  mkdir -p "$mntns_dir" || die "cannot create $mntns_dir"
  if ! mountpoint -q "$mntns_dir"; then
    mount --bind "$mntns_dir" "$mntns_dir" || die "cannot bind-mount $mntns_dir"
  fi
  mount --make-private "$mntns_dir" || die "cannot make $mntns_dir private"
  : >"$file" || die "cannot create $file"
  # shellcheck disable=SC2016
  unshare --mount="$file" --propagation slave \
    nsenter --net="/run/netns/$(ns_name "$1")" sh -c 'umount -l /sys && mount -t sysfs sysfs /sys' \
    || die "cannot create the mount namespace of node $1 ($file)"
}

remove_mntns() {  # node
  local file
  file=$(mntns_file "$1")
  [[ -e $file ]] || return 0
  umount "$file" 2>/dev/null || true
  rm -f "$file"
}

# The command that runs what follows inside a role's namespaces: a node's network and mount
# namespaces, or the network namespace of gw, mgr, sw.
ns_runner() {  # role
  if is_node_role "$1" && [[ -e $(mntns_file "$1") ]]; then
    echo "nsenter --mount=$(mntns_file "$1") --net=/run/netns/$(ns_name "$1") --"
  else
    echo "ip netns exec $(ns_name "$1")"
  fi
}

in_ns() {  # role command...
  local role=$1 runner
  shift
  read -r -a runner <<<"$(ns_runner "$role")"
  "${runner[@]}" "$@"
}

exec_in_ns() {  # role command...: the shell becomes the command
  local role=$1 runner
  shift
  read -r -a runner <<<"$(ns_runner "$role")"
  exec "${runner[@]}" "$@"
}
ns_exists() { [[ -e /run/netns/$1 ]]; }
node_dir() { echo "$lab_dir/$1"; }
node_octet() {
  case $1 in
    a) echo 11 ;; b) echo 12 ;; c) echo 13 ;;
    *) die "node '$1' is not one of a, b, c" ;;
  esac
}

# Every namespace of this lab that exists now, nodes first and the switch last.
lab_namespaces() {
  local role
  for role in a b c mgr gw sw; do
    if ns_exists "$prefix-$role"; then echo "$prefix-$role"; fi
  done
}

# Creates the namespace if missing and applies the lab's sysctls (idempotent).
ensure_ns() {
  local ns
  ns=$(ns_name "$1")
  if ! ns_exists "$ns"; then
    ip netns add "$ns" || die "cannot create network namespace $ns"
  fi
  ip -n "$ns" link set lo up || die "cannot set lo up in $ns"
  # No IPv6 (the lab uses IPv4 documentation ranges only, so no DAD delays or RS noise);
  # gratuitous ARP creates and updates neighbour entries so clients follow a moving virtual IP;
  # the client address survives removal of the gateway address (promote_secondaries).
  ip netns exec "$ns" sysctl -qw \
    net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
    net.ipv4.conf.all.arp_accept=1 net.ipv4.conf.default.arp_accept=1 \
    net.ipv4.conf.all.arp_notify=1 net.ipv4.conf.default.arp_notify=1 \
    net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.default.arp_ignore=1 \
    net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.default.arp_announce=2 \
    net.ipv4.conf.all.promote_secondaries=1 net.ipv4.conf.default.promote_secondaries=1 \
    >/dev/null || die "cannot set sysctls in $ns"
}

ensure_bridge() {
  local sw
  sw=$(ns_name sw)
  if ! ip -n "$sw" link show "$1" &>/dev/null; then
    ip -n "$sw" link add "$1" type bridge forward_delay 0 stp_state 0 mcast_snooping 0 \
      || die "cannot create bridge $1 in $sw"
  fi
  ip -n "$sw" link set "$1" up || die "cannot set bridge $1 up in $sw"
}

# A veth from the bridge <net> (port "<role>-<net>" in the switch) to <ifname> inside <role>.
ensure_port() {
  local role=$1 net=$2 ifname=$3 sw ns port
  sw=$(ns_name sw)
  ns=$(ns_name "$role")
  port="$role-$net"
  if ! ip -n "$sw" link show "$port" &>/dev/null; then
    ip -n "$sw" link add "$port" type veth peer name "$ifname" netns "$ns" \
      || die "cannot create veth $sw/$port <-> $ns/$ifname"
  fi
  ip -n "$sw" link set "$port" master "$net" up || die "cannot attach $port to bridge $net"
  ip -n "$ns" link set "$ifname" up || die "cannot set $ifname up in $ns"
  ip netns exec "$ns" sysctl -qw "net.ipv4.neigh.$ifname.locktime=0" >/dev/null \
    || die "cannot set neighbour locktime on $ns/$ifname"
}

ensure_addr() {  # role ifname cidr
  ip -n "$(ns_name "$1")" addr replace "$3" dev "$2" || die "cannot add $3 to $1/$2"
}

ensure_default_route() {  # role
  ip -n "$(ns_name "$1")" route replace default via "$gateway_ip" dev eth0 \
    || die "cannot set the default route via $gateway_ip in $(ns_name "$1")"
}

# The one-letter state of a live process (R, S, D, T, ...); fails for a zombie or no process.
pid_state() {
  local stat
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != [ZX] ]] || return 1
  echo "${stat:0:1}"
}

# The pid of a daemon started by the lab, when it is alive and inside the node's namespace.
daemon_pid() {  # node daemon
  local file pid ns
  file="$(node_dir "$1")/$2.pid"
  ns=$(ns_name "$1")
  [[ -r $file ]] || return 1
  pid=$(<"$file")
  pid_state "$pid" >/dev/null || return 1
  [[ $(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) == "$(stat -L -c %i "/run/netns/$ns")" ]] \
    || return 1
  echo "$pid"
}

# Pids of every live process in the namespace, less the lab's infrastructure unless asked.
ns_pids() {  # role [with-infra]
  local ns pid skip=() d
  ns=$(ns_name "$1")
  ns_exists "$ns" || return 0
  if [[ ${2:-} != with-infra && -d $(node_dir "$1") ]]; then
    for d in $infra_daemons; do
      if pid=$(daemon_pid "$1" "$d"); then skip+=("$pid"); fi
    done
  fi
  for pid in $(ip netns pids "$ns" 2>/dev/null); do
    [[ " ${skip[*]} " == *" $pid "* ]] && continue
    pid_state "$pid" >/dev/null && echo "$pid"
  done
  return 0
}

# Waits until none of the pids is alive; fails after <seconds>.
wait_gone() {  # seconds pid...
  local deadline=$((SECONDS + $1)) pid alive
  shift
  while :; do
    alive=0
    for pid in "$@"; do pid_state "$pid" >/dev/null && alive=1; done
    ((alive)) || return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# Starts the command saved in <node>/<daemon>.cmd inside the node's namespace, detached, with
# stdout/stderr appended to <daemon>.log and its pid in <daemon>.pid (written by the process).
start_saved() {  # node daemon
  local node=$1 daemon=$2 dir ns cmdline pid deadline runner
  dir=$(node_dir "$node")
  ns=$(ns_name "$node")
  read -r -a runner <<<"$(ns_runner "$node")"
  [[ -r $dir/$daemon.cmd ]] || die "no saved command for $daemon on node $node ($dir/$daemon.cmd)"
  cmdline=$(<"$dir/$daemon.cmd")
  rm -f "$dir/$daemon.pid"
  echo "=== hasys-lab $(date '+%F %T') starting $daemon in $ns: $cmdline" >>"$dir/$daemon.log"
  # With $start_gate (a FIFO, see open_start_gate) the process waits there for a line before it
  # becomes the daemon: all gated daemons then start within a millisecond of each other.
  # shellcheck disable=SC2016  # $1/$2/$3 expand in the inner shell
  (cd "$dir" && { [[ -z ${start_gate_fd:-} ]] || exec {start_gate_fd}>&-; } && exec setsid "${runner[@]}" bash -c 'echo $$ >"$1"; [[ -z $3 ]] || read -r _ <"$3"; eval "exec $2"' \
    hasys-lab-spawn "$dir/$daemon.pid" "$cmdline" "${start_gate:-}" </dev/null >>"$dir/$daemon.log" 2>&1) &
  deadline=$((SECONDS + 3))
  until pid=$(daemon_pid "$node" "$daemon"); do
    if ((SECONDS >= deadline)); then
      tail -n 5 "$dir/$daemon.log" >&2
      die "$daemon did not start on node $node (see $dir/$daemon.log)"
    fi
    sleep 0.02
  done
  echo "$pid"
}

# A start gate: daemons started while $start_gate is set wait at it until release_start_gate.
# The lab holds the FIFO open for reading and writing, so a daemon that opens it late still finds
# its line, and nothing blocks on open.
open_start_gate() {
  start_gate="$lab_dir/start.gate"
  rm -f "$start_gate"
  mkfifo -m 600 "$start_gate" || die "cannot make the start gate $start_gate"
  exec {start_gate_fd}<>"$start_gate"
}

release_start_gate() {  # pids that wait at the gate
  local pid deadline=$((SECONDS + 10)) line=""
  for pid in "$@"; do line+=$'go\n'; done
  printf '%s' "$line" >&"$start_gate_fd"  # one write: every waiting process wakes at once
  for pid in "$@"; do  # the line is read once the process has become its daemon
    while [[ $(cat "/proc/$pid/comm" 2>/dev/null) == bash ]]; do
      ((SECONDS < deadline)) || die "pid $pid still waits at the start gate"
      sleep 0.01
    done
  done
  exec {start_gate_fd}>&-
  rm -f "$start_gate"
  start_gate="" start_gate_fd=""
}

spawn() {  # node daemon command...
  local node=$1 daemon=$2
  shift 2
  printf '%q ' "$@" >"$(node_dir "$node")/$daemon.cmd"
  start_saved "$node" "$daemon"
}

stop_daemon() {  # node daemon [signal]
  local pid
  pid=$(daemon_pid "$1" "$2") || return 0
  kill -s "${3:-TERM}" "$pid" 2>/dev/null || true
  kill -s CONT "$pid" 2>/dev/null || true
  wait_gone 3 "$pid" || { kill -s KILL "$pid" 2>/dev/null; wait_gone 2 "$pid"; } \
    || die "$2 (pid $pid) on node $1 does not exit"
}

# Waits until a TCP port accepts connections inside the namespace.
wait_tcp() {  # role host port seconds
  local deadline=$((SECONDS + $4))
  # shellcheck disable=SC2016
  until timeout 1 ip netns exec "$(ns_name "$1")" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$2" "$3" \
    2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}
