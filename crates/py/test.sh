#!/usr/bin/env bash
# The Python adapter end to end: builds the wheel with maturin, installs it in a fresh virtual
# env, and runs pytest (the shared scenario, the Hypothesis properties against the CLI binary,
# 8 threads) and mypy --strict over the package and the tests. Fails, never skips, when a tool
# cannot be had.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The build tools in a venv of their own.
python3 -m venv "$work/build"
"$work/build/bin/pip" install --quiet --upgrade pip
"$work/build/bin/pip" install --quiet "maturin>=1.5,<2"
"$work/build/bin/maturin" build --manifest-path crates/py/Cargo.toml --interpreter python3 \
  --out "$work/wheels"

# The CLI binary the properties compare against.
cargo build --quiet -p memberledger-cli
export MEMBERLEDGER_CLI="$PWD/target/debug/memberledger"

# A fresh venv with only the wheel and the test tools.
python3 -m venv "$work/test"
"$work/test/bin/pip" install --quiet --upgrade pip
"$work/test/bin/pip" install --quiet "$work"/wheels/memberledger-*.whl pytest hypothesis mypy

cd crates/py
"$work/test/bin/python" -m pytest -q -p no:cacheprovider tests
"$work/test/bin/python" -m doctest -v python/memberledger/__init__.py >/dev/null
"$work/test/bin/mypy" --strict --no-incremental --cache-dir /dev/null python/memberledger tests
