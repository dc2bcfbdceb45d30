#!/usr/bin/env python3
"""Writes a partner spreadsheet as Excel saves it in Western Europe:
Windows-1252, no byte order mark, ';' between cells, CRLF, decimal commas,
quoted line breaks in descriptions. Names and towns in German, French,
Danish, Dutch, Spanish, Italian and Swedish (all within CP1252); some rows
have bad e-mail addresses and some share a website (duplicates), so an
import of it shows grouped errors and duplicate groups.

    python3 tests/integration/gen_partners.py [--rows N] [--seed S] OUT.csv
"""
import argparse
import random

PREFIX = {
    "AT": ("Sozialwerk", "Nähstube", "Straßenküche", "Werkstätte", "Grünraum"),
    "FR": ("Atelier", "Œuvre", "Café", "Régie de quartier", "Ressourcerie"),
    "DK": ("Socialøkonomisk", "Værksted", "Genbrug", "Kaffebar", "Håndværk"),
    "NL": ("Kringloop", "Werkplaats", "Buurtcafé", "Fietsenmakerij", "Zorgboerderij"),
    "ES": ("Cooperativa", "Taller", "Cocina Solidaria", "Jardinería", "Lavandería"),
    "IT": ("Cooperativa Sociale", "Laboratorio", "Bottega", "Osteria", "Sartoria"),
    "SE": ("Arbetsintegrerande", "Syateljé", "Återbruk", "Café", "Trädgård"),
}
TOWNS = {
    "AT": ("Wien", "Graz", "Linz", "Salzburg", "Innsbruck", "Klagenfurt", "Sankt Pölten"),
    "FR": ("Lyon", "Besançon", "Orléans", "Nîmes", "Saint-Étienne", "Montréal-la-Cluse"),
    "DK": ("Aarhus", "Odense", "Aalborg", "Køge", "Næstved", "Ærøskøbing"),
    "NL": ("Utrecht", "Den Haag", "Eindhoven", "Zwolle", "Groningen"),
    "ES": ("Málaga", "Córdoba", "León", "Cádiz", "Logroño", "A Coruña"),
    "IT": ("Forlì", "Cantù", "Torino", "Bologna", "Paternò"),
    "SE": ("Göteborg", "Malmö", "Västerås", "Örebro", "Umeå"),
}
LANG = {"AT": "de", "FR": "fr", "DK": "da", "NL": "nl", "ES": "es", "IT": "it", "SE": "sv"}
WORDS = ("Reinigung", "Catering", "Näharbeiten", "Gartenpflege", "Übersetzung", "Fahrradwerkstatt",
         "entretien", "réparation", "rengøring", "schoonmaak", "limpieza", "pulizia", "städning")
CENTRE = {"AT": (48.2, 16.37), "FR": (45.76, 4.83), "DK": (56.16, 10.2), "NL": (52.09, 5.12),
          "ES": (36.72, -4.42), "IT": (44.49, 11.34), "SE": (57.7, 11.97)}
CPV = ("90910000-9", "55520000-1", "77310000-6", "79530000-8", "50100000-6")


def cell(s):
    """One cell, quoted as Excel quotes: when it holds ';', '"' or a line break."""
    if any(c in s for c in ';"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("out")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    header = ["Nummer", "Name", "Beschreibung", "Ort", "Land", "Sprache", "Anteil benachteiligt",
              "Webseite", "E-Mail", "CPV", "Breite", "Länge"]
    lines = [";".join(header)]
    shared = []         # websites reused for duplicates
    for i in range(1, a.rows + 1):
        cc = rnd.choice(sorted(PREFIX))
        town = rnd.choice(TOWNS[cc])
        name = "%s %s %d" % (rnd.choice(PREFIX[cc]), town, i)
        desc = "%s, %s." % (rnd.choice(WORDS).capitalize(), rnd.choice(WORDS))
        if i % 7 == 0:
            desc += "\r\nZweite Zeile – „Qualität“ und Œuvre"
        share = "%d,%d" % (rnd.randint(20, 95), rnd.randint(0, 9))
        slug = "p%04d" % i
        site = "https://www.%s.example/" % slug
        if i % 40 == 0 and shared:
            site = "http://" + rnd.choice(shared)        # same website, other spelling
        elif i % 40 == 1:
            shared.append("%s.example" % slug)
        mail = "info@%s.example" % slug
        if i % 25 == 0:
            mail = "info(at)%s.example" % slug           # a bad e-mail address
        lat, lon = CENTRE[cc]
        lat += rnd.uniform(-0.3, 0.3)
        lon += rnd.uniform(-0.3, 0.3)
        row = ["SE-%05d" % i, name, desc, town, cc, LANG[cc], share, site, mail, rnd.choice(CPV),
               ("%.5f" % lat).replace(".", ","), ("%.5f" % lon).replace(".", ",")]
        lines.append(";".join(cell(c) for c in row))
    with open(a.out, "wb") as f:
        f.write(("\r\n".join(lines) + "\r\n").encode("cp1252"))


if __name__ == "__main__":
    main()
