#!/usr/bin/env bash
# Load benchmark (issue #10): 64 concurrent clients on 127.0.0.1 against the real binary
# serving the demo, on SQLite or PostgreSQL — reads of pages and API, need creation through the
# API, bid submission through the supplier's form — with wrk (Debian package `wrk`). Prints
# the median and p99 latency of each scenario, the errors, and checks that no acknowledged
# write was lost (rows in the database against 2xx answers).
#
# Usage: bench/load.sh [path/to/groupement] [sqlite|postgres] [seconds per scenario]
#   PostgreSQL: a server on 127.0.0.1:5432 with trust auth (a database is created and dropped).
set -euo pipefail
bin="$(realpath "${1:-${CARGO_TARGET_DIR:-target}/release/groupement}")"
backend="${2:-sqlite}"
seconds="${3:-10}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
name=load log=warn port=18942
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=bench/demo-server.sh
. "$here/demo-server.sh"
base="http://127.0.0.1:$port"

sql() {
  case "$backend" in
    sqlite) python3 -c "import sqlite3,sys; print(sqlite3.connect('load.db').execute(sys.argv[1]).fetchone()[0])" "$1" ;;
    postgres) psql -At -h 127.0.0.1 -U postgres -c "$1" "$pgdb" ;;
  esac
}

# Sessions and a token, through the portal's own forms (as people and systems get them).
supplier_siret="$(sql "SELECT s.siret FROM suppliers s JOIN users u ON u.supplier_id = s.id ORDER BY s.id LIMIT 1")"
python3 - "$base" "$supplier_siret" <<'PY' >credentials
import http.cookiejar, re, sys, urllib.parse, urllib.request
base, siret = sys.argv[1], sys.argv[2]
def session(email):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/connexion").read().decode()
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": csrf, "email": email, "password": "demo-groupement"}).encode()
    opener.open(urllib.request.Request(base + "/connexion", data=form, headers={"Origin": base})).read()
    cookie = next(c.value for c in jar if c.name == "groupement_session")
    return opener, cookie
buyer, _ = session("buyer.chu@demo.groupement.fr")
page = buyer.open(base + "/compte").read().decode()
csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
form = urllib.parse.urlencode({"csrf_token": csrf, "name": "bench"}).encode()
page = buyer.open(urllib.request.Request(base + "/compte/jetons", data=form, headers={"Origin": base})).read().decode()
token = re.search(r'id="nouveau-jeton">(gpt_[A-Za-z0-9_-]+)<', page).group(1)
supplier, cookie = session(f"supplier.{siret}@demo.groupement.fr")
page = supplier.open(base + "/appels-d-offres/GRP-2027-001/offre").read().decode()
csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
print(token, cookie, csrf)
PY
read -r token cookie csrf <credentials

cat >reads.lua <<EOF
local paths = { "/", "/appels-d-offres", "/appels-d-offres/GRP-2027-001", "/api/v1/needs", "/healthz" }
local i = 0
request = function()
  i = i + 1
  local path = paths[(i % #paths) + 1]
  return wrk.format("GET", path, { ["Authorization"] = "Bearer $token" })
end
EOF
cat >needs.lua <<EOF
-- Each wrk thread numbers its needs apart (setup runs once per thread, before it starts).
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local n = 0
request = function()
  n = n + 1
  local body = '{"need_id":"LOAD-' .. id .. '-' .. n .. '","cpv":"30192000","title":"Charge ' .. n ..
    '","quantity":' .. n .. ',"unit":"lot","unit_price_eur":12.5,"delivery_postcode":"21000",' ..
    '"window_start":"2027-03-01","window_end":"2027-06-30"}'
  return wrk.format("POST", "/api/v1/needs",
    { ["Authorization"] = "Bearer $token", ["Content-Type"] = "application/json" }, body)
end
EOF
cat >bids.lua <<EOF
local n = 0
request = function()
  n = n + 1
  local body = "csrf_token=$csrf&price_eur=" .. tostring(300000 + n) .. "&technical_memo=charge"
  return wrk.format("POST", "/appels-d-offres/GRP-2027-001/lots/1/offre",
    { ["Cookie"] = "groupement_session=$cookie", ["Origin"] = "$base",
      ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end
EOF

run() { # name script
  wrk -t2 -c64 -d"${seconds}s" --latency -s "$2" "$base" >"$1.out"
  python3 - "$1" <<'PY'
import re, sys
name = sys.argv[1]
text = open(f"{name}.out").read()
def ms(label):
    m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
requests = int(re.search(r"(\d+) requests in", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
socket = re.search(r"Socket errors: (.*)", text)
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print(f"{name:>6}: {requests} requests, {rate:.0f}/s, median {ms('50%'):.2f} ms, p99 {ms('99%'):.2f} ms, "
      f"non-2xx {errors.group(1) if errors else 0}, socket errors {socket.group(1) if socket else 'none'}")
open(f"{name}.ok", "w").write(str(requests - (int(errors.group(1)) if errors else 0)))
PY
}

needs_before="$(sql "SELECT COUNT(*) FROM needs")"
receipts_before="$(sql "SELECT COUNT(*) FROM notifications WHERE template = 'bid_receipt'")"
echo "backend $backend, 64 connections, ${seconds} s a scenario, $(nproc) cores"
run reads reads.lua
if [ -n "${BY_PAGE:-}" ]; then # one read at a time, to see which one costs
  for path in / /appels-d-offres /appels-d-offres/GRP-2027-001 /api/v1/needs /healthz; do
    printf 'request = function() return wrk.format("GET", "%s", { ["Authorization"] = "Bearer %s" }) end\n' \
      "$path" "$token" >page.lua
    run "page" page.lua | sed "s|^  page|$path|"
  done
fi
run needs needs.lua
run bids bids.lua
needs_after="$(sql "SELECT COUNT(*) FROM needs")"
receipts_after="$(sql "SELECT COUNT(*) FROM notifications WHERE template = 'bid_receipt'")"
echo "needs acknowledged $(cat needs.ok), stored $((needs_after - needs_before))"
echo "bids acknowledged $(cat bids.ok), receipts stored $((receipts_after - receipts_before))"
[ "$(cat needs.ok)" -le "$((needs_after - needs_before))" ] || { echo "LOST NEED WRITES" >&2; exit 1; }
[ "$(cat bids.ok)" -le "$((receipts_after - receipts_before))" ] || { echo "LOST BID WRITES" >&2; exit 1; }
echo "no acknowledged write lost"
