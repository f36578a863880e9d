#!/usr/bin/env bash
# Runs every check and test of AlgoTradeForge on a fresh machine.
# Installs what the tests need when missing (Rust components, a Python venv
# with pandas/pyarrow/polars for the Parquet interoperability check,
# openapi-spec-validator and schemathesis, Debian's redis-server for the Redis
# cache tests, Debian's chromium and playwright-core for the dashboard's
# browser tests), builds, and runs: rustfmt, clippy, docs, all cargo tests
# (optimized, overflow checks on), schemathesis against a real `atf serve`,
# the pandas/polars read-back of a stored dataset. Exits non-zero on the
# first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if [ ! -d ../shared/data ]; then
  echo "error: ../shared/data is missing (the tests read the real market data beside the checkout)" >&2
  exit 1
fi

step "toolchain components"
command -v cargo >/dev/null || { echo "error: cargo not found; install Rust (rustup)" >&2; exit 1; }
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

step "tools the tests use"
APT_UPDATED=
need() { # need COMMAND DEBIAN_PACKAGE
  command -v "$1" >/dev/null && return 0
  if [ -z "$APT_UPDATED" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  command -v "$1" >/dev/null || { echo "error: $1 is missing and could not be installed ($2)" >&2; exit 1; }
}
need script bsdutils
# the Redis progress-cache tests start their own redis-server on a free port;
# they fail (never skip) without it
need redis-server redis-server
# the fault tests fill the disk with `ulimit -f` and make the data dir
# read-only with a bind mount in a namespace of their own (no root needed)
need unshare util-linux
need mount mount
# the rediss:// test makes its CA and server certificate with openssl
need openssl openssl
# the dashboard's browser tests drive Debian's headless chromium; they fail
# (never skip) without it
need chromium chromium

step "python venv for the Parquet read-back check, the OpenAPI validator and schemathesis"
VENV=${ATF_TEST_VENV:-$HOME/.cache/atf-test-venv}
export ATF_TEST_VENV=$VENV
# pinned: a new schemathesis brings new checks, which should land as a change
# of their own
SCHEMATHESIS_VERSION=4.32.5
if ! "$VENV/bin/python" -c "import pandas, pyarrow, polars, openapi_spec_validator, talib, numpy, importlib.metadata as m; assert m.version('schemathesis') == '$SCHEMATHESIS_VERSION'" >/dev/null 2>&1; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check pandas pyarrow polars openapi-spec-validator TA-Lib numpy "schemathesis==$SCHEMATHESIS_VERSION"
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc -D warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "browser test packages (playwright-core; it never downloads a browser)"
if [ ! -d crates/cli/tests/browser/node_modules ]; then
  command -v npm >/dev/null || { echo "error: npm not found (Node.js 20+ runs the dashboard's browser tests)" >&2; exit 1; }
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix crates/cli/tests/browser --no-audit --no-fund
fi

step "cargo test (profile ci: release optimizations, overflow checks)"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cargo test --workspace --profile ci --locked 2>&1 | tee "$TMP/test.log"
PASSED=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$TMP/test.log" | awk '{s+=$4} END {print s+0}')

step "OpenAPI document validates (openapi-spec-validator; written by the atf-server tests)"
"$VENV/bin/python" -c "from openapi_spec_validator import validate; import json; validate(json.load(open('target/openapi.json')))"

step "schemathesis: a real atf serve against its OpenAPI document (scripts/schemathesis.sh)"
bash scripts/schemathesis.sh target/ci/atf

step "load: 1,000 polling connections and 500 event streams under a running optimization, 10,000 submissions beyond a full queue (scripts/load.sh)"
bash scripts/load.sh target/ci/atf

step "stored Parquet reads in pandas and polars"
target/ci/atf --data-dir "$TMP" data import ../shared/data/eurusd_1m_histdata_2017h1.csv.gz --name eurusd-1m >/dev/null
FILE=$(ls "$TMP"/datasets/*eurusd-1m.parquet)
"$VENV/bin/python" crates/data/tests/read_with_pandas.py "$FILE" 186348 1.051900
echo "checks: $((PASSED + 4)) passed, 0 failed"
