#!/usr/bin/env bash
# The public API, pinned: lists the facade crate `memberledger` with cargo-public-api (rustdoc
# JSON, nightly toolchain) and compares the listing with the checked-in one in
# docs/public-api/. Any difference fails: a change to the API must be deliberate, committed
# with the listing it produces. The crates whose types the facade re-exports (core, store,
# store-sled, store-file) are listed too: cargo-public-api shows a re-export from another crate as one
# `pub use` line, so a change to a re-exported type is seen only in its own crate's listing.
#
#   scripts/public-api.sh           check (exit 1 on a difference, showing it)
#   scripts/public-api.sh --bless   write the listing after a deliberate change
#
# Needs `cargo install cargo-public-api --locked` and a nightly toolchain
# (`rustup toolchain install nightly`), which cargo-public-api picks by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

crates=(memberledger memberledger-core memberledger-store memberledger-store-sled memberledger-store-file)

if ! cargo public-api --version >/dev/null 2>&1; then
  echo "public-api: cargo-public-api is not installed (cargo install cargo-public-api --locked)" >&2
  exit 2
fi

now=$(mktemp -d)
trap 'rm -rf "$now"' EXIT
failed=0
for crate in "${crates[@]}"; do
  listing="docs/public-api/$crate.txt"
  # -ss: without blanket and auto-trait impls, which change with the toolchain, not with us.
  # The default features (the sled store included) are the API a user gets.
  cargo public-api --package "$crate" -ss --color never >"$now/$crate.txt"
  if [ "${1:-}" = "--bless" ]; then
    mkdir -p docs/public-api
    cp "$now/$crate.txt" "$listing"
    echo "public-api: wrote $listing ($(wc -l <"$listing") lines)"
  elif ! diff -u "$listing" "$now/$crate.txt"; then
    echo "public-api: the public API of $crate differs from $listing (above: - pinned, + now)." >&2
    failed=1
  fi
done

if [ "$failed" = 1 ]; then
  echo "public-api: if the change is deliberate, run scripts/public-api.sh --bless and commit the listings." >&2
  exit 1
fi
[ "${1:-}" = "--bless" ] || echo "public-api: the public API matches docs/public-api/"
