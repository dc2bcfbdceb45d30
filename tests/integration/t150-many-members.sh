#!/bin/sh
# A node with 600 members: 599 made-up ones (half of them with an endpoint
# nothing listens on, so the node dials about 300 members), and last in its
# config the real member b, which it dials. Every member's link must be
# polled however many there are: a and b sync both ways and end with one
# digest. Prints how long a took to answer and its resident memory.
. "$(dirname "$0")/lib.sh"

init_node a
init_node b
member b a
run_node b

# 599 members: fresh random node ids (43 characters of unpadded URL-safe
# base64 of 32 bytes; the encoder leaves the last character's 2 unused
# bits zero), every other one with an endpoint on a port that was free
# when it was picked: bound to port 0, then closed.
python3 -c '
import base64, os, socket, sys
out = open(sys.argv[1], "a")
for i in range(1, 600):
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    out.write("\n[member made-up-%03d]\nkey = %s\n" % (i, key))
    if i % 2:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        out.write("endpoint = tcp://127.0.0.1:%d\n" % port)
' "$T/a/node.conf" || fail "cannot write the made-up members"
member a b dial
[ "$(grep -c '^\[member ' "$T/a/node.conf")" -eq 600 ] || fail "a's config does not list 600 members"
[ "$(sed -n 's/^\[member \(.*\)\]$/\1/p' "$T/a/node.conf" | tail -n 1)" = b ] || fail "b is not a's last member"

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
