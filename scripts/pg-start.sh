#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for memberledger's tests and trials: a new cluster in a
# temporary directory, listening only on a unix socket inside it, run as a non-root user (as
# root, the server runs as `nobody`). Needs Debian's `postgresql` package
# (apt-get install -y postgresql).
#
#   eval "$(scripts/pg-start.sh)"    # sets MEMBERLEDGER_PG_URL and MEMBERLEDGER_PG_DIR
#   ...
#   scripts/pg-stop.sh               # stops it and removes the directory
#
# Only the two `export` lines go to standard output; what happens goes to standard error.
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "pg-start: PostgreSQL's server is not installed (apt-get install -y postgresql)" >&2
  exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/memberledger-pg.XXXXXX")
port=${MEMBERLEDGER_PG_PORT:-5432}
user=memberledger

# PostgreSQL refuses to run as root: run it as `nobody`, owner of the directory.
as=()
if [ "$(id -u)" = 0 ]; then
  chown nobody "$dir"
  as=(runuser -u nobody --)
fi

"${as[@]}" "$bin/initdb" -D "$dir/data" -U "$user" --auth=trust --no-locale -E UTF8 \
  >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses='' -k $dir -p $port" start >&2 \
  || { cat "$dir/server.log" >&2; exit 1; }
"${as[@]}" "$bin/createdb" -h "$dir" -p "$port" -U "$user" memberledger

# The socket's directory as the URL's host, percent-encoded (libpq and the Rust driver agree).
url="postgresql://$user@${dir//\//%2F}:$port/memberledger"
echo "pg-start: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') runs in $dir" >&2
echo "pg-start: stop it with: scripts/pg-stop.sh $dir" >&2
echo "export MEMBERLEDGER_PG_URL='$url'"
echo "export MEMBERLEDGER_PG_DIR='$dir'"
