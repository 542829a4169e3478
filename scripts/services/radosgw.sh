#!/usr/bin/env bash
# A throwaway S3 server for the object-store tests: Ceph's RADOS Gateway (Debian's radosgw) on a
# one-node, in-memory Ceph cluster on 127.0.0.1, serving S3 over TLS 1.3 only.
#
#   scripts/services/radosgw.sh start    bootstrap (when not running) and start; idempotent
#   scripts/services/radosgw.sh env      print `export CALLVAULT_TEST_S3_*=...` lines
#   scripts/services/radosgw.sh status   exit 0 when running and answering S3
#   scripts/services/radosgw.sh stop     stop every daemon it started and delete all its state
#
# What it sets up, and why:
# - one ceph-mon and one ceph-osd on the memstore backend (no disk, nothing survives a stop),
#   `auth ... = none` (a loopback-only throwaway cluster; the S3 layer still signs requests
#   with SigV4 keys), pool size 1 and small pg counts, so a cold start takes seconds;
# - `ms mon client mode = crc secure`: without it radosgw hangs at start-up negotiating with
#   the monitor;
# - radosgw's beast frontend with an `ssl_endpoint` only (no plaintext listener), a server
#   certificate for 127.0.0.1/localhost from a throwaway CA, and ssl_options refusing SSLv2/3
#   and TLS 1.0/1.1/1.2, so the store runs with certificate verification on, over TLS 1.3;
# - one S3 user with random keys (kept 0600 in the state dir).
#
# Works on a fresh Debian bookworm machine: installs radosgw ceph-mon ceph-osd with apt-get when
# missing (needs root; the daemons run as root too, which is fine for a loopback throwaway).
# State lives in $ROOT/.services/radosgw; CALLVAULT_SERVICES_DIR overrides the parent directory.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_tls.sh"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BASE="${CALLVAULT_SERVICES_DIR:-$ROOT/.services}/radosgw"
CONF="$BASE/ceph.conf"
TLS="$BASE/tls"      # ca.crt for clients; ca.key and server.key stay 0600
STATE="$BASE/state"  # ports and S3 keys (0600)
RUN="$BASE/run"      # pid files and admin sockets
LOGS="$BASE/log"
OUT="$LOGS/start.out" # what the daemons and tools print while starting
S3_USER="callvault-test"

die() { echo "radosgw.sh: $*" >&2; exit 1; }

# A start-up step failed: show the daemon's log, stop what was started, keep nothing.
fail() {
  echo "radosgw.sh: $1; the last lines of $2's log:" >&2
  tail -n 20 "$LOGS/$2.log" "$OUT" >&2 2>/dev/null || true
  stop
  exit 1
}

install_prerequisites() {
  local missing=()
  command -v radosgw >/dev/null 2>&1 || missing+=(radosgw)
  command -v ceph-mon >/dev/null 2>&1 || missing+=(ceph-mon)
  command -v ceph-osd >/dev/null 2>&1 || missing+=(ceph-osd)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  [ "${#missing[@]}" = 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}; run as root or: apt-get install ${missing[*]}"
  echo "radosgw.sh: installing ${missing[*]} with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

make_certs() {
  mkdir -p "$TLS"
  new_test_certs "$TLS" "callvault throwaway S3 test CA"
}

write_config() {
  local mon_port="$1" s3_port="$2"
  cat >"$CONF" <<EOF
# Written by scripts/services/radosgw.sh: a one-node, in-memory, loopback-only test cluster.
[global]
fsid = $(cat "$STATE/fsid")
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure
mon allow pool size one = true
mon allow pool delete = true
# Commit monitor changes (the osd, pools) at once, not batched per second: faster start-up.
paxos propose interval = 0.05
paxos min wait = 0.01
mon warn on pool no redundancy = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 1
osd pool default pgp num = 1
osd pool default pg autoscale mode = off
osd objectstore = memstore
memstore device bytes = 2147483648
osd crush chooseleaf type = 0
run dir = $RUN
admin socket = $RUN/\$name.asok
pid file = $RUN/\$name.pid
log file = $LOGS/\$name.log
mon data = $BASE/mon/\$name
osd data = $BASE/osd/\$name
keyring = /dev/null
[client.rgw.test]
rgw frontends = beast ssl_endpoint=127.0.0.1:$s3_port ssl_certificate=$TLS/server.crt ssl_private_key=$TLS/server.key ssl_options=no_sslv2:no_sslv3:no_tlsv1:no_tlsv1_1:no_tlsv1_2
rgw dns name = localhost
rgw thread pool size = 64
EOF
}

ceph_() { ceph -c "$CONF" --connect-timeout 20 "$@"; }

# Every pid file we wrote, for a daemon that is still ours (checked by its command line).
our_pids() {
  local f pid
  for f in "$RUN"/*.pid; do
    [ -s "$f" ] || continue
    pid="$(cat "$f")"
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$CONF"; then
      echo "$pid"
    fi
  done
}

s3_answers() {
  [ -s "$STATE/s3_port" ] && curl -s -o /dev/null --max-time 5 --cacert "$TLS/ca.crt" \
    "https://127.0.0.1:$(cat "$STATE/s3_port")/"
}

is_running() {
  [ -f "$CONF" ] && [ -s "$STATE/access_key" ] && [ "$(our_pids | wc -l)" = 3 ] && s3_answers
}

bootstrap() {
  stop
  mkdir -p "$STATE" "$RUN" "$LOGS" "$BASE/mon" "$BASE/osd/osd.0"
  chmod 700 "$BASE" "$STATE"
  cat /proc/sys/kernel/random/uuid >"$STATE/fsid"
  free_port >"$STATE/mon_port"
  free_port >"$STATE/s3_port"
  make_certs
  write_config "$(cat "$STATE/mon_port")" "$(cat "$STATE/s3_port")"
  local fsid mon_port
  fsid="$(cat "$STATE/fsid")"
  mon_port="$(cat "$STATE/mon_port")"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$BASE/monmap" \
    >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$BASE/monmap" >>"$OUT" 2>&1 \
    || fail "ceph-mon --mkfs failed" mon.a
  ceph-mon -c "$CONF" -i a >>"$OUT" 2>&1 || fail "ceph-mon did not start" mon.a
  local osd_uuid
  osd_uuid="$(cat /proc/sys/kernel/random/uuid)"
  [ "$(ceph_ osd new "$osd_uuid" 2>>"$OUT")" = 0 ] || fail "ceph osd new failed" mon.a
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$OUT" 2>&1 \
    || fail "ceph-osd --mkfs failed" osd.0
  ceph-osd -c "$CONF" -i 0 >>"$OUT" 2>&1 || fail "ceph-osd did not start" osd.0
  # radosgw would create its pools one by one, waiting for each; creating them all at once
  # first (in parallel, one placement group each) saves most of its start-up time.
  local pool pids=()
  for pool in .rgw.root default.rgw.{log,control,meta,buckets.index,buckets.data,buckets.non-ec}; do
    ceph_ osd pool create "$pool" 1 1 >>"$OUT" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || fail "ceph osd pool create failed" mon.a; done
  radosgw -c "$CONF" -n client.rgw.test >>"$OUT" 2>&1 || fail "radosgw did not start" client.rgw.test
  local i
  for i in $(seq 1 120); do
    s3_answers && break
    [ "$i" = 120 ] && fail "radosgw did not answer in 60 s" client.rgw.test
    sleep 0.5
  done
  (
    umask 077
    openssl rand -hex 10 | tr 'a-f' 'A-F' >"$STATE/access_key"
    openssl rand -hex 20 >"$STATE/secret_key"
  )
  radosgw-admin -c "$CONF" user create --uid "$S3_USER" --display-name "callvault tests" \
    --access-key "$(cat "$STATE/access_key")" --secret "$(cat "$STATE/secret_key")" \
    >>"$OUT" 2>&1 || fail "radosgw-admin user create failed" client.admin
}

start() {
  install_prerequisites
  if is_running; then return 0; fi
  local started=$SECONDS
  bootstrap
  echo "radosgw.sh: radosgw (S3 over TLS 1.3) on https://127.0.0.1:$(cat "$STATE/s3_port")" \
    "after $((SECONDS - started)) s" >&2
}

print_env() {
  is_running || die "not running; run: $0 start"
  echo "export CALLVAULT_TEST_S3_ENDPOINT='https://127.0.0.1:$(cat "$STATE/s3_port")'"
  echo "export CALLVAULT_TEST_S3_CA='$TLS/ca.crt'"
  echo "export CALLVAULT_TEST_S3_ACCESS_KEY='$(cat "$STATE/access_key")'"
  echo "export CALLVAULT_TEST_S3_SECRET_KEY='$(cat "$STATE/secret_key")'"
}

stop() {
  local pids pid i
  if [ -d "$RUN" ]; then
    pids="$(our_pids)"
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for i in $(seq 1 50); do
      [ -z "$(our_pids)" ] && break
      sleep 0.1
    done
    for pid in $(our_pids); do kill -9 "$pid" 2>/dev/null || true; done
  fi
  rm -rf "$BASE"
  rmdir "$(dirname "$BASE")" 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  env) print_env ;;
  status) is_running ;;
  stop) stop ;;
  *) die "usage: $0 start|stop|env|status" ;;
esac
