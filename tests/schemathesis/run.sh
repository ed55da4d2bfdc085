#!/usr/bin/env bash
# API fuzzing (issue #10): schemathesis (PyPI) against `/api/openapi.json` of the real binary
# serving the demo on a fresh SQLite file, with a buyer's API token. Every check is on: no 5xx,
# every status, content type, header and body as the document says, bad input refused, auth
# not ignored. Exits non-zero on any failure; the report is kept in
# $CARGO_TARGET_DIR/tmp/schemathesis (or ./schemathesis-report).
#
# Usage: tests/schemathesis/run.sh [path/to/groupement] [examples per operation]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(realpath "${1:-${CARGO_TARGET_DIR:-target}/debug/groupement}")"
examples="${2:-50}"
command -v st >/dev/null || python3 -m pip install --quiet 'schemathesis>=4,<5'
report="${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR/tmp/}schemathesis"
mkdir -p "$report"
report="$(realpath "$report")"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
export GROUPEMENT_DATABASE_URL=sqlite://api.db GROUPEMENT_LOG=warn GROUPEMENT_OUTBOX_DIR="$work/outbox"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
"$bin" serve --demo --bind 127.0.0.1:$port >serve.log 2>&1 &
server_pid=$!
until grep -q "serving at" serve.log; do
  # A server that died (a failed start) is said, not waited for.
  kill -0 "$server_pid" 2>/dev/null || { echo "the server did not start:" >&2; cat serve.log >&2; exit 1; }
  sleep 0.5
done

# A buyer's API token, made on the account page as a person makes one.
token="$(python3 - "$base" <<'PY'
import http.cookiejar, re, sys, urllib.parse, urllib.request
base = sys.argv[1]
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
def csrf(page):
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
def post(path, fields):
    data = urllib.parse.urlencode(fields).encode()
    return opener.open(urllib.request.Request(base + path, data=data, headers={"Origin": base})).read().decode()
page = opener.open(base + "/connexion").read().decode()
post("/connexion", {"csrf_token": csrf(page), "email": "buyer.chu@demo.groupement.fr", "password": "demo-groupement"})
page = post("/compte/jetons", {"csrf_token": csrf(opener.open(base + "/compte").read().decode()), "name": "schemathesis"})
print(re.search(r'id="nouveau-jeton">(gpt_[A-Za-z0-9_-]+)<', page).group(1))
PY
)"

# One worker: with two, CPython 3.11's `ast.parse` in hypothesis' threads was seen failing with
# "AST constructor recursion depth mismatch" (an error of the tool, not an answer of the API).
# Every check but `positive_data_acceptance`: a need can match the document's types and still
# be refused with 422 for what a schema does not say — a CPV code outside the 9,454 of the
# vocabulary, a window that ends before it starts, a postcode no commune has.
st run "$base/api/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks all \
  --exclude-checks positive_data_acceptance \
  --max-examples "$examples" \
  --seed 2027 \
  --workers 1 \
  --generation-database none \
  --report junit --report-dir "$report" \
  --no-color
