#!/bin/sh
# The open query endpoint: any client searches, gets, exports and asks the
# status over tcp with no key; writes and the operator's requests are
# refused there; pages are capped; a client over its request rate is told
# so, and the node serves on.
. "$(dirname "$0")/lib.sh"

init_node q --country AT --region AT12
printf 'query_rate = 5\n' >"$T/rate.conf"
# query_rate belongs in [node]: insert it after the query line.
sed -i "/^query = /r $T/rate.conf" "$T/q/node.conf"
"$SOCDIR_NODE" check --config "$T/q/node.conf" >/dev/null || fail "config with query_rate refused"
run_node q
sd q publish "$DEMO/lower-austria.ndjson" >/dev/null 2>&1
sd q publish "$DEMO/podravje.ndjson" >/dev/null 2>&1
ep=$(cat "$T/q/query.endpoint")
case $ep in tcp://127.0.0.1:*) ;; *) fail "query endpoint '$ep'" ;; esac

# Retries past the rate limit: each call polls until it is not refused.
remote() {    # OUT ARGS...
    out=$1
    shift
    wait_for 30 "'$SOCDIR' --node '$ep' $* >'$out' 2>'$out.err' || ! grep -q 'rate limit' '$out.err'"
    [ ! -s "$out.err" ] || { cat "$out.err"; fail "remote $*"; }
}

remote "$T/r1.json" search zivnost --json
[ "$(json "$T/r1.json" '[e["id"] for e in d["entries"]]')" = "['part-kuharnica-ostrava']" ] || fail "remote search"
remote "$T/r2.json" get --json org-glanzwerk-stpoelten
[ "$(json "$T/r2.json" 'd["verified"]')" = True ] || fail "remote get"
remote "$T/r3.ndjson" export --ndjson
[ "$(grep -c . "$T/r3.ndjson")" -eq 46 ] || fail "remote export has $(grep -c . "$T/r3.ndjson") entries, want 46"
remote "$T/r4.json" search --limit 1000 --json
[ "$(json "$T/r4.json" 'd["total"], len(d["entries"])')" = "(46, 46)" ] || fail "remote search page"

# Pages on the open endpoint hold at most 200 entries; export pages on.
python3 "$SRC/tests/bench/gen.py" 250 --prefix g >"$T/gen.ndjson"
sd q publish "$T/gen.ndjson" >/dev/null 2>&1
remote "$T/r5.json" search --limit 1000 --json
[ "$(json "$T/r5.json" 'd["total"], len(d["entries"])')" = "(296, 200)" ] || fail "page cap: $(json "$T/r5.json" 'd["total"], len(d["entries"])')"
sd q search --limit 1000 --json >"$T/l5.json"
[ "$(json "$T/l5.json" 'len(d["entries"])')" -eq 296 ] || fail "the control socket is capped too"
remote "$T/r6.ndjson" export --ndjson
[ "$(grep -c . "$T/r6.ndjson")" -eq 296 ] || fail "remote export over capped pages"

# Writes and operator requests are refused on the open endpoint.
for c in "publish $DEMO/jutland.ndjson" "delete org-glanzwerk-stpoelten" "peers" "sync"; do
    wait_for 30 "! '$SOCDIR' --node '$ep' $c >/dev/null 2>'$T/w.err' && ! grep -q 'rate limit' '$T/w.err'"
    expect_contains "$T/w.err" "control socket only"
done
[ "$(sd q status --json >"$T/st.json" && json "$T/st.json" 'd["entries"]')" -eq 296 ] || fail "a write went through"

# Over the rate limit (5 a second, bursts of 10): refused with a clear error.
refused=0
i=0
while [ $i -lt 40 ]; do
    if ! "$SOCDIR" --node "$ep" status >/dev/null 2>"$T/rl.err"; then
        grep -q "rate limit" "$T/rl.err" || { cat "$T/rl.err"; fail "unexpected error"; }
        refused=$((refused + 1))
    fi
    i=$((i + 1))
done
[ "$refused" -gt 0 ] || fail "40 requests in a row were never rate limited"
sd q status >/dev/null || fail "control socket not served after rate limiting"

stop_node q
echo "t130 ok"
