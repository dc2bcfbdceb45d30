#!/usr/bin/env python3
"""Deterministic generator of realistic socdir entries for benchmarks.

usage: gen.py N [--seed S] [--prefix P] > entries.ndjson

Organisations, offers, partnerships, events and programmes in the
proportions of a regional network's list (5 : 3 : 1 : 1 : 1), in the
partner regions (Lower Austria, Western Transdanubia, Podravje,
Östergötland, Jutland, Moravia-Silesia), each around a real town with
its coordinates. Names and summaries are in the region's language (de,
hu, sl, sv, da, cs, with their diacritics) and in English; 24 activities
carry their CPV and NACE codes; organisation names add a made-up brand,
so that words have a realistic spread. About 600 bytes per entry.
"""
import json
import random
import sys

# (country, NUTS-3, language, [(town, lat, lon)])
REGIONS = [
    ("AT", "AT123", "de", [("St. Pölten", 48.204, 15.626), ("Herzogenburg", 48.287, 15.694)]),
    ("AT", "AT122", "de", [("Wiener Neustadt", 47.814, 16.243), ("Neunkirchen", 47.727, 16.081)]),
    ("AT", "AT121", "de", [("Amstetten", 48.123, 14.872), ("Waidhofen an der Ybbs", 47.960, 14.774)]),
    ("AT", "AT124", "de", [("Zwettl", 48.604, 15.169), ("Krems an der Donau", 48.410, 15.603)]),
    ("AT", "AT127", "de", [("Baden", 48.006, 16.234), ("Mödling", 48.086, 16.289)]),
    ("HU", "HU221", "hu", [("Győr", 47.687, 17.650), ("Sopron", 47.685, 16.590)]),
    ("HU", "HU222", "hu", [("Szombathely", 47.231, 16.622), ("Körmend", 47.011, 16.606)]),
    ("HU", "HU223", "hu", [("Zalaegerszeg", 46.842, 16.844), ("Nagykanizsa", 46.453, 16.991)]),
    ("SI", "SI032", "sl", [("Maribor", 46.554, 15.646), ("Ptuj", 46.420, 15.870),
                           ("Slovenska Bistrica", 46.393, 15.573)]),
    ("SE", "SE123", "sv", [("Linköping", 58.411, 15.622), ("Norrköping", 58.588, 16.192),
                           ("Motala", 58.537, 15.037)]),
    ("DK", "DK042", "da", [("Aarhus", 56.157, 10.211), ("Silkeborg", 56.170, 9.545)]),
    ("DK", "DK041", "da", [("Herning", 56.139, 8.974), ("Holstebro", 56.360, 8.616)]),
    ("DK", "DK050", "da", [("Aalborg", 57.048, 9.922), ("Hjørring", 57.464, 9.982)]),
    ("DK", "DK032", "da", [("Esbjerg", 55.476, 8.459), ("Kolding", 55.491, 9.472)]),
    ("CZ", "CZ080", "cs", [("Ostrava", 49.820, 18.263), ("Opava", 49.938, 17.902),
                           ("Frýdek-Místek", 49.688, 18.350), ("Karviná", 49.854, 18.542)]),
]

# (en, de, hu, sl, sv, da, cs, CPV, NACE)
ACTIVITIES = [
    ("cleaning", "Reinigung", "takarítás", "čiščenje", "städning", "rengøring", "úklid", "90910000-9", "81.21"),
    ("catering", "Catering", "közétkeztetés", "pogostitev", "catering", "catering", "stravování", "55520000-1", "56.29"),
    ("laundry", "Wäscherei", "mosoda", "pralnica", "tvätteri", "vaskeri", "prádelna", "98310000-9", "96.01"),
    ("carpentry", "Tischlerei", "asztalosműhely", "mizarstvo", "snickeri", "snedkeri", "truhlářství", "45421000-4", "16.23"),
    ("packaging", "Verpackung", "csomagolás", "pakiranje", "förpackning", "pakning", "balení", "79342200-5", "82.92"),
    ("gardening", "Gartenpflege", "kertészet", "vrtnarstvo", "trädgårdsskötsel", "havepleje", "zahradnictví", "77310000-6", "81.30"),
    ("translation", "Übersetzung", "fordítás", "prevajanje", "översättning", "oversættelse", "překlady", "79530000-8", "74.30"),
    ("printing", "Druckerei", "nyomda", "tiskarna", "tryckeri", "trykkeri", "tiskárna", "79810000-5", "18.12"),
    ("bakery", "Bäckerei", "pékség", "pekarna", "bageri", "bageri", "pekárna", "15810000-9", "10.71"),
    ("bicycle repair", "Fahrradwerkstatt", "kerékpárjavítás", "popravilo koles", "cykelverkstad", "cykelværksted", "opravna kol", "50000000-5", "95.29"),
    ("recycling", "Wiederverwertung", "újrahasznosítás", "recikliranje", "återvinning", "genbrug", "recyklace", "90514000-3", "38.32"),
    ("textiles", "Näherei", "varroda", "šivalnica", "syateljé", "systue", "šicí dílna", "18000000-9", "14.19"),
    ("assembly", "Montage", "összeszerelés", "montaža", "montering", "montage", "montáž", "42000000-6", "33.20"),
    ("removals", "Umzugshilfe", "költöztetés", "selitve", "flytthjälp", "flytning", "stěhování", "98392000-7", "49.42"),
    ("archiving", "Digitalisierung", "digitalizálás", "digitalizacija", "digitalisering", "digitalisering", "digitalizace", "79999100-4", "82.19"),
    ("care", "Betreuung", "gondozás", "oskrba", "omsorg", "omsorg", "péče", "85311000-2", "88.10"),
    ("cafe", "Café", "kávézó", "kavarna", "kafé", "café", "kavárna", "55330000-2", "56.30"),
    ("upholstery", "Polsterei", "kárpitos", "tapetništvo", "tapetsering", "polstring", "čalounictví", "39113000-7", "95.24"),
    ("metalwork", "Schlosserei", "lakatosműhely", "ključavničarstvo", "smide", "smedje", "zámečnictví", "45262670-3", "25.62"),
    ("pottery", "Töpferei", "fazekasság", "lončarstvo", "keramik", "keramik", "hrnčířství", "44111300-4", "23.41"),
    ("car wash", "Autopflege", "autómosó", "avtopralnica", "biltvätt", "bilvask", "myčka aut", "50112300-6", "45.20"),
    ("beekeeping", "Imkerei", "méhészet", "čebelarstvo", "biodling", "biavl", "včelařství", "15831600-8", "01.49"),
    ("logistics", "Logistik", "logisztika", "logistika", "logistik", "logistik", "logistika", "63120000-6", "52.10"),
    ("web design", "Webdesign", "webdizájn", "spletno oblikovanje", "webbdesign", "webdesign", "tvorba webu", "72413000-8", "62.01"),
]
LANG = {"de": 1, "hu": 2, "sl": 3, "sv": 4, "da": 5, "cs": 6}
FORM = {"de": "gemeinnützige GmbH", "hu": "szociális szövetkezet", "sl": "socialno podjetje",
        "sv": "arbetsintegrerande socialt företag", "da": "socialøkonomisk virksomhed",
        "cs": "sociální podnik"}
WORK = {"de": "Arbeit und Ausbildung für Menschen mit Behinderung und Langzeitarbeitslose",
        "hu": "munka és képzés megváltozott munkaképességű és tartósan munkanélküli embereknek",
        "sl": "delo in usposabljanje za invalide in dolgotrajno brezposelne",
        "sv": "arbete och utbildning för personer med funktionsnedsättning och långtidsarbetslösa",
        "da": "arbejde og uddannelse for mennesker med handicap og langtidsledige",
        "cs": "práce a vzdělávání pro lidi se zdravotním postižením a dlouhodobě nezaměstnané"}
SYLL = ["an", "bo", "ce", "da", "el", "fa", "gi", "ho", "ir", "ka", "lu", "mo", "na", "ol",
        "pe", "ra", "si", "ta", "ul", "ve", "za", "ber", "kor", "lin", "mar", "nor", "sol", "tan"]
KINDS = ["organisation"] * 5 + ["offer"] * 3 + ["partnership", "event", "programme"]
TARGETS = ["pwd", "pwd_mental", "ltu", "youth_neet", "older_50plus", "migrant_refugee", "ex_offender"]


def brand(rng):
    return "".join(rng.choice(SYLL) for _ in range(rng.randrange(2, 4))).capitalize()


def entry(i, rng, prefix):
    cc, nuts, lang, towns = rng.choice(REGIONS)
    town, lat, lon = rng.choice(towns)
    act = rng.choice(ACTIVITIES)
    word, en = act[LANG[lang]], act[0]
    kind = rng.choice(KINDS)
    b = brand(rng)
    e = {"id": f"{prefix}{i:07d}", "kind": kind,
         "name": {lang: f"{b} {word} {town}", "en": f"{b} {en} {town}"},
         "summary": {lang: f"{word}, {town}: {FORM[lang]}; {WORK[lang]}.",
                     "en": f"{en.capitalize()} in {town} by a social enterprise that trains and employs"
                           f" people far from the labour market."},
         "country": cc, "region": nuts,
         "geo": {"lat": round(rng.gauss(lat, 0.04), 5), "lon": round(rng.gauss(lon, 0.06), 5)},
         "tags": [word.lower(), en]}
    if kind == "organisation":
        e.update({"org_types": [rng.choice(["wise", "social_cooperative", "sheltered_workshop"])],
                  "labels": ["EU-ART20"] if rng.random() < 0.6 else ["reserved_contracts"],
                  "disadvantaged_share": rng.randrange(20, 90), "nace": [act[8]], "cpv": [act[7]],
                  "target_groups": rng.sample(TARGETS, 2), "languages": [lang, "en"],
                  "website": f"https://{b.lower()}{i}.example"})
    elif kind == "offer":
        e.update({"organisation": f"{prefix}{max(i - 1, 0):07d}", "offer_type": "service", "cpv": [act[7]],
                  "customer_types": ["public_buyer", "business"], "lead_time_days": rng.randrange(1, 30)})
    elif kind == "partnership":
        e.update({"partners": [{"name": f"{brand(rng)} {town}", "country": cc, "role": "buyer"}],
                  "partnership_types": [rng.choice(["insourcing", "subcontracting", "reserved_contract"])],
                  "start": f"202{rng.randrange(3, 7)}-0{rng.randrange(1, 10)}-01"})
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
