#!/bin/sh
# An honest node never forks, whatever goes wrong in the middle of a write.
# A dials B. (1) A's disk is full: a publish of 50 entries fails with a
# clear error saying nothing was stored, A stays up and keeps answering, B
# never sees one of the 50. Space is freed while A runs: A takes a write
# at once and B gets it. The disk fills again, a publish fails, A restarts
# with its link cut and writes; once linked again there is no fork
# anywhere and the digests agree. (2) A is killed with SIGKILL
# in the middle of a 1,000-entry publish, three times at different
# moments; each time it restarts with its link cut and writes, and after
# relinking: no fork, every acknowledged entry on both, equal digests.
#
# The full disk is a small tmpfs; the test runs in its own user and mount
# namespace (unshare -rm) so that it needs no privileges and leaves no
# mount behind.
if [ -z "${SOCDIR_T140_NS:-}" ]; then
    SOCDIR_T140_NS=1 exec unshare -rm sh "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

mkdir "$T/a"
mount -t tmpfs -o size=8m tmpfs "$T/a" || fail "cannot mount a tmpfs for a's data"
init_node a --country AT
init_node b --country SI
dial_link a b
wait_until 30 prints 1 peers_up a

# big N PREFIX: N organisations with 3 KB descriptions (so 50 need ~150 KB).
big() {
    python3 -c '
import json, sys
n, prefix = int(sys.argv[1]), sys.argv[2]
for i in range(1, n + 1):
    print(json.dumps({"id": "%s-%04d" % (prefix, i), "kind": "organisation", "country": "AT",
                      "name": {"en": "%s %d" % (prefix, i)},
                      "description": {"en": ("Beschreibung %s %d " % (prefix, i)) * 150}}))
' "$1" "$2"
}

# cut / link: A stops dialing B (B never dials A), and again.
cut() { set_endpoint a b; reload a; }
link() { set_endpoint a b "$(cat "$T/b/listen.endpoint")"; reload a; }
big 20 ok | sd a publish - >/dev/null || fail "the first publish failed"
wait_until 60 same_digest a b
acked=$(origin_stat a a max_seq)

# (1) Fill A's disk, leaving a few KB.
dd if=/dev/zero of="$T/a/filler" bs=4096 2>/dev/null || true
rm -f "$T/a/filler.small"
dd if=/dev/zero of="$T/a/filler.small" bs=1024 count=1 2>/dev/null || true
big 50 full >"$T/full.ndjson"
if sd a publish "$T/full.ndjson" >"$T/out" 2>"$T/err"; then
    fail "a publish on a full disk succeeded: $(cat "$T/out")"
fi
expect_contains "$T/err" "nothing was stored"
expect_contains "$T/err" "full"
[ ! -s "$T/out" ] || fail "a full-disk publish printed results: $(cat "$T/out")"
sd a status >/dev/null || fail "a does not answer after the full-disk publish"
[ "$(origin_stat a a max_seq)" -eq "$acked" ] || fail "a's max_seq moved: $(cat "$T/a.status")"
sync_wait b >/dev/null || true
[ "$(origin_stat b a versions)" -eq 20 ] || fail "b holds a's entries of a failed publish: $(cat "$T/b.status")"
if sd b get full-0001 >/dev/null 2>&1; then fail "b got an entry a never stored"; fi

# Space is freed while A runs: A takes the next write at once, above the
# seqs the failed publish had taken (a gap, never a reuse), and B gets it
# with no fork.
rm -f "$T/a/filler"
big 1 freed | sd a publish - >/dev/null || fail "a refused a write once space was freed"
[ "$(origin_stat a a max_seq)" -gt "$acked" ] || fail "a's write after the full disk: $(cat "$T/a.status")"
wait_until 60 same_digest a b
sd b get freed-0001 >/dev/null || fail "b does not have the write made after space was freed"
[ "$(origin_stat b a versions)" -eq 21 ] || fail "b after space was freed: $(cat "$T/b.status")"

# A fills up again, restarts with its link cut (disk still nearly full,
# then freed), writes.
dd if=/dev/zero of="$T/a/filler" bs=4096 2>/dev/null || true
big 50 full | sd a publish - >/dev/null 2>&1 && fail "a second publish on a full disk succeeded"
cut
stop_node a
rm -f "$T/a/filler"
run_node a
big 1 after-full | sd a publish - >/dev/null || fail "a refused a write after its restart"
link
wait_until 60 same_digest a b
no_forks "after the full disk" a b
if sd a get full-0001 >/dev/null 2>&1; then fail "a holds an entry of the failed publish"; fi
[ "$(origin_stat b a versions)" -eq 22 ] || fail "b after the full disk: $(cat "$T/b.status")"

# (2) SIGKILL in the middle of a 1,000-entry publish, three times. This
# part is about the kill, not the disk: 1,000 entries of 3 KB, their
# index and the WAL fill 8 MB, so A's tmpfs grows first.
mount -o remount,size=256m "$T/a" || fail "cannot grow a's tmpfs"
big 1000 kill >"$T/kill.ndjson"
for delay in 0.03 0.08 0.2; do
    "$SOCDIR" --node "$T/a" publish "$T/kill.ndjson" >"$T/kill.out" 2>"$T/kill.err" &
    cli=$!
    sleep "$delay"
    stop_node a KILL
    kill "$cli" 2>/dev/null || true     # it would wait for its answer
    wait "$cli" || true
    set_endpoint a b        # restarts with its link cut
    run_node a
    # What the CLI printed was acknowledged: it must have survived.
    while IFS="$(printf '\t')" read -r id status rest; do
        sd a get "$id" >/dev/null 2>&1 || fail "acknowledged $id ($status) lost after SIGKILL at $delay s"
    done <"$T/kill.out"
    echo "{\"id\":\"after-kill-$delay\",\"kind\":\"organisation\",\"name\":{\"en\":\"after the kill\"},\"country\":\"AT\"}" |
        sd a publish - >/dev/null || fail "a refused a write after SIGKILL"
    link
    wait_until 60 same_digest a b
    no_forks "after SIGKILL at $delay s" a b
    sd b get "after-kill-$delay" >/dev/null || fail "b lacks after-kill-$delay"
done

sqlite3_ok() { python3 -c 'import sqlite3,sys; print(sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True).execute("PRAGMA integrity_check").fetchone()[0])' "$1"; }
for n in a b; do stop_node $n; done
for n in a b; do
    [ "$(sqlite3_ok "$T/$n/socdir.db")" = ok ] || fail "integrity_check on $n"
done
umount "$T/a"
echo "t140 ok"
