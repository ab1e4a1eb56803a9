#!/usr/bin/env bash
# The baseline nativek8s' reference lab is measured against: the same lab built by hand, as
# one would prototype it before any tool existed. Two datacentres, each a LAN switch (a
# bridge in its own namespace), a router running BIRD 2 and a node running GoBGP that
# announces its PodCIDR, a pod behind the node; the routers peer over a third switch. Same
# addresses and BGP timers as the reference lab. It exits at the first pod-to-pod ping that
# crosses the datacentres, printing how long that took from its own start.
#
#   sudo benchmarks/prototype_lab.sh up NAME     build, start, ping; leaves the lab running
#   sudo benchmarks/prototype_lab.sh down NAME   stop its daemons (by PID), delete its namespaces
#
# Everything lives in namespaces named NAME-*; nothing touches the host's namespace.
set -euo pipefail
cmd=${1:?usage: $0 up|down NAME}
name=${2:?usage: $0 up|down NAME}
run=/run/nk-proto/$name

down() {
    for pidfile in "$run"/*.pid; do
        [ -e "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        # Only the process this script started: its pid file, and still in our namespace.
        if [ -d "/proc/$pid" ] && grep -q "$run" "/proc/$pid/cmdline" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
        fi
    done
    for ns in r1 r2 n1 n2 p1 p2 sw1 sw2 swp; do
        ip netns del "$name-$ns" 2>/dev/null || true
    done
    rm -rf "$run"
}

if [ "$cmd" = down ]; then down; exit 0; fi
[ "$cmd" = up ] || { echo "usage: $0 up|down NAME" >&2; exit 2; }

start=$(date +%s.%N)
mkdir -p "$run"
for ns in r1 r2 n1 n2 p1 p2 sw1 sw2 swp; do ip netns add "$name-$ns"; done

# Switches: a bridge each, ports added as machines are wired.
for sw in sw1 sw2 swp; do
    ip -n "$name-$sw" -batch - <<EOF
link set lo up
link add br0 type bridge
link set br0 up
EOF
done

# wire SWITCH PORT NS IFACE: a veth from a switch's bridge to a machine.
wire() {
    ip -n "$name-$1" link add "$2" type veth peer name "$4" netns "$name-$3"
    ip -n "$name-$1" link set "$2" master br0 up
}

for d in 1 2; do
    r=$name-r$d n=$name-n$d p=$name-p$d
    wire "sw$d" "r$d" "r$d" eth1
    wire swp "r$d" "r$d" eth2
    wire "sw$d" "n$d" "n$d" eth0
    ip -n "$r" -batch - <<EOF
link set lo up
link add br-lan type bridge
link set eth1 master br-lan
link set eth1 up
link set br-lan up
addr add 10.$d.0.1/24 dev br-lan
addr add 10.255.0.$d/24 dev eth2
link set eth2 up
EOF
    ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
    ip -n "$n" link add pod0 type veth peer name eth0 netns "$p"
    ip -n "$n" -batch - <<EOF
link set lo up
addr add 10.$d.0.10/24 dev eth0
link set eth0 up
route add default via 10.$d.0.1
route add blackhole 10.244.$((d - 1)).0/24
addr add 169.254.1.1/32 dev pod0
link set pod0 up
route add 10.244.$((d - 1)).10/32 dev pod0
EOF
    ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1
    ip -n "$p" -batch - <<EOF
link set lo up
addr add 10.244.$((d - 1)).10/32 dev eth0
link set eth0 up
route add 169.254.1.1 dev eth0 scope link
route add default via 169.254.1.1 dev eth0
EOF
done

# Nodes: GoBGP, listening too, so the router's first connect succeeds.
for d in 1 2; do
    cat > "$run/n$d.toml" <<EOF
[global.config]
  as = 6500$d
  router-id = "10.$d.0.10"
  port = 179
  local-address-list = ["10.$d.0.10"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.$d.0.1"
    peer-as = 65000
  [neighbors.timers.config]
    connect-retry = 5
    hold-time = 9
    keepalive-interval = 3
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
EOF
    ip netns exec "$name-n$d" gobgpd -f "$run/n$d.toml" -t toml -p --pprof-disable \
        "--api-hosts=unix://$run/n$d.sock" >"$run/n$d.log" 2>&1 &
    echo $! > "$run/n$d.pid"
done

# Routers: BIRD, iBGP between them, eBGP to their node; BGP routes into the kernel.
for d in 1 2; do
    o=$((3 - d))
    cat > "$run/r$d.conf" <<EOF
log "$run/r$d.log" all;
router id 10.255.0.$d;
protocol device { }
protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; }
protocol static lan { ipv4; route 10.$d.0.0/24 unreachable; }
template bgp tuned {
  hold time 9; keepalive time 3; connect retry time 5; connect delay time 0;
  error wait time 1,5;
}
protocol bgp peer_router from tuned {
  local 10.255.0.$d as 65000; neighbor 10.255.0.$o as 65000; direct;
  ipv4 { next hop self ebgp; import all; export where proto = "lan" || source = RTS_BGP; };
}
protocol bgp peer_node from tuned {
  local 10.$d.0.1 as 65000; neighbor 10.$d.0.10 as 6500$d;
  ipv4 { import where net ~ [ 10.244.$((d - 1)).0/24 ]; export none; };
}
EOF
    ip netns exec "$name-r$d" bird -f -c "$run/r$d.conf" -s "$run/r$d.ctl" \
        -P "$run/r$d.birdpid" &
    echo $! > "$run/r$d.pid"
done

for d in 1 2; do
    sock=$run/n$d.sock
    until [ -S "$sock" ]; do sleep 0.005; done
    until gobgp --target "unix://$sock" global rib add -a ipv4 "10.244.$((d - 1)).0/24" \
        2>/dev/null; do sleep 0.02; done
done

until ip netns exec "$name-p1" ping -c1 -W1 -n -q 10.244.1.10 >/dev/null 2>&1; do
    sleep 0.01
done
end=$(date +%s.%N)
echo "first ping across datacentres after $(echo "$end - $start" | bc) s"
