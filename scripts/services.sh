#!/usr/bin/env bash
# Start or stop the real servers the provider tests use: Redis and PostgreSQL, on loopback, on
# free ports, with throw-away data directories. Nothing is mocked.
#
#   scripts/services.sh start   # installs what is missing (apt-get: also nats-server, which the
#                               # NATS tests start themselves), starts both, writes $ENV_FILE
#   source "$ENV_FILE"          # exports SWITCHBOARD_TEST_REDIS_URL / SWITCHBOARD_TEST_POSTGRES_URL
#   scripts/services.sh stop    # stops what `start` started (by pid) and removes the data dirs
#
# State lives in $SWITCHBOARD_SERVICES_DIR (default /tmp/switchboard-services); the env file is
# $SWITCHBOARD_SERVICES_DIR/env.sh unless SWITCHBOARD_SERVICES_ENV names another path.
#
# Redis databases: SWITCHBOARD_TEST_REDIS_URL names database 0 of the one server. Suites may run
# at the same time (two `cargo test` commands against one server, or a parallel test runner), and
# one of them wipes its database (FLUSHDB), so each suite takes its own database number from that
# URL (same host and port, the path replaced by `/<db>`):
#
#   db 0   nobody (scratch for manual runs)
#   db 1   providers/tests/kvstore.rs   (the only suite that runs FLUSHDB)
#   db 2   host/cli/tests/tarmac.rs
#   db 3   host/cli/tests/crash.rs
#
# A new suite using Redis takes the next free number and adds itself here.
set -euo pipefail

STATE="${SWITCHBOARD_SERVICES_DIR:-/tmp/switchboard-services}"
ENV_FILE="${SWITCHBOARD_SERVICES_ENV:-$STATE/env.sh}"

log() { echo "services: $*" >&2; }
die() { log "$*"; exit 1; }

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null || die "apt-get not available; install $* by hand"
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# A TCP port nothing listens on now (the kernel picks it).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || { for _ in $(seq 50); do p=$((20000 + RANDOM % 40000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; die "no free port"; }
}

# Run a command as the unprivileged `postgres` user when we are root (the server refuses root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_bin() {
  local name=$1
  if command -v "$name" >/dev/null; then command -v "$name"; return; fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n1 || true)
  [ -n "$found" ] && echo "$found"
}

# The NATS tests (nats/tests) start one `nats-server` per test on a free port; only the binary
# is needed here (Debian's 2.9).
ensure_nats_server() {
  if ! command -v nats-server >/dev/null; then apt_install nats-server; fi
  log "nats-server: $(command -v nats-server) ($(nats-server --version 2>&1 | head -n1))"
}

start_redis() {
  if ! command -v redis-server >/dev/null; then apt_install redis-server; fi
  local port dir
  port=$(free_port)
  dir="$STATE/redis"
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && [ -s "$dir/redis.pid" ]; then
      echo "export SWITCHBOARD_TEST_REDIS_URL=redis://127.0.0.1:$port/0" >>"$ENV_FILE"
      log "redis on 127.0.0.1:$port (pid $(cat "$dir/redis.pid"))"
      return
    fi
    sleep 0.1
  done
  cat "$dir/redis.log" >&2 || true
  die "redis did not start"
}

start_postgres() {
  if [ -z "$(pg_bin initdb)" ] || [ -z "$(pg_bin pg_ctl)" ]; then apt_install postgresql; fi
  local initdb pg_ctl port dir
  initdb=$(pg_bin initdb)
  pg_ctl=$(pg_bin pg_ctl)
  [ -n "$initdb" ] && [ -n "$pg_ctl" ] || die "initdb/pg_ctl not found after install"
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi
  port=$(free_port)
  dir="$STATE/postgres"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_pg "$initdb" -D "$dir/data" -A trust -U postgres >"$STATE/initdb.log" 2>&1 \
    || { cat "$STATE/initdb.log" >&2; die "initdb failed"; }
  as_pg "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
    || { cat "$dir/server.log" >&2; die "postgres did not start"; }
  echo "export SWITCHBOARD_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres" >>"$ENV_FILE"
  log "postgres on 127.0.0.1:$port (pid $(head -n1 "$dir/data/postmaster.pid"))"
}

stop_all() {
  if [ -s "$STATE/redis/redis.pid" ]; then
    local pid
    pid=$(cat "$STATE/redis/redis.pid")
    kill "$pid" 2>/dev/null && log "stopped redis (pid $pid)" || true
  fi
  if [ -s "$STATE/postgres/data/postmaster.pid" ]; then
    local pg_ctl
    pg_ctl=$(pg_bin pg_ctl)
    if [ -n "$pg_ctl" ]; then
      as_pg "$pg_ctl" -D "$STATE/postgres/data" -m fast -w stop >/dev/null 2>&1 && log "stopped postgres" || true
    else
      kill "$(head -n1 "$STATE/postgres/data/postmaster.pid")" 2>/dev/null || true
    fi
  fi
  rm -rf "$STATE"
}

case "${1:-}" in
  start)
    stop_all
    mkdir -p "$STATE"
    : >"$ENV_FILE"
    start_redis
    start_postgres
    ensure_nats_server
    log "environment written to $ENV_FILE"
    ;;
  stop)
    stop_all
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
