#!/bin/sh
# Partition and heal. A and B, B dials A. B's config loses A's endpoint and
# B reloads it (SIGHUP): the link is gone both ways (A does not dial B), and
# both nodes say so. Both sides publish, update and delete while apart, and
# neither sees the other's writes. B gets A's endpoint back and reloads:
# they show one digest again, holding the union, the updates and deletes of
# both sides.
. "$(dirname "$0")/lib.sh"

init_node a --country AT --region AT12
init_node b --country SI --region SI032
member a b
run_node a
member b a dial
run_node b
wait_until 30 prints 1 peers_up a
wait_until 30 prints 1 peers_up b

orgs a 10 AT | sd a publish - >/dev/null
orgs b 10 SI | sd b publish - >/dev/null
wait_until 60 same_digest a b

# Partition: B stops dialing A.
set_endpoint b a
reload b
expect_contains "$T/b.log" "membership reloaded: 1 member"
wait_until 30 prints 0 peers_up b
wait_until 60 prints 0 peers_up a
[ "$(peer_stat a b connected) $(peer_stat b a connected)" = "False False" ] ||
    fail "peers still connected: a: $(cat "$T/a.peers") b: $(cat "$T/b.peers")"

# Apart: new entries, one update and one delete on each side.
orgs ap 20 AT | sd a publish - >/dev/null
orgs bp 20 SI | sd b publish - >/dev/null
echo '{"id":"a-0001","kind":"organisation","name":{"en":"updated on a while apart"},"country":"AT"}' |
    sd a publish - >/dev/null
echo '{"id":"b-0001","kind":"organisation","name":{"en":"updated on b while apart"},"country":"SI"}' |
    sd b publish - >/dev/null
sd a delete a-0002 >/dev/null
sd b delete b-0002 >/dev/null
# A sync now reaches nobody: the writes stay on their side.
[ "$(reachable a) $(reachable b)" = "0 0" ] || fail "a sync reaches a member across the partition"
sd a get ap-0020 >/dev/null || fail "a lost its own entry"
if sd b get ap-0001 >/dev/null 2>&1; then fail "a's entry crossed the partition to b"; fi
if sd a get bp-0001 >/dev/null 2>&1; then fail "b's entry crossed the partition to a"; fi
[ "$(digest a)" != "$(digest b)" ] || fail "digests equal across the partition"
[ "$(status_of a 'd["entries"]') $(status_of b 'd["entries"]')" = "39 39" ] ||
    fail "entries while apart: a $(status_of a 'd["entries"]'), b $(status_of b 'd["entries"]')"

# Heal: B dials A again.
set_endpoint b a "$(cat "$T/a/listen.endpoint")"
reload b
wait_until 30 prints 1 peers_up b
wait_until 30 prints 1 peers_up a
wait_until 60 same_digest a b

# The union: 10 + 10 + 20 + 20 entries, 2 of them deleted; A wrote seqs
# 1..32 (10, 20, an update, a delete), so did B.
for n in a b; do
    [ "$(status_of $n 'd["entries"], d["versions"], d["forks"]')" = "(58, 60, 0)" ] ||
        fail "node $n: entries, versions, forks = $(status_of $n 'd["entries"], d["versions"], d["forks"]')"
    for o in a b; do
        [ "$(origin_stat $n $o count) $(origin_stat $n $o max_seq)" = "29 32" ] ||
            fail "$n's view of origin $o: $(cat "$T/$n.status")"
    done
done
for id in ap-0001 ap-0020 a-0010; do
    sd b get --json "$id" >"$T/g.json" || fail "b lacks $id"
    [ "$(json "$T/g.json" 'd["origin"], d["verified"]')" = "('$(cat "$T/a.id")', True)" ] ||
        fail "$id on b: $(cat "$T/g.json")"
done
for id in bp-0001 bp-0020 b-0010; do
    sd a get --json "$id" >"$T/g.json" || fail "a lacks $id"
    [ "$(json "$T/g.json" 'd["origin"], d["verified"]')" = "('$(cat "$T/b.id")', True)" ] ||
        fail "$id on a: $(cat "$T/g.json")"
done
sd b get --json a-0001 >"$T/g.json"
[ "$(json "$T/g.json" 'd["name"]["en"]')" = "updated on a while apart" ] || fail "a's update on b: $(cat "$T/g.json")"
sd a get --json b-0001 >"$T/g.json"
[ "$(json "$T/g.json" 'd["name"]["en"]')" = "updated on b while apart" ] || fail "b's update on a: $(cat "$T/g.json")"
sd b get --json a-0002 >"$T/g.json"
[ "$(json "$T/g.json" 'd["deleted"]')" = True ] || fail "a's delete on b: $(cat "$T/g.json")"
sd a get --json b-0002 >"$T/g.json"
[ "$(json "$T/g.json" 'd["deleted"]')" = True ] || fail "b's delete on a: $(cat "$T/g.json")"

for n in a b; do stop_node $n; done
echo "t070 ok"
