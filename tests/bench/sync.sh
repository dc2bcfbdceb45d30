#!/bin/sh
# Measures replication on this machine (no assertions; prints figures):
#   1. publish N generated entries on node A (time);
#   2. an empty node B dials A: time and bytes until B's digest equals A's;
#   3. B stopped, 10 entries changed on A, B restarted: time and bytes of
#      the catch-up, and B's peer counters.
# usage: tests/bench/sync.sh [N] [BUILD_DIR]    (defaults: 10000, build-rel)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-10000}
build=${2:-"$top/build-rel"}
if [ ! -x "$build/socdir-node" ]; then
    cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j "$(nproc)" --target socdir socdir-node >/dev/null
fi
SD="$build/socdir"
SN="$build/socdir-node"
T=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT

ms() { date +%s%3N; }
field() { "$SD" --node "$T/$1" status --json | python3 -c "import json,sys; print(json.load(sys.stdin)[\"$2\"])"; }
peerstat() { "$SD" --node "$T/$1" peers --json | python3 -c "import json,sys; p=json.load(sys.stdin)['peers'][0]; print(p['$2'])"; }
run() {
    rm -f "$T/$1/listen.endpoint"
    "$SN" run --config "$T/$1/node.conf" 2>>"$T/$1.log" &
    pids="$pids $!"
    echo $! >"$T/$1.pid"
    until "$SD" --node "$T/$1" status >/dev/null 2>&1; do sleep 0.05; done
}
wait_equal() {
    d=$(field a digest)
    until [ "$(field b digest)" = "$d" ]; do sleep 0.01; done
}

python3 "$top/tests/bench/gen.py" "$n" >"$T/entries.ndjson"
"$SN" init "$T/a" --name a --listen 'tcp://127.0.0.1:*' >"$T/a.id"
"$SN" init "$T/b" --name b --listen 'tcp://127.0.0.1:*' >"$T/b.id"
printf '\n[member b]\nkey = %s\n' "$(cat "$T/b.id")" >>"$T/a/node.conf"
run a
t0=$(ms)
"$SD" --node "$T/a" publish "$T/entries.ndjson" >/dev/null 2>&1
t1=$(ms)
echo "publish $n entries: $((t1 - t0)) ms ($(( n * 1000 / (t1 - t0 + 1) )) entries/s)"

printf '\n[member a]\nkey = %s\nendpoint = %s\n' "$(cat "$T/a.id")" "$(cat "$T/a/listen.endpoint")" >>"$T/b/node.conf"
t0=$(ms)
run b
wait_equal
t1=$(ms)
echo "initial sync of $n entries into an empty node: $((t1 - t0)) ms (node start included)," \
     "$(peerstat b bytes_in) bytes to b, $(peerstat b bytes_out) bytes from b"

kill "$(cat "$T/b.pid")"
while kill -0 "$(cat "$T/b.pid")" 2>/dev/null; do sleep 0.05; done
head -n 10 "$T/entries.ndjson" | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line); e["tags"] = e["tags"] + ["changed"]; print(json.dumps(e, ensure_ascii=False))' >"$T/changed.ndjson"
"$SD" --node "$T/a" publish "$T/changed.ndjson" >/dev/null
changed=$("$SD" --node "$T/a" export --ndjson | grep -c '"changed"' || true)
t0=$(ms)
run b
wait_equal
t1=$(ms)
echo "sync after $changed changes among $n: $((t1 - t0)) ms (node start included)," \
     "$(peerstat b bytes_in) bytes to b, $(peerstat b bytes_out) bytes from b, $(peerstat b received) envelopes received"
echo "database: $(stat -c %s "$T/b/socdir.db") bytes for $(stat -c %s "$T/entries.ndjson") bytes of JSON input"
