#!/bin/sh
# Builds the .deb in a build folder of its own (prefix /usr, as the package
# needs) and checks it with dpkg-deb: Depends from dpkg-shlibdeps names the
# libraries the binaries link, the files are where Debian looks for them,
# the maintainer scripts and the conffile are in the control archive.
# usage: deb-check.sh SRC WORKDIR   (prints the .deb's path last)
set -eu
SRC=$1
W=$2
command -v dpkg-shlibdeps >/dev/null || { echo "SKIP: no dpkg-shlibdeps (dpkg-dev)"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

# A build folder left by another checkout cannot be reused (CMake refuses
# a cache made from another source folder): start it again.
if [ -f "$W/CMakeCache.txt" ] && ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$(cd "$SRC" && pwd -P)" "$W/CMakeCache.txt"; then
    rm -rf "$W"
fi
cmake -S "$SRC" -B "$W" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >"$W.configure.log" 2>&1 ||
    { cat "$W.configure.log"; fail "configure"; }
cmake --build "$W" -j2 --target socdir socdir-node socdir_man >"$W.build.log" 2>&1 ||
    { cat "$W.build.log"; fail "build"; }
rm -f "$W"/socdir_*.deb
(cd "$W" && cpack -G DEB) >"$W.cpack.log" 2>&1 || { cat "$W.cpack.log"; fail "cpack -G DEB"; }
deb=$(ls "$W"/socdir_*.deb)

dpkg-deb -I "$deb" >"$W/info"
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$W/files"
dpkg-deb -f "$deb" Depends >"$W/depends"
cat "$W/info"

for lib in libc6 libzmq5 libsodium23 libsqlite3-0 libsystemd0 libinih1 libjansson4 libmsgpackc2 libutf8proc2 libcsv3; do
    grep -q "\\b$lib\\b" "$W/depends" || fail "Depends lacks $lib: $(cat "$W/depends")"
done
for f in /usr/bin/socdir /usr/bin/socdir-node \
         /usr/share/man/man1/socdir.1.gz /usr/share/man/man5/socdir-import.5.gz \
         /usr/share/man/man8/socdir-node.8.gz \
         /usr/lib/systemd/system/socdir-node.service /usr/lib/sysusers.d/socdir.conf \
         /usr/lib/tmpfiles.d/socdir.conf /etc/socdir/node.conf \
         /usr/share/bash-completion/completions/socdir \
         /usr/share/bash-completion/completions/socdir-node \
         /usr/share/doc/socdir/import/README.md /usr/share/doc/socdir/import/podravje.map.json; do
    grep -qx "$f" "$W/files" || fail "$f is not in the package"
done
for s in postinst prerm postrm conffiles; do
    grep -q " $s" "$W/info" || fail "no $s in the control archive"
done
dpkg-deb -e "$deb" "$W/control"
grep -qx /etc/socdir/node.conf "$W/control/conffiles" || fail "/etc/socdir/node.conf is not a conffile"
grep -q 'systemd-sysusers socdir.conf' "$W/control/postinst" || fail "postinst does not run systemd-sysusers"
if grep -Eq '(helper|systemctl).* enable|(invoke|systemctl).* start ' "$W/control/postinst"; then fail "postinst enables or starts the unit"; fi
dpkg-deb -x "$deb" "$W/root"
grep -q '^ExecStart=/usr/bin/socdir-node run --config /etc/socdir/node.conf$' \
    "$W/root/usr/lib/systemd/system/socdir-node.service" || fail "the unit's ExecStart"
zcat "$W/root/usr/share/man/man1/socdir.1.gz" | grep -q '^\.SH "\?EXIT STATUS' || fail "socdir(1) has no EXIT STATUS"
"$W/root/usr/bin/socdir-node" --version | grep -q '^socdir-node 0\.' || fail "the packaged socdir-node --version"
echo "ok: $deb"
