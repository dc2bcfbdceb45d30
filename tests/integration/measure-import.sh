#!/bin/sh
# Measures an import of a generated partner spreadsheet (gen_partners.py:
# Windows-1252, ';', CRLF, decimal commas, bad e-mails, shared websites)
# into a fresh node: what import reports and how long it takes. Prints and
# never judges; not run by CTest.
#
#   SOCDIR_BIN=build sh tests/integration/measure-import.sh [ROWS]
. "$(dirname "$0")/lib.sh"

ROWS=${1:-1200}
F="$T/partners.csv"
M="$SRC/tests/integration/data/partners.map.json"
python3 "$SRC/tests/integration/gen_partners.py" --rows "$ROWS" "$F"
start_node n1 --country AT

# run NAME ARGS...: times one import, prints its summary and the report's
# group and count lines (not the rows of each group).
run() {
    name=$1
    shift
    secs=$(python3 -c 'import subprocess, sys, time
t = time.monotonic()
with open(sys.argv[1], "w") as o, open(sys.argv[2], "w") as e:
    subprocess.run(sys.argv[3:], stdout=o, stderr=e)
print("%.2f" % (time.monotonic() - t))' "$T/$name.out" "$T/$name.err" "$SOCDIR" --node "$T/n1" import "$@")
    echo "--- $name: socdir import $* ($secs s wall)"
    grep -v '^    ' "$T/$name.err" | grep -v '^  group' || true
    grep -c '^  group' "$T/$name.err" | sed 's/^/groups listed: /'
    cat "$T/$name.out"
}
echo "$ROWS rows, $(wc -c <"$F") bytes"
run first --encoding CP1252 --map "$M" "$F"
run again --encoding CP1252 --map "$M" "$F"
run lenient --lenient --encoding CP1252 --map "$M" "$F"
run dry --dry-run --no-node-duplicates --encoding CP1252 --map "$M" "$F"
