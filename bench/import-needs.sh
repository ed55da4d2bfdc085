#!/usr/bin/env bash
# Times `groupement import needs` on a 10,000-row French CSV (`;`, decimal comma, JJ/MM/AAAA,
# Windows-1252) into a fresh SQLite file. Usage: bench/import-needs.sh [path/to/groupement]
set -euo pipefail
bin="${1:-${CARGO_TARGET_DIR:-target}/release/groupement}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
python3 - <<'PY'
rows = ["need_id;buyer;cpv;title;quantity;unit;unit_price_eur;delivery_postcode;window_start;window_end;poolable"]
for i in range(1, 10001):
    rows.append(f"C-{i};CHU;33141000;Besoin {i};{i};boîte;1,5;21000;01/02/2027;30/06/2027;oui")
open("needs.csv", "wb").write(("\r\n".join(rows) + "\r\n").encode("cp1252"))
PY
export GROUPEMENT_DATABASE_URL=sqlite://bench.db
"$bin" migrate >/dev/null
python3 -c "import sqlite3; c = sqlite3.connect('bench.db'); c.execute(\"INSERT INTO organisations (code, name, kind, buyer_class) VALUES ('CHU', 'CHU', 'hospital', 'sub_central')\"); c.commit()"
/usr/bin/time -f "import of 10,000 rows: %e s wall, %M KiB peak" "$bin" import needs needs.csv --org CHU
