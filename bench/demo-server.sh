# Sourced by the benchmarks: a fresh database of `$backend` (sqlite or postgres, PostgreSQL on
# 127.0.0.1:5432 with trust auth: a database created and dropped), the binary `$bin` serving
# the demo on `$port` from a temporary folder (the working folder), everything stopped and
# removed at exit. Sets `server_pid` and `work`. Needs: bin, backend, port, name (a word), log
# (GROUPEMENT_LOG).
work="$(mktemp -d)"
pgdb="groupement_${name}_$$"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  [ "$backend" = postgres ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $pgdb" postgres >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
case "$backend" in
  sqlite) export GROUPEMENT_DATABASE_URL="sqlite://$name.db" ;;
  postgres)
    psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $pgdb" postgres
    export GROUPEMENT_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$pgdb" ;;
  *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac
export GROUPEMENT_LOG="$log" GROUPEMENT_OUTBOX_DIR="$work/outbox"
"$bin" serve --demo --bind "127.0.0.1:$port" >serve.log 2>&1 &
server_pid=$!
until grep -q "serving at" serve.log; do
  # A server that died (a failed start) is said, not waited for.
  kill -0 "$server_pid" 2>/dev/null || { echo "the server did not start:" >&2; cat serve.log >&2; exit 1; }
  sleep 0.5
done
