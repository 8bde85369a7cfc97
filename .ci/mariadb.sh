#!/usr/bin/env bash
# Installs MariaDB from Debian's packages (if missing), starts a server on
# 127.0.0.1:3306 with its data under /tmp and creates the `registry` user and
# database used by tests (MYSQL_URL=mysql://registry:registry@127.0.0.1:3306/registry).
set -euo pipefail
if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null
fi
DATADIR=/tmp/oauth-registry-ci-mariadb
SOCK=$DATADIR/mysqld.sock
admin() { mariadb --protocol=socket -S "$SOCK" -uroot -N -e "$1"; }
if ! mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -uregistry -pregistry ping >/dev/null 2>&1; then
  if [ ! -d "$DATADIR/mysql" ]; then
    rm -rf "$DATADIR"
    mkdir -p "$DATADIR" && chown mysql:mysql "$DATADIR"
    mariadb-install-db --user=mysql --datadir="$DATADIR" --auth-root-authentication-method=socket >/dev/null
  fi
  # character-set-server/collation only set defaults; the adapter's tables
  # declare their own charset and collation.
  # The server holds none of this script's file descriptors, so a caller
  # reading our output (a pipe, the CI log) is not kept waiting by it.
  (cd / && exec /usr/sbin/mariadbd --user=mysql --datadir="$DATADIR" \
    --bind-address=127.0.0.1 --port=3306 --socket="$SOCK" --pid-file="$DATADIR/mysqld.pid" \
    --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --log-error="$DATADIR/error.log") </dev/null >/dev/null 2>&1 &
  disown 2>/dev/null || true
  for _ in $(seq 1 60); do
    [ -S "$SOCK" ] && admin "select 1" >/dev/null 2>&1 && break
    sleep 0.5
  done
  admin "create database if not exists registry character set utf8mb4"
  admin "create user if not exists 'registry'@'127.0.0.1' identified by 'registry'"
  admin "create user if not exists 'registry'@'localhost' identified by 'registry'"
  admin "grant all privileges on registry.* to 'registry'@'127.0.0.1'"
  admin "grant all privileges on registry.* to 'registry'@'localhost'"
fi
mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -uregistry -pregistry ping >/dev/null
echo "MariaDB $(mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -uregistry -pregistry -N -e 'select version()') ready on 127.0.0.1:3306"
