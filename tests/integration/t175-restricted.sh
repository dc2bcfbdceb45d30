#!/bin/sh
# The node under the unit's address families and its @resources denial,
# applied by socdir-restrict with seccomp as systemd would: it binds
# 127.0.0.1 (libzmq lists the interfaces over netlink for that), answers,
# and starts though its setrlimit fails with EPERM (soft limit below the
# hard one), then stops cleanly. The families are read from the unit, so
# the test follows it.
. "$(dirname "$0")/lib.sh"

unit=$SRC/conf/socdir-node.service
fams=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit")
[ -n "$fams" ] || fail "no RestrictAddressFamilies= in $unit"
echo "families: $fams"
# ASan (scripts/test) sets RLIMIT_CORE at start unless told not to.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:disable_coredump=0"

init_node r
hard=$(ulimit -Hn)
soft=$hard
[ "$hard" = unlimited ] || [ "$hard" -le 1024 ] || soft=1024
(
    ulimit -Sn "$soft"
    exec "$SOCDIR_BIN/socdir-restrict" --families "$fams" --deny-setrlimit \
        "$SOCDIR_NODE" run --config "$T/r/node.conf"
) >>"$T/r.log" 2>&1 &
echo $! >"$T/r.pid"
wait_for 30 "[ -S '$T/r/control.sock' ] && '$SOCDIR' --node '$T/r' status"
sd r publish "$DEMO/lower-austria.ndjson" >/dev/null
sd r search --country AT --limit 1 >"$T/search.out"
expect_contains "$T/search.out" "1 of"
log_has r "ready: " || fail "no ready line"
stop_node r
echo "ok: the node ran under RestrictAddressFamilies=$fams with setrlimit denied (soft $soft, hard $hard)"

# Why AF_NETLINK is in the unit: without it, libzmq cannot bind 127.0.0.1.
without=$(echo "$fams" | sed 's/AF_NETLINK//')
if "$SOCDIR_BIN/socdir-restrict" --families "$without" \
        "$SOCDIR_NODE" check --config "$T/r/node.conf" >/dev/null 2>&1 &&
    timeout 10 "$SOCDIR_BIN/socdir-restrict" --families "$without" \
        "$SOCDIR_NODE" run --config "$T/r/node.conf" >"$T/nonl.log" 2>&1; then
    echo "note: without AF_NETLINK the node ran too"
else
    echo "note: without AF_NETLINK: $(grep -v '^\[' "$T/nonl.log" | head -1)"
fi
