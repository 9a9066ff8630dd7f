# Writes each lab node's files: group keys, bus credentials, nats.conf and node.toml, or the
# keepalived configuration that replaces hasys with `up --keepalived` (sourced).
# shellcheck shell=bash disable=SC2034,SC2154  # variables shared with hasys-lab, which sources this
# Expects: $prefix, $lab_dir, $repo, $topology, $hb_enabled, $period, $count, $priority, $impl.

random_hex() { od -An -v -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# The nodes of the topology, and the groups: "name node1 node2 vip hb_port pub_port".
topology_nodes() { if [[ $topology == n1 ]]; then echo a b c; else echo a b; fi; }
topology_groups() {
  if [[ $topology == n1 ]]; then
    echo "g1 a c 198.51.100.101 29954 29955"
    echo "g2 b c 198.51.100.102 29964 29965"
  else
    echo "lab a b 198.51.100.100 29954 29955"
  fi
}

has_priority() {  # node: true when --priority names it
  [[ ,$priority, == *",$1,"* ]]
}

# Keys and credentials are made once and kept while the lab lives: rewriting them under
# running daemons would split the pair.
write_secrets() {
  local group n1 n2 vip hp pp node key
  mkdir -p "$lab_dir/keys"
  while read -r group n1 n2 vip hp pp; do
    key="$lab_dir/keys/$group.key"
    [[ -s $key ]] || (umask 077 && random_hex 32 >"$key" && echo >>"$key")
    for node in "$n1" "$n2"; do
      mkdir -p "$(node_dir "$node")/keys"
      install -m 0600 "$key" "$(node_dir "$node")/keys/$group.key"
    done
  done < <(topology_groups)
  for node in $(topology_nodes); do
    local cred
    cred="$(node_dir "$node")/bus.cred"
    [[ -s $cred ]] || (umask 077 && echo "hasys:$(random_hex 16)" >"$cred")
    cred="$(node_dir "$node")/leaf.cred"
    [[ -s $cred ]] || (umask 077 && echo "node-$node:$(random_hex 16)" >"$cred")
  done
  if [[ $impl == hasys ]]; then write_hub_secrets; fi
}

# The manager hub in the mgr namespace (issue 10): a CA and the hub's certificate for its TLS
# leaf listener (made here, never kept beyond the lab), the manager services' credentials.
write_hub_secrets() {
  local dir
  dir=$(node_dir mgr)
  mkdir -p "$dir"
  [[ -s $dir/manager.cred ]] || (umask 077 && echo "manager:$(random_hex 16)" >"$dir/manager.cred")
  [[ -s $dir/itsm.cred ]] || (umask 077 && echo "itsm:$(random_hex 16)" >"$dir/itsm.cred")
  [[ -s $dir/hub.pem && -s $dir/ca.pem ]] && return
  command -v openssl >/dev/null || die "openssl not found (scripts/setup.sh installs it)"
  (
    umask 077
    cd "$dir" \
      && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
        -subj "/CN=hasys lab $prefix CA" -keyout ca.key -out ca.pem \
      && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=hasys-hub" -keyout hub.key -out hub.csr \
      && printf 'subjectAltName=IP:%s\n' "$manager_ip" >hub.ext \
      && openssl x509 -req -in hub.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
        -extfile hub.ext -out hub.pem
  ) >"$dir/openssl.log" 2>&1 || die "cannot make the hub's certificate (see $dir/openssl.log)"
}

# The hub's nats.conf: one account per node (deploy/nats/hub-conf.sh).
write_hub_conf() {
  local dir node leafs=()
  dir=$(node_dir mgr)
  for node in $(topology_nodes); do leafs+=("$(<"$(node_dir "$node")/leaf.cred")"); done
  (umask 077 && "$repo/deploy/nats/hub-conf.sh" --listen 127.0.0.1:4222 \
    --leaf-listen "$manager_ip:7422" --cert "$dir/hub.pem" --key "$dir/hub.key" \
    --manager "$(<"$dir/manager.cred")" --integrator "$(<"$dir/itsm.cred")" "${leafs[@]}" \
    >"$dir/hub.conf") \
    || die "cannot write the hub's configuration"
}

write_nats_conf() {  # node
  local dir user password
  dir=$(node_dir "$1")
  IFS=: read -r user password <"$dir/bus.cred"
  mkdir -p "$dir/state/nats"
  sed -e "s|@SERVER_NAME@|node-$1|" -e "s|@LISTEN@|127.0.0.1:4222|" \
    -e "s|@USER@|$user|" -e "s|@PASSWORD@|$password|" -e "s|@STORE_DIR@|$dir/state/nats|" \
    "$repo/deploy/nats/node.conf.template" >"$dir/nats.conf"
  if [[ $impl == hasys ]]; then  # the leaf link to the hub in the mgr namespace (issue 10)
    IFS=: read -r user password <"$dir/leaf.cred"
    sed -e "s|@LEAF_USER@|$user|" -e "s|@LEAF_PASSWORD@|$password|" \
      -e "s|@MANAGER_ADDRESS@|$manager_ip|" -e "s|@MANAGER_PORT@|7422|" \
      -e "s|@MANAGER_CA@|$(node_dir mgr)/ca.pem|" \
      "$repo/deploy/nats/node-leaf.conf.template" >>"$dir/nats.conf"
  fi
  chmod 0600 "$dir/nats.conf"
}

write_group() {  # node group peer vip hb_port pub_port
  local node=$1 group=$2 peer=$3 vip=$4 hb_port=$5 pub_port=$6 self_o peer_o
  self_o=$(node_octet "$node")
  peer_o=$(node_octet "$peer")
  cat <<EOF

[[group]]
name = "$group"
peer = "node-$peer"
key_file = "keys/$group.key"
mode = "auto"
active_priority = $(has_priority "$node" && echo true || echo false)
polling_period = "$period"
polling_count = $count
gateway = "$gateway_ip"
public_interface = "eth0"
EOF
  if ((shared_disk)); then
    cat <<EOF
# D10: wait at most this long for the shared disk's unmount before the peer is handed the group.
shared_disk_wait = "10s"
EOF
  fi
  if ((hb_enabled)); then
    cat <<EOF

[group.heartbeat]
self = "$hb_net.$self_o"
peer = "$hb_net.$peer_o"
port = $hb_port
EOF
  fi
  cat <<EOF

[group.public]
self = "$pub_net.$self_o"
peer = "$pub_net.$peer_o"
port = $pub_port
EOF
  if ((shared_disk)); then
    cat <<EOF

# --shared-disk: one ext4 file system on a loop device that both nodes can mount (W4).
[[group.flow]]
type = "shared_disk"
name = "data"
device = "$(<"$lab_dir/shared.loop")"
mount_point = "$(shared_mount_point)"
fs_type = "ext4"
timeout = "5s"
EOF
  fi
  cat <<EOF

[[group.flow]]
type = "vip"
name = "svc-vip"
ip = "$vip"
prefix = 24
interface = "eth0"

# The lab's application: the name service, on both nodes, under a managed monitor (issue 9). Its
# recovery runs web-start (the lab's fault file web.nostart makes that fail).
[group.monitor]
period = "200ms"

[[group.monitor.process]]
name = "web"
match = "cmdline"
pattern = "namesvc.py node-$node 8080 lab=$prefix"
on = "both"
managed = true
recovery = true
start = "$(node_dir "$node")/web-start"
start_time = "5s"
retries = 2
EOF
  if ((shared_disk)); then
    cat <<EOF

[[group.monitor.disk]]
name = "data"
mount_point = "$(shared_mount_point)"
managed = true
unmount_confirm = true
EOF
  fi
}

# The lab's stand-in for the reboot command (D13): records the reason in <node>/rebooted.
write_reboot() {  # node
  local dir
  dir=$(node_dir "$1")
  cat >"$dir/reboot" <<SCRIPT
#!/bin/bash
# hasys-lab node $1: stands in for /usr/sbin/reboot (a lab must not reboot the machine).
echo "\$(date -u +%FT%T.%3NZ) \${HASYS_REASON:-}" >>$dir/rebooted
SCRIPT
  chmod 0755 "$dir/reboot"
}

# The name service's start command for hasys-monitor's recovery (D6), run by hasys-executor inside
# the node: the saved command line, in the background, with its pid where the lab looks for it.
write_web_start() {  # node
  local dir
  dir=$(node_dir "$1")
  cat >"$dir/web-start" <<SCRIPT
#!/bin/bash
# hasys-lab node $1: starts the name service again (touch $dir/web.nostart to make this fail).
if [[ -e $dir/web.nostart ]]; then echo "web.nostart is set: not starting (lab fault)" >&2; exit 1; fi
cd $dir || exit 1
setsid bash -c 'echo \$\$ >web.pid; eval "exec \$(cat web.cmd)"' </dev/null >>web.log 2>&1 &
SCRIPT
  chmod 0755 "$dir/web-start"
}

write_node_toml() {  # node
  local node=$1 dir group n1 n2 vip hp pp
  dir=$(node_dir "$node")
  mkdir -p "$dir/state/cmd" "$dir/run"
  {
    cat <<EOF
# hasys-lab node $node (lab $prefix): generated by deploy/lab/hasys-lab up; rewritten at each up.
[node]
name = "node-$node"
state_dir = "$dir/state"
command_dir = "$dir/state/cmd"
bus_url = "nats://127.0.0.1:4222"
bus_credentials = "$dir/bus.cred"
control_socket_dir = "$dir/run"
# D13: the lab never reboots the machine; this script only records that it was asked to.
reboot_command = "$dir/reboot"

[manager]
enabled = false
address = "$manager_ip"
port = 7422
EOF
    while read -r group n1 n2 vip hp pp; do
      if [[ $node == "$n1" ]]; then write_group "$node" "$group" "$n2" "$vip" "$hp" "$pp"; fi
      if [[ $node == "$n2" ]]; then write_group "$node" "$group" "$n1" "$vip" "$hp" "$pp"; fi
    done < <(topology_groups)
  } >"$dir/node.toml"
}

write_node_files() {
  local node
  for node in $(topology_nodes); do mkdir -p "$(node_dir "$node")"; done
  write_secrets
  if [[ $impl == hasys ]]; then write_hub_conf; fi
  for node in $(topology_nodes); do
    write_nats_conf "$node"
    write_web_start "$node"
    write_reboot "$node"
    write_node_toml "$node"
    if [[ $impl == keepalived ]]; then write_keepalived_conf "$node"; fi
  done
}

# A lab duration (100ms, 1s, 0.5s, 1m) in whole milliseconds; fails when it is not one.
period_ms() {  # duration
  local whole frac unit scale f=0 d
  [[ $1 =~ ^([0-9]{1,9})(\.([0-9]{1,6}))?(ms|s|m)$ ]] || return 1
  whole=${BASH_REMATCH[1]} frac=${BASH_REMATCH[3]} unit=${BASH_REMATCH[4]}
  case $unit in ms) scale=1 ;; s) scale=1000 ;; m) scale=60000 ;; esac
  if [[ -n $frac ]]; then
    d=$((10 ** ${#frac}))
    f=$((10#$frac * scale))
    ((f % d == 0)) || return 1
    f=$((f / d))
  fi
  echo $((10#$whole * scale + f))
}

# keepalived's advert_int (seconds) for the lab's --period: VRRPv3 carries the interval in
# centiseconds (RFC 5798), and keepalived 2.2 accepts 0.01 s to 40.95 s.
keepalived_advert_int() {  # period
  local ms
  ms=$(period_ms "$1") || ms=-1
  ((ms >= 10 && ms <= 40950 && ms % 10 == 0)) \
    || die "up --keepalived: --period '$1' is not a VRRPv3 advert interval (a multiple of 10ms from 10ms to 40.95s)"
  printf '%d.%02d\n' $((ms / 1000)) $((ms % 1000 / 10))
}

# The reader keepalived starts on its notify FIFO: one "<epoch-ms> <state> <instance>" line per
# transition, stamped when keepalived writes it (a notify script would add a fork and exec).
write_keepalived_notify() {  # node
  cat >"$(node_dir "$1")/keepalived-notify" <<'SCRIPT'
#!/bin/bash
# hasys-lab: keepalived notify FIFO reader; appends "<epoch-ms> <state> <instance>" to $1.
events=$1
fifo=${!#}
while read -r _ instance state _; do
  t=${EPOCHREALTIME/./}
  printf '%s %s %s\n' "$((t / 1000))" "$state" "${instance//\"/}" >>"$events"
done <"$fifo"
SCRIPT
  chmod 0755 "$(node_dir "$1")/keepalived-notify"
}

# One VRRPv3 instance per group of the node on eth0, unicast to the peer's public address, the
# lab's period as advert_int and its count as down_timer_adverts. nopreempt (with state BACKUP)
# because hasys never takes the Active role back from a running peer either; keepalived's
# gratuitous ARP settings are left at their defaults. Real-time and locked like hasys-heartbeat,
# without keepalived's default RLIMIT_RTTIME of 10 ms for a real-time VRRP process: with it, the
# kernel SIGKILLs the VRRP process now and then on this machine (keepalived respawns it; the
# instance restarts in BACKUP and the pair flaps), which hasys-heartbeat has no limit to hit.
write_keepalived_conf() {  # node
  local node=$1 dir advert group n1 n2 vip hp pp peer vrid=50
  dir=$(node_dir "$node")
  advert=$(keepalived_advert_int "$period")
  mkdir -p "$dir/run"
  write_keepalived_notify "$node"
  {
    cat <<EOF
# hasys-lab node $node (lab $prefix): generated by deploy/lab/hasys-lab up --keepalived.
global_defs {
  router_id node-$node
  vrrp_version 3
  script_user root
  enable_script_security
  vrrp_rt_priority 50
  vrrp_rlimit_rttime 1000000
  vrrp_no_swap
  vrrp_notify_fifo $dir/run/keepalived.fifo
  vrrp_notify_fifo_script "$dir/keepalived-notify $dir/keepalived.events"
}
EOF
    while read -r group n1 n2 vip hp pp; do
      vrid=$((vrid + 1))
      if [[ $node == "$n1" ]]; then peer=$n2; elif [[ $node == "$n2" ]]; then peer=$n1; else continue; fi
      cat <<EOF

vrrp_instance $group {
  state BACKUP
  nopreempt
  interface eth0
  virtual_router_id $vrid
  priority $(has_priority "$node" && echo 150 || echo 100)
  advert_int $advert
  down_timer_adverts $count
  unicast_src_ip $pub_net.$(node_octet "$node")
  unicast_peer {
    $pub_net.$(node_octet "$peer")
  }
  virtual_ipaddress {
    $vip/24 dev eth0
  }
}
EOF
    done < <(topology_groups)
  } >"$dir/keepalived.conf"
  keepalived -t -f "$dir/keepalived.conf" >"$dir/keepalived.check" 2>&1 \
    || die "keepalived refuses $dir/keepalived.conf: $(tr '\n' ' ' <"$dir/keepalived.check")"
}

# keepalived in the node's namespace, in the foreground (its lab pid is keepalived's own), with
# private pid files so several instances coexist, and every log line prefixed with the epoch in
# microseconds (its own time stamps have whole seconds only).
spawn_keepalived() {  # node
  local dir
  dir=$(node_dir "$1")
  # shellcheck disable=SC2016  # expands in the daemon's own shell
  spawn "$1" keepalived bash -c 'rm -f "$0"/run/keepalived*.pid
    exec keepalived -n -l -D --vrrp -f "$0/keepalived.conf" -p "$0/run/keepalived.pid" \
      -r "$0/run/keepalived_vrrp.pid" \
      > >(while IFS= read -r l; do printf "%s %s\n" "${EPOCHREALTIME/./}" "$l"; done) 2>&1' "$dir"
}

# The last VRRP state of each instance of the node, from its notify events.
keepalived_state() {  # node
  local events
  events="$(node_dir "$1")/keepalived.events"
  daemon_pid "$1" keepalived >/dev/null || { echo "not running"; return; }
  [[ -s $events ]] || { echo "no state yet"; return; }
  awk '$2 ~ /^(MASTER|BACKUP|FAULT|STOP)$/ { s[$3] = $2; t[$3] = $1 }
       END { for (i in s) printf "%s %s (since %s)  ", i, s[i], strftime("%T", t[i] / 1000) }' \
    "$events"
  echo
}
