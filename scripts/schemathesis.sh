#!/usr/bin/env bash
# Tests a real `atf serve` against its own OpenAPI document with schemathesis,
# an independent client: it generates requests the document allows (and ones
# it forbids) for every operation, follows the links between them, and fails
# on any answer the document does not promise (a 5xx, an undocumented status,
# content type, header or body, valid data refused, invalid data accepted).
#
#   scripts/schemathesis.sh [ATF_BINARY]      # default target/ci/atf
#
# The server runs on the bundled demo data in a temporary data dir, on a free
# loopback port, with small limits so generated runs cannot occupy the
# machine: one backtest and one optimization at a time on one thread, grids
# of at most 50 combinations, 1 MiB uploads. The budget is fixed (100
# examples per operation: ~50 s with the ci build on 2 cores, ~2,800
# requests; ATF_SCHEMATHESIS_MAX_EXAMPLES changes it) and so is the seed
# (ATF_SCHEMATHESIS_SEED), so a run is reproducible. Checks and the one
# allowance are in scripts/schemathesis.toml and scripts/schemathesis_hooks.py.
#
# Needs schemathesis in $ATF_TEST_VENV (scripts/test.sh installs it); fails,
# never skips, when it or the binary is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-target/ci/atf}
VENV=${ATF_TEST_VENV:-$HOME/.cache/atf-test-venv}
ST="$VENV/bin/schemathesis"
MAX_EXAMPLES=${ATF_SCHEMATHESIS_MAX_EXAMPLES:-100}
SEED=${ATF_SCHEMATHESIS_SEED:-20261204}

[ -x "$BIN" ] || { echo "error: $BIN is missing (cargo build --profile ci -p atf-cli)" >&2; exit 1; }
[ -x "$ST" ] || { echo "error: schemathesis is missing from $VENV (scripts/test.sh installs it)" >&2; exit 1; }

WORK=$(mktemp -d)
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# port 0: the server picks a free port and prints it
"$BIN" serve --bind 127.0.0.1:0 --data-dir "$WORK/data" \
  --backtest-slots 1 --optimization-slots 1 --threads 1 \
  --max-combinations 50 --max-upload-mb 1 >"$WORK/server.out" 2>"$WORK/server.log" &
SERVER=$!

URL=
for _ in $(seq 1 300); do
  URL=$(sed -n 's|^atf serve: listening on \(http://[^ ]*\).*|\1|p' "$WORK/server.out")
  if [ -n "$URL" ] && "$VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$URL/api/health" 2>/dev/null; then break; fi
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.log" >&2; echo "error: atf serve exited" >&2; exit 1; }
  URL=
  sleep 0.1
done
[ -n "$URL" ] || { cat "$WORK/server.log" >&2; echo "error: atf serve did not answer /api/health" >&2; exit 1; }
echo "atf serve at $URL"

# from the temporary directory: whatever schemathesis writes stays there
ROOT=$(pwd)
export ATF_SCHEMATHESIS_HOOKS="$ROOT/scripts/schemathesis_hooks.py"
status=0
(cd "$WORK" && "$ST" --no-color --config-file "$ROOT/scripts/schemathesis.toml" run "$URL/api/openapi.json" \
  --checks all \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --workers 1 \
  --request-timeout 10 \
  --report junit --report-junit-path "$WORK/junit.xml") || status=$?

if [ "$status" -ne 0 ]; then
  echo "--- last lines of the server's log ---" >&2
  tail -n 40 "$WORK/server.log" >&2
  echo "error: schemathesis found problems (exit $status)" >&2
  exit "$status"
fi
TESTED=$(grep -o 'tests="[0-9]*"' "$WORK/junit.xml" | head -n 1 | tr -dc 0-9)
echo "schemathesis: ${TESTED:-0} operations and scenarios tested, no problem found"
