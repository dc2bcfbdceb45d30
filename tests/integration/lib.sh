# lib.sh: helpers for the integration tests, sourced by each t*.sh.
#
#   start_node NAME [init options]   init + run a node in $T/NAME (log in $T/NAME.log)
#   init_node NAME [init options]    init only: peer and query endpoints on 127.0.0.1,
#                                    ports chosen by the system (DATA/listen.endpoint)
#   run_node NAME                    run an initialised node, wait until it answers
#   member NODE OTHER [dial]         add OTHER to NODE's members (dialing its endpoint)
#   member_first NODE OTHER [dial]   the same, written before NODE's other members
#   init_abc                         nodes a (AT), b (SI), c (DK); a and c list both others
#   digest NAME                      the node's view digest
#   stop_node NAME [SIGNAL]          stop it (TERM by default) and check a clean exit
#   sd NAME ARGS...                  run the CLI against NAME's control socket
#   wait_for SECONDS 'COMMAND'       poll COMMAND until it succeeds or the deadline passes
#   expect_contains FILE TEXT, expect_not_contains FILE TEXT, fail MESSAGE
#
# Federation helpers (t05x and later):
#   wait_until SECONDS CMD [ARGS...] like wait_for, for a command with arguments or a
#                                    function of this file (wait_for runs a new sh)
#   raw NAME OP                      the node's own reply to {"op": OP} on its control
#                                    socket, as JSON (rawsend: no CLI in between)
#   peer_stat NAME MEMBER FIELD      FIELD of MEMBER in NAME's raw peers reply
#   peers_up NAME                    members NAME has a link to (status peers_up)
#   status_of NAME EXPR              EXPR over NAME's status --json (bound to d)
#   origin_stat NAME OWNER FIELD     FIELD (count, versions, max_seq) of OWNER's origin
#                                    in NAME's status; 0 when NAME holds none of it
#   same_digest NAME NAME...         true when the nodes show one digest
#   sync_wait NAME                   socdir sync --wait (the raw request without the CLI's)
#   reachable NAME                   start a sync on NAME now (raw, no wait) and print how
#                                    many members it could reach
#   orgs PREFIX N [COUNTRY]          N organisation entries as NDJSON, ids PREFIX-0001...
#   pin_listen NAME                  write the port NAME bound into its config, so a
#                                    restart listens where its members dial
#   set_endpoint NODE OTHER [EP]     set, or without EP remove, the endpoint NODE dials
#                                    member OTHER at (then: reload NODE)
#   reload NAME                      SIGHUP, and wait until NAME reloaded its members
#   log_count NAME TEXT              lines of NAME's log containing TEXT
#   log_has NAME TEXT                true when NAME's log contains TEXT
#   prints VALUE CMD [ARGS...]       true when CMD prints VALUE (for wait_until)
#   at_least N CMD [ARGS...]         true when CMD prints an integer >= N
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
    rm -f "$T/$1/listen.endpoint"
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

init_node() {
    name=$1
    shift
    "$SOCDIR_NODE" init "$T/$name" --name "$name" --listen 'tcp://127.0.0.1:*' \
        --query 'tcp://127.0.0.1:*' "$@" >"$T/$name.id"
    NODES="$NODES $name"
}

member() {
    {
        printf '\n[member %s]\nkey = %s\n' "$2" "$(cat "$T/$2.id")"
        if [ "${3:-}" = dial ]; then
            [ -s "$T/$2/listen.endpoint" ] || fail "node $2 has no listen endpoint yet (start it first)"
            printf 'endpoint = %s\n' "$(cat "$T/$2/listen.endpoint")"
        fi
    } >>"$T/$1/node.conf"
}

member_first() {
    member "$1" "$2" ${3:+"$3"}
    python3 -c '
import sys
path, section = sys.argv[1], "[member %s]" % sys.argv[2]
lines = open(path).read().split("\n")
start = max(i for i, l in enumerate(lines) if l.strip() == section)
block = lines[start:]
rest = lines[:start]
first = next(i for i, l in enumerate(rest) if l.strip().startswith("[member "))
open(path, "w").write("\n".join(rest[:first] + block + [""] + rest[first:]).rstrip("\n") + "\n")
' "$T/$1/node.conf" "$2" || fail "cannot edit the config of $1"
}

# init_abc: three nodes a (AT), b (SI), c (DK), initialised but not run.
# a and c list both others as members (entries are accepted by origin, from
# any peer); b's member sections are the test's to add, since b dials.
init_abc() {
    init_node a --country AT --region AT12
    init_node b --country SI --region SI032
    init_node c --country DK --region DK042
    member a b
    member a c
    member c b
    member c a
}

digest() {
    sd "$1" status --json >"$T/$1.status"
    json "$T/$1.status" 'd["digest"]'
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

# entries_of NODE: how many live entries NODE holds.
entries_of() {
    sd "$1" status --json >"$T/$1.st.json"
    json "$T/$1.st.json" 'd["entries"]'
}

# dial_link A B: A and B made members of each other; B runs with its peer
# endpoint pinned (it stays the same across restarts), and A, dialing it,
# runs.
dial_link() {
    member "$2" "$1"
    run_node "$2"
    pin_listen "$2"
    member "$1" "$2" dial
    run_node "$1"
}

# no_forks WHEN NODE...: no fork evidence on any NODE, and none logged.
no_forks() {
    when=$1
    shift
    for n in "$@"; do
        [ "$(status_of "$n" 'd["forks"]')" -eq 0 ] || fail "$when: node $n holds fork evidence: $(cat "$T/$n.status")"
        ! log_has "$n" "fork:" || fail "$when: node $n logged a fork"
    done
}

# get_field NODE ID EXPR: EXPR over NODE's get --json of ID (bound to d).
get_field() {
    sd "$1" get --json "$2" >"$T/$1.get.json" || fail "get $2 on $1"
    json "$T/$1.get.json" "$3"
}

wait_until() {
    wu_deadline=$(( $(date +%s) + $1 ))
    shift
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$wu_deadline" ] || fail "timed out waiting for: $*"
        sleep 0.1
    done
}

# One msgpack map {"op": OP} (OP shorter than 32 bytes: a fixstr).
s_op_frame() {
    printf '\201\242op'
    printf "\\$(printf '%03o' $((160 + ${#1})))"
    printf '%s' "$1"
}

raw() {
    s_op_frame "$2" >"$T/$1.req"
    "$SOCDIR_BIN/rawsend" "ipc://$T/$1/control.sock" "$T/$1.req"
}

peer_stat() {
    raw "$1" peers >"$T/$1.peers" || return 1
    json "$T/$1.peers" "[p['$3'] for p in d['peers'] if p['name'] == '$2'][0]"
}

status_of() {
    sd "$1" status --json >"$T/$1.status" || return 1
    json "$T/$1.status" "$2"
}

peers_up() {
    status_of "$1" 'd["peers_up"]'
}

origin_stat() {
    sd "$1" status --json >"$T/$1.status" || return 1
    json "$T/$1.status" "next((o['$3'] for o in d['origins'] if o['id'] == '$(cat "$T/$2.id")'), 0)"
}

same_digest() {
    sdg_first=$(digest "$1") || return 1
    shift
    for sdg_n in "$@"; do
        [ "$(digest "$sdg_n")" = "$sdg_first" ] || return 1
    done
}

sync_wait() {
    if "$SOCDIR" sync --help >/dev/null 2>&1; then
        sd "$1" sync --wait
    else
        # {"op": "sync", "wait": true}
        printf '\202\242op\244sync\244wait\303' >"$T/$1.req"
        "$SOCDIR_BIN/rawsend" "ipc://$T/$1/control.sock" "$T/$1.req" >"$T/$1.sync" &&
            json "$T/$1.sync" 'd["ok"] or sys.exit(d["error"])'
    fi
}

reachable() {
    s_op_frame sync >"$T/$1.req"
    "$SOCDIR_BIN/rawsend" "ipc://$T/$1/control.sock" "$T/$1.req" >"$T/$1.sync" || return 1
    json "$T/$1.sync" 'd["reachable"]'
}

orgs() {
    python3 -c '
import json, sys
prefix, n, country = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(1, n + 1):
    print(json.dumps({"id": "%s-%04d" % (prefix, i), "kind": "organisation",
                      "name": {"en": "%s organisation %d" % (prefix, i)}, "country": country}))
' "$1" "$2" "${3:-AT}"
}

pin_listen() {
    [ -s "$T/$1/listen.endpoint" ] || fail "node $1 has no listen endpoint (start it first)"
    sed -i "s|^listen = .*|listen = $(cat "$T/$1/listen.endpoint")|" "$T/$1/node.conf"
}

set_endpoint() {
    python3 -c '
import re, sys
path, section = sys.argv[1], "[member %s]" % sys.argv[2]
endpoint = sys.argv[3] if len(sys.argv) > 3 else None
out, cur = [], None
for line in open(path):
    if line.strip().startswith("["):
        cur = line.split(";")[0].strip()
    if cur == section and re.match(r"\s*endpoint\s*=", line):
        continue
    out.append(line)
    if cur == section and line.strip() == section and endpoint:
        out.append("endpoint = %s\n" % endpoint)
if section not in [l.split(";")[0].strip() for l in out]:
    sys.exit("%s: no %s" % (path, section))
open(path, "w").write("".join(out))
' "$T/$1/node.conf" "$2" ${3:+"$3"} || fail "cannot edit the config of $1"
}

log_count() {
    grep -cF -- "$2" "$T/$1.log" || true
}

s_log_grew() {
    [ "$(log_count "$1" "$2")" -gt "$3" ]
}

reload() {
    rl_before=$(log_count "$1" "membership reloaded")
    kill -HUP "$(cat "$T/$1.pid")"
    wait_until 30 s_log_grew "$1" "membership reloaded" "$rl_before"
}

log_has() {
    grep -qF -- "$2" "$T/$1.log"
}

prints() {
    pr_want=$1
    shift
    [ "$("$@")" = "$pr_want" ]
}

at_least() {
    al_min=$1
    shift
    al_got=$("$@") || return 1
    [ "$al_got" -ge "$al_min" ] 2>/dev/null
}
