#!/bin/sh
# Durability: an acknowledged publish survives SIGKILL of the node, and the
# restarted node goes on with higher sequence numbers.
. "$(dirname "$0")/lib.sh"

start_node n1 --country SI --region SI032
sd n1 publish "$DEMO/podravje.ndjson" >/dev/null
echo '{"id":"org-last","kind":"organisation","name":{"sl":"Zadnji"},"country":"SI"}' | sd n1 publish - >"$T/pub.out"
expect_contains "$T/pub.out" "org-last"
stop_node n1 KILL

run_node n1
sd n1 get --json org-last >"$T/get.json"
[ "$(json "$T/get.json" 'd["name"]["sl"], d["verified"]')" = "('Zadnji', True)" ] || fail "entry lost after SIGKILL"
seq_before=$(json "$T/get.json" 'd["seq"]')
echo '{"id":"org-after","kind":"organisation","name":{"sl":"Potem"},"country":"SI"}' | sd n1 publish - >"$T/pub2.out"
sd n1 get --json org-after >"$T/get2.json"
[ "$(json "$T/get2.json" 'd["seq"]')" -gt "$seq_before" ] || fail "sequence went backwards after restart"
sd n1 status --json >"$T/st.json"
[ "$(json "$T/st.json" 'd["entries"]')" -eq $(( $(grep -c . "$DEMO/podravje.ndjson") + 2 )) ] || fail "entry count after restart"

# A second node on the same data directory is refused.
if "$SOCDIR_NODE" run --config "$T/n1/node.conf" 2>"$T/second.err"; then fail "second node started"; fi
expect_contains "$T/second.err" "another socdir-node"
stop_node n1
echo "t030 ok"
