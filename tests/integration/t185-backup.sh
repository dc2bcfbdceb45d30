#!/bin/sh
# Backup and restore without a fork. A (which dials B) publishes; a backup
# taken while A runs, with a publish in flight, is one consistent snapshot.
# A publishes more, which B gets; A stops and the backup is restored; A
# starts restoring (B down: it refuses local writes), and once B is back
# and has reported, A's next write takes a seq above everything B holds:
# no fork on either node, equal digests, the entries written after the
# backup back on A. Then: a database file copied back by hand (no
# restore) is caught by DATA/highest-seq; a cp of a SIGKILLed node's
# database, restored, restores; a clean restart and a crash restart with
# the member down take writes at once; a backup restored where no member
# is configured continues 2^20 above the backup.
. "$(dirname "$0")/lib.sh"

init_node a --country AT --region AT12
init_node b --country SI --region SI032
dial_link a b
pin_listen a
wait_until 30 prints 1 peers_up a

# own_seqs FILE: "COUNT MAX" of the node's own origin in a database file,
# and its integrity check.
own_seqs() {
    python3 -c '
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
ok = db.execute("PRAGMA integrity_check").fetchone()[0]
me = db.execute("SELECT v FROM meta WHERE k = ?", ("node_id",)).fetchone()[0]
import base64
key = base64.urlsafe_b64decode(me + "=")
ix, mx = db.execute("SELECT ix, max_seq FROM origins WHERE key = ?", (key,)).fetchone()
n = db.execute("SELECT count(*) FROM entries WHERE origin = ?", (ix,)).fetchone()[0]
print(ok, n, mx)
' "$1"
}
meta_of() {
    python3 -c '
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
r = db.execute("SELECT v FROM meta WHERE k = ?", (sys.argv[2],)).fetchone()
print(r[0] if r else "")
' "$1" "$2"
}

orgs a 20 AT | sd a publish - >/dev/null
wait_until 60 same_digest a b

# The backup, while 600 more entries go in (batches of their own
# transactions): whatever moment it caught, each own entry has one seq
# (no updates yet), so a consistent copy holds as many as its highest seq.
orgs p 600 AT >"$T/p.ndjson"
sd a publish "$T/p.ndjson" >"$T/p.out" 2>&1 &
pub=$!
"$SOCDIR_NODE" backup --config "$T/a/node.conf" "$T/a.bak" >"$T/backup.out" ||
    fail "backup of a running node: $(cat "$T/backup.out")"
wait "$pub" || fail "the publish during the backup: $(cat "$T/p.out")"
expect_contains "$T/backup.out" "backup $T/a.bak: "
set -- $(own_seqs "$T/a.bak")
[ "$1" = ok ] && [ "$2" = "$3" ] && [ "$2" -ge 20 ] && [ "$2" -le 620 ] ||
    fail "the backup is not one snapshot: integrity, own entries, own max seq = $*"
bak_seq=$3
echo "the backup holds own seqs 1..$bak_seq of the 620 published by then"
expect_contains "$T/backup.out" "this node's own seq up to $bak_seq,"
[ "$(meta_of "$T/a.bak" restoring)" = 1 ] || fail "the backup is not marked restoring"
[ ! -e "$T/a.bak-wal" ] && [ ! -e "$T/a.bak.tmp" ] || fail "the backup left a -wal or .tmp beside it"
if "$SOCDIR_NODE" backup --config "$T/a/node.conf" "$T/a.bak" >"$T/out" 2>"$T/err"; then
    fail "backup overwrote $T/a.bak"
fi
expect_contains "$T/err" "refusing to overwrite"

# A writes on after the backup; B gets it all.
orgs x 5 AT | sd a publish - >/dev/null
echo '{"id":"a-0001","kind":"organisation","name":{"en":"a-0001, second version"},"country":"AT"}' |
    sd a publish - >/dev/null
wait_until 60 same_digest a b
b_max=$(origin_stat b a max_seq)
[ "$b_max" -eq 626 ] || fail "b holds a up to $b_max, expected 626"

# Restore: refused while A runs; done once it stopped.
if "$SOCDIR_NODE" restore --config "$T/a/node.conf" "$T/a.bak" >"$T/out" 2>"$T/err"; then
    fail "restore ran beside a running node"
fi
expect_contains "$T/err" "stop it first"
stop_node a
stop_node b
"$SOCDIR_NODE" restore --config "$T/a/node.conf" "$T/a.bak" >"$T/restore.out" 2>&1 ||
    fail "restore: $(cat "$T/restore.out")"
expect_contains "$T/restore.out" "the database it replaced is $T/a/socdir.db.before-restore"
[ "$(own_seqs "$T/a/socdir.db.before-restore")" = "ok 625 626" ] ||
    fail "the replaced database: $(own_seqs "$T/a/socdir.db.before-restore")"
[ "$(own_seqs "$T/a/socdir.db")" = "ok $bak_seq $bak_seq" ] || fail "the restored database"
if "$SOCDIR_NODE" restore --config "$T/a/node.conf" "$T/a.bak" >"$T/out" 2>"$T/err"; then
    fail "a second restore replaced socdir.db.before-restore"
fi
expect_contains "$T/err" "--force"

# A starts on the backup with B down: restoring, no local writes.
run_node a
expect_contains "$T/a.log" "a/socdir.db is a backup copy made"
[ "$(status_of a 'd["restoring"], d["restore_pending"]')" = "(True, ['b'])" ] ||
    fail "a on its backup: $(cat "$T/a.status")"
echo '{"id":"after-restore","kind":"organisation","name":{"en":"after the restore"},"country":"AT"}' >"$T/new.json"
if sd a publish "$T/new.json" >"$T/out" 2>"$T/err"; then
    fail "a took a write on a restored backup before hearing from b: $(cat "$T/out")"
fi
expect_contains "$T/err" "is restoring its own entries from its members"

# B is back: A restores from it, then writes above everything B holds.
run_node b
wait_until 60 prints False status_of a 'd["restoring"]'
expect_contains "$T/a.log" "restored own entries from b: next sequence 627"
sd a publish "$T/new.json" >/dev/null || fail "a refused a write after restoring"
seq=$(get_field a after-restore 'd["seq"]')
[ "$seq" -gt "$b_max" ] || fail "a reused seq $seq (b holds a's seqs up to $b_max)"
wait_until 60 same_digest a b
for id in x-0001 x-0005; do
    sd a get "$id" >/dev/null || fail "$id, written after the backup, is not back on a"
done
[ "$(get_field a a-0001 'd["name"]["en"]')" = "a-0001, second version" ] || fail "a-0001 on a"
for n in a b; do
    [ "$(status_of $n 'd["forks"], d["entries"]')" = "(0, 626)" ] ||
        fail "node $n: forks, entries = $(status_of $n 'd["forks"], d["entries"]')"
    ! log_has $n "fork:" || fail "node $n logged a fork"
done

# A database file put back by hand, no restore (an old copy of a
# cleanly stopped node, so complete in itself): DATA/highest-seq shows
# it behind, and A restores first.
stop_node a
cp "$T/a/socdir.db" "$T/a.old"
run_node a
orgs y 3 AT | sd a publish - >/dev/null
wait_until 60 same_digest a b
b_max=$(origin_stat b a max_seq)
stop_node a
stop_node b
cp "$T/a.old" "$T/a/socdir.db"
rm -f "$T/a/socdir.db-wal" "$T/a/socdir.db-shm"
run_node a
expect_contains "$T/a.log" "records seq $b_max sent"
[ "$(status_of a 'd["restoring"]')" = True ] || fail "a on an old copy of its file is not restoring"
if sd a publish "$T/new.json" >"$T/out" 2>"$T/err"; then
    fail "a took a write on an old copy of its database: $(cat "$T/out")"
fi
run_node b
wait_until 60 prints False status_of a 'd["restoring"]'
echo '{"id":"after-copy","kind":"organisation","name":{"en":"after the copy"},"country":"AT"}' |
    sd a publish - >/dev/null || fail "a refused a write after restoring from the copy"
[ "$(get_field a after-copy 'd["seq"]')" -eq $((b_max + 1)) ] || fail "after the copy: $(cat "$T/a.get.json")"
wait_until 60 same_digest a b

# cp of a SIGKILLed node's database (and its WAL), restored: restoring.
stop_node a KILL
cp "$T/a/socdir.db" "$T/a.cp"
[ ! -e "$T/a/socdir.db-wal" ] || cp "$T/a/socdir.db-wal" "$T/a.cp-wal"
stop_node b
"$SOCDIR_NODE" restore --config "$T/a/node.conf" --force "$T/a.cp" >"$T/restore.out" 2>&1 ||
    fail "restore of a cp copy: $(cat "$T/restore.out")"
run_node a
[ "$(status_of a 'd["restoring"]')" = True ] || fail "a on a restored cp copy is not restoring"
run_node b
wait_until 60 prints False status_of a 'd["restoring"]'
wait_until 60 same_digest a b

# A clean restart and a crash restart, B down: not restoring, writes at once.
stop_node b
stop_node a
run_node a
[ "$(status_of a 'd["restoring"]')" = False ] || fail "a restores after a clean restart"
next=$(( $(origin_stat a a max_seq) + 1 ))
echo '{"id":"clean","kind":"organisation","name":{"en":"after a clean restart"},"country":"AT"}' |
    sd a publish - >/dev/null || fail "a refused a write after a clean restart"
[ "$(get_field a clean 'd["seq"]')" -eq "$next" ] || fail "after a clean restart: $(cat "$T/a.get.json")"
stop_node a KILL
run_node a
[ "$(status_of a 'd["restoring"]')" = False ] || fail "a restores after a crash restart"
echo '{"id":"crash","kind":"organisation","name":{"en":"after a crash"},"country":"AT"}' |
    sd a publish - >/dev/null || fail "a refused a write after a crash restart"
[ "$(get_field a crash 'd["seq"]')" -eq $((next + 1)) ] || fail "after a crash restart: $(cat "$T/a.get.json")"
run_node b
wait_until 60 same_digest a b
no_forks "after the restarts" a b

# A new machine: the key, a config without members yet, no highest-seq,
# and a backup older than what B holds. Nobody to ask, but a backup means
# there were members: restoring ends at once, RESTORE_JUMP (2^20) above
# the backup, clear of B's seqs; members added later see no fork.
"$SOCDIR_NODE" backup --config "$T/a/node.conf" "$T/a.nomem.db" >"$T/backup.out" 2>&1 ||
    fail "backup: $(cat "$T/backup.out")"
nomem_max=$(own_seqs "$T/a.nomem.db" | cut -d' ' -f2)
orgs late 3 AT | sd a publish - >/dev/null || fail "publish after the last backup"
wait_until 60 same_digest a b
b_max=$(origin_stat b a max_seq)
stop_node a
cp "$T/a/node.conf" "$T/a.conf.members"
python3 -c '
import sys
text = open(sys.argv[1]).read()
open(sys.argv[1], "w").write(text[:text.index("[member b]")])' "$T/a/node.conf"
rm -f "$T/a/highest-seq"
# The database it replaces is damaged (a reason to restore), and the data
# directory belongs to the node's own user while root restores: the
# damaged file is kept as it is, the restored one is the user's, 0600,
# like the backup.
printf 'damaged!' | dd of="$T/a/socdir.db" bs=1 seek=0 conv=notrunc 2>/dev/null
[ "$(stat -c %a "$T/a.nomem.db")" = 600 ] || fail "a backup is readable by others: $(stat -c %a "$T/a.nomem.db")"
chown nobody "$T/a"
"$SOCDIR_NODE" restore --config "$T/a/node.conf" --force "$T/a.nomem.db" >"$T/restore.out" 2>&1 ||
    fail "restore over a damaged database, without members: $(cat "$T/restore.out")"
[ "$(stat -c '%U %a' "$T/a/socdir.db")" = "nobody 600" ] ||
    fail "restored database: $(stat -c '%U %a' "$T/a/socdir.db"), not the data directory's owner's"
[ "$(head -c 8 "$T/a/socdir.db.before-restore")" = 'damaged!' ] || fail "the damaged database was not kept"
chown root "$T/a" "$T/a/socdir.db"
run_node a
wait_until 30 prints False status_of a 'd["restoring"]'
log_has a "restoring ended: no members to restore from" || fail "a does not say it restored from nobody"
echo '{"id":"nomem","kind":"organisation","name":{"en":"a new machine"},"country":"AT"}' |
    sd a publish - >/dev/null || fail "a refused a write after restoring from nobody"
[ "$(get_field a nomem 'd["seq"]')" -gt $((nomem_max + 1048576)) ] ||
    fail "after restoring from nobody: seq $(get_field a nomem 'd["seq"]'), backup $nomem_max, b holds $b_max"
[ "$(get_field a nomem 'd["seq"]')" -gt "$b_max" ] || fail "a new machine reused a seq b holds"
cp "$T/a.conf.members" "$T/a/node.conf"
reload a
wait_until 60 same_digest a b
no_forks "after the new machine" a b

for n in a b; do stop_node $n; done
echo "t185 ok"
