#!/bin/sh
# Offline, then caught up in one sync. A - B - C, B dials both. C holds the
# first 100 entries, then is down while A and B publish 500 more and delete
# 20 of them. C comes back at the same address, takes a local write at once,
# and after one sync the three show one digest: every entry, every
# tombstone, C's own entries on A. C pulls about the difference (500
# versions), not the whole view again (600).
. "$(dirname "$0")/lib.sh"

init_abc
run_node a
run_node c
pin_listen c
member b a dial
member b c dial
run_node b
wait_until 30 prints 2 peers_up b

# Before C goes away: 50 entries each from A and B reach it.
orgs a-pre 50 AT | sd a publish - >/dev/null
orgs b-pre 50 SI | sd b publish - >/dev/null
wait_until 60 same_digest a b c
[ "$(status_of c 'd["entries"]')" -eq 100 ] || fail "c holds $(status_of c 'd["entries"]') entries, not 100"

stop_node c
wait_until 30 prints 1 peers_up b

# While C is down: 250 new entries on each of A and B, 10 deleted on each.
orgs a 250 AT >"$T/a.ndjson"
orgs b 250 SI >"$T/b.ndjson"
sd a publish "$T/a.ndjson" >/dev/null
sd b publish "$T/b.ndjson" >/dev/null
sd a delete a-0001 a-0002 a-0003 a-0004 a-0005 a-0006 a-0007 a-0008 a-0009 a-0010 >/dev/null
sd b delete b-0241 b-0242 b-0243 b-0244 b-0245 b-0246 b-0247 b-0248 b-0249 b-0250 >/dev/null
wait_until 60 same_digest a b
[ "$(status_of a 'd["entries"]')" -eq 580 ] || fail "a holds $(status_of a 'd["entries"]') entries, not 580"

# C comes back: it takes its own writes whether or not B has reached it yet.
run_node c
orgs c 5 DK | sd c publish - >/dev/null || fail "c refused a local write after its restart"
wait_until 30 prints 1 peers_up c
sync_wait c >/dev/null || fail "sync --wait on c failed"
wait_until 60 same_digest a b c

# 100 + 2 * (250 - 10) + 5 live entries, 605 versions with the tombstones,
# on every node; per origin: A wrote seqs 1..310 (50 + 250 + 10 deletes).
for n in a b c; do
    [ "$(status_of $n 'd["entries"], d["versions"], d["forks"]')" = "(585, 605, 0)" ] ||
        fail "node $n: entries, versions, forks = $(status_of $n 'd["entries"], d["versions"], d["forks"]')"
done
for o in a b; do
    [ "$(origin_stat c $o count) $(origin_stat c $o versions) $(origin_stat c $o max_seq)" = "290 300 310" ] ||
        fail "c's view of origin $o: $(cat "$T/c.status")"
done
[ "$(origin_stat a c count)" -eq 5 ] || fail "c's own entries did not reach a"

sd c get --json a-0001 >"$T/g.json"
[ "$(json "$T/g.json" 'd["deleted"], d["origin"]')" = "(True, '$(cat "$T/a.id")')" ] ||
    fail "a's delete did not reach c: $(cat "$T/g.json")"
sd c get --json b-0100 >"$T/g.json"
[ "$(json "$T/g.json" 'd["deleted"], d["verified"], d["origin"], d["via"]')" = \
  "(False, True, '$(cat "$T/b.id")', '$(cat "$T/b.id")')" ] || fail "b-0100 on c: $(cat "$T/g.json")"
sd c search --json --limit 1000 organisation >"$T/s.json"
[ "$(json "$T/s.json" 'd["total"]')" -eq 585 ] || fail "search on c finds $(json "$T/s.json" 'd["total"]')"

# Cost proportional to the difference: C (a fresh process, fresh counters)
# received about the 500 versions it missed, not B's 605 again.
got=$(peer_stat c b received)
[ "$got" -ge 500 ] && [ "$got" -le 550 ] || fail "c received $got versions from b to catch up on 500"
echo "c caught up on 500 versions receiving $got"

for n in a b c; do stop_node $n; done
echo "t060 ok"
