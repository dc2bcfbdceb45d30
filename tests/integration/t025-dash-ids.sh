#!/bin/sh
# Ids that start with '-': entry ids may (1-64 of A-Z a-z 0-9 . _ -), and
# so does about one node id in 64 (base64url). get and delete take them as
# ids, not options; '--' ends the options; a word that is neither an
# option nor an id is still a usage error.
. "$(dirname "$0")/lib.sh"

# A node whose id starts with '-', for ORIGIN/ID refs that do: keys cannot
# be chosen, so make them until one does (1 in 64 each; 400 tries miss
# with p < 0.002, and then the refs are tested with an ordinary id).
tries=0
while :; do
    tries=$((tries + 1))
    rm -rf "$T/try"
    "$SOCDIR_NODE" init "$T/try" --name a --country AT >"$T/try.id"
    case "$(cat "$T/try.id")" in -*) break ;; esac
    [ "$tries" -lt 400 ] || { echo "t025: no node id starting with '-' in 400 tries"; break; }
done
mv "$T/try" "$T/a"
mv "$T/try.id" "$T/a.id"
NODES="$NODES a"
run_node a
origin=$(cat "$T/a.id")

# On a fresh node, '-u' is an id that is not there, not an unknown option.
if sd a get -u >"$T/u.out" 2>"$T/u.err"; then fail "get -u succeeded on a fresh node"; fi
expect_contains "$T/u.err" "no entry '-u'"
expect_not_contains "$T/u.err" "option"

# Usage errors: a word that is neither an option nor an id, a mistyped
# option taken for a second id, no id at all.
if sd a get --json=yes org-1 2>"$T/e1.err"; then fail "get --json=yes succeeded"; fi
expect_contains "$T/e1.err" "unknown option '--json=yes'"
expect_contains "$T/e1.err" "usage: socdir get"
if sd a get --jsn org-1 2>"$T/e2.err"; then fail "get --jsn org-1 succeeded"; fi
expect_contains "$T/e2.err" "'--jsn' is not an option of get"
if sd a get -- 2>"$T/e3.err"; then fail "get -- succeeded"; fi
expect_contains "$T/e3.err" "expected one [ORIGIN/]ID"
if sd a delete 'bad!' -q! 2>"$T/e4.err"; then fail "delete -q! succeeded"; fi
expect_contains "$T/e4.err" "unknown option '-q!'"
if sd a delete -- 2>"$T/e5.err"; then fail "delete -- succeeded"; fi
expect_contains "$T/e5.err" "expected at least one ID"
sd a get -h >"$T/h1.out"
expect_contains "$T/h1.out" "usage: socdir"
sd a delete --help >"$T/h2.out"
expect_contains "$T/h2.out" "'--' ends the options"

for id in -lead --json -x.y; do
    printf '{"id": "%s", "kind": "organisation", "name": {"en": "Entry %s"}, "country": "AT"}\n' "$id" "$id"
done >"$T/dash.ndjson"
sd a publish "$T/dash.ndjson" >"$T/pub.out" 2>"$T/pub.err"
[ "$(grep -c "	new	seq " "$T/pub.out")" -eq 3 ] || fail "publish: $(cat "$T/pub.out")"

# check_get FILE ID: FILE is get --json's entry ID of node a.
check_get() {
    [ "$(json "$1" 'd["id"], d["origin"], d.get("deleted", False)')" = "('$2', '$origin', False)" ] \
        || fail "get $2: $(cat "$1")"
}

# -lead and -x.y: as the only word, with --json before or after, by
# ORIGIN/ID (an ORIGIN that may start with '-'), and after '--'.
for id in -lead -x.y; do
    sd a get --json "$id" >"$T/g1.json" && check_get "$T/g1.json" "$id"
    sd a get "$id" --json >"$T/g2.json" && check_get "$T/g2.json" "$id"
    sd a get --json "$origin/$id" >"$T/g3.json" && check_get "$T/g3.json" "$id"
    sd a get --json -- "$id" >"$T/g4.json" && check_get "$T/g4.json" "$id"
    sd a get "$id" >"$T/g5.txt"
    expect_contains "$T/g5.txt" "Entry $id"
    sd a get "$origin/$id" >"$T/g6.txt"
    expect_contains "$T/g6.txt" "Entry $id"
done
# --json is the option unless it comes after '--' or behind ORIGIN/.
sd a get --json -- --json >"$T/g7.json" && check_get "$T/g7.json" --json
if sd a get -- --json --json >"$T/g8.json" 2>"$T/g8.err"; then fail "get -- --json --json took two ids"; fi
expect_contains "$T/g8.err" "expected one [ORIGIN/]ID, got 2"
sd a get --json "$origin/--json" >"$T/g9.json" && check_get "$T/g9.json" --json
sd a get -- --json >"$T/g10.txt"
expect_contains "$T/g10.txt" "Entry --json"
sd a get "$origin/--json" >"$T/g11.txt"
expect_contains "$T/g11.txt" "Entry --json"

sd a delete -lead >"$T/d1.out"
expect_contains "$T/d1.out" "-lead	deleted	seq "
sd a delete -- --json >"$T/d2.out"
expect_contains "$T/d2.out" "--json	deleted	seq "
sd a delete -x.y >"$T/d3.out"
expect_contains "$T/d3.out" "-x.y	deleted	seq "

# Gone: get shows each tombstone, a second delete is refused, none is left.
for id in -lead --json -x.y; do
    sd a get --json -- "$id" >"$T/t.json"
    [ "$(json "$T/t.json" 'd["id"], d["deleted"]')" = "('$id', True)" ] || fail "get $id: $(cat "$T/t.json")"
    sd a get -- "$origin/$id" >"$T/t.txt"
    expect_contains "$T/t.txt" "deleted:"
    if sd a delete -- "$id" 2>"$T/t.err"; then fail "second delete of $id succeeded"; fi
    expect_contains "$T/t.err" "already deleted"
done
[ "$(status_of a 'd["entries"]')" -eq 0 ] || fail "entries left: $(cat "$T/a.status")"

stop_node a
echo "t025 ok (node id ${origin%"${origin#?}"}..., after $tries init)"
