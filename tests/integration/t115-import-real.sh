#!/bin/sh
# Import of real partner files: a Windows-1252 Excel export (no BOM, ';',
# CRLF, decimal commas, quoted line breaks) and an ISO-8859-2 file refused
# with the encoding they look like, then imported with --encoding; stray
# quotes reported at the line they open without losing the rows after;
# GeoJSON name/description without a mapping; a mapping with typos refused
# once, every problem listed; --lenient; grouped errors and --errors all;
# duplicates as groups and as JSON; duplicate JSON keys; the progress bar.
. "$(dirname "$0")/lib.sh"

start_node n1 --country AT
D="$SRC/tests/integration/data"

# --- Windows-1252: refused once, with the encoding it looks like ---
if sd n1 import "$D/excel-cp1252.csv" >"$T/w0.out" 2>"$T/w0.err"; then fail "a CP1252 file was taken as UTF-8"; fi
expect_contains "$T/w0.err" "excel-cp1252.csv: line 2, byte offset 96: byte 0xDF is not UTF-8"
expect_contains "$T/w0.err" "looks like Windows-1252"
expect_contains "$T/w0.err" "--encoding CP1252"
[ "$(wc -l <"$T/w0.err")" -eq 1 ] || fail "more than one message for the encoding: $(cat "$T/w0.err")"
[ "$(entries_of n1)" -eq 0 ] || fail "a refused file stored entries"

sd n1 import --encoding CP1252 "$D/excel-cp1252.csv" >"$T/w1.out" 2>"$T/w1.err" ||
    { cat "$T/w1.err"; fail "--encoding CP1252 import failed"; }
expect_contains "$T/w1.err" "imported 3 rows: 3 new, 0 updated, 0 unchanged, 0 rejected, 0 warnings"
[ "$(get_field n1 xl-1 'd["name"]["de"]')" = "Straßenküche Graz" ] || fail "Straße: $(cat "$T/n1.get.json")"
[ "$(get_field n1 xl-1 'd["disadvantaged_share"]')" = "45.5" ] || fail "decimal comma"
[ "$(get_field n1 xl-1 'd["description"]["de"]')" = "$(printf 'Mittagstisch;\nCatering für Firmen')" ] ||
    fail "quoted CRLF line break: $(cat "$T/n1.get.json")"
[ "$(get_field n1 xl-2 'd["name"]["de"]')" = "Œuvre Solidaire" ] || fail "Œ (0x8C)"
[ "$(get_field n1 xl-2 'd["disadvantaged_share"]')" = "12.25" ] || fail "decimal comma 12,25"
[ "$(get_field n1 xl-3 'd["name"]["de"]')" = "Café Zeitraum" ] || fail "é"
[ "$(get_field n1 xl-3 'd["description"]["de"]')" = "Kaffeehaus – „fair“ geröstet" ] || fail "CP1252 quotes and dash"
sd n1 import --encoding CP1252 "$D/excel-cp1252.csv" >"$T/w2.out" 2>&1 || fail "re-import"
expect_contains "$T/w2.out" "0 new, 0 updated, 3 unchanged"

# A byte CP1252 has no character for: its line and byte offset.
printf 'id;kind;name:de;country\r\nb-1;organisation;Gut;AT\r\nb-2;organisation;B\201se;AT\r\n' >"$T/bad1252.csv"
if sd n1 import --encoding CP1252 "$T/bad1252.csv" >"$T/b.out" 2>"$T/b.err"; then fail "0x81 accepted as CP1252"; fi
expect_contains "$T/b.err" "line 3, byte offset 68: byte 0x81 is not valid CP1252"
if sd n1 get b-1 2>/dev/null; then fail "rows of a file with a bad byte were stored"; fi
if sd n1 import --encoding NOPE-9 "$T/bad1252.csv" 2>"$T/b2.err"; then fail "unknown encoding accepted"; fi
expect_contains "$T/b2.err" "unknown encoding 'NOPE-9'"

# --- ISO-8859-2 (Czech) ---
if sd n1 import "$D/czech-8859-2.csv" >"$T/c0.out" 2>"$T/c0.err"; then fail "ISO-8859-2 taken as UTF-8"; fi
expect_contains "$T/c0.err" "looks like ISO-8859-2"
expect_contains "$T/c0.err" "--encoding ISO-8859-2"
sd n1 import --encoding ISO-8859-2 "$D/czech-8859-2.csv" >"$T/c1.out" 2>"$T/c1.err" ||
    { cat "$T/c1.err"; fail "ISO-8859-2 import failed"; }
expect_contains "$T/c1.err" "imported 3 rows: 3 new"
[ "$(get_field n1 cz-1 'd["name"]["cs"]')" = "Čistírna Řeka" ] || fail "č ř: $(cat "$T/n1.get.json")"
[ "$(get_field n1 cz-2 'd["name"]["cs"]')" = "Žlutý dům ůvěr" ] || fail "ž ů"
[ "$(get_field n1 cz-3 'd["address"]["city"]')" = "České Budějovice" ] || fail "ě in the city"
sd n1 search --city "ceske budejovice" --json >"$T/cs.json" 2>&1 || fail "search by folded city"
expect_contains "$T/cs.json" '"cz-3"'

# UTF-16 with a byte order mark is converted.
iconv -f UTF-8 -t UTF-16 >"$T/u16.csv" <<'CSV'
id;kind;name:de;country
w-16;organisation;Wäscherei Sechzehn;AT
CSV
sd n1 import "$T/u16.csv" >"$T/u16.out" 2>&1 || { cat "$T/u16.out"; fail "UTF-16 with BOM"; }
[ "$(get_field n1 w-16 'd["name"]["de"]')" = "Wäscherei Sechzehn" ] || fail "UTF-16 name"

# --- a stray quote costs its own row, not the rows after it ---
if sd n1 import "$D/stray-quote.csv" >"$T/q.out" 2>"$T/q.err"; then fail "stray quote: exit 0"; fi
expect_contains "$T/q.err" "stray-quote.csv:4: a quote opened on this line"
expect_contains "$T/q.err" "imported 6 rows: 5 new, 0 updated, 0 unchanged, 1 rejected"
for id in r2 r3 r5 r6 r7; do sd n1 get "$id" >/dev/null 2>&1 || fail "row $id after the stray quote lost"; done
[ "$(get_field n1 r6 'd["name"]["de"]')" = "Six" ] || fail "r6 name"
if sd n1 get r4 2>/dev/null; then fail "the row with the stray quote was stored"; fi
if sd n1 import "$D/stray-quote-eof.csv" >"$T/q2.out" 2>"$T/q2.err"; then fail "unclosed quote: exit 0"; fi
expect_contains "$T/q2.err" "stray-quote-eof.csv:3: a quote opened on this line is not closed before the end of the file"
expect_contains "$T/q2.err" "imported 4 rows: 3 new, 0 updated, 0 unchanged, 1 rejected"
sd n1 get e5 >/dev/null 2>&1 || fail "e5 after an unclosed quote lost"
# A quoted description of 40 lines, and one whose lines hold separators
# (and even a line shaped like a row), are one field each.
for f in longq sepq; do
    sd n1 import "$D/$f.csv" >"$T/$f.out" 2>"$T/$f.err" || { cat "$T/$f.err"; fail "$f.csv: a quoted field taken for a stray quote"; }
    expect_contains "$T/$f.err" "imported 2 rows: 2 new, 0 updated, 0 unchanged, 0 rejected"
done
[ "$(get_field n1 lq-1 'len(d["description"]["de"].splitlines())')" = "40" ] || fail "longq: $(cat "$T/n1.get.json")"
[ "$(get_field n1 sq-1 'd["description"]["de"].splitlines()[1]')" = "Kochen; Nähen; Putzen; Gärtnern; Pflege" ] ||
    fail "sepq: $(cat "$T/n1.get.json")"
if sd n1 get r9 2>/dev/null; then fail "a line inside a quoted field was imported as a row"; fi
sd n1 get sq-2 >/dev/null 2>&1 || fail "the row after a quoted field lost"

# --- GeoJSON without a mapping: name and description properties ---
if sd n1 import "$D/nomap.geojson" >"$T/g0.out" 2>"$T/g0.err"; then fail "plain name without a language"; fi
# said once, before the first feature, as for a CSV header
expect_contains "$T/g0.err" "nomap.geojson: 2 problems, nothing was imported"
expect_contains "$T/g0.err" "property 'name': say which language, e.g. 'name:de' (or give --lang, or use --map)"
expect_not_contains "$T/g0.err" "feature"
sd n1 import --lang da "$D/nomap.geojson" >"$T/g1.out" 2>"$T/g1.err" || { cat "$T/g1.err"; fail "GeoJSON --lang da"; }
expect_contains "$T/g1.err" "imported 2 rows: 2 new"
[ "$(get_field n1 dk-g1 'd["name"]["da"]')" = "Socialøkonomisk Café Aarhus" ] || fail "name property: $(cat "$T/n1.get.json")"
[ "$(get_field n1 dk-g1 'd["description"]["da"]')" = "Café og køkken" ] || fail "description property"
[ "$(get_field n1 dk-g1 'd["geo"]["lat"]')" = "56.1629" ] || fail "geometry"

# A name property that is not text says so.
printf '{"type":"FeatureCollection","features":[{"type":"Feature","id":"gn-1","geometry":null,"properties":{"kind":"organisation","name":12345,"country":"DK"}}]}' >"$T/numname.geojson"
if sd n1 import --dry-run --lang da "$T/numname.geojson" >"$T/g2.out" 2>"$T/g2.err"; then fail "a numeric name accepted"; fi
expect_contains "$T/g2.err" "feature 1: field 'name': must be text (got a number)"

# --- defaults and languages checked by the entry's rules, before any row ---
printf 'Nr;Name\n1;Eins\n' >"$T/plain.csv"
printf '{"kind":"organisation","country":"UK","fields":{"name:xx":"Name"}}' >"$T/rules.map.json"
if sd n1 import --dry-run --map "$T/rules.map.json" "$T/plain.csv" >"$T/r0.out" 2>"$T/r0.err"; then fail "country UK, name:xx accepted"; fi
expect_contains "$T/r0.err" "2 problems, nothing was imported"
expect_contains "$T/r0.err" "country: 'UK' is the NUTS prefix, not the ISO 3166-1 code: use GB"
expect_contains "$T/r0.err" "field 'name:xx': 'xx' is not an ISO 639-1 language code"
printf '{"kind":"organisation","country":"AT","region":"DE12","fields":{"name:de":"Name"}}' >"$T/region.map.json"
if sd n1 import --dry-run --map "$T/region.map.json" "$T/plain.csv" >"$T/r1.out" 2>"$T/r1.err"; then fail "region DE12 in AT accepted"; fi
expect_contains "$T/r1.err" "region: 'DE12' is not in country AT"
if sd n1 import --dry-run --lang xx "$D/nomap.geojson" >"$T/r2.out" 2>"$T/r2.err"; then fail "--lang xx accepted"; fi
expect_contains "$T/r2.err" "--lang takes an ISO 639-1 code"
printf 'id;kind;name:xx;country\nx-1;organisation;Eins;AT\n' >"$T/langxx.csv"
if sd n1 import --dry-run "$T/langxx.csv" >"$T/r3.out" 2>"$T/r3.err"; then fail "column name:xx accepted"; fi
expect_contains "$T/r3.err" "column 'name:xx': 'xx' is not an ISO 639-1 language code (e.g. de) (nothing was imported)"
# a column twice is refused, naming both
printf 'id;name:de;kind;country;name:de\nd-1;First;organisation;AT;Second\n' >"$T/duphdr.csv"
if sd n1 import --dry-run "$T/duphdr.csv" >"$T/r4.out" 2>"$T/r4.err"; then fail "a column twice accepted"; fi
expect_contains "$T/r4.err" "column 'name:de': in the header twice, as columns 2 and 5"

# --- a mapping with typos: refused once, every problem listed ---
before=$(entries_of n1)
if sd n1 import --map "$D/typo.map.json" "$D/typo.csv" >"$T/m.out" 2>"$T/m.err"; then fail "mapping with typos accepted"; fi
expect_contains "$T/m.err" "typo.map.json: 4 problems, nothing was imported"
expect_contains "$T/m.err" "field 'nmae:de': unknown field (did you mean 'name:de'?)"
expect_contains "$T/m.err" "field 'emial': unknown field (did you mean 'email'?)"
expect_contains "$T/m.err" "kind 'organization': not a kind"
expect_contains "$T/m.err" "field 'address.city': column 'Ort' is not in the header"
[ "$(grep -c 'problems' "$T/m.err")" -eq 1 ] || fail "mapping refused more than once"
[ "$(entries_of n1)" -eq "$before" ] || fail "a refused mapping stored entries"

# --- --lenient: bad optional values dropped, required ones still reject ---
if sd n1 import "$D/lenient.csv" >"$T/l0.out" 2>"$T/l0.err"; then fail "bad cells accepted without --lenient"; fi
expect_contains "$T/l0.err" "lenient.csv:3: entry 'l-2': field 'email': 'not-an-address' is not an e-mail address"
expect_contains "$T/l0.err" "3 of the rejected rows are bad only in optional fields: --lenient imports them"
expect_contains "$T/l0.err" "1 new, 0 updated, 0 unchanged, 4 rejected, 0 warnings"
if sd n1 import --lenient "$D/lenient.csv" >"$T/l1.out" 2>"$T/l1.err"; then fail "l-5 (bad country) accepted"; fi
expect_contains "$T/l1.err" "lenient.csv:3: entry 'l-2': warning: field 'email': 'not-an-address' is not an e-mail address (value dropped, row kept)"
expect_contains "$T/l1.err" "lenient.csv:4: warning: field 'disadvantaged_share': 'viel' is not a number"
expect_contains "$T/l1.err" "lenient.csv:5: entry 'l-4': warning: field 'cpv'"
expect_contains "$T/l1.err" "lenient.csv:6: entry 'l-5': field 'country': 'Austria'"
expect_contains "$T/l1.err" "imported 5 rows: 3 new, 0 updated, 1 unchanged, 1 rejected, 3 warnings"
[ "$(get_field n1 l-2 '"email" in d')" = "False" ] || fail "l-2 kept its bad e-mail"
[ "$(get_field n1 l-3 'd["email"]')" = "x@y.example" ] || fail "l-3 lost its good e-mail"
if sd n1 get l-5 2>/dev/null; then fail "l-5 stored without its required country"; fi

# --- repeated errors are grouped; --errors all lists each row ---
python3 - "$T/mails.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,kind,name:de,country,email\n")
    for i in range(2, 8):
        f.write("m-%d,organisation,Mail %d,AT,nobody-%d\n" % (i, i, i))
PY
if sd n1 import --dry-run "$T/mails.csv" >"$T/e0.out" 2>"$T/e0.err"; then fail "bad mails accepted"; fi
expect_contains "$T/e0.err" "mails.csv: field 'email': 6 rows, e.g. lines 2, 3, 4: not an e-mail address"
[ "$(grep -c "field 'email'" "$T/e0.err")" -eq 1 ] || fail "errors not grouped: $(cat "$T/e0.err")"
if sd n1 import --dry-run --errors all "$T/mails.csv" >"$T/e1.out" 2>"$T/e1.err"; then fail "bad mails accepted"; fi
[ "$(grep -c "field 'email': 'nobody-[0-9]' is not an e-mail address" "$T/e1.err")" -eq 6 ] || fail "--errors all: $(cat "$T/e1.err")"
expect_contains "$T/e1.err" "mails.csv:7: entry 'm-7'"

# --- duplicates: one group of every row sharing a website ---
sd n1 import --dry-run "$D/dups.csv" >"$T/d0.out" 2>"$T/d0.err" || { cat "$T/d0.err"; fail "dups dry run"; }
expect_contains "$T/d0.err" "possible duplicates, not merged: 2 groups, 6 rows"
expect_contains "$T/d0.err" "group 1, 4 rows: same website putzwerk.example; same name within 0 m"
expect_contains "$T/d0.err" "group 2, 2 rows: same name within"
grep -q '^    line 4  *u-3  *Gartenwerk$' "$T/d0.err" || fail "u-3 (same website, other name) not in the group"
expect_not_contains "$T/d0.err" "u-7"
sd n1 import --dry-run --duplicates json "$D/dups.csv" >"$T/d1.json" 2>"$T/d1.err" || fail "--duplicates json"
expect_contains "$T/d1.err" "would import 7 rows: 7 good"
[ "$(json "$T/d1.json" 'd["summary"]["groups"]')" = "2" ] || fail "json summary: $(cat "$T/d1.json")"
[ "$(json "$T/d1.json" '[r["id"] for r in d["groups"][0]["rows"]]')" = "['u-1', 'u-2', 'u-3', 'u-6']" ] || fail "json group 1"
[ "$(json "$T/d1.json" '[r["line"] for r in d["groups"][1]["rows"]]')" = "[5, 6]" ] || fail "json group 2 lines"
[ "$(json "$T/d1.json" 'd["groups"][0]["reasons"][0]')" = "same website putzwerk.example" ] || fail "json reason"

# --- a partner's control characters reach the terminal escaped ---
# ESC [31m and U+202E (right-to-left override) in cells, in the grouped
# report, --errors all, and the mapping's problem list.
python3 - "$T/hostile.csv" "$T/hostile.map.json" <<'PY'
import sys
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write("id;kind;name:de;country;email\n")
    for i in range(2, 7):
        f.write("h-%d;organisation;Name %d;\x1b[31mX%c;a\u202e@b\n" % (i, i, "ABCDE"[i - 2]))
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write('{"kind": "\\u001b[31morg", "fields": {"x\\u202e:de": "name:de"}}')
PY
check_escaped() {
    if grep -q "$(printf '\033')" "$1" || grep -q "$(printf '\342\200\256')" "$1"; then
        cat -v "$1"; fail "raw control characters in $1"
    fi
}
if sd n1 import --dry-run "$T/hostile.csv" >"$T/h0.out" 2>"$T/h0.err"; then fail "hostile rows accepted"; fi
check_escaped "$T/h0.err"
expect_contains "$T/h0.err" "field 'country': 5 rows"
if sd n1 import --dry-run --errors all "$T/hostile.csv" >"$T/h1.out" 2>"$T/h1.err"; then fail "hostile rows accepted"; fi
check_escaped "$T/h1.err"
expect_contains "$T/h1.err" "'\x1b[31mXA' is not an ISO 3166-1 alpha-2 code"
if sd n1 import --dry-run --map "$T/hostile.map.json" "$T/hostile.csv" >"$T/h2.out" 2>"$T/h2.err"; then fail "hostile mapping accepted"; fi
check_escaped "$T/h2.err"
expect_contains "$T/h2.err" "kind '\x1b[31morg'"
expect_contains "$T/h2.err" "field 'x\u202e:de'"

# --- duplicate keys in JSON input ---
if sd n1 import "$D/dupkeys.json" >"$T/k.out" 2>"$T/k.err"; then fail "duplicate key accepted"; fi
expect_contains "$T/k.err" "dupkeys.json:2:"
expect_contains "$T/k.err" "duplicate object key"
expect_contains "$T/k.err" '"country"'

# --- the progress bar: only on a terminal, and it ends at 100 % ---
expect_not_contains "$T/w1.err" "%"
SOCDIR_PROGRESS_AFTER=0 python3 - "$SOCDIR" "$T/n1" "$D/dups.csv" "$T/pty.out" <<'PY'
import os, pty, sys
socdir, node, path, out = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(socdir, [socdir, "--node", node, "import", path])
data = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
os.waitpid(pid, 0)
open(out, "wb").write(data)
PY
expect_contains "$T/pty.out" "100% done"
expect_contains "$T/pty.out" "% reading"
echo "t115-import-real: ok"
