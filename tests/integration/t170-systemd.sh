#!/bin/sh
# The node under systemd, without systemd: readiness and stopping go to
# NOTIFY_SOCKET (a datagram socket this test listens on, as systemd would
# for Type=notify), and when JOURNAL_STREAM names the node's stderr its log
# lines carry syslog priorities (<6> info, <4> warn) and no time or pid.
# JOURNAL_STREAM naming another stream changes nothing.
. "$(dirname "$0")/lib.sh"

# listen SOCKET OUT: write each datagram to SOCKET as a line of OUT, until
# one holds STOPPING=1 (or 120 s pass).
listen() {
    python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(120)
with open(sys.argv[2], "a") as out:
    while True:
        msg = s.recv(4096).decode()
        out.write(msg.replace("\n", " ") + "\n")
        out.flush()
        if "STOPPING=1" in msg.split("\n"):
            break
' "$1" "$2" &
    wait_for 10 "[ -S '$1' ]"
}

init_node j
: >"$T/j.log"
stream=$(stat -c '%d:%i' "$T/j.log")
listen "$T/notify.sock" "$T/notify.out"
listener=$!
JOURNAL_STREAM=$stream NOTIFY_SOCKET=$T/notify.sock \
    "$SOCDIR_NODE" run --config "$T/j/node.conf" >>"$T/j.log" 2>&1 &
echo $! >"$T/j.pid"
wait_for 30 "[ -S '$T/j/control.sock' ] && '$SOCDIR' --node '$T/j' status"
wait_for 10 "grep -q '^READY=1 STATUS=0 members' '$T/notify.out'"
# Before the database is opened (an upgrade may take minutes), the start
# timeout is extended, first in what the node sends.
head -n 1 "$T/notify.out" | grep -q '^EXTEND_TIMEOUT_USEC=[0-9]* STATUS=opening the database' ||
    fail "no EXTEND_TIMEOUT_USEC before READY: $(cat "$T/notify.out")"

# A malformed request is a warning.
printf '\301 not msgpack' >"$T/bad.req"
"$SOCDIR_BIN/rawsend" "ipc://$T/j/control.sock" "$T/bad.req" >/dev/null || true
wait_for 10 "grep -q '^<4>control request refused' '$T/j.log'"
stop_node j
wait "$listener" || fail "the notify listener failed"
expect_contains "$T/notify.out" "STOPPING=1"

grep -q '^<6>node .* ready: ' "$T/j.log" || { cat "$T/j.log"; fail "no '<6>... ready' line"; }
grep -q '^<6>stopping$' "$T/j.log" || { cat "$T/j.log"; fail "no '<6>stopping' line"; }
if grep -v '^<[3467]>' "$T/j.log" | grep -q .; then
    cat "$T/j.log"
    fail "a log line without a priority prefix"
fi

# JOURNAL_STREAM of another stream (a child whose stderr was redirected):
# the usual lines.
JOURNAL_STREAM=1:1 "$SOCDIR_NODE" run --config "$T/j/node.conf" >>"$T/j2.log" 2>&1 &
echo $! >"$T/j.pid"
wait_for 30 "'$SOCDIR' --node '$T/j' status"
stop_node j
grep -q '^\[[0-9]*\] [0-9T:.-]*Z info node .* ready: ' "$T/j2.log" || { cat "$T/j2.log"; fail "no plain ready line"; }
expect_not_contains "$T/j2.log" "<6>"
echo "ok: READY=1 and STOPPING=1 sent, priorities on the journal stream only"
