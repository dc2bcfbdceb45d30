#!/bin/sh
# The limits of PROTOCOL.md at their edges, on real nodes. M is a member of
# A and B whose key peertool uses; B dials A. (1) seq 2^53 - 1 is stored,
# relayed to B and printed as it is; 2^53 is malformed. (2) A body nesting
# 30 levels is stored, relayed, searched and exported on both; 31 is
# malformed. (3) A field name of 256 bytes costs its entry only, in the CLI
# and in the node (a raw request). (4) A PUSH as the first frame of a
# connection, without HELLO: A drops M, logs it, and stores nothing of it.
. "$(dirname "$0")/lib.sh"
PEERTOOL="$SOCDIR_BIN/peertool"
TOP=9007199254740991

init_node a --country AT
init_node b --country SI
init_node m --country DK        # never run: peertool speaks for it
member a m
member a b
member b m
run_node a
member b a dial
run_node b
wait_until 30 prints 1 peers_up a
A_ID=$(cat "$T/a.id")
A_EP=$(cat "$T/a/listen.endpoint")

# (1) The highest seq there is, and one above.
"$PEERTOOL" "$T/m" "$A_EP" "$A_ID" push-seq $TOP >/dev/null || fail "peertool push-seq failed"
wait_until 30 prints $TOP origin_stat a m max_seq
wait_until 60 prints $TOP origin_stat b m max_seq
sd b get --json "$(cat "$T/m.id")/seq-$TOP" >"$T/g.json" || fail "b does not have seq-$TOP"
[ "$(json "$T/g.json" 'd["seq"], d["verified"]')" = "($TOP, True)" ] || fail "seq-$TOP on b: $(cat "$T/g.json")"
mal=$(peer_stat a m malformed)
"$PEERTOOL" "$T/m" "$A_EP" "$A_ID" push-seq $((TOP + 1)) >/dev/null || fail "peertool push-seq failed"
wait_until 30 at_least $((mal + 1)) peer_stat a m malformed
if sd a get "$(cat "$T/m.id")/seq-$((TOP + 1))" >/dev/null 2>&1; then fail "a stored seq 2^53"; fi
[ "$(peer_stat a m errors)" -eq 0 ] || fail "a dropped m for one malformed envelope: $(cat "$T/a.peers")"

# (2) Nesting.
"$PEERTOOL" "$T/m" "$A_EP" "$A_ID" push-deep 30 >/dev/null || fail "peertool push-deep failed"
wait_until 30 sd a get "$(cat "$T/m.id")/deep-30"
wait_until 60 sd b get "$(cat "$T/m.id")/deep-30"
for n in a b; do
    sd $n export --ndjson >"$T/$n.export" || fail "export on $n fails with a 30-level entry"
    expect_contains "$T/$n.export" "deep-30"
    sd $n search --json deep >"$T/$n.search" || fail "search --json on $n fails with a 30-level entry"
    [ "$(json "$T/$n.search" '"deep-30" in [e["id"] for e in d["entries"]]')" = True ] ||
        fail "search on $n: $(cat "$T/$n.search")"
done
mal=$(peer_stat a m malformed)
"$PEERTOOL" "$T/m" "$A_EP" "$A_ID" push-deep 31 >/dev/null || fail "peertool push-deep failed"
wait_until 30 at_least $((mal + 1)) peer_stat a m malformed
if sd a get "$(cat "$T/m.id")/deep-31" >/dev/null 2>&1; then fail "a stored a 31-level body"; fi
wait_until 60 same_digest a b

# (3) A 256-byte field name: that entry is refused, the others stored.
long=$(python3 -c 'print("k" * 256)')
ok255=$(python3 -c 'print("k" * 255)')
{
    echo '{"id":"good-1","kind":"organisation","name":{"en":"Good one"},"country":"AT"}'
    echo "{\"id\":\"long-key\",\"kind\":\"organisation\",\"name\":{\"en\":\"Long\"},\"country\":\"AT\",\"$long\":1}"
    echo "{\"id\":\"key-255\",\"kind\":\"organisation\",\"name\":{\"en\":\"Key 255\"},\"country\":\"AT\",\"$ok255\":1}"
} >"$T/keys.ndjson"
if sd a publish "$T/keys.ndjson" >"$T/out" 2>"$T/err"; then fail "publish with a 256-byte key succeeded"; fi
expect_contains "$T/err" "keys.ndjson:2: entry 'long-key': field name 'kkkk"
expect_contains "$T/err" "is 256 bytes long, more than 255"
expect_contains "$T/out" "good-1"
expect_contains "$T/out" "key-255"
# The same request sent raw, as another client could: the node reports the item.
python3 -c '
import json, sys
long = "k" * 256
print(json.dumps({"op": "publish", "entries": [
    {"id": "raw-good", "kind": "organisation", "name": {"en": "Raw good"}, "country": "AT"},
    {"id": "raw-long", "kind": "organisation", "name": {"en": "Raw long"}, "country": "AT", long: 1}]}))
' >"$T/raw.json"
"$SOCDIR_BIN/rawsend" --json "ipc://$T/a/control.sock" "$T/raw.json" >"$T/raw.out" || fail "rawsend failed"
[ "$(json "$T/raw.out" 'd["ok"], d["stored"], d["rejected"], d["results"][1]["id"]')" = "(True, 1, 1, 'raw-long')" ] ||
    fail "raw publish with a long key: $(cat "$T/raw.out")"
expect_contains "$T/raw.out" "more than 255"
sd a get raw-good >/dev/null || fail "raw-good was not stored"

# (3b) A fork: M signs two payloads with seq 7 (two PUSHes, the second
# with a later timestamp). A keeps one record of it and says so at
# warning level, naming the origin and the seq.
"$PEERTOOL" "$T/m" "$A_EP" "$A_ID" push-seq 7 >/dev/null || fail "peertool push-seq 7 failed"
wait_until 30 sd a get "$(cat "$T/m.id")/seq-7"
[ "$(status_of a 'd["forks"]')" -eq 0 ] || fail "a counts a fork after one payload: $(cat "$T/a.status")"
"$PEERTOOL" "$T/m" "$A_EP" "$A_ID" push-seq 7 >/dev/null || fail "peertool push-seq 7 (again) failed"
wait_until 30 prints 1 status_of a 'd["forks"]'
wait_until 10 log_has a "warn fork: origin $(cat "$T/m.id") wrote two payloads with seq 7; evidence kept"
[ "$(grep -c "warn fork: origin" "$T/a.log")" -eq 1 ] || fail "a logged the fork $(grep -c "warn fork:" "$T/a.log") times"

# (4) No HELLO: dropped, logged, nothing stored (last: M is banned for a minute).
"$PEERTOOL" "$T/m" "$A_EP" "$A_ID" push-no-hello >/dev/null || fail "peertool push-no-hello failed"
wait_until 30 log_has a "peer m: PUSH before HELLO on a new connection"
wait_until 30 at_least 1 peer_stat a m errors
if sd a get "$(cat "$T/m.id")/no-hello" >/dev/null 2>&1; then fail "a stored a PUSH that came before HELLO"; fi
[ "$(status_of a 'd["forks"]')" -eq 1 ] || fail "forks on a, the one of (3b) only: $(cat "$T/a.status")"

for n in a b; do stop_node $n; done
echo "t095 ok"
