#!/usr/bin/env bash
# Load run against the real binary: PhaseFlow's endpoints next to PocketBase's own, same server,
# same token, same run. Prints requests/s per endpoint and the ratios.
#
# Needs ./app (make build), hey (apt-get install hey) and python3. Everything listens on 127.0.0.1;
# every run is bounded by a request count (REQUESTS) and a time limit (TIMEOUT seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS="${REQUESTS:-20000}"
CONCURRENCY="${CONCURRENCY:-16}"
TIMEOUT="${TIMEOUT:-60}"
PORT="${PORT:-18097}"
BASE="http://127.0.0.1:$PORT"
command -v hey >/dev/null || { echo "hey is missing: apt-get install hey" >&2; exit 1; }
[ -x ./app ] || { echo "./app is missing: make build" >&2; exit 1; }

data="$(mktemp -d)"
env -i PATH="$PATH" HOME="$HOME" APP_URL="$BASE" \
  POCKETBASE_ADMIN_EMAIL=load@example.com POCKETBASE_ADMIN_PASSWORD=load-test-password \
  ./app serve --dir "$data" --http "127.0.0.1:$PORT" >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -fs "$BASE/api/health" >/dev/null && break; sleep 0.1; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
post() { curl -fs -X "${3:-POST}" "$BASE$1" -H 'Content-Type: application/json' ${TOKEN:+-H "Authorization: $TOKEN"} -d "$2"; }

TOKEN=$(post /api/collections/_superusers/auth-with-password '{"identity":"load@example.com","password":"load-test-password"}' | json "['token']")
# The load comes from one client; keep PocketBase's rate limiter out of the measurement.
post /api/settings '{"rateLimits":{"excludedIPs":["127.0.0.1"]}}' PATCH >/dev/null
USER_ID=$(post /api/collections/users/records '{"email":"ana@example.com","password":"load-test-password","passwordConfirm":"load-test-password","verified":true,"lastPeriodDate":"2026-11-01 00:00:00.000Z"}' | json "['id']")
TOKEN=$(TOKEN= post /api/collections/users/auth-with-password '{"identity":"ana@example.com","password":"load-test-password"}' | json "['token']")
FEED=$(post /api/user/calendar-token '' | json "['url']")
ETAG=$(curl -fsI "$FEED" | awk -F': ' 'tolower($1)=="etag"{print $2}' | tr -d '\r')

rps() { # name, then hey arguments
  local name=$1; shift
  local out
  out=$(timeout "$TIMEOUT" hey -n "$REQUESTS" -c "$CONCURRENCY" "$@")
  local rate codes
  rate=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  codes=$(awk '/Status code distribution/{f=1;next} f&&/\[/{printf "%s ", $0} /^$/{f=0}' <<<"$out" | tr -s ' ')
  printf '%-28s %10s req/s   %s\n' "$name" "$rate" "$codes" >&2
  echo "$rate"
}

echo "load: $REQUESTS requests, concurrency $CONCURRENCY, $(nproc) cores" >&2
a=$(rps "GET /api/user" -H "Authorization: $TOKEN" "$BASE/api/user")
b=$(rps "GET records/{id} (PocketBase)" -H "Authorization: $TOKEN" "$BASE/api/collections/users/records/$USER_ID")
c=$(rps "GET feed .ics (200)" "$FEED")
d=$(rps "GET feed .ics (304)" -H "If-None-Match: $ETAG" "$FEED")
e=$(rps "GET /api/health (PocketBase)" "$BASE/api/health")
python3 - "$a" "$b" "$c" "$d" "$e" <<'PY'
import sys
a, b, c, d, e = map(float, sys.argv[1:])
print(f"/api/user vs PocketBase record view: {a/b:.2f}x throughput")
print(f"feed 200 vs /api/health:             {c/e:.2f}x throughput")
print(f"feed 304 vs /api/health:             {d/e:.2f}x throughput")
PY
