#!/usr/bin/env bash
# Abuse benchmark (issue #18): the real binary serving the demo, attacked from 127.0.0.1 by
# bench/abuse.py — 10,000 sign-ins with 15 KB e-mails, 64 concurrent uploads of 20 MB
# documents, the 1.5 KB xlsx bomb, a 10 MB CSV of 5 million short rows, 64 concurrent
# password resets with a bad link. For each: the portal's peak RSS during the attack (VmHWM,
# reset before each), the median of GET / measured beside it, and whether the portal lived.
# Targets: never dies, peak RSS under 512 MiB, GET / under 50 ms at the median.
#
# Usage: bench/abuse.sh [path/to/groupement] [sqlite|postgres]
set -euo pipefail
bin="$(realpath "${1:-${CARGO_TARGET_DIR:-target}/release/groupement}")"
backend="${2:-sqlite}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
pgdb="groupement_abuse_$$"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  [ "$backend" = postgres ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $pgdb" postgres >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
case "$backend" in
  sqlite) export GROUPEMENT_DATABASE_URL=sqlite://abuse.db ;;
  postgres)
    psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $pgdb" postgres
    export GROUPEMENT_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$pgdb" ;;
  *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac
export GROUPEMENT_LOG=error GROUPEMENT_OUTBOX_DIR="$work/outbox"
port=18943
"$bin" serve --demo --bind 127.0.0.1:$port >serve.log 2>&1 &
server_pid=$!
until grep -q "serving at" serve.log; do
  # A server that died (a failed start) is said, not waited for.
  kill -0 "$server_pid" 2>/dev/null || { echo "the server did not start:" >&2; cat serve.log >&2; exit 1; }
  sleep 0.5
done
echo "backend $backend, $(nproc) cores, binary $bin"
python3 "$here/abuse.py" "http://127.0.0.1:$port" "$server_pid" "$work"
