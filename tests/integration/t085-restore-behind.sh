#!/bin/sh
# Restoring waits for every member. A (dialing B and C) writes seqs 1..10,
# which all hold, then 11..20 while C is down. A loses its database while B
# is down: it pulls from C, which is behind (its highest seq of A is 10), and
# must stay restoring, refusing writes, since B may hold more (PROTOCOL.md
# 4.6). Once B is back and A has pulled from it too, A continues at seq 21:
# no sequence number is used twice, no fork anywhere, equal digests.
# Then the documented way out for a member that never comes back: A loses
# its database again while C is gone for good; removing C from A's config
# (and a reload) ends the restore with what B reported. A runs with
# restore_wait = 0 (wait for every member, however long) until then.
# Last, restore_wait: A lists D, which never runs; after restore_wait
# seconds with every member it is connected to pulled, A ends the restore
# and continues 2^20 above what B reported.
. "$(dirname "$0")/lib.sh"

init_node a --country AT
init_node b --country SI
init_node c --country DK
sed -i 's/^name = a$/name = a\nrestore_wait = 0/' "$T/a/node.conf"
grep -q '^restore_wait = 0$' "$T/a/node.conf" || fail "cannot set restore_wait in a's config"
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
# A pulls from C (behind) and still waits for B.
wait_until 60 log_has a "restore: pulled from c"
wait_until 60 prints 10 origin_stat a a max_seq
[ "$(status_of a 'd["restoring"], d["restore_pending"]')" = "(True, ['b'])" ] ||
    fail "a after pulling from c only: $(cat "$T/a.status")"
echo '{"id":"too-early","kind":"organisation","name":{"en":"written while b was away"},"country":"AT"}' >"$T/early.json"
if sd a publish "$T/early.json" >"$T/out" 2>"$T/err"; then
    fail "a took a write after pulling from a member that is behind: $(cat "$T/out")"
fi
expect_contains "$T/err" "restoring"

# B is back: A pulls from it too, and only then writes, above seq 20.
run_node b
wait_until 60 prints False status_of a 'd["restoring"]'
expect_contains "$T/a.log" "restored own entries from b, c: next sequence 21"
sd a publish "$T/early.json" >/dev/null || fail "a refused a write after restoring"
sd a get --json too-early >"$T/g.json"
[ "$(json "$T/g.json" 'd["seq"]')" -eq 21 ] || fail "a's first write after restoring: $(cat "$T/g.json")"
wait_until 60 same_digest a b c
for n in a b c; do
    [ "$(status_of $n 'd["forks"]')" -eq 0 ] || fail "node $n holds fork evidence: $(cat "$T/$n.status")"
done
! log_has a "fork:" || fail "a logged a fork"

# C is gone for good and A loses its database again: A waits for C until
# the operator takes C out of its config.
stop_node c
stop_node a
rm -f "$T/a/socdir.db" "$T/a/socdir.db-wal" "$T/a/socdir.db-shm"
run_node a
wait_until 60 log_has a "restore: pulled from b"
[ "$(status_of a 'd["restoring"], d["restore_pending"]')" = "(True, ['c'])" ] ||
    fail "a waiting for c: $(cat "$T/a.status")"
python3 -c '
import sys
path = sys.argv[1]
out, skip = [], False
for line in open(path):
    if line.strip().startswith("["):
        skip = line.split(";")[0].strip() == "[member c]"
    if not skip:
        out.append(line)
open(path, "w").write("".join(out))
' "$T/a/node.conf"
reload a
wait_until 30 prints False status_of a 'd["restoring"]'
echo '{"id":"after-c","kind":"organisation","name":{"en":"written after c left"},"country":"AT"}' |
    sd a publish - >/dev/null || fail "a refused a write once c was out of its config"
sd a get --json after-c >"$T/g.json"
[ "$(json "$T/g.json" 'd["seq"]')" -eq 22 ] || fail "a's write after c left: $(cat "$T/g.json")"
wait_until 60 same_digest a b
[ "$(status_of a 'd["forks"]') $(status_of b 'd["forks"]')" = "0 0" ] || fail "forks after c left"

# restore_wait: D never runs, A ends the restore without it.
init_node d --country HU
member a d
sed -i 's/^restore_wait = 0$/restore_wait = 3/' "$T/a/node.conf"
before=$(origin_stat b a max_seq)
stop_node a
rm -f "$T/a/socdir.db" "$T/a/socdir.db-wal" "$T/a/socdir.db-shm"
run_node a
wait_until 60 prints False status_of a 'd["restoring"]'
expect_contains "$T/a.log" "restored own entries from b, 1 of 2 members (the others unreachable for 3 s)"
echo '{"id":"after-d","kind":"organisation","name":{"en":"written without d"},"country":"AT"}' |
    sd a publish - >/dev/null || fail "a refused a write after restore_wait"
sd a get --json after-d >"$T/g.json"
[ "$(json "$T/g.json" 'd["seq"]')" -eq $((before + 1048576 + 1)) ] ||
    fail "a's write after restore_wait: $(cat "$T/g.json"), b held up to $before"
wait_until 60 same_digest a b
[ "$(status_of a 'd["forks"]') $(status_of b 'd["forks"]')" = "0 0" ] || fail "forks after restore_wait"

for n in a b; do stop_node $n; done
echo "t085 ok"
