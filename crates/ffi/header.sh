#!/usr/bin/env bash
# Writes crates/ffi/include/memberledger.h from the crate with cbindgen; with --check, fails
# when the checked-in header differs from it (CI). Installs cbindgen when it is missing.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v cbindgen >/dev/null 2>&1; then
  cargo install cbindgen --locked
fi
generated=$(mktemp)
trap 'rm -f "$generated"' EXIT
cbindgen --quiet --config cbindgen.toml --crate memberledger-ffi --output "$generated" .
if [[ "${1:-}" == "--check" ]]; then
  if ! diff -u include/memberledger.h "$generated"; then
    echo "crates/ffi/include/memberledger.h is out of date: run bash crates/ffi/header.sh" >&2
    exit 1
  fi
  echo "header up to date"
else
  cp "$generated" include/memberledger.h
fi
