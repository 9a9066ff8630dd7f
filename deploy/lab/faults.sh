# hasys-lab's fault and inspection commands: links, signals, crash/boot, netem, gateway, cpu hog.
# shellcheck shell=bash disable=SC2034,SC2154  # variables shared with hasys-lab, which sources this
# Expects the lab loaded (load_lab in hasys-lab): $topology, $hb_enabled, $prefix, $lab_dir.

net_iface() {  # role net
  case $2 in
    pub) echo eth0 ;;
    hb)
      [[ $1 =~ ^[abc]$ ]] || die "$1 is not on the heartbeat network"
      ((hb_enabled)) || die "lab $prefix has no heartbeat network (it was brought up with --no-hb-net)"
      echo eth1 ;;
    *) die "network '$2' is not hb or pub" ;;
  esac
}

fault_link() {
  local node net state side=node ifname
  (($# >= 3)) || die "usage: link <node> <hb|pub> <down|up> [--side node|switch]"
  node=$(norm_node "$1" "gw mgr")
  net=$2 state=$3
  shift 3
  [[ $state == up || $state == down ]] || die "link: state '$state' must be up or down"
  if (($#)); then
    [[ $1 == --side && $# == 2 ]] || die "link: unexpected '$*' (expected --side node|switch)"
    side=$2
  fi
  ifname=$(net_iface "$node" "$net")
  case $side in
    node)
      ip -n "$(ns_name "$node")" link set "$ifname" "$state" \
        || die "link: cannot set $ifname $state in $(ns_name "$node")"
      # An interface set down loses its routes; the default route comes back with it.
      if [[ $state == up && $net == pub && $node != gw ]]; then ensure_default_route "$node"; fi ;;
    switch)
      ip -n "$(ns_name sw)" link set "$node-$net" "$state" \
        || die "link: cannot set switch port $node-$net $state in $(ns_name sw)" ;;
    *) die "link: --side '$side' must be node or switch" ;;
  esac
  say "link $node $net $state ($side side: $([[ $side == node ]] && echo "$ifname in $(ns_name "$node")" || echo "port $node-$net in $(ns_name sw)"))"
}

fault_kill() {
  local node target sig=TERM pids=() pid d
  (($# >= 2)) || die "usage: kill <node> <daemon|all> [--signal SIG]"
  node=$(norm_node "$1" mgr)
  target=$2
  shift 2
  if (($#)); then
    [[ $1 == --signal && $# == 2 ]] || die "kill: unexpected '$*' (expected --signal SIG)"
    sig=${2#SIG}
  fi
  if [[ $target == all ]]; then
    mapfile -t pids < <(ns_pids "$node")
  else
    d=$(norm_daemon "$target")
    pid=$(daemon_pid "$node" "$d") || { say "node $node: $d is not running"; return 0; }
    pids=("$pid")
  fi
  ((${#pids[@]})) || { say "node $node: no process to signal"; return 0; }
  kill -s "$sig" "${pids[@]}" || die "kill: kill -s $sig ${pids[*]} failed on node $node"
  case $sig in
    KILL | 9) wait_gone 5 "${pids[@]}" || die "kill: pids ${pids[*]} on node $node survive SIGKILL" ;;
    TERM | 15) wait_gone 5 "${pids[@]}" \
      || say "node $node: some of ${pids[*]} still run 5 s after SIGTERM (frozen? thaw them)" ;;
  esac
  say "node $node: SIG$sig sent to $target (pids ${pids[*]})"
}

fault_start() {
  (($# == 2)) || die "usage: start <node> <daemon>"
  start_daemon "$(norm_node "$1" mgr)" "$(norm_daemon "$2")"
}

# The node's interfaces: eth0 and, with the heartbeat network, eth1.
node_ifaces() { if ((hb_enabled)); then echo eth0 eth1; else echo eth0; fi; }

# A power failure: every process of the node stops at once (SIGSTOP: none can react), its cables
# go (eth0/eth1 down inside the node, so its kernel stops answering for its addresses, virtual
# IPs included), then everything is SIGKILLed. Says the crash time: the instant of SIGSTOP.
fault_crash() {
  local node ns pids=() more=() t0 ifname batch="" round
  (($# == 1)) || die "usage: crash <node>"
  node=$(norm_node "$1")
  ns=$(ns_name "$node")
  for ifname in $(node_ifaces); do batch+="link set $ifname down"$'\n'; done
  mapfile -t pids < <(ns_pids "$node")
  t0=${EPOCHREALTIME/./}
  if ((${#pids[@]})); then kill -s STOP "${pids[@]}" 2>/dev/null || true; fi
  ip -n "$ns" -batch - <<<"$batch" || die "crash: cannot set the links of $ns down"
  if ((${#pids[@]})); then kill -s KILL "${pids[@]}" 2>/dev/null || true; fi
  # A process forked between the listing and SIGSTOP is caught by a second look.
  for round in 1 2 3; do
    mapfile -t more < <(ns_pids "$node")
    ((${#more[@]})) || break
    kill -s KILL "${more[@]}" 2>/dev/null || true
    wait_gone 5 "${more[@]}" || die "crash: pids ${more[*]} on node $node survive SIGKILL (round $round)"
  done
  if ((${#pids[@]})); then
    wait_gone 5 "${pids[@]}" || die "crash: pids ${pids[*]} on node $node survive SIGKILL"
  fi
  # A server that lost power holds no mount: the shared disk is free (its journal would be
  # replayed by the next mount).
  if ((shared_disk)) && in_ns "$node" mountpoint -q "$(shared_mount_point)"; then
    in_ns "$node" umount -l "$(shared_mount_point)" || die "crash: cannot drop the shared disk mount of node $node"
  fi
  say "node $node: crashed at unix ms $((t0 / 1000)).$(printf '%03d' $((t0 % 1000))): ${#pids[@]} processes killed, $(node_ifaces | tr ' ' '/') down"
}

# The node powered on again: links up, no address but its own (a rebooted server keeps no
# virtual IP) and an empty neighbour table, then its daemons as `up` starts them.
fault_boot() {
  local node ns ifname own addr left=() d
  (($# == 1)) || die "usage: boot <node>"
  node=$(norm_node "$1")
  ns=$(ns_name "$node")
  mapfile -t left < <(ns_pids "$node")
  ((${#left[@]} == 0)) || die "boot: node $node is running (pids ${left[*]}); crash it first"
  # Leftover addresses go while the link is still down: a booting server never shows them, so
  # for no moment may both nodes appear to hold the virtual IP. One may vanish on its own
  # meanwhile (its kernel lease runs out): gone is what we want.
  for ifname in $(node_ifaces); do
    own="$([[ $ifname == eth0 ]] && echo "$pub_net" || echo "$hb_net").$(node_octet "$node")/24"
    for addr in $(ip -n "$ns" -4 -o addr show dev "$ifname" | awk '{ print $4 }'); do
      [[ $addr == "$own" ]] && continue
      if ! ip -n "$ns" addr del "$addr" dev "$ifname" 2>/dev/null \
        && [[ -n $(ip -n "$ns" -4 -o addr show dev "$ifname" to "${addr%/*}") ]]; then
        die "boot: cannot remove $addr from $ns/$ifname"
      fi
      say "node $node: removed leftover address $addr from $ifname"
    done
    ensure_addr "$node" "$ifname" "$own"
    ip -n "$ns" link set "$ifname" up || die "boot: cannot set $ifname up in $ns"
  done
  ensure_default_route "$node"
  ip -n "$ns" neigh flush all >/dev/null 2>&1 || true
  start_daemon "$node" web
  for d in $(node_daemons); do start_daemon "$node" "$d"; done
  say "node $node: booted"
}

signal_node() {  # node signal done-word
  local node pids=()
  node=$(norm_node "$1")
  mapfile -t pids < <(ns_pids "$node")
  ((${#pids[@]})) || { say "node $node: no process to signal"; return 0; }
  kill -s "$2" "${pids[@]}" 2>/dev/null || die "cannot send SIG$2 to ${pids[*]} on node $node"
  say "node $node: $3 ${#pids[@]} processes (${pids[*]})"
}
fault_freeze() { (($# == 1)) || die "usage: freeze <node>"; signal_node "$1" STOP froze; }
fault_thaw() { (($# == 1)) || die "usage: thaw <node>"; signal_node "$1" CONT thawed; }

fault_netem() {
  local node net ifname out mode
  (($# >= 3)) || die "usage: netem <node> <hb|pub> <netem args...|clear>"
  node=$(norm_node "$1" "gw mgr")
  net=$2
  shift 2
  ifname=$(net_iface "$node" "$net")
  netem_clear "$node" "$net" "$ifname"
  if [[ $1 == clear ]]; then say "netem $node $net: cleared"; return; fi
  mode=${HASYS_LAB_NETEM:-auto}
  if [[ $mode != user ]]; then
    if out=$(ip netns exec "$(ns_name "$node")" tc qdisc replace dev "$ifname" root netem "$@" 2>&1)
    then say "netem $node $net ($ifname): $* (kernel sch_netem)"; return; fi
    [[ $mode == auto && $out == *"kind is unknown"* ]] \
      || die "netem: tc qdisc replace dev $ifname root netem $*: $out"
  fi
  netem_user "$node" "$net" "$ifname" "$@"
}

netem_queue() { if [[ $1 == pub ]]; then echo 1; else echo 2; fi; }

# Kernels without sch_netem (this machine's): an NFQUEUE rule on the interface's output hands
# every IPv4 packet to nfq_netem.py, which delays or drops it.
netem_user() {  # node net ifname args...
  local node=$1 net=$2 ifname=$3 q ready deadline ns
  shift 3
  ns=$(ns_name "$node")
  command -v iptables >/dev/null \
    || die "netem: this kernel has no sch_netem, and the userspace emulation needs iptables"
  q=$(netem_queue "$net")
  mkdir -p "$(node_dir "$node")"
  ready="$(node_dir "$node")/netem-$net.ready"
  rm -f "$ready"
  spawn "$node" "netem-$net" "$python" "$here/nfq_netem.py" --queue "$q" --ready "$ready" "$@" >/dev/null
  deadline=$((SECONDS + 5))
  until [[ -e $ready ]]; do
    if ! daemon_pid "$node" "netem-$net" >/dev/null || ((SECONDS >= deadline)); then
      tail -n 3 "$(node_dir "$node")/netem-$net.log" >&2
      stop_daemon "$node" "netem-$net" KILL
      die "netem: the userspace emulation did not start for '$*'"
    fi
    sleep 0.02
  done
  ip netns exec "$ns" iptables -w -A OUTPUT -o "$ifname" -j NFQUEUE --queue-num "$q" --queue-bypass \
    || die "netem: cannot add the NFQUEUE rule on $ifname in $ns"
  say "netem $node $net ($ifname): $* (userspace NFQUEUE emulation: the kernel has no sch_netem)"
}

netem_clear() {  # node net ifname
  local ns q
  ns=$(ns_name "$1")
  q=$(netem_queue "$2")
  if ip netns exec "$ns" tc qdisc show dev "$3" | grep -q netem; then
    ip netns exec "$ns" tc qdisc del dev "$3" root || die "netem: cannot remove the qdisc of $3 in $ns"
  fi
  if command -v iptables >/dev/null; then
    while ip netns exec "$ns" iptables -w -C OUTPUT -o "$3" -j NFQUEUE --queue-num "$q" --queue-bypass \
      2>/dev/null; do
      ip netns exec "$ns" iptables -w -D OUTPUT -o "$3" -j NFQUEUE --queue-num "$q" --queue-bypass
    done
  fi
  stop_daemon "$1" "netem-$2"
  rm -f "$(node_dir "$1")/netem-$2".{cmd,ready}
}

fault_gateway() {
  local ns
  ns=$(ns_name gw)
  case ${1:-} in
    down)
      if ip -n "$ns" -br addr show eth0 | grep -q "$gateway_ip/"; then
        ip -n "$ns" addr del "$gateway_ip/24" dev eth0 || die "gateway: cannot remove $gateway_ip in $ns"
      fi
      say "gateway $gateway_ip: down (address removed in $ns; the client $client_ip stays)" ;;
    up)
      ensure_addr gw eth0 "$gateway_ip/24"
      if command -v arping >/dev/null; then
        ip netns exec "$ns" arping -q -U -c 1 -I eth0 "$gateway_ip" || true
      fi
      say "gateway $gateway_ip: up" ;;
    *) die "usage: gateway <down|up>" ;;
  esac
}

fault_cpuhog() {
  local node pid seconds=300
  (($# >= 2)) || die "usage: cpuhog <node> <on|off> [--seconds N]"
  node=$(norm_node "$1")
  if [[ ${3:-} == --seconds ]]; then seconds=${4:?--seconds needs a value}; fi
  if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1 || seconds > 3600)); then
    die "cpuhog: --seconds '$seconds' must be 1..3600"
  fi
  case $2 in
    on)
      if pid=$(daemon_pid "$node" cpuhog); then say "node $node: cpuhog already on (pid $pid)"; return; fi
      # shellcheck disable=SC2016  # expands in the hog's own shell
      pid=$(spawn "$node" cpuhog bash -c 'end=$((SECONDS + $0)); while ((SECONDS < end)); do :; done' \
        "$seconds")
      say "node $node: cpuhog on (pid $pid, ends by itself after ${seconds}s)" ;;
    off) stop_daemon "$node" cpuhog KILL; say "node $node: cpuhog off" ;;
    *) die "cpuhog: '$2' must be on or off" ;;
  esac
}

fault_exec() {
  local role
  (($# >= 2)) || die "usage: exec <node|gw|mgr|sw> <cmd...>"
  role=$(norm_node "$1" "gw mgr sw")
  shift
  exec_in_ns "$role" "$@"
}

fault_ctl() {
  local node bin=$build_dir/tools/hasysctl/hasysctl
  (($# >= 1)) || die "usage: ctl <node> <hasysctl args...>"
  node=$(norm_node "$1")
  shift
  [[ -x $bin ]] || die "ctl: hasysctl is not built ($bin)"
  exec_in_ns "$node" "$bin" --config "$(node_dir "$node")/node.toml" "$@"
}

fault_pid() {
  (($# == 2)) || die "usage: pid <node> <daemon>"
  daemon_pid "$(norm_node "$1" "gw mgr")" "$(norm_daemon "$2")" || exit 1
}

fault_log() {
  local file
  (($# == 2)) || die "usage: log <node> <daemon>"
  file="$(node_dir "$(norm_node "$1" "gw mgr")")/$(norm_daemon "$2").log"
  [[ -r $file ]] || die "log: no $file"
  cat "$file"
}
