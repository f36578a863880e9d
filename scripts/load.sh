#!/usr/bin/env bash
# A bounded loopback load test of a real `atf serve` (issue 15, DESIGN §13):
#
#   1. While an optimization keeps both cores busy, 1,000 concurrent
#      connections poll its status (Debian's `wrk`) and 500 event streams of
#      it stay open (scripts/load/streams.py), for ATF_LOAD_SECONDS (25):
#      prints p50/p99/max latency, requests/s and the server's RSS before and
#      after; fails on any error, timeout, non-2xx answer or stream that is
#      refused or ends early.
#   2. With the optimization queue full (--max-pending), 10,000 distinct
#      submissions beyond it must all answer 429 with Retry-After, and the
#      server's RSS must grow by less than ATF_LOAD_MAX_GROWTH_MB (20).
#
#   scripts/load.sh [ATF_BINARY]      # default target/ci/atf
#
# Installs `wrk` when missing (like redis-server in scripts/test.sh); needs
# python3 (the venv of scripts/test.sh when present). Fails, never skips.
# The figures are printed as one table at the end, for the README.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-target/ci/atf}
SECONDS_UNDER_LOAD=${ATF_LOAD_SECONDS:-25}
CONNECTIONS=${ATF_LOAD_CONNECTIONS:-1000}
STREAMS=${ATF_LOAD_STREAMS:-500}
SUBMISSIONS=${ATF_LOAD_SUBMISSIONS:-10000}
MAX_PENDING=${ATF_LOAD_MAX_PENDING:-64}
MAX_GROWTH_MB=${ATF_LOAD_MAX_GROWTH_MB:-20}
VENV=${ATF_TEST_VENV:-$HOME/.cache/atf-test-venv}
PY="$VENV/bin/python"
[ -x "$PY" ] || PY=$(command -v python3) || { echo "error: python3 is missing" >&2; exit 1; }
[ -x "$BIN" ] || { echo "error: $BIN is missing (cargo build --profile ci -p atf-cli)" >&2; exit 1; }

if ! command -v wrk >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  command -v wrk >/dev/null || { echo "error: wrk is missing and could not be installed" >&2; exit 1; }
fi

# 1,000 polling connections + 500 streams + the clients' own sockets
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt $((CONNECTIONS + STREAMS + 512)) ]; then
  echo "error: the open-file limit is $NOFILE; the load test needs $((CONNECTIONS + STREAMS + 512))" >&2
  exit 1
fi

WORK=$(mktemp -d)
SERVER=
STREAMER=
cleanup() {
  for p in $STREAMER $SERVER; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" serve --bind 127.0.0.1:0 --data-dir "$WORK/data" \
  --max-pending "$MAX_PENDING" --max-event-streams $((STREAMS + 100)) \
  >"$WORK/server.out" 2>"$WORK/server.log" &
SERVER=$!
URL=
for _ in $(seq 1 600); do
  URL=$(sed -n 's|^atf serve: listening on \(http://[^ ]*\).*|\1|p' "$WORK/server.out")
  if [ -n "$URL" ] && curl -fsS -o /dev/null "$URL/api/health" 2>/dev/null; then break; fi
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.log" >&2; echo "error: atf serve exited" >&2; exit 1; }
  URL=
  sleep 0.1
done
[ -n "$URL" ] || { cat "$WORK/server.log" >&2; echo "error: atf serve did not answer /api/health" >&2; exit 1; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER/status"; }
json_field() { "$PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# an optimization that outlives the test on every core (~240k combinations
# of sma-cross over the demo minute data)
BIG='{"strategy":"sma-cross","dataset":"spy-1m","axes":{"fast":{"min":2,"max":400,"step":1},"slow":{"min":3,"max":801,"step":1}},"constraints":["fast < slow"]}'
OPT=$(curl -fsS -X POST "$URL/api/optimizations" -H 'content-type: application/json' -d "$BIG" | json_field id)
for _ in $(seq 1 600); do
  [ "$(curl -fsS "$URL/api/optimizations/$OPT/status" | json_field status)" = Running ] && break
  sleep 0.1
done
[ "$(curl -fsS "$URL/api/optimizations/$OPT/status" | json_field status)" = Running ] \
  || { echo "error: the optimization did not start" >&2; exit 1; }
CPUS=$(nproc)
echo "atf serve at $URL (pid $SERVER); optimization $OPT running on $CPUS cores"

# ---- 1: polling and streams while the optimization runs ---------------------
RSS0=$(rss_kb)
"$PY" scripts/load/streams.py "$URL" "/api/optimizations/$OPT/events" "$STREAMS" \
  $((SECONDS_UNDER_LOAD + 5)) >"$WORK/streams.out" 2>"$WORK/streams.err" &
STREAMER=$!
for _ in $(seq 1 600); do
  grep -qs '^STREAMS_OPEN' "$WORK/streams.out" && break
  kill -0 "$STREAMER" 2>/dev/null || break
  sleep 0.1
done
grep -q "^STREAMS_OPEN opened=$STREAMS\$" "$WORK/streams.out" \
  || { cat "$WORK/streams.out" "$WORK/streams.err" >&2; echo "error: not every event stream opened" >&2; exit 1; }
RSS_STREAMS=$(rss_kb)
wrk -t 2 -c "$CONNECTIONS" -d "${SECONDS_UNDER_LOAD}s" -T 10s -s scripts/load/report.lua \
  "$URL/api/optimizations/$OPT/status" >"$WORK/wrk.out" 2>&1 || { cat "$WORK/wrk.out" >&2; exit 1; }
RSS1=$(rss_kb)
STREAMS_OK=1
wait "$STREAMER" || STREAMS_OK=0
STREAMER=
WRK=$(grep '^WRK ' "$WORK/wrk.out") || { cat "$WORK/wrk.out" >&2; echo "error: no figures from wrk" >&2; exit 1; }
STR=$(grep '^STREAMS ' "$WORK/streams.out") || { cat "$WORK/streams.err" >&2; echo "error: no figures from the streams" >&2; exit 1; }
STATUS=$(curl -fsS "$URL/api/optimizations/$OPT/status")
STILL=$(echo "$STATUS" | json_field status)
DONE=$(echo "$STATUS" | json_field processedCombinations)
TOTAL=$(echo "$STATUS" | json_field totalCombinations)
echo "$WRK"
echo "$STR"
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# ---- 2: submissions beyond a full queue ---------------------------------------
for i in $(seq 1 "$MAX_PENDING"); do
  code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$URL/api/optimizations" -H 'content-type: application/json' \
    -d "{\"strategy\":\"sma-cross\",\"dataset\":\"spy-1m\",\"axes\":{\"fast\":[5,10],\"slow\":[20,30]},\"cash\":$((50000 + i))}")
  [ "$code" = 202 ] || { echo "error: filling the queue: submission $i answered $code" >&2; exit 1; }
done
RSS2=$(rss_kb)
# wrk runs for its whole -d: interrupted (it then reports) once both of its
# threads have had their answers
ATF_LOAD_PER_THREAD=$((SUBMISSIONS / 2)) ATF_LOAD_MARK="$WORK/submitted" \
  wrk -t 2 -c 50 -d 300s -T 10s -s scripts/load/submit.lua \
  "$URL/api/optimizations" >"$WORK/submit.out" 2>&1 &
WRK_PID=$!
for _ in $(seq 1 3000); do
  [ -e "$WORK/submitted.1" ] && [ -e "$WORK/submitted.2" ] && break
  kill -0 "$WRK_PID" 2>/dev/null || break
  sleep 0.1
done
kill -INT "$WRK_PID" 2>/dev/null || true
wait "$WRK_PID" || { cat "$WORK/submit.out" >&2; exit 1; }
RSS3=$(rss_kb)
SUB=$(grep '^SUBMIT ' "$WORK/submit.out") || { cat "$WORK/submit.out" >&2; echo "error: no figures from the submissions" >&2; exit 1; }
echo "$SUB"
curl -sS -o /dev/null -X POST "$URL/api/optimizations/$OPT/cancel" || true

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
echo
echo "Load test on $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), ${SECONDS_UNDER_LOAD} s:"
echo "| what | figure |"
echo "|---|---|"
echo "| status polls ($CONNECTIONS connections) | $(get "$WRK" requests) in $(get "$WRK" seconds) s, $(get "$WRK" rps)/s |"
echo "| status latency p50 / p99 / max | $(get "$WRK" p50_ms) / $(get "$WRK" p99_ms) / $(get "$WRK" max_ms) ms |"
echo "| event streams held / progress events | $(get "$STR" opened) / $(get "$STR" progress_events) |"
echo "| optimization meanwhile | $STILL, $DONE / $TOTAL combinations |"
echo "| server RSS: idle → $STREAMS streams → after polling | $(mb "$RSS0") → $(mb "$RSS_STREAMS") → $(mb "$RSS1") MB |"
echo "| submissions beyond a full queue ($MAX_PENDING) | $(get "$SUB" refused429) × 429, $(get "$SUB" other) other |"
echo "| their latency p50 / p99 / max | $(get "$SUB" p50_ms) / $(get "$SUB" p99_ms) / $(get "$SUB" max_ms) ms |"
echo "| server RSS before → after them | $(mb "$RSS2") → $(mb "$RSS3") MB |"

FAIL=0
for k in connect read write timeout non2xx; do
  [ "$(get "$WRK" $k)" = 0 ] || { echo "error: status polling: $k errors: $(get "$WRK" $k)" >&2; FAIL=1; }
done
[ "$STREAMS_OK" = 1 ] || { cat "$WORK/streams.err" >&2; echo "error: event streams failed or ended early" >&2; FAIL=1; }
[ "$STILL" = Running ] || { echo "error: the optimization was not running throughout ($STILL)" >&2; FAIL=1; }
[ "$(get "$SUB" refused429)" -ge "$SUBMISSIONS" ] || { echo "error: fewer than $SUBMISSIONS submissions got 429" >&2; FAIL=1; }
[ "$(get "$SUB" other)" = 0 ] || { grep unexpected "$WORK/submit.out" >&2 || true; echo "error: submissions beyond the queue got other answers" >&2; FAIL=1; }
for k in connect read write timeout; do
  [ "$(get "$SUB" $k)" = 0 ] || { echo "error: submissions: $k errors: $(get "$SUB" $k)" >&2; FAIL=1; }
done
GROWTH=$((RSS3 - RSS2))
[ "$GROWTH" -lt $((MAX_GROWTH_MB * 1024)) ] || { echo "error: RSS grew by $(mb "$GROWTH") MB over the refused submissions (bound: $MAX_GROWTH_MB MB)" >&2; FAIL=1; }
curl -fsS -o /dev/null "$URL/api/health" || { echo "error: the server no longer answers" >&2; FAIL=1; }
[ "$FAIL" = 0 ] || { tail -20 "$WORK/server.log" >&2; exit 1; }
echo "load: ok"
