#!/bin/sh
# Import: CSV (BOM, ';' and ',', quoted newlines, messy country names,
# broken rows) and GeoJSON through mapping files; bad rows reported with
# their line or feature, good rows stored; a second import changes nothing;
# --dry-run sends nothing; possible duplicates are listed, within the file
# and against the node, as groups.
. "$(dirname "$0")/lib.sh"

start_node n1 --country SI --region SI032
IMP="$SRC/conf/import"

# --- dry run of the example: nothing stored, no node needed ---
"$SOCDIR" import --dry-run --map "$IMP/podravje.map.json" "$IMP/podravje.csv" >"$T/dry.out" 2>"$T/dry.err" ||
    { cat "$T/dry.err"; fail "dry run of the example failed"; }
expect_contains "$T/dry.err" "would import 4 rows: 4 good, 0 rejected"
[ "$(entries_of n1)" -eq 0 ] || fail "--dry-run stored entries"

# --- the example: BOM, ';', quoted newline, messy country names ---
sd n1 import --map "$IMP/podravje.map.json" "$IMP/podravje.csv" >"$T/imp.out" 2>"$T/imp.err" ||
    { cat "$T/imp.err"; fail "import of the example failed"; }
expect_contains "$T/imp.err" "imported 4 rows: 4 new, 0 updated, 0 unchanged, 0 rejected"
[ "$(entries_of n1)" -eq 4 ] || fail "stored $(entries_of n1) entries, want 4"
[ "$(get_field n1 si-6123456000 'd["description"]["sl"]')" = "$(printf 'Čiščenje poslovnih prostorov.\nZaposlujemo osebe z invalidnostjo.')" ] ||
    fail "description with a newline did not round-trip: $(cat "$T/n1.get.json")"
[ "$(get_field n1 si-6123456000 'd["name"]["sl"]')" = "Čistilni servis Drava d.o.o." ] || fail "name (BOM-less first column?)"
[ "$(get_field n1 si-6123456000 'd["disadvantaged_share"]')" = "45.5" ] || fail "decimal comma: $(cat "$T/n1.get.json")"
[ "$(get_field n1 si-6123456000 'd["labels"]')" = "['SI-SOCP', 'EU-ART20']" ] || fail "labels split"
[ "$(get_field n1 si-6234567000 'd["country"]')" = "SI" ] || fail "'SLO' not mapped to SI"
[ "$(get_field n1 si-AT-FN-123456a 'd["country"]')" = "AT" ] || fail "'Avstrija' not mapped to AT"
[ "$(get_field n1 si-6456789000 'd["country"]')" = "SI" ] || fail "'slovenija' (lowercase) not mapped to SI"

# --- a second import changes nothing ---
sd n1 status --json >"$T/st1.json"
sd n1 import --map "$IMP/podravje.map.json" "$IMP/podravje.csv" >"$T/imp2.out" 2>"$T/imp2.err" || fail "re-import failed"
expect_contains "$T/imp2.err" "imported 4 rows: 0 new, 0 updated, 4 unchanged, 0 rejected"
sd n1 status --json >"$T/st2.json"
[ "$(json "$T/st1.json" 'd["digest"]')" = "$(json "$T/st2.json" 'd["digest"]')" ] || fail "re-import changed the digest"

# --- broken rows, ',' separator, no mapping (columns are field names) ---
cat >"$T/broken.csv" <<'CSV'
id,kind,name:de,description:de,country,cpv,website,geo.lat,geo.lon
at-1,organisation,Putzwerk St. Pölten,"Reinigung,
Hausbetreuung",AT,90910000-9,https://putzwerk.at/,48.2047,15.6256
at-2,organisation,Kantine Wien,Essen,Österreich,,,,
at-3,organisation,,keine Name,AT,,,,
at-4,offer,Fensterputz,,AT,9091,,,
at-5,organisation,Gartenwerk,Gärten,AT,77310000-6,http://www.putzwerk.at,,
CSV
if sd n1 import "$T/broken.csv" >"$T/b.out" 2>"$T/b.err"; then fail "import with broken rows exited 0"; fi
expect_contains "$T/b.err" "broken.csv:4: entry 'at-2': field 'country'"
expect_contains "$T/b.err" "broken.csv:5: entry 'at-3': field 'name'"
expect_contains "$T/b.err" "broken.csv:6: entry 'at-4': field 'cpv'"
expect_contains "$T/b.err" "possible duplicates, not merged: 1 group, 2 rows"
expect_contains "$T/b.err" "group 1, 2 rows: same website putzwerk.at"
grep -q '^    line 2  *at-1  *Putzwerk St. Pölten$' "$T/b.err" || fail "group row at-1: $(cat "$T/b.err")"
grep -q '^    line 7  *at-5  *Gartenwerk$' "$T/b.err" || fail "group row at-5"
expect_contains "$T/b.err" "imported 5 rows: 2 new, 0 updated, 0 unchanged, 3 rejected, 0 warnings"
[ "$(get_field n1 at-1 'd["description"]["de"]')" = "$(printf 'Reinigung,\nHausbetreuung')" ] || fail "at-1 description"
[ "$(get_field n1 at-5 'd["cpv"]')" = "['77310000-6']" ] || fail "at-5 cpv"
if sd n1 get at-3 2>/dev/null; then fail "rejected row at-3 stored"; fi

# --- ';' and ',' give the same entries; a slug id from name and city ---
printf 'kind;name:de;address.city;country;disadvantaged_share\norganisation;Nähstube Krems;Krems an der Donau;AT;"33,3"\n' >"$T/semi.csv"
printf 'kind,name:de,address.city,country,disadvantaged_share\norganisation,Nähstube Krems,Krems an der Donau,AT,"33,3"\n' >"$T/comma.csv"
sd n1 import "$T/semi.csv" >"$T/s.out" 2>&1 || { cat "$T/s.out"; fail "';' file"; }
expect_contains "$T/s.out" "1 new"
[ "$(get_field n1 nahstube-krems-krems-an-der-donau 'd["disadvantaged_share"]')" = "33.3" ] || fail "slug id or number"
sd n1 import "$T/comma.csv" >"$T/c.out" 2>&1 || { cat "$T/c.out"; fail "',' file"; }
expect_contains "$T/c.out" "1 unchanged"

# --- GeoJSON: [lon, lat] becomes geo {lat, lon} ---
sd n1 import --map "$IMP/jutland.map.json" "$IMP/jutland.geojson" >"$T/g.out" 2>"$T/g.err" ||
    { cat "$T/g.err"; fail "GeoJSON import failed"; }
expect_contains "$T/g.err" "imported 3 rows: 3 new"
[ "$(get_field n1 dk-DK-38120001 'd["geo"]["lat"]')" = "56.1629" ] || fail "GeoJSON lat: $(cat "$T/n1.get.json")"
[ "$(get_field n1 dk-DK-38120001 'd["geo"]["lon"]')" = "10.2039" ] || fail "GeoJSON lon"
[ "$(get_field n1 dk-DK-38120003 'd["country"]')" = "DK" ] || fail "'Dänemark' not mapped"
sd n1 import --map "$IMP/jutland.map.json" "$IMP/jutland.geojson" >"$T/g2.out" 2>&1 || fail "GeoJSON re-import"
expect_contains "$T/g2.out" "0 new, 0 updated, 3 unchanged"

# A bad feature is named by its index.
python3 - "$T/bad.geojson" <<'PY'
import json, sys
fc = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [16.37, 48.21]},
     "properties": {"id": "g-1", "kind": "organisation", "name:de": "Gut", "country": "AT"}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [16.37, 48.21]},
     "properties": {"id": "g-2", "kind": "organisation", "name:de": "Schlecht", "country": "Austria"}}]}
json.dump(fc, open(sys.argv[1], "w"))
PY
if sd n1 import "$T/bad.geojson" >"$T/bg.out" 2>"$T/bg.err"; then fail "bad feature accepted"; fi
expect_contains "$T/bg.err" "bad.geojson: feature 2: entry 'g-2': field 'country'"
[ "$(get_field n1 g-1 'd["geo"]["lat"]')" = "48.21" ] || fail "g-1 geo"

# --- duplicates: same name (diacritics folded) within 100 m ---
cat >"$T/dup.csv" <<'CSV'
id;kind;name:sl;country;geo.lat;geo.lon
d-1;organisation;Šivalnica Maribor;SI;46.55470;15.64670
d-2;organisation;SIVALNICA  MARIBOR;SI;46.55480;15.64680
d-3;organisation;Sivalnica Maribor;SI;46.60000;15.70000
CSV
sd n1 import "$T/dup.csv" >"$T/d.out" 2>"$T/d.err" || { cat "$T/d.err"; fail "dup import"; }
expect_contains "$T/d.err" "group 1, 2 rows: same name within 13 m"
grep -q '^    line 2  *d-1 ' "$T/d.err" && grep -q '^    line 3  *d-2 ' "$T/d.err" || fail "d-1 and d-2 not one group: $(cat "$T/d.err")"
expect_not_contains "$T/d.err" "d-3"

# --- duplicates against the node: an entry published before, same name
# (other case and diacritics) within 100 m, another id; the file's own rows
# stored by an earlier import of it are not listed ---
printf '{"id": "p-1", "kind": "organisation", "name": {"sl": "Šiviljstvo Ptuj"}, "country": "SI", "geo": {"lat": 46.42000, "lon": 15.87000}}\n' >"$T/p.ndjson"
sd n1 publish "$T/p.ndjson" >"$T/p.out" 2>&1 || { cat "$T/p.out"; fail "publish p-1"; }
cat >"$T/node.csv" <<'CSV'
id;kind;name:sl;country;geo.lat;geo.lon
n-1;organisation;SIVILJSTVO  PTUJ;SI;46.42010;15.87010
n-2;organisation;Šiviljstvo Ptuj;SI;46.43000;15.88000
CSV
"$SOCDIR" import --dry-run "$T/node.csv" >"$T/n0.out" 2>"$T/n0.err" || { cat "$T/n0.err"; fail "dry run, no node"; }
expect_not_contains "$T/n0.err" "on the node"
sd n1 import --dry-run "$T/node.csv" >"$T/n1.out" 2>"$T/n1.err" || { cat "$T/n1.err"; fail "dry run with a node"; }
expect_contains "$T/n1.err" "group 1, 2 rows: same name within 14 m of an entry on the node"
grep -q '^    line 2  *n-1 ' "$T/n1.err" || fail "n-1 not in the group: $(cat "$T/n1.err")"
grep -q '^    on the node  *[^ ]*/p-1  *Šiviljstvo Ptuj$' "$T/n1.err" || fail "p-1 not in the group: $(cat "$T/n1.err")"
expect_not_contains "$T/n1.err" "n-2"
sd n1 import --dry-run --no-node-duplicates "$T/node.csv" >"$T/n2.out" 2>"$T/n2.err" || fail "--no-node-duplicates"
expect_not_contains "$T/n2.err" "on the node"
sd n1 import "$T/node.csv" >"$T/n3.out" 2>"$T/n3.err" || { cat "$T/n3.err"; fail "import beside p-1"; }
expect_contains "$T/n3.err" "2 new"
expect_contains "$T/n3.err" "same name within 14 m of an entry on the node"
grep -q '^    on the node  *[^ ]*/p-1 ' "$T/n3.err" || fail "p-1 not listed: $(cat "$T/n3.err")"
sd n1 import "$T/node.csv" >"$T/n4.out" 2>"$T/n4.err" || { cat "$T/n4.err"; fail "re-import beside p-1"; }
expect_contains "$T/n4.err" "2 unchanged"
grep -q '^    on the node  *[^ ]*/p-1 ' "$T/n4.err" || fail "p-1 not listed: $(cat "$T/n4.err")"
expect_not_contains "$T/n4.err" "/n-1 "
expect_not_contains "$T/n4.err" "n-2"
[ "$(grep -c '^    on the node' "$T/n4.err")" -eq 1 ] || { cat "$T/n4.err"; fail "re-import listed more than p-1"; }

# --- dry run with errors stores nothing and exits 1 ---
before=$(entries_of n1)
printf 'id,kind,name:de,country\nx-1,organisation,X,Austria\nx-2,organisation,Y,AT\n' >"$T/dry.csv"
if sd n1 import --dry-run "$T/dry.csv" >"$T/dr.out" 2>"$T/dr.err"; then fail "dry run with a bad row exited 0"; fi
expect_contains "$T/dr.err" "would import 2 rows: 1 good, 1 rejected, 0 warnings"
expect_contains "$T/dr.err" "dry.csv:2: entry 'x-1': field 'country'"
[ "$(entries_of n1)" -eq "$before" ] || fail "--dry-run stored entries"

# --- usage errors ---
if sd n1 import "$T/file.xyz" 2>"$T/u.err"; then fail "unknown extension accepted"; fi
expect_contains "$T/u.err" "--format"
printf '{"fields": {"name:de": "Nope"}, "kind": "organisation"}' >"$T/nope.map.json"
if sd n1 import --map "$T/nope.map.json" "$T/comma.csv" 2>"$T/u2.err"; then fail "mapping with a missing column accepted"; fi
expect_contains "$T/u2.err" "Nope"
echo "t110-import: ok"
