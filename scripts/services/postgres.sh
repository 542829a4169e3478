#!/usr/bin/env bash
# A throwaway PostgreSQL for the records-store tests, on 127.0.0.1, that speaks TLS 1.3 only.
#
#   scripts/services/postgres.sh start    init (once) and start the server; idempotent
#   scripts/services/postgres.sh env      print `export CALLVAULT_TEST_PG_*=...` lines
#   scripts/services/postgres.sh status   exit 0 when running
#   scripts/services/postgres.sh stop     stop the server and delete its data, certs, passwords
#
# What it sets up, and why (the tests prove each point against this server):
# - a throwaway CA and a server certificate for CN=localhost, SAN DNS:localhost + IP:127.0.0.1,
#   so clients can use sslmode=verify-full against 127.0.0.1;
# - ssl = on, ssl_min_protocol_version = 'TLSv1.3': the server refuses TLS 1.2 and below;
# - pg_hba.conf with one `hostssl ... scram-sha-256` line and nothing else: no `host` line, so a
#   plaintext connection is refused; no `local` line, so there is no socket side door;
# - roles: callvault_owner (owns the schema, runs migrations, may create test databases) and
#   callvault_app (plain login role: no superuser, no BYPASSRLS, owns nothing), random passwords.
#
# Works on a fresh Debian machine: installs postgresql and openssl with apt-get when missing.
# Runs the server as the OS user `postgres` when invoked as root (creates the user if missing).
# State lives in $ROOT/.services/postgres (or /tmp/callvault-services-<hash>/postgres when the
# postgres user cannot reach $ROOT); CALLVAULT_SERVICES_DIR overrides the parent directory.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_tls.sh"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

die() { echo "postgres.sh: $*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

find_pg_bin() {
  local cand
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return 0
  fi
  for cand in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$cand/initdb" ] && [ -x "$cand/pg_ctl" ] && [ -x "$cand/postgres" ]; then
      echo "$cand"
      return 0
    fi
  done
  return 1
}

install_prerequisites() {
  local missing=()
  find_pg_bin >/dev/null || missing+=(postgresql)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v runuser >/dev/null 2>&1 || ! is_root || missing+=(util-linux)
  [ "${#missing[@]}" = 0 ] && return 0
  is_root || die "missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root"
  # Debian's package would create and start a "main" cluster on 5432; we want only ours.
  mkdir -p /etc/postgresql-common
  [ -e /etc/postgresql-common/createcluster.conf ] \
    || echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
  echo "postgres.sh: installing ${missing[*]} with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
}

# Run a command as the database's OS user (postgres refuses to run as root).
as_pg() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

choose_base() {
  local parent="${CALLVAULT_SERVICES_DIR:-$ROOT/.services}"
  if [ -z "${CALLVAULT_SERVICES_DIR:-}" ] && is_root \
      && ! runuser -u postgres -- test -x "$ROOT" 2>/dev/null; then
    parent="/tmp/callvault-services-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
  fi
  echo "$parent/postgres"
}

BASE="$(choose_base)"
DATA="$BASE/data"      # owned by the postgres user
TLS="$BASE/tls"        # ca.crt for clients; ca.key stays root-only
STATE="$BASE/state"    # port and role passwords (0600)
LOG="$BASE/server.log"

free_port() {
  python3 - <<'EOF'
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
EOF
}

port_is_free() {
  python3 - "$1" <<'EOF'
import socket, sys
with socket.socket() as s:
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
EOF
}

make_certs() {
  if [ -s "$TLS/server.crt" ] && openssl x509 -checkend 86400 -noout -in "$TLS/server.crt" \
      >/dev/null 2>&1; then
    return 0
  fi
  mkdir -p "$TLS"
  chmod 755 "$TLS"
  new_test_certs "$TLS" "callvault throwaway test CA"
  # The server reads its key and certificate from its own data directory (owner-only).
  if [ -d "$DATA" ]; then install_server_cert; fi
}

install_server_cert() {
  install -m 600 "$TLS/server.key" "$DATA/server.key"
  install -m 644 "$TLS/server.crt" "$DATA/server.crt"
  if is_root; then chown postgres: "$DATA/server.key" "$DATA/server.crt"; fi
}

write_server_config() {
  local port="$1"
  cat >"$DATA/callvault.conf" <<EOF
# Written by scripts/services/postgres.sh; rewritten on every start.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_min_protocol_version = 'TLSv1.3'
password_encryption = 'scram-sha-256'
max_connections = 60
shared_buffers = 32MB
# A throwaway test cluster: durability is not worth the test time.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  # TLS only, passwords only, loopback only: no `host` (plaintext) and no `local` lines.
  printf '%s\n' "# Written by scripts/services/postgres.sh: TLS only." \
    "hostssl all all 127.0.0.1/32 scram-sha-256" >"$DATA/pg_hba.conf"
  if is_root; then chown postgres: "$DATA/callvault.conf" "$DATA/pg_hba.conf"; fi
}

psql_super() {
  local psql="$PG_BIN/psql"
  [ -x "$psql" ] || psql="psql"
  PGPASSWORD="$(cat "$STATE/postgres.pw")" "$psql" -X -q -v ON_ERROR_STOP=1 \
    "host=127.0.0.1 port=$(cat "$STATE/port") user=postgres dbname=postgres sslmode=verify-full sslrootcert=$TLS/ca.crt" \
    "$@"
}

init_cluster() {
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  for role in postgres callvault_owner callvault_app; do
    [ -s "$STATE/$role.pw" ] || (umask 077; openssl rand -hex 24 >"$STATE/$role.pw")
  done
  rm -rf "$DATA"
  mkdir -p "$DATA"
  chmod 700 "$DATA"
  local pwfile="$BASE/.initdb.pw"
  (umask 077; cp "$STATE/postgres.pw" "$pwfile")
  if is_root; then chown postgres: "$DATA" "$pwfile"; fi
  as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --pwfile="$pwfile" -E UTF8 --no-locale \
    --auth-host=scram-sha-256 --auth-local=reject >"$BASE/initdb.log" 2>&1 \
    || { rm -f "$pwfile"; cat "$BASE/initdb.log" >&2; die "initdb failed"; }
  rm -f "$pwfile"
  echo "include_if_exists = 'callvault.conf'" >>"$DATA/postgresql.conf"
  install_server_cert
}

create_roles() {
  local owner_pw app_pw
  owner_pw="$(cat "$STATE/callvault_owner.pw")"
  app_pw="$(cat "$STATE/callvault_app.pw")"
  psql_super <<EOF
CREATE ROLE callvault_owner LOGIN CREATEDB PASSWORD '$owner_pw';
CREATE ROLE callvault_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
  PASSWORD '$app_pw';
CREATE DATABASE callvault OWNER callvault_owner;
REVOKE ALL ON DATABASE postgres FROM PUBLIC;
EOF
  touch "$STATE/roles-created"
}

server_process_up() {
  [ -f "$DATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

# Up *and* answering on its port (a stale pid file can name a recycled process id).
is_running() {
  server_process_up && [ -s "$STATE/port" ] \
    && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$(cat "$STATE/port")" -t 5 >/dev/null 2>&1
}

start() {
  install_prerequisites
  PG_BIN="$(find_pg_bin)" || die "PostgreSQL binaries not found"
  if is_root && ! id postgres >/dev/null 2>&1; then useradd -r -m postgres; fi
  if is_running; then return 0; fi
  mkdir -p "$BASE"
  chmod 755 "$BASE"
  make_certs
  [ -f "$DATA/PG_VERSION" ] && [ -f "$STATE/roles-created" ] || init_cluster
  local port=""
  [ -s "$STATE/port" ] && port="$(cat "$STATE/port")"
  if [ -z "$port" ] || ! port_is_free "$port"; then port="$(free_port)"; fi
  echo "$port" >"$STATE/port"
  write_server_config "$port"
  touch "$LOG"
  if is_root; then chown postgres: "$LOG"; fi
  as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null \
    || { tail -n 30 "$LOG" >&2; die "the server did not start (log above)"; }
  [ -f "$STATE/roles-created" ] || create_roles
  echo "postgres.sh: PostgreSQL (TLS 1.3 only) running on 127.0.0.1:$port" >&2
}

urlquote() {
  python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
}

print_env() {
  PG_BIN="$(find_pg_bin)" || die "PostgreSQL binaries not found"
  is_running || die "not running; run: $0 start"
  local port ca
  port="$(cat "$STATE/port")"
  ca="$(urlquote "$TLS/ca.crt")"
  for role in app owner; do
    local var="CALLVAULT_TEST_PG_URL"
    [ "$role" = owner ] && var="CALLVAULT_TEST_PG_OWNER_URL"
    printf "export %s='postgresql+psycopg://callvault_%s:%s@127.0.0.1:%s/callvault?%s'\n" \
      "$var" "$role" "$(cat "$STATE/callvault_$role.pw")" "$port" \
      "sslmode=verify-full&sslrootcert=$ca"
  done
}

stop() {
  if PG_BIN="$(find_pg_bin)" && server_process_up; then
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
  fi
  rm -rf "$BASE"
  rmdir "$(dirname "$BASE")" 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  env) print_env ;;
  status) PG_BIN="$(find_pg_bin)" && is_running ;;
  stop) stop ;;
  *) die "usage: $0 start|stop|env|status" ;;
esac
