#!/bin/sh
# Refusals. (1) D, whose key is no member of A, dials A: A's ZAP handler
# refuses it and logs it, nothing flows either way, A goes on. (2) M is a
# member of A whose key is used by peertool to send what a broken or
# compromised member could: an entry of an origin that is no member, an
# entry claiming A's origin with a bad signature, a frame over the size
# limit, a frame that is not msgpack. A refuses and counts each, drops M
# for the garbage, logs it, keeps serving, and stores nothing of it.
. "$(dirname "$0")/lib.sh"
PEERTOOL="$SOCDIR_BIN/peertool"

init_node a --country AT --region AT12
init_node d --country HU
init_node m --country SI        # a member's key; never run: peertool speaks for it
member a m
run_node a
member d a dial
run_node d
A_ID=$(cat "$T/a.id")
A_EP=$(cat "$T/a/listen.endpoint")

# (1) An unknown key.
wait_until 30 log_has a "refused peer from"
wait_until 30 log_has d "CURVE handshake failed"
orgs a 5 AT | sd a publish - >/dev/null
orgs d 3 HU | sd d publish - >/dev/null
[ "$(reachable d) $(reachable a)" = "0 0" ] || fail "a link between a and d exists"
[ "$(peer_stat d a connected)" = False ] || fail "d has a link to a: $(cat "$T/d.peers")"
[ "$(origin_stat d a count)" -eq 0 ] || fail "d got a's entries: $(cat "$T/d.status")"
[ "$(origin_stat a d count)" -eq 0 ] || fail "a got d's entries: $(cat "$T/a.status")"
[ "$(digest a)" != "$(digest d)" ] || fail "a and d show one digest"
[ "$(status_of a 'd["entries"], d["peers_up"], d["restoring"]')" = "(5, 0, False)" ] ||
    fail "a after refusing d: $(cat "$T/a.status")"
expect_not_contains "$T/a.log" "broke the protocol"

# (2) A member misbehaves.
before=$(digest a)
"$PEERTOOL" "$T/m" "$A_EP" "$A_ID" forge-foreign >"$T/foreign" || fail "peertool forge-foreign failed"
FOREIGN=$(cut -d/ -f1 "$T/foreign")
[ "$FOREIGN" != "$A_ID" ] && [ ${#FOREIGN} -eq 43 ] || fail "peertool printed '$(cat "$T/foreign")'"
wait_until 30 at_least 1 peer_stat a m refused_origin

"$PEERTOOL" "$T/m" "$A_EP" "$A_ID" forge-sig "$A_ID" >/dev/null || fail "peertool forge-sig failed"
wait_until 30 at_least 1 peer_stat a m refused_signature
wait_until 30 log_has a "bad signature on $A_ID/forged-sig"

# A frame over the size limit: libzmq closes that connection; A goes on,
# and M's next connection is served as before.
"$PEERTOOL" "$T/m" "$A_EP" "$A_ID" oversize >/dev/null || fail "peertool oversize failed"
[ "$(status_of a 'd["entries"], d["digest"]')" = "(5, '$before')" ] || fail "a after oversize: $(cat "$T/a.status")"
"$PEERTOOL" "$T/m" "$A_EP" "$A_ID" forge-foreign >/dev/null || fail "peertool forge-foreign failed"
wait_until 30 at_least 2 peer_stat a m refused_origin
[ "$(peer_stat a m errors)" -eq 0 ] || fail "a counted a protocol error before any: $(cat "$T/a.peers")"

# Garbage: A drops M and says so.
"$PEERTOOL" "$T/m" "$A_EP" "$A_ID" garbage >/dev/null || fail "peertool garbage failed"
wait_until 30 at_least 1 peer_stat a m malformed
wait_until 30 at_least 1 peer_stat a m errors
wait_until 30 log_has a "member m broke the protocol"
expect_contains "$T/a.log" "peer m: malformed message"
[ "$(peer_stat a m connected)" = False ] || fail "a still has a link to m: $(cat "$T/a.peers")"

# A kept its view and serves it; nothing forged was stored.
[ "$(status_of a 'd["entries"], d["versions"], d["digest"], d["forks"]')" = "(5, 5, '$before', 0)" ] ||
    fail "a after the forgeries: $(cat "$T/a.status")"
[ "$(origin_stat a m count)" -eq 0 ] || fail "a stored entries of m: $(cat "$T/a.status")"
sd a export --ndjson >"$T/export" || fail "export on a failed"
[ "$(grep -c . "$T/export")" -eq 5 ] || fail "a exports $(grep -c . "$T/export") entries, not 5"
expect_not_contains "$T/export" "$FOREIGN"
expect_not_contains "$T/export" "forged"
sd a search --json --include-deleted forged >"$T/s.json"
[ "$(json "$T/s.json" 'd["total"]')" -eq 0 ] || fail "a finds forged entries: $(cat "$T/s.json")"
if sd a get forged-sig >/dev/null 2>&1; then fail "a stored the forged-signature entry"; fi
if sd a get "$FOREIGN/forged-foreign" >/dev/null 2>&1; then fail "a stored the foreign entry"; fi
[ "$(peer_stat a m stored)" -eq 0 ] || fail "a stored something from m: $(cat "$T/a.peers")"

for n in a d; do stop_node $n; done
echo "t090 ok"
