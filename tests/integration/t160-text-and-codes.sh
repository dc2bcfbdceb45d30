#!/bin/sh
# Codes and text. (1) publish refuses what the validator refuses: an ESC
# in a name, country EL, a day that does not exist, an end before its
# start, a key twice; the error names the field or key and prints no raw
# control byte. (2) A member M pushes its own signed entries, valid and
# not, in one batch: A stores the valid ones, refuses and counts the
# others (refused_invalid), and a peer stores nothing that a local
# publish refuses. (3) An entry
# stored under older rules (written into A's database while A is down)
# holding ESC and U+202E is printed escaped by get, search and export.
. "$(dirname "$0")/lib.sh"
PEERTOOL="$SOCDIR_BIN/peertool"

init_node a --country AT --region AT12
init_node m --country GR        # a member's key; never run: peertool speaks for it
member a m
run_node a
A_ID=$(cat "$T/a.id")
M_ID=$(cat "$T/m.id")
A_EP=$(cat "$T/a/listen.endpoint")
ESC=$(printf '\033')

entries() {
    sd a status --json >"$T/a.status"
    json "$T/a.status" 'd["entries"]'
}

# no_raw FILE: FILE holds no ESC byte and no U+202E.
no_raw() {
    if grep -q "$ESC" "$1" || grep -q "$(printf '\342\200\256')" "$1"; then
        cat -v "$1"
        fail "raw control characters in $1"
    fi
}

# (1) Local publish.
refused() {     # LABEL JSON EXPECTED-TEXT...
    label=$1
    printf '%s\n' "$2" >"$T/bad.json"
    shift 2
    if sd a publish "$T/bad.json" >"$T/bad.out" 2>"$T/bad.err"; then
        fail "$label: publish succeeded"
    fi
    for want in "$@"; do
        expect_contains "$T/bad.err" "$want"
    done
    no_raw "$T/bad.err"
}
refused "ESC in a name" '{"id":"red","kind":"organisation","name":{"en":"\u001b[31mRed"},"country":"AT"}' \
    "red" "field 'name'" "U+001B"
refused "bidi override" '{"id":"rlo","kind":"organisation","name":{"en":"a\u202eb"},"country":"AT"}' \
    "field 'name'" "U+202E"
refused "country EL" '{"id":"el","kind":"organisation","name":{"el":"x"},"country":"EL","region":"EL30"}' \
    "field 'country'" "use GR"
refused "region GR30" '{"id":"gr","kind":"organisation","name":{"el":"x"},"country":"GR","region":"GR30"}' \
    "field 'region'" "start with EL"
refused "29 February 2027" '{"id":"ev","kind":"event","name":{"en":"x"},"event_type":"fair","start":"2027-02-29"}' \
    "field 'start'"
refused "end before start" '{"id":"ev","kind":"event","name":{"en":"x"},"event_type":"fair","start":"2027-03-02","end":"2027-03-01"}' \
    "field 'end'"
refused "ESC in a country" '{"id":"c","kind":"organisation","name":{"en":"x"},"country":"\u001b[2J"}' \
    "field 'country'" '\x1b[2J'
# A request whose entry holds "name" twice (msgpack bytes: JSON tools
# keep one of the two): the node refuses it and names the key.
printf '\202\242op\247publish\247entries\221\205\242id\241x\244kind\254organisation'\
'\244name\201\242en\241A\244name\201\242en\241B\247country\242AT' >"$T/dup.req"
"$SOCDIR_BIN/rawsend" "ipc://$T/a/control.sock" "$T/dup.req" >"$T/dup.out" || fail "rawsend failed"
expect_contains "$T/dup.out" "duplicate key 'name'"
# The node logs the refusal; a key of ESC [ 2 J shows there as ?[2J.
printf '\202\242op\247publish\247entries\221\202\244\033[2J\001\244\033[2J\002' >"$T/dup2.req"
"$SOCDIR_BIN/rawsend" "ipc://$T/a/control.sock" "$T/dup2.req" >"$T/dup2.out" || fail "rawsend failed"
expect_contains "$T/dup2.out" "duplicate key"
wait_until 10 log_has a "duplicate key '?[2J'"
# The same with U+202E (a bidi override) and U+009B (CSI, a C1 control)
# in the key: each is one '?' in the log.
printf '\202\242op\247publish\247entries\221\202\247k\342\200\256\302\233x\001\247k\342\200\256\302\233x\002' >"$T/dup3.req"
"$SOCDIR_BIN/rawsend" "ipc://$T/a/control.sock" "$T/dup3.req" >"$T/dup3.out" || fail "rawsend failed"
wait_until 10 log_has a "duplicate key 'k??x'"
grep -q "$(printf '\302\233')" "$T/a.log" && fail "a C1 control reached the log raw"
no_raw "$T/a.log"
[ "$(entries)" -eq 0 ] || fail "a stored a refused entry: $(cat "$T/a.status")"
printf '%s\n' '{"id":"athens","kind":"organisation","name":{"el":"Αθήνα"},"country":"GR","region":"EL30"}' \
    '{"id":"leap","kind":"event","name":{"en":"x"},"event_type":"fair","start":"2028-02-29","end":"2028-03-01"}' \
    '{"id":"lines","kind":"organisation","name":{"en":"x"},"country":"GB","region":"UKI3","description":{"en":"a\nb\tc"}}' \
    >"$T/good.ndjson"
sd a publish "$T/good.ndjson" >/dev/null || fail "publish of valid entries failed"
[ "$(entries)" -eq 3 ] || fail "a holds $(entries) entries, not 3"

# (2) The same rules for a peer's entries, one batch of five.
printf '%s\n' '{"id":"m-ok1","name":{"el":"Καλό"},"country":"GR","region":"EL30"}' \
    '{"id":"m-esc","name":{"en":"\u001b[31mRed"},"country":"GR"}' \
    '{"id":"m-el","name":{"el":"x"},"country":"EL"}' \
    '{"id":"m-span","kind":"event","name":{"en":"x"},"event_type":"fair","start":"2027-03-02","end":"2027-03-01"}' \
    '{"id":"m-ok2","name":{"en":"Fine"},"country":"GB","region":"UKI3"}' >"$T/push.ndjson"
"$PEERTOOL" "$T/m" "$A_EP" "$A_ID" push-json "$T/push.ndjson" >/dev/null || fail "peertool push-json failed"
wait_until 30 at_least 3 peer_stat a m refused_invalid
wait_until 30 at_least 2 peer_stat a m stored
[ "$(peer_stat a m refused_invalid)" -eq 3 ] || fail "a refused $(peer_stat a m refused_invalid) of m's, not 3"
[ "$(origin_stat a m count)" -eq 2 ] || fail "a holds $(origin_stat a m count) of m's entries, not 2"
sd a get "$M_ID/m-ok1" >/dev/null || fail "a does not hold m-ok1"
sd a get "$M_ID/m-ok2" >/dev/null || fail "a does not hold m-ok2"
for id in m-esc m-el m-span; do
    if sd a get "$M_ID/$id" >/dev/null 2>&1; then fail "a stored $id from a peer"; fi
done

# (3) A version stored under older rules.
stop_node a
printf '%s\n' '{"id":"legacy","name":{"en":"\u001b[31mRed\u001b[0m Co","de":"x\u202ey"},"country":"AT","tags":["t\u0007"],"description":{"en":"\u009b2J"}}' \
    >"$T/legacy.ndjson"
"$PEERTOOL" "$T/m" "$T/a/socdir.db" "$A_ID" store-legacy "$T/legacy.ndjson" || fail "peertool store-legacy failed"
run_node a
sd a get "$M_ID/legacy" >"$T/get.txt" || fail "get legacy failed"
no_raw "$T/get.txt"
expect_contains "$T/get.txt" '\x1b[31mRed\x1b[0m Co'
expect_contains "$T/get.txt" 'x\u202ey'
expect_contains "$T/get.txt" 't\x07'
expect_contains "$T/get.txt" '\u009b2J'
sd a get --json "$M_ID/legacy" >"$T/get.json" || fail "get --json legacy failed"
no_raw "$T/get.json"
[ "$(json "$T/get.json" 'd["name"]["en"]')" = "${ESC}[31mRed${ESC}[0m Co" ] || fail "get --json changed the name"
sd a search --country AT --lang en >"$T/search.txt" || fail "search failed"
no_raw "$T/search.txt"
expect_contains "$T/search.txt" '\x1b[31mRed'
sd a export --csv >"$T/export.csv" || fail "export --csv failed"
no_raw "$T/export.csv"
expect_contains "$T/export.csv" '\x1b[31mRed\x1b[0m Co'

stop_node a
echo "t160 ok"
