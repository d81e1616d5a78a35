#!/usr/bin/env bash
# Starts the servers the test suite needs, idempotently: Redis on 127.0.0.1:6379 (installed
# from Debian when missing) and PostgreSQL 15 (cluster "15 main") with role postgres/postgres
# and a database "test". Safe to run any number of times.
set -euo pipefail

log() { printf '[services] %s\n' "$*"; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# --- Redis -------------------------------------------------------------------------------
if ! command -v redis-server >/dev/null 2>&1; then
  log "installing redis-server from Debian"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
fi
if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "redis already running on 127.0.0.1:6379"
else
  log "starting redis-server on 127.0.0.1:6379"
  redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no --daemonize yes >/dev/null
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
fi

# --- PostgreSQL --------------------------------------------------------------------------
if command -v pg_ctlcluster >/dev/null 2>&1; then
  if pg_lsclusters -h 2>/dev/null | awk '$1=="15" && $2=="main" {print $4}' | grep -q online; then
    log "postgresql 15/main already running"
  else
    log "starting postgresql 15/main"
    $SUDO pg_ctlcluster --skip-systemctl-redirect 15 main start
  fi
  for _ in $(seq 1 50); do
    su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1 && break
    sleep 0.2
  done
  su postgres -c "psql -qAtc \"ALTER ROLE postgres PASSWORD 'postgres'\"" >/dev/null
  if ! su postgres -c "psql -qAtc \"SELECT 1 FROM pg_database WHERE datname='test'\"" | grep -q 1; then
    su postgres -c "createdb test"
  fi
  log "postgresql ready (database test)"
  # The PgBouncer test starts its own pgbouncer on loopback; only the binary is needed.
  if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
    log "installing pgbouncer from Debian (binary only, for test/postgres/pgbouncer.test.ts)"
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq pgbouncer >/dev/null; } ||
      log "could not install pgbouncer; its test will say so"
  fi
else
  log "PostgreSQL 15 is not installed here; its tests will say so"
fi
