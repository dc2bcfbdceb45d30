#!/bin/sh
# Restoring from a member that is behind. A (dialing B and C) writes seqs
# 1..10, which all hold, then 11..20 while C is down. A loses its database
# while B is down: it restores from C alone and, not knowing better,
# writes seq 11 again - the fork PROTOCOL.md 4.7 allows for, which must be
# reported, not merged silently. Once B is back and A has seen its own seqs
# up to 20, A's next write must take a seq above 20 and add no fork.
. "$(dirname "$0")/lib.sh"

init_node a --country AT
init_node b --country SI
init_node c --country DK
member b a
member b c
member c a
member c b
run_node b
run_node c
pin_listen b
pin_listen c
member a b dial
member a c dial
run_node a
wait_until 30 prints 2 peers_up a

orgs a 10 AT | sd a publish - >/dev/null
wait_until 60 same_digest a b c
stop_node c
orgs x 10 AT | sd a publish - >/dev/null
wait_until 60 same_digest a b
[ "$(origin_stat b a max_seq)" -eq 20 ] || fail "b should hold a's seqs up to 20: $(cat "$T/b.status")"

stop_node a
stop_node b
rm -f "$T/a/socdir.db" "$T/a/socdir.db-wal" "$T/a/socdir.db-shm"
run_node c
run_node a
wait_until 60 prints False status_of a 'd["restoring"]'
expect_contains "$T/a.log" "restored own entries from c"
echo '{"id":"while-b-away","kind":"organisation","name":{"en":"written while b was away"},"country":"AT"}' |
    sd a publish - >/dev/null || fail "a refused a write after restoring"

# B is back: A sees its own seqs up to 20, and the double seq 11 is reported.
run_node b
wait_until 60 prints 20 origin_stat a a max_seq
wait_until 60 at_least 1 status_of a 'd["forks"]'
[ "$(status_of a '[f["seq"] for f in d.get("fork_evidence", [])]')" = "[11]" ] ||
    fail "fork evidence on a: $(cat "$T/a.status")"
forks=$(status_of a 'd["forks"]')

echo '{"id":"after-b","kind":"organisation","name":{"en":"written after b came back"},"country":"AT"}' |
    sd a publish - >/dev/null || fail "a refused a write"
sd a get --json after-b >"$T/g.json"
seq=$(json "$T/g.json" 'd["seq"]')
[ "$seq" -gt 20 ] || fail "a wrote seq $seq again after seeing its own seqs up to 20 on b"
wait_until 60 same_digest a b c
for n in a b c; do
    [ "$(status_of $n 'd["forks"]')" -le "$forks" ] || fail "node $n: a's write after b came back forked: $(cat "$T/$n.status")"
done

for n in a b c; do stop_node $n; done
echo "t085 ok"
