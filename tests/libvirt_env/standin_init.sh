#!/bin/busybox sh
# /init of the nativek8s stand-in guest (busybox ash). It reports its hardware on the console
# in lines starting with "NK8S " (parsed by console.py), optionally sets addresses and pings
# peers given on the kernel command line, then idles. Parameters (all optional):
#   nk8s.addr=KEY:ADDR/PREFIX[,KEY:ADDR/PREFIX...]  KEY is an interface name or a MAC
#   nk8s.ping=IP[,IP...]                            peers to ping after addressing
#   nk8s.ping_timeout=SECONDS                       per peer, default 60
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/bin  # the real ip, bird, birdc and qemu-ga ahead of busybox's applets
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

say() { echo "NK8S $*"; }

# The report runs in a subshell: a shell error there must not end PID 1 (kernel panic).
(
say BEGIN kernel=$(uname -r)
for m in $(cat /etc/nk8s/modules); do
    insmod "/lib/modules/$m.ko" || say MODULE name="$m" result=fail
done

# virtio probing runs inside insmod; give late devices a moment to settle anyway.
prev=-1
for _ in 1 2 3 4 5 6 7 8 9 10; do
    now=$(ls /sys/class/net /sys/block | wc -l)
    [ "$now" = "$prev" ] && break
    prev=$now
    sleep 0.2
done

# The QEMU guest agent, on the virtio port libvirt names org.qemu.guest_agent.0: the host
# runs commands here through it (guest-exec) and writes files (guest-file-*).
mkdir -p /run/bird /run/netns
for port in /sys/class/virtio-ports/*; do
    [ "$(cat "$port/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] || continue
    if [ -x /usr/sbin/qemu-ga ] && qemu-ga -m virtio-serial -p "/dev/${port##*/}" -d \
            -f /run/qemu-ga.pid -t /run; then
        say AGENT port="${port##*/}" result=ok
    else
        say AGENT port="${port##*/}" result=fail
    fi
done

ip link set lo up
for dev in /sys/class/net/*; do
    [ -e "$dev" ] || continue  # an unmatched glob stays literal in sh
    name=${dev##*/}
    [ "$name" = lo ] && continue
    ip link set "$name" up
    say NIC name="$name" mac="$(cat "$dev/address")"
done
for dev in /sys/block/*; do
    [ -e "$dev" ] || continue
    name=${dev##*/}
    case "$name" in loop*|ram*) continue ;; esac
    # /sys/block/*/size counts 512-byte sectors whatever the logical block size.
    say DISK name="$name" bytes=$(( $(cat "$dev/size") * 512 ))
done

addrs=""; pings=""; ping_timeout=60
for word in $(cat /proc/cmdline); do
    case "$word" in
        nk8s.addr=*) addrs=${word#nk8s.addr=} ;;
        nk8s.ping=*) pings=${word#nk8s.ping=} ;;
        nk8s.ping_timeout=*) ping_timeout=${word#nk8s.ping_timeout=} ;;
    esac
done

ifname_for() {  # interface name for a name or a MAC address
    case "$1" in
        *:*) for dev in /sys/class/net/*; do
                 [ "$(cat "$dev/address" 2>/dev/null)" = "$1" ] && { echo "${dev##*/}"; return; }
             done ;;
        *) [ -e "/sys/class/net/$1" ] && echo "$1" ;;
    esac
}

for spec in $(echo "$addrs" | tr , ' '); do
    key=${spec%:*}; addr=${spec##*:}
    name=$(ifname_for "$key")
    if [ -n "$name" ] && ip addr add "$addr" dev "$name"; then
        say ADDR key="$key" name="$name" addr="$addr" result=ok
    else
        say ADDR key="$key" name="${name:-none}" addr="$addr" result=fail
    fi
done

uptime_s() { cut -d. -f1 /proc/uptime; }
for peer in $(echo "$pings" | tr , ' '); do
    result=fail; tries=0; deadline=$(( $(uptime_s) + ping_timeout ))
    while [ "$(uptime_s)" -lt "$deadline" ]; do
        tries=$((tries + 1))
        if ping -c 1 -W 1 "$peer" >/dev/null 2>&1; then result=ok; break; fi
        # ping fails at once while the peer's ARP is unresolved or there is no route.
        sleep 0.5
    done
    say PING peer="$peer" result="$result" tries="$tries"
done

exit 0
)
say END status=$? uptime=$(cut -d' ' -f1 /proc/uptime)
while :; do sleep 3600; done
