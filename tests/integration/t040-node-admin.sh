#!/bin/sh
# socdir-node init/id/check and --help on every command of both programs.
. "$(dirname "$0")/lib.sh"

id=$("$SOCDIR_NODE" init "$T/a" --name "Komunitas OG" --country AT --region AT12 --query tcp://127.0.0.1:0)
[ "${#id}" -eq 43 ] || fail "node id '$id' is not 43 characters"
[ "$("$SOCDIR_NODE" id "$T/a")" = "$id" ] || fail "id does not print the init id"
[ "$(stat -c %a "$T/a/node.key")" = 600 ] || fail "key file mode is $(stat -c %a "$T/a/node.key")"
cp "$T/a/node.key" "$T/key.before"
if "$SOCDIR_NODE" init "$T/a" 2>"$T/init.err"; then fail "init overwrote a node"; fi
expect_contains "$T/init.err" "refusing to overwrite"
cmp -s "$T/a/node.key" "$T/key.before" || fail "key changed"
rm "$T/a/node.conf"
if "$SOCDIR_NODE" init "$T/a" 2>"$T/init2.err"; then fail "init overwrote a key"; fi
expect_contains "$T/init2.err" "refusing to overwrite"
cmp -s "$T/a/node.key" "$T/key.before" || fail "key changed"

"$SOCDIR_NODE" init "$T/b" --name "Sociolab" >/dev/null
"$SOCDIR_NODE" check --config "$T/b/node.conf" >"$T/check.out"
expect_contains "$T/check.out" "configuration OK"
printf '[node]\nname = x\ndata = .\nlisten = 7700\n' >"$T/bad.conf"
if "$SOCDIR_NODE" check --config "$T/bad.conf" 2>"$T/check.err"; then fail "bad config passed"; fi
expect_contains "$T/check.err" "bad.conf:4:"
chmod 644 "$T/b/node.key"
if "$SOCDIR_NODE" run --config "$T/b/node.conf" 2>"$T/mode.err"; then fail "node ran with a readable key"; fi
expect_contains "$T/mode.err" "chmod 600"
chmod 600 "$T/b/node.key"

# The control socket is for the operator only.
NODES="b"
run_node b
[ "$(stat -c %a "$T/b/control.sock")" = 600 ] || fail "control socket mode $(stat -c %a "$T/b/control.sock")"
stop_node b

for c in init id check run; do
    "$SOCDIR_NODE" "$c" --help >"$T/h" || fail "socdir-node $c --help"
    expect_contains "$T/h" "usage: socdir-node $c"
done
"$SOCDIR" --help >"$T/h"
for c in publish get delete search export status; do
    expect_contains "$T/h" "$c"
    "$SOCDIR" "$c" --help >"$T/h2" || fail "socdir $c --help"
    expect_contains "$T/h2" "$c"
done
if "$SOCDIR" frobnicate 2>"$T/u"; then fail "unknown command accepted"; fi
expect_contains "$T/u" "frobnicate"
echo "t040 ok"
