#!/bin/sh
# Export: --jsonld is one schema.org JSON-LD document (Organization per
# organisation, Offer, Event; an offer's offeredBy names an Organization of
# the graph), --hsds one Open Referral document (organizations, services
# pointing at them, locations with numeric coordinates); deleted entries
# are in neither. Round trip: export --ndjson, import into a fresh node,
# and both nodes export the same entries (body fields; node b signs them).
. "$(dirname "$0")/lib.sh"

start_node a --country AT --region AT123
cat "$DEMO"/*.ndjson >"$T/all.ndjson"
sd a publish "$T/all.ndjson" >"$T/pub.out" 2>"$T/pub.err" || { cat "$T/pub.err"; fail "publish of the demo failed"; }
ORGS=$(grep -c '"kind": "organisation"' "$T/all.ndjson")
OFFERS=$(grep -c '"kind": "offer"' "$T/all.ndjson")
[ "$ORGS" -gt 0 ] && [ "$OFFERS" -gt 0 ] || fail "no organisations or offers in the demo"

# check FILE PYTHON: runs PYTHON with d bound to the JSON document in FILE;
# it fails the test by raising (assert) with a message.
check() {
    python3 -c "import json,sys
d=json.load(open(sys.argv[1]))
$2" "$1" || fail "check on $1 failed"
}

# --- JSON-LD ---
sd a export --jsonld >"$T/ld.json" 2>"$T/ld.err" || { cat "$T/ld.err"; fail "export --jsonld failed"; }
[ ! -s "$T/ld.err" ] || { cat "$T/ld.err"; fail "export --jsonld wrote to stderr"; }
check "$T/ld.json" "
orgs, offers = $ORGS, $OFFERS
assert d['@context'] in ('https://schema.org', 'https://schema.org/'), d['@context']
g = d['@graph']
types = [n['@type'] for n in g]
assert types.count('Organization') == orgs, (types.count('Organization'), orgs)
assert types.count('Offer') == offers, (types.count('Offer'), offers)
assert 'Event' in types, set(types)
ids = {n['@id']: n for n in g}
assert len(ids) == len(g), 'duplicate @id'
assert all(i.startswith('socdir:') for i in ids), 'an @id without socdir:'
org_ids = {n['@id'] for n in g if n['@type'] == 'Organization'}
for n in g:
    if n['@type'] == 'Offer':
        assert n['offeredBy']['@id'] in org_ids, n
glanz = [n for n in g if n['@id'].endswith('/org-glanzwerk-stpoelten')][0]
assert glanz['name'] == 'Glanzwerk Cleaning Services St. Pölten', glanz['name']
assert glanz['address']['@type'] == 'PostalAddress' and glanz['address']['postalCode'] == '3100', glanz['address']
assert glanz['geo']['@type'] == 'GeoCoordinates' and glanz['geo']['latitude'] == 48.1968, glanz['geo']
assert glanz['identifier'] == glanz['@id'][len('socdir:'):]
props = {(p['propertyID'], p['value']) for p in glanz['additionalProperty']}
assert {('NUTS', 'AT123'), ('NACE', '81.21'), ('CPV', '90910000-9')} <= props, props
ev = [n for n in g if n['@type'] == 'Event'][0]
assert 'startDate' in ev and ev['location'] and ev['eventAttendanceMode'].startswith('https://schema.org/'), ev
"

# --- HSDS ---
sd a export --hsds >"$T/hsds.json" 2>"$T/hsds.err" || { cat "$T/hsds.err"; fail "export --hsds failed"; }
check "$T/hsds.json" "
orgs, offers = $ORGS, $OFFERS
assert len(d['organizations']) == orgs, (len(d['organizations']), orgs)
assert len(d['services']) == offers, (len(d['services']), offers)
org_ids = {o['id'] for o in d['organizations']}
assert all(o['name'] and o['description'] for o in d['organizations'])
for s in d['services']:
    assert s['organization_id'] in org_ids, s
    assert s['status'] == 'active' and s['name'], s
assert len(d['locations']) >= orgs, len(d['locations'])
for l in d['locations']:
    assert type(l['latitude']) in (int, float) and type(l['longitude']) in (int, float), l
    assert -90 <= l['latitude'] <= 90 and -180 <= l['longitude'] <= 180, l
    if 'organization_id' in l:
        assert l['organization_id'] in org_ids, l
"

# --- bad options: one line of reason, nothing sent ---
if sd a export --jsonld --hsds >"$T/bad.out" 2>"$T/bad.err"; then fail "--jsonld --hsds accepted"; fi
expect_contains "$T/bad.err" "exclude each other"
[ ! -s "$T/bad.out" ] || fail "a refused export printed on stdout"

# --- round trip: export --ndjson, import into a fresh node ---
sd a export --ndjson >"$T/a.ndjson" || fail "export --ndjson on a"
start_node b --country SI --region SI032
sd b import "$T/a.ndjson" --format ndjson >"$T/imp.out" 2>"$T/imp.err" || { cat "$T/imp.err"; fail "import into b failed"; }
expect_contains "$T/imp.err" "0 rejected"
sd b export --ndjson >"$T/b.ndjson" || fail "export --ndjson on b"
python3 - "$T/a.ndjson" "$T/b.ndjson" <<'EOF' || fail "round trip: the entries differ"
import json, sys
DROP = {"origin", "origin_name", "seq", "updated", "verified", "version", "received",
        "via", "score", "distance"}
def body(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        if line.strip():
            e = json.loads(line)
            out[e["id"]] = {k: v for k, v in e.items() if k not in DROP}
    return out
a, b = body(sys.argv[1]), body(sys.argv[2])
if a != b:
    for i in sorted(set(a) | set(b)):
        if a.get(i) != b.get(i):
            print("differs:", i, a.get(i), b.get(i))
    sys.exit(1)
print(len(a), "entries round-tripped")
EOF

# --- deleted entries are in neither export ---
sd a delete org-glanzwerk-stpoelten >/dev/null || fail "delete"
sd a export --jsonld >"$T/ld2.json" || fail "export --jsonld after delete"
sd a export --hsds >"$T/hsds2.json" || fail "export --hsds after delete"
check "$T/ld2.json" "
g = d['@graph']
assert not [n for n in g if n['@id'].endswith('/org-glanzwerk-stpoelten')], 'deleted entry exported'
assert [n['@type'] for n in g].count('Organization') == $ORGS - 1
"
check "$T/hsds2.json" "
assert not [o for o in d['organizations'] if o['id'].endswith('/org-glanzwerk-stpoelten')]
assert not [l for l in d['locations'] if l['id'].endswith('/org-glanzwerk-stpoelten')]
assert len(d['organizations']) == $ORGS - 1
org_ids = {o['id'] for o in d['organizations']}
assert all(s['organization_id'] in org_ids for s in d['services'] if 'organization_id' in s)
orphans = [s for s in d['services'] if 'organization_id' not in s]
assert orphans and all('glanzwerk' in s['id'] for s in orphans), orphans
"
echo "t120-export: ok"
