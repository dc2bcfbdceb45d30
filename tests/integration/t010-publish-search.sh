#!/bin/sh
# One node: publish the demo data, get, search (words with and without
# diacritics, NUTS prefix, kind, language, paging), delete, export, status.
. "$(dirname "$0")/lib.sh"

start_node at --country AT --region AT12

cat "$DEMO"/*.ndjson >"$T/all.ndjson"
total=$(grep -c . "$T/all.ndjson")
sd at publish "$T/all.ndjson" >"$T/pub.out" 2>"$T/pub.err"
[ "$(grep -c "	new	seq " "$T/pub.out")" -eq "$total" ] || fail "not every demo entry was new"

# get: own entry by id, with provenance.
sd at get --json org-glanzwerk-stpoelten >"$T/get.json"
[ "$(json "$T/get.json" 'd["country"], d["region"], d["verified"], d["via"]')" = "('AT', 'AT123', True, 'local')" ] \
    || fail "get returned $(cat "$T/get.json")"
[ "$(json "$T/get.json" 'd["origin"]')" = "$(cat "$T/at.id")" ] || fail "origin is not the node id"
sd at get org-glanzwerk-stpoelten >"$T/get.txt"
expect_contains "$T/get.txt" "verified"

# Diacritics-insensitive search: zivnost finds živnost, Kuche finds Küche.
sd at search zivnost --json >"$T/s1.json"
[ "$(json "$T/s1.json" '[e["id"] for e in d["entries"]]')" = "['part-kuharnica-ostrava']" ] \
    || fail "zivnost: $(cat "$T/s1.json")"
sd at search Kuche --json >"$T/s2.json"
json "$T/s2.json" '[e["id"] for e in d["entries"]]' | grep -q org-soziale-kueche-wrneustadt \
    || fail "Kuche did not find the Küche entry"

# NUTS prefix: AT1 finds AT123 entries and no SI032 ones.
sd at search --region AT1 --limit 1000 --json >"$T/s3.json"
[ "$(json "$T/s3.json" 'd["total"]')" -eq "$(grep -c '"region": *"AT1' "$T/all.ndjson")" ] \
    || fail "--region AT1 total $(json "$T/s3.json" 'd["total"]')"
[ "$(json "$T/s3.json" 'sorted(set(e["country"] for e in d["entries"]))')" = "['AT']" ] \
    || fail "--region AT1 returned entries outside AT"
json "$T/s3.json" '[e["region"] for e in d["entries"]]' | grep -q AT123 || fail "no AT123 entry"

# Kind, country list, language, limit/offset.
sd at search --kind event --country SI,DK --json >"$T/s4.json"
[ "$(json "$T/s4.json" 'sorted(set((e["kind"], e["country"]) for e in d["entries"]))')" = "[('event', 'DK'), ('event', 'SI')]" ] \
    || fail "--kind event --country SI,DK: $(cat "$T/s4.json")"
sd at search --lang da --json --limit 1000 >"$T/s5.json"
[ "$(json "$T/s5.json" 'all("da" in e["name"] or "da" in e.get("summary", {}) or "da" in e.get("languages", []) for e in d["entries"]) and d["total"] > 0')" = True ] \
    || fail "--lang da returned an entry without Danish"
sd at search --kind organisation --limit 5 --json >"$T/p1.json"
sd at search --kind organisation --limit 5 --offset 5 --json >"$T/p2.json"
[ "$(python3 -c "import json;a=json.load(open('$T/p1.json'));b=json.load(open('$T/p2.json'));print(len(a['entries']),len(b['entries']),len({e['id'] for e in a['entries']}&{e['id'] for e in b['entries']}))")" = "5 5 0" ] \
    || fail "paging returned overlapping pages"

# Table output names the matches.
sd at search zivnost >"$T/table.txt"
expect_contains "$T/table.txt" "part-kuharnica-ostrava"

# Delete: search no longer finds it; get shows the tombstone.
sd at delete part-kuharnica-ostrava >"$T/del.out"
expect_contains "$T/del.out" "deleted"
sd at search zivnost --json >"$T/s6.json"
[ "$(json "$T/s6.json" 'd["total"]')" -eq 0 ] || fail "deleted entry still found"
sd at get --json part-kuharnica-ostrava >"$T/get2.json"
[ "$(json "$T/get2.json" 'd["deleted"]')" = True ] || fail "get does not show the tombstone"
if sd at delete part-kuharnica-ostrava 2>"$T/del2.err"; then fail "second delete succeeded"; fi
expect_contains "$T/del2.err" "already deleted"

# Re-publishing unchanged entries stores nothing new; a change is an update.
sd at publish "$DEMO/jutland.ndjson" >"$T/re.out"
[ "$(grep -c "	unchanged	" "$T/re.out")" -eq "$(grep -c . "$DEMO/jutland.ndjson")" ] || fail "re-publish changed entries"
head -n 1 "$DEMO/jutland.ndjson" |
    python3 -c 'import json,sys; e=json.load(sys.stdin); e["phone"]="+45 86 00 00 00"; print(json.dumps(e))' >"$T/upd.ndjson"
sd at publish "$T/upd.ndjson" >"$T/upd.out"
expect_contains "$T/upd.out" "updated"

# Export and status agree with what was published.
sd at export --ndjson >"$T/export.ndjson"
[ "$(grep -c . "$T/export.ndjson")" -eq "$total" ] || fail "export has $(grep -c . "$T/export.ndjson") lines, want $total"
sd at status --json >"$T/status.json"
[ "$(json "$T/status.json" 'd["entries"]')" -eq $((total - 1)) ] || fail "status entries $(json "$T/status.json" 'd["entries"]')"
[ "$(json "$T/status.json" 'len(d["digest"])')" -eq 64 ] || fail "digest is not 64 hex digits"
[ "$(json "$T/status.json" 'd["origins"][0]["max_seq"]')" -eq $((total + 2)) ] || fail "max_seq"

stop_node at
echo "t010 ok"
