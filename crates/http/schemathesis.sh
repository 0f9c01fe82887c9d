#!/usr/bin/env bash
# Schemathesis against a running `memberledger serve` on a throwaway ledger: every operation of
# /v1/openapi.json is fuzzed with an hq token; the checks are no 5xx and every response
# matching its documented schema. Installs schemathesis (PyPI) in a venv under the target
# directory when missing. Exit 0 when every check passed.
#
#   crates/http/schemathesis.sh                 # from the workspace root (or anywhere)
#   SCHEMATHESIS_EXAMPLES=200 crates/http/schemathesis.sh   # a longer run
#   SCHEMATHESIS_BRANDS=1 crates/http/schemathesis.sh       # the brands' paths, on a server
#                                                            # hosting the ledger as brand `lotus`
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/schemathesis-venv"
examples="${SCHEMATHESIS_EXAMPLES:-40}"

if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check schemathesis
fi

cargo build --quiet -p memberledger-cli
bin="$target/debug/memberledger"

work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then
        kill -TERM "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

db="$work/ledger"
"$bin" init --db "$db" >/dev/null
token="$("$bin" token add --role hq --tokens "$work/tokens")"
# A few members, so the examples find something.
cat >"$work/seed.jsonl" <<'JSONL'
{"id":"5c4e0000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}
{"id":"5c4e0000-0000-4000-8000-000000000002","at":"2026-03-01T10:05:00Z","type":"recharge","member":"M1","store":"S1","amount":"1000.00"}
{"id":"5c4e0000-0000-4000-8000-000000000003","at":"2026-03-02T15:00:00Z","type":"consume","member":"M1","store":"S2","amount":"300.00","service":"facial"}
JSONL
"$bin" apply --db "$db" "$work/seed.jsonl" >/dev/null

# The ledger alone, or (SCHEMATHESIS_BRANDS=1) as the brand `lotus` of a brands file, every
# `/brands/{brand}` path given that brand and only those paths tested.
where=(--db "$db")
tokens=(--tokens "$work/tokens")
only=()
if [ -n "${SCHEMATHESIS_BRANDS:-}" ]; then
    echo '{"lotus": {"db": "ledger", "tokens": "tokens"}}' >"$work/brands.json"
    printf '[parameters]\n"path.brand" = "lotus"\n' >"$work/schemathesis.toml"
    where=(--brands "$work/brands.json")
    tokens=()
    only=(--include-path-regex '^/brands/')
fi
# A short request timeout: the change feed's long poll waits at most a second under it, so the
# `wait` values schemathesis draws (up to 60) do not hold each request for half a minute.
"$bin" "${where[@]}" serve "${tokens[@]}" --listen 127.0.0.1:0 --rate-per-sec 0 \
    --timeout-secs 3 2>"$work/server.log" &
server=$!
addr=""
for _ in $(seq 1 100); do
    addr="$(sed -n 's/.*listening on http:\/\/\([0-9.:]*\).*/\1/p' "$work/server.log" | head -1)"
    [ -n "$addr" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 2; }
    sleep 0.1
done
[ -n "$addr" ] || { echo "the server did not start" >&2; cat "$work/server.log" >&2; exit 2; }

status=0
# One worker: Python 3.11's AST constructor is not thread-safe, and Hypothesis parses lambda
# sources while describing strategies; two workers failed now and then with "AST constructor
# recursion depth mismatch", an error of the tool, not of the server.
# From the throwaway directory: schemathesis keeps its cache in the working directory.
cd "$work"
"$venv/bin/schemathesis" run "http://$addr/v1/openapi.json" \
    --checks not_a_server_error,response_schema_conformance \
    --header "Authorization: Bearer $token" \
    --max-examples "$examples" \
    --seed 13 \
    --workers 1 \
    --no-color \
    --generation-database none \
    --report-dir "$work/report" "${only[@]}" || status=$?
if grep -q 'status=5' "$work/server.log"; then
    echo "the server answered 5xx:" >&2
    grep 'status=5' "$work/server.log" >&2 || true
    status=1
fi
exit "$status"
