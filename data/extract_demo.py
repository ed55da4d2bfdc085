#!/usr/bin/env python3
"""Extracts the DECP rows the demo derives its needs and suppliers from.

Run from the project root with the shared data beside it:
    python3 data/extract_demo.py ../shared/data/decp/decp_2018_2019_flat.csv > data/decp_demo.csv
Rows are copied unchanged; only the buyers below are kept.
"""
import csv
import sys

# Demo buyer code -> real DECP buyers whose contracts stand in for it (comparable bodies).
BUYERS = {
    "DM": {"24210041000123", "21210231300013"},  # Dijon Métropole, Ville de Dijon
    "CHU": {"26440013600471"},  # CHU de Nantes (a university hospital)
    "UB": {"19601223100169", "13002054800017"},  # UT Compiègne, Université de Montpellier
    "GDH": {"44386207300014", "35069694400015"},  # Mâcon Habitat, OPH du Jura
}

def main(path):
    wanted = {siret: code for code, sirets in BUYERS.items() for siret in sirets}
    with open(path, encoding="utf-8", newline="") as src:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(sys.stdout, fieldnames=["demo_buyer"] + reader.fieldnames, lineterminator="\n")
        writer.writeheader()
        for row in reader:
            code = wanted.get(row["acheteur_id"])
            if code:
                writer.writerow({"demo_buyer": code, **row})

if __name__ == "__main__":
    main(sys.argv[1])
