#!/usr/bin/env bash
# Load run against the real binary: PhaseFlow's endpoints next to PocketBase's own, same server,
# same token, same run, reported as ratios. Optionally the same endpoints against a baseline
# binary built from another git ref (LOAD_BASELINE=<ref>), e.g. the commit before a change, so a
# change's cost is measured in the same run.
#
# Needs ./app (make build), wrk (apt-get install wrk), curl and python3. Everything listens on
# 127.0.0.1; every run is bounded in time (DURATION seconds) and count (RUNS).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=auto

DURATION="${DURATION:-5}"
CONNECTIONS="${CONNECTIONS:-8}"
THREADS="${THREADS:-2}"
RUNS="${RUNS:-3}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
[ -x ./app ] || { echo "./app is missing: make build" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "${LOAD_BASELINE:-}" ] && [ -d "$work/baseline" ]; then git worktree remove --force "$work/baseline" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# start NAME BINARY PORT: serves BINARY on PORT with a fresh data dir, one user with a feed, and
# sets NAME_TOKEN, NAME_USER, NAME_FEED, NAME_ETAG, NAME_BASE.
start() {
  local name=$1 bin=$2 port=$3 base="http://127.0.0.1:$3" data="$work/$1-data"
  mkdir -p "$data"
  env -i PATH="$PATH" HOME="$HOME" APP_URL="$base" AUTH_RATE_LIMIT=1000 \
    POCKETBASE_ADMIN_EMAIL=load@example.com POCKETBASE_ADMIN_PASSWORD=load-test-password \
    "$bin" serve --dir "$data" --http "127.0.0.1:$port" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do curl -fs "$base/api/health" >/dev/null && break; sleep 0.1; done
  local tok=""
  # post PATH BODY [METHOD]: JSON request, authorized with $tok when set.
  post() { curl -fs -X "${3:-POST}" "$base$1" -H 'Content-Type: application/json' ${tok:+-H "Authorization: $tok"} -d "$2"; }
  # A superuser signs in with a second factor by email (the console mailer prints the code to the
  # server's log); the baseline may predate it and answer with a token at once.
  local su
  su=$(curl -s -X POST "$base/api/collections/_superusers/auth-with-password" -H 'Content-Type: application/json' \
    -d '{"identity":"load@example.com","password":"load-test-password"}')
  tok=$(json ".get('token', '')" <<<"$su")
  if [ -z "$tok" ]; then
    local mfa otp code=""
    mfa=$(json "['mfaId']" <<<"$su")
    otp=$(post /api/collections/_superusers/request-otp '{"email":"load@example.com"}' | json "['otpId']")
    for _ in $(seq 100); do
      code=$(grep -oE 'one-time password is: <strong>[0-9]{8}' "$work/$name.log" | tail -1 | grep -oE '[0-9]{8}$' || true)
      [ -n "$code" ] && break
      sleep 0.1
    done
    tok=$(post /api/collections/_superusers/auth-with-otp "{\"otpId\":\"$otp\",\"password\":\"$code\",\"mfaId\":\"$mfa\"}" | json "['token']")
  fi
  # The load comes from one client; keep PocketBase's rate limiter out of the measurement.
  post /api/settings '{"rateLimits":{"excludedIPs":["127.0.0.1"]}}' PATCH >/dev/null
  local user
  user=$(post /api/collections/users/records '{"email":"ana@example.com","password":"load-test-password","passwordConfirm":"load-test-password","verified":true,"lastPeriodDate":"2026-11-01 00:00:00.000Z"}' | json "['id']")
  tok=$(tok= post /api/collections/users/auth-with-password '{"identity":"ana@example.com","password":"load-test-password"}' | json "['token']")
  local feed
  feed=$(post /api/user/calendar-token '' | json "['url']")
  printf -v "${name}_TOKEN" '%s' "$tok"
  printf -v "${name}_USER" '%s' "$user"
  printf -v "${name}_FEED" '%s' "$feed"
  printf -v "${name}_ETAG" '%s' "$(curl -fsI "$feed" | awk -F': ' 'tolower($1)=="etag"{print $2}' | tr -d '\r')"
  printf -v "${name}_BASE" '%s' "$base"
}

# rps URL [HEADER...]: requests/s of one bounded wrk run; fails on any non-2xx/3xx answer.
rps() {
  local url=$1; shift
  local args=() out
  for h in "$@"; do args+=(-H "$h"); done
  out=$(timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "${args[@]}" "$url")
  if grep -q "Non-2xx or 3xx" <<<"$out"; then echo "unexpected answers from $url:" >&2; echo "$out" >&2; exit 1; fi
  awk '/Requests\/sec/{print $2}' <<<"$out"
}

# The servers take turns: each run starts one server at a time with a fresh data dir, measures
# its endpoints and stops it, so one never competes with the other for the 2 cores.
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
}
binaries=("cur|./app")
if [ -n "${LOAD_BASELINE:-}" ]; then
  git worktree add --detach "$work/baseline" "$LOAD_BASELINE" >/dev/null 2>&1
  mkdir -p "$work/baseline/pb_public/vendor" && cp pb_public/vendor/* "$work/baseline/pb_public/vendor/"
  if [ -d "$work/baseline/passwords" ] && [ -f passwords/blocklist.bloom ]; then cp passwords/blocklist.bloom "$work/baseline/passwords/"; fi
  (cd "$work/baseline" && go build -o "$work/baseline-app" .)
  binaries+=("base|$work/baseline-app")
fi

echo "wrk: $RUNS alternating runs of ${DURATION}s per endpoint, $CONNECTIONS connections, $THREADS threads, $(nproc) cores" >&2
results="$work/results"
for run in $(seq "$RUNS"); do
  for b in "${binaries[@]}"; do
    IFS='|' read -r who bin <<<"$b"
    rm -rf "$work/$who-data"
    start "$who" "$bin" 18097
    base_var="${who}_BASE" token_var="${who}_TOKEN" user_var="${who}_USER" feed_var="${who}_FEED" etag_var="${who}_ETAG"
    targets=(
      "${who}_user|${!base_var}/api/user|Authorization: ${!token_var}"
      "${who}_record|${!base_var}/api/collections/users/records/${!user_var}|Authorization: ${!token_var}"
    )
    if [ "$who" = cur ]; then
      targets+=(
        "cur_feed200|${!feed_var}|"
        "cur_feed304|${!feed_var}|If-None-Match: ${!etag_var}"
        "cur_health|${!base_var}/api/health|"
      )
    fi
    for t in "${targets[@]}"; do
      IFS='|' read -r name url header <<<"$t"
      if [ -n "$header" ]; then r=$(rps "$url" "$header"); else r=$(rps "$url"); fi
      echo "$name $r" >>"$results"
      printf 'run %d  %-12s %10s req/s\n' "$run" "$name" "$r" >&2
    done
    stop_all
  done
done

python3 - "$results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, rate = line.split()
    runs.setdefault(name, []).append(float(rate))
m = {k: statistics.median(v) for k, v in runs.items()}
def row(label, a, b):
    print(f"{label:58s} {m[a]:9.0f} vs {m[b]:9.0f} req/s  {m[a]/m[b]:.2f}x")
print("medians:")
row("/api/user vs PocketBase record view (same token)", "cur_user", "cur_record")
row("feed 200 vs /api/health", "cur_feed200", "cur_health")
row("feed 304 vs /api/health", "cur_feed304", "cur_health")
if "base_user" in m:
    row("baseline /api/user vs its PocketBase record view", "base_user", "base_record")
    row("/api/user now vs baseline /api/user", "cur_user", "base_user")
PY
