#!/usr/bin/env bash
# Installs PostgreSQL from Debian's packages (if missing), starts a cluster on
# 127.0.0.1:5432 and creates the `registry` user and database used by tests.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGDATA=/tmp/oauth-registry-ci-pg
if ! su postgres -c "$PGBIN/pg_isready -h 127.0.0.1 -p 5432" >/dev/null 2>&1; then
  rm -rf "$PGDATA"
  mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA"
  su postgres -c "$PGBIN/initdb -D $PGDATA -A trust -U postgres" >/dev/null
  su postgres -c "$PGBIN/pg_ctl -D $PGDATA -o '-c listen_addresses=127.0.0.1 -p 5432 -k /tmp' -l $PGDATA/log -w start" >/dev/null
fi
psql_admin() { su postgres -c "psql -h 127.0.0.1 -p 5432 -U postgres -v ON_ERROR_STOP=1 -qtAc \"$1\""; }
if [ "$(psql_admin "select 1 from pg_roles where rolname='registry'")" != "1" ]; then
  psql_admin "create role registry login password 'registry'"
fi
if [ "$(psql_admin "select 1 from pg_database where datname='registry'")" != "1" ]; then
  psql_admin "create database registry owner registry"
fi
echo "PostgreSQL ready on 127.0.0.1:5432"
