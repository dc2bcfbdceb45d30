#!/usr/bin/env python3
"""Deterministic generator of realistic socdir entries for benchmarks.

usage: gen.py N [--seed S] [--prefix P] > entries.ndjson

Organisations, offers, partnerships, events and programmes in realistic
proportions, with multilingual names and summaries (diacritics in de, hu,
sl, sv, da, cs), NUTS codes, NACE/CPV codes and points in the partner
regions; about 600 bytes per entry.
"""
import json
import random
import sys

REGIONS = [("AT", "AT123", "de", 48.20, 15.63), ("AT", "AT122", "de", 47.81, 16.24),
           ("HU", "HU221", "hu", 47.68, 17.63), ("SI", "SI032", "sl", 46.55, 15.65),
           ("SE", "SE123", "sv", 58.41, 15.62), ("DK", "DK042", "da", 56.16, 10.21),
           ("CZ", "CZ080", "cs", 49.82, 18.26)]
WORDS = {
    "de": ["Reinigung", "Küche", "Wäscherei", "Tischlerei", "Verpackung", "Grünraumpflege", "Übersetzung"],
    "hu": ["takarítás", "konyha", "mosoda", "asztalosműhely", "csomagolás", "kertészet", "fordítás"],
    "sl": ["čiščenje", "kuhinja", "pralnica", "mizarstvo", "pakiranje", "vrtnarstvo", "prevajanje"],
    "sv": ["städning", "kök", "tvätteri", "snickeri", "förpackning", "trädgård", "översättning"],
    "da": ["rengøring", "køkken", "vaskeri", "snedkeri", "pakning", "grønne områder", "oversættelse"],
    "cs": ["úklid", "kuchyně", "prádelna", "truhlářství", "balení", "zahradnictví", "překlady"],
}
SOCIAL = {"de": "Sozialunternehmen", "hu": "szociális szövetkezet", "sl": "socialno podjetje",
          "sv": "socialt företag", "da": "socialøkonomisk virksomhed", "cs": "sociální podnik"}
EN = ["cleaning", "kitchen", "laundry", "carpentry", "packaging", "green space care", "translation"]
CPV = ["90910000-9", "55520000-1", "98310000-9", "45421000-4", "79342200-5", "77310000-6", "79530000-8"]
NACE = ["81.21", "56.29", "96.01", "16.23", "82.92", "81.30", "74.30"]
KINDS = ["organisation"] * 5 + ["offer"] * 3 + ["partnership", "event", "programme"]


def entry(i, rng, prefix):
    cc, nuts, lang, lat, lon = rng.choice(REGIONS)
    t = rng.randrange(len(EN))
    kind = rng.choice(KINDS)
    word = WORDS[lang][t]
    e = {"id": f"{prefix}{i:07d}", "kind": kind,
         "name": {lang: f"{word.capitalize()} {prefix}{i}", "en": f"{EN[t].capitalize()} {i}"},
         "summary": {lang: f"{word} – {SOCIAL[lang]} {i}, " * 2, "en": f"Social enterprise {i}: {EN[t]} services with work integration."},
         "country": cc, "region": nuts,
         "geo": {"lat": round(lat + rng.uniform(-0.3, 0.3), 5), "lon": round(lon + rng.uniform(-0.3, 0.3), 5)},
         "tags": [word, EN[t]]}
    if kind == "organisation":
        e.update({"org_types": ["wise"], "labels": ["EU-ART20"], "disadvantaged_share": rng.randrange(20, 90),
                  "nace": [NACE[t]], "cpv": [CPV[t]], "target_groups": ["ltu", "pwd"],
                  "languages": [lang, "en"], "website": f"https://e{i}.example"})
    elif kind == "offer":
        e.update({"organisation": f"{prefix}{max(i - 1, 0):07d}", "offer_type": "service", "cpv": [CPV[t]],
                  "customer_types": ["public_buyer", "business"], "lead_time_days": rng.randrange(1, 30)})
    elif kind == "partnership":
        e.update({"partners": [{"name": f"Firma {i}", "country": cc, "role": "buyer"}],
                  "partnership_types": ["insourcing"], "start": "2026-03-01"})
    elif kind == "event":
        e.update({"event_type": "matchmaking_day", "start": f"2027-0{1 + i % 9}-1{i % 9}T09:00:00+01:00"})
    else:
        e.update({"programme_type": "mentoring", "deadline": "2027-06-30"})
    return e


def main():
    args = sys.argv[1:]
    n = int(args[0])
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 1
    prefix = args[args.index("--prefix") + 1] if "--prefix" in args else "e"
    rng = random.Random(seed)
    out = sys.stdout
    for i in range(n):
        out.write(json.dumps(entry(i, rng, prefix), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
