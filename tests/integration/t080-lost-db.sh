#!/bin/sh
# A lost database. A (which dials B) publishes 30 entries and updates two,
# so its highest seq (32) is above its entry count; B holds them all. A
# loses socdir.db (and -wal, -shm) but keeps its key. While no member is
# reachable A is restoring: it answers queries but refuses local writes.
# Once B is back, A restores its own entries from B, continues at seq 33
# (never reusing one B holds), and its next entry reaches B without a fork.
. "$(dirname "$0")/lib.sh"

init_node a --country AT --region AT12
init_node b --country SI --region SI032
dial_link a b
wait_until 30 prints 1 peers_up a

orgs a 30 AT | sd a publish - >/dev/null
echo '{"id":"a-0001","kind":"organisation","name":{"en":"a-0001, second version"},"country":"AT"}' |
    sd a publish - >/dev/null
echo '{"id":"a-0002","kind":"organisation","name":{"en":"a-0002, second version"},"country":"AT"}' |
    sd a publish - >/dev/null
wait_until 60 same_digest a b
[ "$(origin_stat b a count) $(origin_stat b a max_seq)" = "30 32" ] || fail "b's view of a: $(cat "$T/b.status")"
before=$(digest b)

# A loses its database while B is down too.
stop_node a
stop_node b
rm -f "$T/a/socdir.db" "$T/a/socdir.db-wal" "$T/a/socdir.db-shm"
run_node a
expect_contains "$T/a.log" "restoring this node's own entries from peers"
[ "$(status_of a 'd["restoring"], d["entries"]')" = "(True, 0)" ] || fail "a after losing its db: $(cat "$T/a.status")"
echo '{"id":"a-new","kind":"organisation","name":{"en":"too early"},"country":"AT"}' >"$T/new.json"
if sd a publish "$T/new.json" >"$T/out" 2>"$T/err"; then
    fail "a took a write while restoring: $(cat "$T/out")"
fi
expect_contains "$T/err" "restoring"
if sd a delete a-0003 >"$T/out" 2>"$T/err"; then
    fail "a took a delete while restoring: $(cat "$T/out")"
fi
expect_contains "$T/err" "restoring"
sd a search --json organisation >"$T/s.json" || fail "a does not answer queries while restoring"

# B is back: A restores from it.
run_node b
wait_until 60 prints False status_of a 'd["restoring"]'
expect_contains "$T/a.log" "restored own entries from b: next sequence 33"
wait_until 60 prints "30 32" eval 'echo "$(origin_stat a a count) $(origin_stat a a max_seq)"'
[ "$(digest a)" = "$before" ] || fail "a restored a different view: $(digest a), b had $before"
sd a get --json a-0001 >"$T/g.json"
[ "$(json "$T/g.json" 'd["name"]["en"], d["seq"], d["verified"], d["via"]')" = \
  "('a-0001, second version', 31, True, '$(cat "$T/b.id")')" ] || fail "restored a-0001: $(cat "$T/g.json")"

# The next write takes a fresh sequence number and reaches B.
sd a publish "$T/new.json" >/dev/null || fail "a refused a write after restoring"
sd a get --json a-new >"$T/g.json"
seq=$(json "$T/g.json" 'd["seq"]')
[ "$seq" -gt 32 ] || fail "a reused sequence $seq after restoring (b holds a's seqs up to 32)"
wait_until 30 sd b get a-new
wait_until 60 same_digest a b
for n in a b; do
    [ "$(status_of $n 'd["forks"], d["entries"]')" = "(0, 31)" ] ||
        fail "node $n: forks, entries = $(status_of $n 'd["forks"], d["entries"]')"
done

# Restoring is over for good: a restart with the database takes writes at once.
stop_node a
run_node a
[ "$(status_of a 'd["restoring"]')" = False ] || fail "a is restoring again after a clean restart"
echo '{"id":"a-after-restart","kind":"organisation","name":{"en":"after restart"},"country":"AT"}' |
    sd a publish - >/dev/null || fail "a refused a write after a clean restart"
sd a get --json a-after-restart >"$T/g.json"
[ "$(json "$T/g.json" 'd["seq"]')" -eq $((seq + 1)) ] || fail "after restart: $(cat "$T/g.json")"

for n in a b; do stop_node $n; done
echo "t080 ok"
