#!/bin/sh
# Operator checks: `check` lists every problem with FILE:LINE, `init` leaves
# nothing behind when it fails, the CLI's exit codes and summary streams,
# and what SIGHUP applies or leaves for a restart.
. "$(dirname "$0")/lib.sh"

# --- check: each bad config alone, then all of them at once ---
"$SOCDIR_NODE" init "$T/k" --name k >"$T/k.id"
"$SOCDIR_NODE" init "$T/o" --name o >"$T/o.id"
other=$(cat "$T/o.id")
s_check_bad() {     # s_check_bad NAME TEXT WANT...: check refuses, naming file and line
    name=$1 text=$2
    shift 2
    printf '[node]\nname = x\ndata = .\n%b' "$text" >"$T/k/$name.conf"
    if "$SOCDIR_NODE" check --config "$T/k/$name.conf" >"$T/$name.out" 2>"$T/$name.err"; then
        fail "check passed $name"
    fi
    for want in "$@"; do
        expect_contains "$T/$name.err" "$T/k/$name.conf:$want"
    done
    expect_not_contains "$T/$name.out" "configuration OK"
}
s_check_bad noport 'listen = tcp://127.0.0.1\n' "4: 'tcp://127.0.0.1' has no port"
s_check_bad bigport 'query = tcp://127.0.0.1:99999\n' "4: 'tcp://127.0.0.1:99999': port '99999'"
s_check_bad scheme 'query = udp://127.0.0.1:7701\n' "4: 'udp://127.0.0.1:7701': scheme 'udp' is not supported"
s_check_bad star "[member o]\nkey = $other\nendpoint = tcp://*:7700\n" "6: 'tcp://*:7700': '*' (every address)"
s_check_bad dupsec "[member o]\nkey = $other\n[member o]\nendpoint = tcp://127.0.0.1:7700\n" \
    "6: [member o] appears twice (first on line 4)"
s_check_bad dupkey 'name = y\n' "4: 'name' is set twice in [node] (first on line 2)"
s_check_bad twice "[member o]\nkey = $other\n[member p]\nkey = $other\n" \
    "7: [member p] has the key of [member o] (line 5)"
s_check_bad self "[member me]\nkey = $(cat "$T/k.id")\n" "5: [member me] is this node itself"
# A ';' after a blank: read as inih reads it (a comment), with a warning
# showing the value read; configs of earlier releases had comments there.
printf '[node]\nname = Sozial ; Wirtschaft\ndata = .\n' >"$T/k/semi.conf"
"$SOCDIR_NODE" check --config "$T/k/semi.conf" >"$T/semi.out" 2>"$T/semi.err" ||
    fail "check refused a value with a comment after it: $(cat "$T/semi.err")"
expect_contains "$T/semi.err" "semi.conf:2: the value is read as 'Sozial'"
expect_contains "$T/semi.err" "a ';' in a value without a blank before it"
expect_contains "$T/semi.out" 'configuration OK (node "Sozial"'
# Every problem, not only the first, and a count.
printf '[node]\nname = x\ndata = .\nlisten = tcp://127.0.0.1\nquery = tcp://127.0.0.1:99999\n[member o]\nkey = %s\n[member o]\n' \
    "$other" >"$T/k/all.conf"
if "$SOCDIR_NODE" check --config "$T/k/all.conf" 2>"$T/all.err"; then fail "check passed all.conf"; fi
expect_contains "$T/all.err" "all.conf:4:"
expect_contains "$T/all.err" "all.conf:5:"
expect_contains "$T/all.err" "all.conf:8: [member o] appears twice"
expect_contains "$T/all.err" "3 problems; the node would not start"
# run refuses what check refuses, with the same lines.
if "$SOCDIR_NODE" run --config "$T/k/all.conf" 2>"$T/run.err"; then fail "run started on all.conf"; fi
expect_contains "$T/run.err" "all.conf:8: [member o] appears twice"
# A good config with a ';' inside a value and IPv6 passes.
printf '[node]\nname = Sozial; Wirtschaft\ndata = .\nquery = tcp://[::1]:0\n' >"$T/k/good.conf"
"$SOCDIR_NODE" check --config "$T/k/good.conf" >"$T/good.out" || fail "check refused good.conf"
expect_contains "$T/good.out" 'configuration OK (node "Sozial; Wirtschaft"'

# --- init: nothing made when an argument is wrong or a write fails ---
if "$SOCDIR_NODE" init "$T/bad" --country Austria --listen tcp://127.0.0.1 2>"$T/init.err"; then
    fail "init took --country Austria"
fi
expect_contains "$T/init.err" "--country: 'Austria'"
expect_contains "$T/init.err" "--listen: 'tcp://127.0.0.1' has no port"
[ ! -e "$T/bad" ] || fail "a failed init left $T/bad"
"$SOCDIR_NODE" init "$T/bad" --country AT >/dev/null || fail "the corrected init failed"
# A write that fails midway: the database cannot get its WAL file.
mkdir -p "$T/mid/socdir.db-wal"
if "$SOCDIR_NODE" init "$T/mid" 2>"$T/mid.err"; then fail "init succeeded without a WAL file"; fi
[ ! -e "$T/mid/node.key" ] && [ ! -e "$T/mid/node.conf" ] && [ ! -e "$T/mid/socdir.db" ] ||
    { ls -la "$T/mid"; fail "a failed init left files in $T/mid"; }
expect_contains "$T/mid.err" "nothing was left"

# --- exit codes ---
start_node n
s_rc() {            # s_rc WANT CMD...: runs CMD, checks its exit status
    want=$1
    shift
    set +e
    "$@" >"$T/rc.out" 2>"$T/rc.err"
    got=$?
    set -e
    [ "$got" -eq "$want" ] || { cat "$T/rc.err"; fail "exit $got, not $want: $*"; }
}
s_rc 0 "$SOCDIR" --node "$T/n" status
printf '{"id":"ok-1","kind":"organisation","name":{"en":"Good"},"country":"AT"}\n{"id":"bad-1","kind":"organisation","country":"AT"}\n' >"$T/two.ndjson"
s_rc 1 "$SOCDIR" --node "$T/n" publish "$T/two.ndjson"
expect_contains "$T/rc.err" "published 2: 1 new, 0 updated, 0 unchanged, 1 rejected"
expect_contains "$T/rc.out" "ok-1"
expect_not_contains "$T/rc.out" "published"
s_rc 1 "$SOCDIR" --node "$T/n" get no-such-entry
s_rc 2 "$SOCDIR" --node "$T/n" status --bogus
s_rc 2 "$SOCDIR" --bogus status
s_rc 2 "$SOCDIR" statsu
[ "$(wc -l <"$T/rc.err")" -eq 1 ] || { cat "$T/rc.err"; fail "unknown command printed more than one line"; }
expect_contains "$T/rc.err" "socdir: unknown command 'statsu' (did you mean 'status'?); socdir --help lists them"
s_rc 2 "$SOCDIR" status         # no node given
s_rc 3 "$SOCDIR" --node tcp://127.0.0.1:1 status
expect_contains "$T/rc.err" "cannot reach tcp://127.0.0.1:1: connection refused"
mkdir -p "$T/nosock"
s_rc 3 "$SOCDIR" --node "$T/nosock" status
expect_contains "$T/rc.err" "no control socket"
s_rc 3 "$SOCDIR" --node "ipc://$T/nosock/control.sock" status
expect_contains "$T/rc.err" "nothing listens there"

# --- summaries on stderr, data on stdout: publish and import alike ---
printf 'id,kind,name,country\nimp-1,organisation,Imported,AT\n' >"$T/one.csv"
sd n import --lang en "$T/one.csv" >"$T/imp.out" 2>"$T/imp.err" || { cat "$T/imp.err"; fail "import failed"; }
expect_contains "$T/imp.err" "imported 1 rows: 1 new"
expect_not_contains "$T/imp.out" "imported"

# --- SIGHUP: name and query_rate live, query at the next restart ---
member n o
sed -i 's/^name = n$/name = n renamed/' "$T/n/node.conf"
printf 'query_rate = 7\n' >"$T/qr"
sed -i "/^\[node\]/r $T/qr" "$T/n/node.conf"
sed -i 's|^;query = .*|query = tcp://127.0.0.1:0|' "$T/n/node.conf"
grep -q '^query = ' "$T/n/node.conf" || fail "no query line to change"
"$SOCDIR_NODE" check --config "$T/n/node.conf" >/dev/null || fail "the edited config does not pass check"
reload n
[ "$(status_of n 'd["name"]')" = "n renamed" ] || fail "status does not show the new name"
[ "$(status_of n 'd["members"]')" = 1 ] || fail "membership did not reload"
log_has n "reload: 'query' changed; it takes effect at the next restart" || fail "no restart warning for query"
log_has n "reload: query_rate is now 7" || fail "query_rate not applied"
if log_has n "reload: 'name' changed"; then fail "name was left for a restart"; fi
[ ! -e "$T/n/query.endpoint" ] || fail "a query endpoint was bound without a restart"
# status shows the version and the schema.
status_of n 'd["version"]' >"$T/ver"
[ -s "$T/ver" ] || fail "no version in status"
[ "$(status_of n 'd["schema"]')" != "?" ] || fail "no schema in status"
sd n status >"$T/st.txt"
expect_contains "$T/st.txt" "version: $(cat "$T/ver"), database schema: "
# A config with a problem is refused on reload, nothing changes.
printf 'listen = tcp://127.0.0.1\n' >>"$T/n/node.conf"
before=$(log_count n "reload refused")
kill -HUP "$(cat "$T/n.pid")"
wait_until 10 s_log_grew n "reload refused" "$before"
log_has n "reload refused, nothing changed: $T/n/node.conf:" || fail "the refusal does not name file and line"
[ "$(status_of n 'd["name"]')" = "n renamed" ] || fail "a refused reload changed the name"
stop_node n
echo "t180 ok"
