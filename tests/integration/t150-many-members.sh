#!/bin/sh
# A node with 600 members: 599 made-up ones, each with an endpoint nothing
# listens on, so the node dials all 600, and last in its config the real
# member b. Every member's link must be opened and polled however many
# there are (ZeroMQ's default of 1,023 sockets held about 340 dialled
# members): a and b sync both ways and end with one digest. Then, under an
# open-file limit too small for 600 links, `check` and `run` refuse the
# config naming the limit to raise. Prints how long a took to answer and
# its resident memory.
. "$(dirname "$0")/lib.sh"

init_node a
init_node b
member b a
run_node b

# 599 members: fresh random node ids (43 characters of unpadded URL-safe
# base64 of 32 bytes; the encoder leaves the last character's 2 unused
# bits zero), each with an endpoint on a port that was free when it was
# picked: bound to port 0, then closed.
python3 -c '
import base64, os, socket, sys
out = open(sys.argv[1], "a")
for i in range(1, 600):
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    out.write("\n[member made-up-%03d]\nkey = %s\n" % (i, key))
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    out.write("endpoint = tcp://127.0.0.1:%d\n" % port)
' "$T/a/node.conf" || fail "cannot write the made-up members"
member a b dial
[ "$(grep -c '^\[member ' "$T/a/node.conf")" -eq 600 ] || fail "a's config does not list 600 members"
[ "$(sed -n 's/^\[member \(.*\)\]$/\1/p' "$T/a/node.conf" | tail -n 1)" = b ] || fail "b is not a's last member"
[ "$(grep -c '^endpoint = ' "$T/a/node.conf")" -eq 600 ] || fail "a does not dial 600 members"

# 600 dialled links need about 2,500 open files: under a limit of 512 the
# config is refused by check and by run, before anything is opened.
( ulimit -n 512 && "$SOCDIR_NODE" check --config "$T/a/node.conf" ) >"$T/check.out" 2>&1 \
    && fail "check accepted 600 dialled members under ulimit -n 512: $(cat "$T/check.out")"
grep -q "600 members with an endpoint to dial, more than the 1[0-9][0-9] this process can (open-file limit 512" \
    "$T/check.out" || fail "check does not say what to raise: $(cat "$T/check.out")"
grep -q "LimitNOFILE" "$T/check.out" || fail "check does not name LimitNOFILE: $(cat "$T/check.out")"
( ulimit -n 512 && exec "$SOCDIR_NODE" run --config "$T/a/node.conf" ) >"$T/run.out" 2>&1 \
    && fail "run started with 600 dialled members under ulimit -n 512"
grep -q "600 members with an endpoint to dial" "$T/run.out" || fail "run does not say why: $(cat "$T/run.out")"
[ -e "$T/a/control.sock" ] && fail "run left a control socket behind"
"$SOCDIR_NODE" check --config "$T/a/node.conf" >"$T/check.out" 2>&1 \
    || fail "check refused 600 members under the machine's limit: $(cat "$T/check.out")"

t0=$(date +%s%N)
run_node a
t1=$(date +%s%N)
[ "$(status_of a 'd["members"]')" -eq 600 ] || fail "a does not have 600 members"
echo "a: status answered $(( (t1 - t0) / 1000000 )) ms after start;" \
    "$(grep VmRSS "/proc/$(cat "$T/a.pid")/status")"

orgs from-b 5 SI | sd b publish - >/dev/null
orgs from-a 5 AT | sd a publish - >/dev/null

# Both directions: b's entries on a, a's on b, one digest.
s_synced() {
    for i in 1 2 3 4 5; do
        sd a get "from-b-000$i" >/dev/null || return 1
        sd b get "from-a-000$i" >/dev/null || return 1
    done
    same_digest a b
}
wait_until 60 s_synced
sd a get --json from-b-0003 >"$T/a.json"
[ "$(json "$T/a.json" 'd["origin"], d["verified"]')" = "('$(cat "$T/b.id")', True)" ] \
    || fail "entry of b on a: $(cat "$T/a.json")"
sd a peers --json >"$T/a.peers"
[ "$(json "$T/a.peers" '[p["connected"] for p in d["peers"] if p["name"] == "b"]')" = "[True]" ] \
    || fail "a does not show b connected"
echo "a: after sync $(grep VmRSS "/proc/$(cat "$T/a.pid")/status")"

stop_node a
stop_node b
echo "t150 ok"
