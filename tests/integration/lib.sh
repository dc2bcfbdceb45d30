# lib.sh: helpers for the integration tests, sourced by each t*.sh.
#
#   start_node NAME [init options]   init + run a node in $T/NAME (log in $T/NAME.log)
#   stop_node NAME [SIGNAL]          stop it (TERM by default) and check a clean exit
#   sd NAME ARGS...                  run the CLI against NAME's control socket
#   wait_for SECONDS 'COMMAND'       poll COMMAND until it succeeds or the deadline passes
#   expect_contains FILE TEXT, expect_not_contains FILE TEXT, fail MESSAGE
#
# Every node started is stopped on exit; when a test fails, each node's log
# is printed. Binaries come from $SOCDIR_BIN (the build's bin folder).
set -eu

: "${SOCDIR_BIN:?set SOCDIR_BIN to the folder with socdir and socdir-node}"
SOCDIR="$SOCDIR_BIN/socdir"
SOCDIR_NODE="$SOCDIR_BIN/socdir-node"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DEMO="$SRC/conf/demo"
T=$(mktemp -d "${TMPDIR:-/tmp}/socdir-test.XXXXXX")
NODES=""
export SOCDIR_TIMEOUT=60
unset SOCDIR_NODE_ENV 2>/dev/null || true

s_cleanup() {
    rc=$?
    for n in $NODES; do
        if [ -f "$T/$n.pid" ]; then
            kill -KILL "$(cat "$T/$n.pid")" 2>/dev/null || true
        fi
    done
    if [ "$rc" -ne 0 ]; then
        for n in $NODES; do
            echo "---- log of node $n ----"
            cat "$T/$n.log" 2>/dev/null || true
        done
    fi
    rm -rf "$T"
    exit "$rc"
}
trap s_cleanup EXIT INT TERM

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

wait_for() {
    deadline=$(( $(date +%s) + $1 ))
    while ! sh -c "$2" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "timed out after $1 s waiting for: $2"
        sleep 0.1
    done
}

run_node() {
    "$SOCDIR_NODE" run --config "$T/$1/node.conf" >>"$T/$1.log" 2>&1 &
    echo $! >"$T/$1.pid"
    wait_for 30 "[ -S '$T/$1/control.sock' ] && '$SOCDIR' --node '$T/$1' status"
}

start_node() {
    name=$1
    shift
    "$SOCDIR_NODE" init "$T/$name" --name "$name" "$@" >"$T/$name.id"
    NODES="$NODES $name"
    run_node "$name"
}

stop_node() {
    pid=$(cat "$T/$1.pid")
    kill "-${2:-TERM}" "$pid"
    set +e
    wait "$pid"
    status=$?
    set -e
    rm -f "$T/$1.pid"
    if [ "${2:-TERM}" = TERM ] && [ "$status" -ne 0 ]; then
        fail "node $1 exited with status $status on SIGTERM"
    fi
    return 0
}

sd() {
    name=$1
    shift
    "$SOCDIR" --node "$T/$name" "$@"
}

expect_contains() {
    grep -qF -- "$2" "$1" || { echo "---- $1:"; cat "$1"; fail "expected '$2' in $1"; }
}

expect_not_contains() {
    if grep -qF -- "$2" "$1"; then
        echo "---- $1:"
        cat "$1"
        fail "did not expect '$2' in $1"
    fi
}

# json FILE EXPR: evaluates a Python expression over the JSON document in
# FILE (bound to d) and prints the result.
json() {
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(($2))" "$1"
}
