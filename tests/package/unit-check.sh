#!/bin/sh
# The unit conf/socdir-node.service: systemd-analyze security --offline=yes
# must score it 2.0 or lower, and systemd-analyze verify must accept it (on
# a copy whose ExecStart names this build's binary, since /usr/bin has none
# here; manual pages are the package test's to check).
# usage: unit-check.sh SRC BIN
set -eu
SRC=$1
BIN=$2
unit=$SRC/conf/socdir-node.service
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }

out=$(systemd-analyze security --offline=yes "$unit" 2>&1) || true
score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for socdir-node.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || { printf '%s\n' "$out"; echo "FAIL: no 'Overall exposure level' line"; exit 1; }
printf '%s\n' "$out" | grep -v '✓'
if ! awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
    echo "FAIL: exposure $score is above 2.0"
    exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/socdir-unit.XXXXXX")
trap 'rm -rf "$T"' EXIT
sed "s|/usr/bin/socdir-node|$BIN/socdir-node|" "$unit" >"$T/socdir-node.service"
if ! systemd-analyze verify --man=no "$T/socdir-node.service" >"$T/verify.out" 2>&1; then
    cat "$T/verify.out"
    if grep -q 'Failed to .*\(bus\|connect\|initialize manager\)' "$T/verify.out"; then
        echo "SKIP: systemd-analyze verify cannot run here"
        exit 77
    fi
    echo "FAIL: systemd-analyze verify refused the unit"
    exit 1
fi
cat "$T/verify.out"
echo "ok: exposure $score, verify accepts the unit"
