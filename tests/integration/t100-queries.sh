#!/bin/sh
# Queries over the demo data on one node (PROTOCOL.md 3, search): every filter
# alone and combined, distance order, the date window, facets, paging
# stability and the CLI's checks. Expected result sets are computed from
# the NDJSON with python3 wherever the data decides them.
. "$(dirname "$0")/lib.sh"

start_node at --country AT --region AT12
cat "$DEMO"/*.ndjson >"$T/all.ndjson"
sd at publish "$T/all.ndjson" >"$T/pub.out"

# expect EXPR: the sorted ids of the demo entries e for which EXPR holds.
# Helpers: km(e) from (48.2, 15.63); t(s) ms of an RFC 3339 date (-time).
cat >"$T/expect.py" <<'EOF'
import json, math, sys
from datetime import datetime, timezone
E = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def km(e, lat=48.2, lon=15.63):
    g = e.get("geo")
    if not g:
        return None
    r = math.radians
    h = math.sin(r(g["lat"] - lat) / 2) ** 2 + math.cos(r(lat)) * math.cos(r(g["lat"])) * math.sin(r(g["lon"] - lon) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))
def t(s):
    if s is None:
        return None
    if len(s) == 10:
        s += "T00:00:00+00:00"
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
def when(e):
    return t(e.get("start") or e.get("deadline"))
# fold(s): as proto/fold.c folds, independently: NFKD of the case fold,
# marks dropped, the letters without a decomposition spelled out.
PLAIN = {"æ": "ae", "ð": "d", "ø": "o", "þ": "th", "đ": "d", "ħ": "h", "ı": "i", "ł": "l", "œ": "oe", "ŧ": "t"}
def fold(s):
    import unicodedata
    s = "".join(c for c in unicodedata.normalize("NFKD", s.casefold()) if not unicodedata.category(c).startswith("M"))
    return "".join(PLAIN.get(c, c) for c in s)
def city(e):
    return " ".join(fold((e.get("address") or {}).get("city", "")).split())
def words(e):
    import re
    parts = [e.get(f, {}) for f in ("name", "summary", "description")]
    text = [v for p in parts for v in p.values()] + e.get("tags", []) + list((e.get("address") or {}).values())
    return set(w for t in text for w in re.findall(r"\w+", fold(t)))
print(eval(sys.argv[2]))
EOF
expect() {
    python3 "$T/expect.py" "$T/all.ndjson" "$1"
}
# ids FILE: the sorted ids of a search --json reply; order FILE: in order.
ids() {
    json "$1" 'sorted(e["id"] for e in d["entries"])'
}
order() {
    json "$1" '[e["id"] for e in d["entries"]]'
}
# same_set NAME EXPR ARGS...: search ARGS must give exactly the entries of EXPR.
same_set() {
    ss_name=$1
    ss_expr=$2
    shift 2
    sd at search --limit 1000 --json "$@" >"$T/$ss_name.json"
    ss_want=$(expect "sorted(e['id'] for e in E if ($ss_expr))")
    echo "$ss_name: $(json "$T/$ss_name.json" 'd["total"]') matches"
    [ "$(ids "$T/$ss_name.json")" = "$ss_want" ] \
        || fail "$ss_name: search $* gave $(ids "$T/$ss_name.json"), expected $ss_want"
    [ "$(json "$T/$ss_name.json" 'd["total"]')" = "$(expect "len($ss_want)")" ] \
        || fail "$ss_name: total $(json "$T/$ss_name.json" 'd["total"]')"
}

# ---- each filter alone ----
same_set nace '[c for c in e.get("nace", []) if c.startswith("81")]' --nace 81
same_set nace2 '"81.21" in e.get("nace", [])' --nace 81.21
same_set cpv '[c for c in e.get("cpv", []) if c.startswith("9091")]' --cpv 9091
same_set cpvfull '[c for c in e.get("cpv", []) if c.startswith("90910000")]' --cpv 90910000-9
same_set label '"EU-ART20" in e.get("labels", [])' --label EU-ART20
same_set target '"ltu" in e.get("target_groups", []) or "pwd" in e.get("target_groups", [])' \
    --target-group ltu --target-group pwd
same_set partnership '"reserved_contract" in e.get("partnership_types", [])' --partnership reserved_contract
same_set orgtype '"social_cooperative" in e.get("org_types", [])' --org-type social_cooperative
same_set share 'e.get("disadvantaged_share", -1) >= 50' --min-disadvantaged 50
same_set origin 'True' --origin at
same_set originid 'True' --origin "$(cat "$T/at.id")"
same_set noorigin 'False' --origin nobody
same_set since 'True' --since 2000-01-01
same_set future 'False' --since 2999-01-01T00:00:00Z
same_set city 'city(e) == "st. polten"' --city "ST. POLTEN"
same_set city2 'city(e) in ("hjorring", "maribor")' --city Hjørring,maribor
same_set city3 'city(e) == "lenart v slovenskih goricah"' --city "Lenart  v Slovenskih goricah"
same_set wlenart '"lenart" in words(e)' lenart
same_set whjorring '"hjorring" in words(e)' HJORRING
same_set wptuj '"ptuj" in words(e)' Ptuj
[ "$(expect 'len([e for e in E if city(e) == "maribor"])')" -ge 5 ] && \
    [ "$(expect 'len([e for e in E if "lenart" in words(e)])')" -ge 1 ] \
    || fail "the demo data lacks the cities this test searches for"
[ "$(expect 'len([e for e in E if [c for c in e.get("cpv", []) if c.startswith("9091")]])')" -gt 0 ] \
    || fail "the demo data has no CPV 9091 entries to test with"

# ---- combined ----
# A public buyer: cleaning (CPV 9091) by Art. 20 reserved-contract eligible suppliers.
same_set buyer '[c for c in e.get("cpv", []) if c.startswith("9091")] and "EU-ART20" in e.get("labels", [])' \
    --cpv 9091 --label EU-ART20
json "$T/buyer.json" '[e["id"] for e in d["entries"]]' | grep -q org-glanzwerk-stpoelten \
    || fail "--cpv 9091 --label EU-ART20 does not find Glanzwerk"
same_set combo 'e["country"] == "SI" and e["kind"] == "organisation" and e.get("disadvantaged_share", -1) >= 30 and "reserved_contract" in e.get("partnership_types", [])' \
    --country SI --kind organisation --min-disadvantaged 30 --partnership reserved_contract
# Words with a filter: FTS drives, the filter applies.
sd at search reinigung --country AT --limit 1000 --json >"$T/words.json"
[ "$(json "$T/words.json" 'd["total"] > 0 and all(e["country"] == "AT" for e in d["entries"])')" = True ] \
    || fail "reinigung --country AT: $(order "$T/words.json")"
sd at search reinigung --country SI --json >"$T/words2.json"
[ "$(json "$T/words2.json" 'd["total"]')" -eq 0 ] || fail "reinigung --country SI found entries"

# ---- near: within 80 km of St. Pölten, nearest first ----
sd at search --near 48.2,15.63 --km 80 --kind organisation --sort distance --limit 1000 --json >"$T/near.json"
want=$(expect '[e["id"] for e in sorted((e for e in E if e["kind"] == "organisation" and km(e) is not None and km(e) <= 80), key=km)]')
[ "$(order "$T/near.json")" = "$want" ] || fail "near: $(order "$T/near.json"), expected $want"
[ "$(json "$T/near.json" 'd["entries"][0]["address"]["city"]')" = "St. Pölten" ] || fail "near: St. Pölten is not first"
[ "$(json "$T/near.json" 'sorted(set(e["country"] for e in d["entries"]))')" = "['AT']" ] || fail "near: entries outside AT"
[ "$(json "$T/near.json" 'all(d["entries"][i]["distance"] <= d["entries"][i+1]["distance"] for i in range(len(d["entries"])-1)) and d["entries"][-1]["distance"] <= 80')" = True ] \
    || fail "near: distances not ascending or beyond 80 km"
sd at search --near 48.2,15.63 --km 80 --kind organisation >"$T/near.txt"
expect_contains "$T/near.txt" "DIST"
head -2 "$T/near.txt" | tail -1 | grep -q ' 0\.[0-9]$' || fail "near table: first DIST is not 0.x km: $(cat "$T/near.txt")"
# Default order with --near is distance; words + near combine.
sd at search --near 46.55,15.65 --km 30 --limit 1000 --json >"$T/near2.json"
[ "$(json "$T/near2.json" 'sorted(set(e["country"] for e in d["entries"])) == ["SI"] and [e["distance"] for e in d["entries"]] == sorted(e["distance"] for e in d["entries"])')" = True ] \
    || fail "near Maribor: $(order "$T/near2.json")"

# ---- date window: events in the 90 days from 2026-11-23 ----
same_set window 'e["kind"] == "event" and e["country"] in ("AT", "SI", "DK") and t("2026-11-23") <= when(e) < t("2027-02-22")' \
    --kind event --from 2026-11-23 --to 2027-02-21 --country AT,SI,DK
[ "$(json "$T/window.json" 'd["total"]')" -gt 0 ] || fail "no event in the window"
same_set deadlines 'e["kind"] == "programme" and when(e) is not None and when(e) >= t("2027-03-01")' \
    --kind programme --from 2027-03-01

# ---- facets over every match ----
sd at search --count-by country --json >"$T/f1.json"
[ "$(json "$T/f1.json" 'sorted((f["value"], f["count"]) for f in d["facets"])')" = \
  "$(expect 'sorted(__import__("collections").Counter(e["country"] for e in E).items())')" ] \
    || fail "count-by country: $(cat "$T/f1.json")"
[ "$(json "$T/f1.json" 'sorted((f["value"], f["count"]) for f in d["facets"])')" = "[('AT', 23), ('DK', 23), ('SI', 23)]" ] \
    || fail "count-by country is not AT 23, SI 23, DK 23"
sd at search --count-by country >"$T/f1.txt"
expect_contains "$T/f1.txt" "VALUE"
grep -q '^AT  *23$' "$T/f1.txt" || fail "count-by table: $(cat "$T/f1.txt")"
sd at search --label EU-ART20 --count-by region --depth 2 --json >"$T/f2.json"
[ "$(json "$T/f2.json" 'sorted((f["value"], f["count"]) for f in d["facets"])')" = \
  "$(expect 'sorted(__import__("collections").Counter(e["region"][:4] for e in E if "EU-ART20" in e.get("labels", [])).items())')" ] \
    || fail "count-by region depth 2: $(cat "$T/f2.json")"
sd at search --count-by cpv --depth 3 --json >"$T/f3.json"
[ "$(json "$T/f3.json" 'sorted((f["value"], f["count"]) for f in d["facets"])')" = \
  "$(expect 'sorted(__import__("collections").Counter(p for e in E for p in {c[:3] for c in e.get("cpv", [])}).items())')" ] \
    || fail "count-by cpv depth 3: $(cat "$T/f3.json")"
[ "$(json "$T/f3.json" '[f["count"] for f in d["facets"]] == sorted((f["count"] for f in d["facets"]), reverse=True)')" = True ] \
    || fail "facets are not sorted by count"
sd at search --count-by kind --json >"$T/f4.json"
[ "$(json "$T/f4.json" '{f["value"]: f["count"] for f in d["facets"]}["organisation"]')" -eq 24 ] || fail "count-by kind"

# ---- by name: in the folded order (unit_store shows Ø and Ő among the o's) ----
sd at search --sort name --limit 1000 --json >"$T/byname.json"
cat >"$T/byname.py" <<'EOF'
import json, sys
exec(open(sys.argv[2]).read().split("print(eval")[0])    # E, fold() from all.ndjson
d = json.load(open(sys.argv[3]))
def shown(e):
    n = e["name"]
    return n.get("en") or n[sorted(n)[0]]
keys = [fold(shown(e)) for e in d["entries"]]
print(len(keys) == len(E) and keys == sorted(keys))
EOF
[ "$(python3 "$T/byname.py" "$T/all.ndjson" "$T/expect.py" "$T/byname.json")" = True ] \
    || fail "--sort name is not in folded order: $(json "$T/byname.json" '[e["id"] for e in d["entries"]]')"

# ---- paging: pages never overlap and together are the whole result ----
for args in "--kind organisation" "--near 48.2,15.63" "--sort updated" "kultur --lang de"; do
    # shellcheck disable=SC2086
    sd at search $args --limit 1000 --json >"$T/all-pages.json"
    total=$(json "$T/all-pages.json" 'd["total"]')
    : >"$T/pages.txt"
    off=0
    while [ "$off" -lt "$total" ]; do
        # shellcheck disable=SC2086
        sd at search $args --limit 4 --offset "$off" --json >"$T/page.json"
        json "$T/page.json" '"\n".join(e["id"] for e in d["entries"])' >>"$T/pages.txt"
        off=$((off + 4))
    done
    [ "$(grep -c . "$T/pages.txt")" -eq "$total" ] || fail "paging $args: $(grep -c . "$T/pages.txt") rows for $total"
    [ "$(sort -u "$T/pages.txt" | grep -c .)" -eq "$total" ] || fail "paging $args: pages overlap"
    [ "$(json "$T/all-pages.json" '"\n".join(e["id"] for e in d["entries"])')" = "$(cat "$T/pages.txt")" ] \
        || fail "paging $args: pages do not follow one order"
done

# ---- the CLI's checks: a one-line message (then the usage), exit 1 ----
bad() {
    if sd at search "$@" >"$T/bad.out" 2>"$T/bad.err"; then fail "search $* succeeded"; fi
    head -1 "$T/bad.err" | grep -qF -- "socdir search: $BAD" || fail "search $*: $(cat "$T/bad.err")"
}
BAD="--km needs --near" bad --km 5
BAD="--near: latitude" bad --near 91,15
BAD="--near: longitude" bad --near 48,181
BAD="--km" bad --near 48,15 --km 0
BAD="--cpv '9x'" bad --cpv 9x
BAD="--nace" bad --nace 8.1
BAD="--target-group" bad --target-group nobody
BAD="--since" bad --since yesterday
BAD="--min-disadvantaged" bad --min-disadvantaged 120
BAD="--sort distance needs --near" bad --sort distance
BAD="--depth" bad --count-by nace --depth 5
BAD="--count-by" bad --count-by city
BAD="--country 'EL' is not an ISO 3166-1 alpha-2 code (Greece is GR" bad --country EL
BAD="--country 'QQ'" bad --country QQ
BAD="--lang 'xx' is not an ISO 639-1 code" bad --lang xx
BAD="--city 'Wien\\xff' is not a city name" bad --city "$(printf 'Wien\377')"    # not UTF-8: never sent
BAD="--city 'Wien\\u202e' is not" bad --city "$(printf 'Wien\342\200\256')"    # a bidi override, escaped
# The node checks too (a client other than this CLI).
printf '\202\242op\246search\242km\005' >"$T/km.req"     # {"op": "search", "km": 5}
"$SOCDIR_BIN/rawsend" "ipc://$T/at/control.sock" "$T/km.req" >"$T/raw.out" 2>&1 || true
expect_contains "$T/raw.out" "km needs near"
printf '\202\242op\246search\247country\221\242EL' >"$T/el.req"    # {"op": "search", "country": ["EL"]}
"$SOCDIR_BIN/rawsend" "ipc://$T/at/control.sock" "$T/el.req" >"$T/raw.out" 2>&1 || true
expect_contains "$T/raw.out" "country: 'EL' is the NUTS prefix, not the ISO 3166-1 code: use GR"
echo ok
