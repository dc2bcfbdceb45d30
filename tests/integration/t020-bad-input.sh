#!/bin/sh
# Bad input: each bad entry gets a one-line error naming the entry and the
# field, a non-zero exit, and nothing stored from it; good entries in the
# same batch are stored. Malformed requests never take the node down.
. "$(dirname "$0")/lib.sh"

start_node n1 --country AT --query 'tcp://127.0.0.1:*'     # the open query endpoint too

good='{"id":"org-ok","kind":"organisation","name":{"de":"Gut"},"country":"AT"}'

# One bad entry of each sort, each alone: exit 1, named, nothing stored.
check_bad() {    # LABEL JSON EXPECTED-TEXT...
    label=$1 text=$2
    shift 2
    printf '%s\n' "$text" >"$T/bad.json"
    if sd n1 publish "$T/bad.json" >"$T/bad.out" 2>"$T/bad.err"; then
        fail "$label: publish succeeded"
    fi
    [ "$(grep -c . "$T/bad.err")" -ge 1 ] || fail "$label: no error message"
    for want in "$@"; do
        expect_contains "$T/bad.err" "$want"
    done
    [ "$(entries_of n1)" -eq 0 ] || fail "$label: something was stored"
}
check_bad "invalid JSON" '{"id":"x","kind":' "bad.json" "JSON"
check_bad "missing name" '{"id":"org-a","kind":"organisation","country":"AT"}' "org-a" "field 'name'"
check_bad "bad country" '{"id":"org-b","kind":"organisation","name":{"de":"B"},"country":"Austria"}' \
    "org-b" "field 'country'" "Austria"
check_bad "bad CPV" '{"id":"off-c","kind":"offer","name":{"de":"C"},"organisation":"org-ok","offer_type":"service","cpv":["9091"]}' \
    "off-c" "field 'cpv'"
check_bad "bad NUTS" '{"id":"org-d","kind":"organisation","name":{"de":"D"},"country":"AT","region":"Niederösterreich"}' \
    "org-d" "field 'region'"
check_bad "unknown kind" '{"id":"shop-e","kind":"shop","name":{"de":"E"}}' "shop-e" "field 'kind'"
python3 -c 'import json; print(json.dumps({"id":"org-big","kind":"organisation","name":{"de":"Gross"},"country":"AT","description":{"de":"x"*60000}}))' >"$T/big.json"
if sd n1 publish "$T/big.json" 2>"$T/big.err"; then fail "oversized entry accepted"; fi
expect_contains "$T/big.err" "org-big"
[ "$(entries_of n1)" -eq 0 ] || fail "oversized entry stored"

# A batch: good entries are stored, each bad one reported with its line.
{
    echo "$good"
    echo '{"id":"org-bad1","kind":"organisation","name":{"de":"X"},"country":"ATX"}'
    echo '{"id":"org-ok2","kind":"organisation","name":{"sl":"Dobro"},"country":"SI","region":"SI032"}'
    echo 'this is not json'
    echo '{"id":"org-bad2","kind":"organisation","name":{"xx1":"X"},"country":"AT"}'
} >"$T/batch.ndjson"
if sd n1 publish "$T/batch.ndjson" >"$T/batch.out" 2>"$T/batch.err"; then
    fail "batch with bad entries exited 0"
fi
expect_contains "$T/batch.err" "batch.ndjson:2"
expect_contains "$T/batch.err" "org-bad1"
expect_contains "$T/batch.err" "batch.ndjson:4"
expect_contains "$T/batch.err" "batch.ndjson:5"
expect_contains "$T/batch.out" "org-ok"
expect_contains "$T/batch.out" "org-ok2"
[ "$(entries_of n1)" -eq 2 ] || fail "batch stored $(entries_of n1) entries, want 2"

# Wrong CLI usage: clear errors, non-zero exit.
if sd n1 search --kind shop 2>"$T/e1"; then fail "--kind shop accepted"; fi
expect_contains "$T/e1" "shop"
if sd n1 get 'no such id!' 2>"$T/e2"; then fail "bad id accepted"; fi
if sd n1 get org-missing 2>"$T/e3"; then fail "missing entry found"; fi
expect_contains "$T/e3" "org-missing"
if "$SOCDIR" --node "$T/nowhere" status 2>"$T/e4"; then fail "status on a missing node succeeded"; fi
expect_contains "$T/e4" "nowhere"

# Malformed frames straight at the control socket: refused, node serves on.
for f in empty garbage array huge; do
    case $f in
        empty) : >"$T/frame" ;;
        garbage) printf '\301\301\301' >"$T/frame" ;;
        array) printf '\222\001\002' >"$T/frame" ;;
        huge) printf '\337\177\377\377\377' >"$T/frame" ;;
    esac
    "$SOCDIR_BIN/rawsend" "ipc://$T/n1/control.sock" "$T/frame" >"$T/raw.out" || fail "rawsend $f"
    expect_contains "$T/raw.out" "bad request"
done
# Codes the node turns into full-text tokens are checked by the node too,
# whoever sends them: FTS5 syntax in a region is an error, not a query.
printf '\202\242op\246search\246region\221\257AT1) OR f : (k1' >"$T/frame"
"$SOCDIR_BIN/rawsend" "ipc://$T/n1/control.sock" "$T/frame" >"$T/raw.out" || fail "rawsend region"
expect_contains "$T/raw.out" "is not a NUTS code"
printf '\202\242op\246search\247country\221\242a"' >"$T/frame"
"$SOCDIR_BIN/rawsend" "ipc://$T/n1/control.sock" "$T/frame" >"$T/raw.out" || fail "rawsend country"
expect_contains "$T/raw.out" "is not an ISO 3166-1"
printf '\202\242op\246search\243cpv\221\2419' >"$T/frame"
"$SOCDIR_BIN/rawsend" "ipc://$T/n1/control.sock" "$T/frame" >"$T/raw.out" || fail "rawsend cpv"
expect_contains "$T/raw.out" "is not a CPV code"
printf '\201\242op\246format' >"$T/frame"
"$SOCDIR_BIN/rawsend" "ipc://$T/n1/control.sock" "$T/frame" >"$T/raw.out"
expect_contains "$T/raw.out" "unknown request"
# A value whose quoted 40 bytes end inside a character: the error still
# reaches the client, and the entry is counted as rejected, not stored.
python3 -c 'import json; print(json.dumps({"op": "publish", "entries": [{"id": "cut1",
    "kind": "organisation", "name": {"de": "x"}, "country": "A" + "\u00c4" * 30}]}))' >"$T/cut.json"
"$SOCDIR_BIN/rawsend" --json "ipc://$T/n1/control.sock" "$T/cut.json" >"$T/raw.out" || fail "rawsend cut"
[ "$(json "$T/raw.out" 'd["stored"], d["rejected"], "is not an ISO 3166-1" in d["results"][0]["error"]')" = \
    "(0, 1, True)" ] || fail "a cut character lost the error: $(cat "$T/raw.out")"
# The same in a search on the open query endpoint: an error reply, and
# the node serves on.
python3 -c 'import json; print(json.dumps({"op": "search", "kind": ["a" + "\u00c4" * 20]}))' >"$T/cutq.json"
"$SOCDIR_BIN/rawsend" --json "$(cat "$T/n1/query.endpoint")" "$T/cutq.json" >"$T/raw.out" || fail "rawsend cut kind"
expect_contains "$T/raw.out" "unknown kind"
python3 -c 'import json; print(json.dumps({"op": "search", "city": [" " + "\u0301" * 20]}))' >"$T/cutc.json"
"$SOCDIR_BIN/rawsend" --json "ipc://$T/n1/control.sock" "$T/cutc.json" >"$T/raw.out" || fail "rawsend cut city"
expect_contains "$T/raw.out" "has no letters to match"
sd n1 status >/dev/null || fail "the node stopped answering after a cut character"
[ "$(entries_of n1)" -eq 2 ] || fail "node lost entries after malformed requests"

stop_node n1
echo "t020 ok"
