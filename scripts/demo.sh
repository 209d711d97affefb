#!/usr/bin/env bash
# Offline demo: serve tests/fixtures/site on 127.0.0.1, run the real pipeline against it (one source of each
# kind: RSS feeds, a news sitemap, a section page, a Telegram channel), search, backfill, print a digest.
# Usage: scripts/demo.sh BIN PORT. Writes everything under ./demo-out (git-ignored).
set -euo pipefail
bin=$(realpath "$1"); port=${2:-8765}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/demo-out"
rm -rf "$out"; mkdir -p "$out"
# A static server for the fixture site, which also serves the Telegram fixture channel at /s/<channel>
# (the older page for `?before=`), as a mirror of t.me/s/ would.
python3 - "$port" "$root/tests/fixtures/site" "$root/tests/fixtures/telegram" >"$out/server.log" 2>&1 <<'PY' &
import functools, http.server, os, re, sys, urllib.parse
port, site, telegram = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class Handler(http.server.SimpleHTTPRequestHandler):
    def translate_path(self, path):
        url = urllib.parse.urlsplit(path)
        if url.path.startswith("/s/"):
            before = urllib.parse.parse_qs(url.query).get("before")
            if not before:
                return os.path.join(telegram, "channel.html")
            # The newest page's "more" link leads to the older page, whose own leads to the oldest.
            with open(os.path.join(telegram, "channel.html"), encoding="utf-8") as f:
                first = re.findall(r'data-before="(\d+)"', f.read())
            page = "channel-older.html" if before[0] in first else "channel-oldest.html"
            return os.path.join(telegram, page)
        return super().translate_path(path)
    def guess_type(self, path):
        return "text/html" if path.endswith(".html") else super().guess_type(path)
http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=site)).serve_forever()
PY
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  python3 - "$port" <<'PY' 2>/dev/null && break
import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)
PY
  sleep 0.1
done
sed "s#{{BASE}}#http://127.0.0.1:$port#g" "$root/tests/fixtures/site/feeds.toml.template" > "$out/feeds.toml"
# One source of each other kind: a news sitemap, a section page, a Telegram channel (fixtures dated Nov 2026,
# so the sitemap's max_age_days reaches back that far).
cat >> "$out/feeds.toml" <<EOF

[[feeds]]
id = "fx-sitemap"
kind = "sitemap"
url = "http://127.0.0.1:$port/more/news-sitemap.xml"
name = "China Horizon Daily (news sitemap, fixture)"
affiliation = "state"
country = "CN"
language = "en"
max_age_days = 36500

[[feeds]]
id = "fx-section"
kind = "html"
url = "http://127.0.0.1:$port/more/section.html"
name = "Harbour Ledger (Ukraine section, fixture)"
affiliation = "independent"
language = "en"
link_selector = "ul.headlines a"
exclude = ['/video/']

[[feeds]]
id = "fx-telegram"
kind = "telegram"
url = "http://127.0.0.1:$port/s/mw_state_news"
name = "State news channel (Telegram, fixture)"
affiliation = "state"
country = "RU"
language = "ru"
EOF
mw() { echo; echo "\$ mediawatch $*"; "$bin" --config "$out/feeds.toml" "$@"; }
mw check-config
mw ingest
mw ingest   # a second pass archives nothing twice
mw feeds status
mw search '' --feed fx-sitemap --format table
mw search '' --feed fx-section --format table
mw search '' --feed fx-telegram --sort newest --limit 5 --format table
mw backfill --feed fx-telegram --since 2026-11-01 --until 2026-11-30
mw search '"joint combat readiness patrol"' --format table
mw search '臺灣海峽' --format table        # Traditional query finds the Simplified article too
mw search 'Украина' --lang ru --format table
mw search '' --campaign fx-ukraine --format csv
mw digest --date 2026-11-24 --format md
mw digest --date 2026-11-24 --format html --out "$out/digests"
echo; echo "demo output in $out (index, feeds.toml, digests/)"
