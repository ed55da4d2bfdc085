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
name=abuse log=error port=18943
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=bench/demo-server.sh
. "$here/demo-server.sh"
echo "backend $backend, $(nproc) cores, binary $bin"
python3 "$here/abuse.py" "http://127.0.0.1:$port" "$server_pid" "$work"
