#!/usr/bin/env bash
# Offline demo: serve tests/fixtures/site on 127.0.0.1, run the real pipeline against it, search, print a digest.
# Usage: scripts/demo.sh BIN PORT. Writes everything under ./demo-out (git-ignored).
set -euo pipefail
bin=$(realpath "$1"); port=${2:-8765}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/demo-out"
rm -rf "$out"; mkdir -p "$out"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$root/tests/fixtures/site" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  python3 - "$port" <<'PY' 2>/dev/null && break
import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)
PY
  sleep 0.1
done
sed "s#{{BASE}}#http://127.0.0.1:$port#g" "$root/tests/fixtures/site/feeds.toml.template" > "$out/feeds.toml"
mw() { echo; echo "\$ mediawatch $*"; "$bin" --config "$out/feeds.toml" "$@"; }
mw check-config
mw ingest
mw ingest   # a second pass archives nothing twice
mw search '"joint combat readiness patrol"' --format table
mw search '臺灣海峽' --format table        # Traditional query finds the Simplified article too
mw search 'Украина' --lang ru --format table
mw search '' --campaign fx-ukraine --format csv
mw digest --date 2026-11-24 --format md
mw digest --date 2026-11-24 --format html --out "$out/digests"
echo; echo "demo output in $out (index, feeds.toml, digests/)"
