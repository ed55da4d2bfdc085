#!/usr/bin/env bash
# Times the buyer's needs list page (/besoins, 50 a page, totals over every need) with 10,000+
# needs of one organisation on SQLite: seeds the demo, imports 10,000 needs for CHU, signs in
# as buyer.chu and requests the first and a deep page 200 times each, one client.
# Usage: bench/needs-list.sh [path/to/groupement]
set -euo pipefail
bin="$(realpath "${1:-${CARGO_TARGET_DIR:-target}/release/groupement}")"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
export GROUPEMENT_DATABASE_URL=sqlite://bench.db GROUPEMENT_LOG=warn GROUPEMENT_OUTBOX_DIR="$work/outbox"
port=18931
"$bin" serve --demo --bind 127.0.0.1:$port >serve.log 2>&1 &
until grep -q "serving at" serve.log; do sleep 0.5; done
kill %1; wait %1 2>/dev/null || true
python3 - <<'PY'
rows = ["need_id;buyer;cpv;title;quantity;unit;unit_price_eur;delivery_postcode;window_start;window_end;poolable"]
for i in range(1, 10001):
    rows.append(f"B-{i};CHU;33141000;Besoin {i};{i};boîte;1,5;21000;01/02/2027;30/06/2027;oui")
open("needs.csv", "wb").write(("\r\n".join(rows) + "\r\n").encode("cp1252"))
PY
"$bin" import needs needs.csv --org CHU
"$bin" serve --bind 127.0.0.1:$port >serve.log 2>&1 &
until grep -q "serving at" serve.log; do sleep 0.5; done
python3 - "$port" <<'PY'
import http.cookiejar, re, statistics, sys, time, urllib.parse, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
page = opener.open(base + "/connexion").read().decode()
csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
form = urllib.parse.urlencode({"csrf_token": csrf, "email": "buyer.chu@demo.groupement.fr", "password": "demo-groupement"}).encode()
request = urllib.request.Request(base + "/connexion", data=form, headers={"Origin": base})
opener.open(request).read()
for label, path in [("first page", "/besoins"), ("page 150", "/besoins?page=150"), ("filtered", "/besoins?status=submitted&cpv=3314&year=2027")]:
    times = []
    for _ in range(200):
        start = time.perf_counter()
        body = opener.open(base + path).read()
        times.append((time.perf_counter() - start) * 1000)
    assert b"Besoin" in body
    times.sort()
    print(f"{label:>10}: median {statistics.median(times):.1f} ms, p95 {times[189]:.1f} ms ({len(body)} bytes)")
PY
