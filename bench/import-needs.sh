#!/usr/bin/env bash
# Times `groupement import needs` on a 10,000-row French CSV (`;`, decimal comma, JJ/MM/AAAA,
# Windows-1252) into a fresh SQLite file or PostgreSQL database.
# Usage: bench/import-needs.sh [path/to/groupement] [sqlite|postgres]
#   PostgreSQL: a server on 127.0.0.1:5432 with trust auth (a database is created and dropped).
set -euo pipefail
bin="$(realpath "${1:-${CARGO_TARGET_DIR:-target}/release/groupement}")"
backend="${2:-sqlite}"
work="$(mktemp -d)"
pgdb="groupement_import_$$"
cleanup() {
  [ "$backend" = postgres ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $pgdb" postgres
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
python3 - <<'PY'
rows = ["need_id;buyer;cpv;title;quantity;unit;unit_price_eur;delivery_postcode;window_start;window_end;poolable"]
for i in range(1, 10001):
    rows.append(f"C-{i};CHU;33141000;Besoin {i};{i};boîte;1,5;21000;01/02/2027;30/06/2027;oui")
open("needs.csv", "wb").write(("\r\n".join(rows) + "\r\n").encode("cp1252"))
PY
organisation="INSERT INTO organisations (code, name, kind, buyer_class) VALUES ('CHU', 'CHU', 'hospital', 'sub_central')"
case "$backend" in
  sqlite)
    export GROUPEMENT_DATABASE_URL=sqlite://bench.db
    "$bin" migrate >/dev/null
    python3 -c "import sqlite3, sys; c = sqlite3.connect('bench.db'); c.execute(sys.argv[1]); c.commit()" "$organisation" ;;
  postgres)
    psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $pgdb" postgres
    export GROUPEMENT_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$pgdb"
    "$bin" migrate >/dev/null
    psql -q -h 127.0.0.1 -U postgres -c "$organisation" "$pgdb" ;;
  *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac
/usr/bin/time -f "import of 10,000 rows: %e s wall, %M KiB peak" "$bin" import needs needs.csv --org CHU
