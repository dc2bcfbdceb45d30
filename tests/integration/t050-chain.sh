#!/bin/sh
# Federation A - B - C (B dials both, no A-C link): an entry published on A
# reaches C through B, verified against A's key; a delete on A reaches C;
# the three digests end equal.
. "$(dirname "$0")/lib.sh"

init_abc
run_node a
run_node c
member b a dial
member b c dial
run_node b

wait_for 30 "'$SOCDIR' --node '$T/b' peers --json | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if all(p[\"connected\"] for p in d[\"peers\"]) else 1)'"

echo '{"id":"org-chain","kind":"organisation","name":{"de":"Kettenglied"},"country":"AT","region":"AT123"}' |
    sd a publish - >/dev/null
wait_for 30 "'$SOCDIR' --node '$T/c' get org-chain"
sd c get --json org-chain >"$T/c.json"
[ "$(json "$T/c.json" 'd["origin"], d["verified"], d["origin_name"]')" = "('$(cat "$T/a.id")', True, 'a')" ] \
    || fail "entry on c: $(cat "$T/c.json")"
[ "$(json "$T/c.json" 'd["via"]')" = "$(cat "$T/b.id")" ] || fail "c did not get it via b"

sd a publish "$DEMO/lower-austria.ndjson" >/dev/null
sd c publish "$DEMO/jutland.ndjson" >/dev/null
wait_for 60 "[ \"\$(SOCDIR_BIN='$SOCDIR_BIN' '$SOCDIR' --node '$T/a' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"digest\"])')\" = \"\$('$SOCDIR' --node '$T/c' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"digest\"])')\" ]"

sd a delete org-chain >/dev/null
wait_for 30 "'$SOCDIR' --node '$T/c' get --json org-chain | grep -q '\"deleted\": true'"
wait_for 60 "[ \"\$(cd '$T' && '$SOCDIR' --node '$T/a' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"digest\"])')\" = \"\$('$SOCDIR' --node '$T/b' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"digest\"])')\" ]"
[ "$(digest a)" = "$(digest c)" ] || fail "digests differ: a $(digest a) c $(digest c)"
sd c search --region AT1 --json --limit 1000 >"$T/s.json"
[ "$(json "$T/s.json" 'd["total"]')" -eq "$(grep -c . "$DEMO/lower-austria.ndjson")" ] || fail "c does not find a's entries"

for n in a b c; do stop_node $n; done
echo "t050 ok"
