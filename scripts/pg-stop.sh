#!/usr/bin/env bash
# Stops a cluster started by scripts/pg-start.sh and removes its directory.
#
#   scripts/pg-stop.sh [DIR]    # DIR defaults to $MEMBERLEDGER_PG_DIR
set -euo pipefail

dir=${1:-${MEMBERLEDGER_PG_DIR:-}}
if [ -z "$dir" ]; then
  echo "pg-stop: which cluster? give its directory, or set MEMBERLEDGER_PG_DIR" >&2
  exit 2
fi
case "$(basename "$dir")" in
  memberledger-pg.*) ;;
  *) echo "pg-stop: $dir was not made by pg-start.sh; left alone" >&2; exit 2 ;;
esac
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -f "$dir/data/postmaster.pid" ]; then
  as=()
  if [ "$(id -u)" = 0 ]; then
    as=(runuser -u "$(stat -c %U "$dir/data")" --)
  fi
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2
fi
rm -rf "$dir"
echo "pg-stop: stopped and removed $dir" >&2
