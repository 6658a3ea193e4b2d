#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster on 127.0.0.1:${RETAIN_PG_PORT:-55432} (trust auth) for tests
# and benchmarks, installing Debian's postgresql first when it is missing. Prints the URL to use.
set -euo pipefail
PORT=${RETAIN_PG_PORT:-55432}
DATA=${RETAIN_PG_DATA:-/tmp/retain-pg-$PORT}
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  echo "installing postgresql from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
if ! "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  rm -rf "$DATA" && mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && chown postgres "$DATA"
  run_pg "'$PGBIN/initdb' -D '$DATA' -A trust -U postgres -E UTF8 --no-locale" >&2
  run_pg "'$PGBIN/pg_ctl' -D '$DATA' -l '$DATA/server.log' -w start -o \"-c listen_addresses=127.0.0.1 -p $PORT -k /tmp -c shared_buffers=512MB -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off\"" >&2
fi
echo "postgres://postgres@127.0.0.1:$PORT/postgres"
