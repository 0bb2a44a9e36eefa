# A throwaway PostgreSQL 15 cluster in a temp dir, on a unix socket only.
# Source this file, then: pg_start; ... "$KIC_PG_BASE" ...; pg_stop.
# fsync and synchronous_commit stay on: durability tests need the real thing.

pg_bindir() {
  local d
  d=$(pg_config --bindir 2>/dev/null || true)
  if [ -x "$d/initdb" ]; then echo "$d"; return; fi
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  echo "pg.sh: no PostgreSQL server binaries (run scripts/bootstrap)" >&2
  return 1
}

# Runs a server binary as the postgres user when we are root (initdb and
# postgres refuse to run as root).
pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# KIC_PG_SETTINGS: more server settings ("-c name=value ..."), for the
# benchmarks.
pg_start() {
  local bin port
  bin=$(pg_bindir)
  port=${KIC_PG_PORT:-5432}
  KIC_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kic-pg.XXXXXX")
  chmod 755 "$KIC_PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres "$KIC_PG_DIR"
  pg_as_owner "$bin/initdb" -D "$KIC_PG_DIR/data" -U kic -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$KIC_PG_DIR/initdb.log" 2>&1 || { cat "$KIC_PG_DIR/initdb.log" >&2; return 1; }
  pg_as_owner "$bin/pg_ctl" -D "$KIC_PG_DIR/data" -l "$KIC_PG_DIR/server.log" -w -t 60 \
    -o "-k $KIC_PG_DIR -p $port -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c max_connections=300 -c shared_buffers=256MB ${KIC_PG_SETTINGS:-}" \
    start >/dev/null || { cat "$KIC_PG_DIR/server.log" >&2; return 1; }
  export KIC_PG_DIR
  export KIC_PG_BASE="host=$KIC_PG_DIR port=$port user=kic"
  export KIC_PG_BINDIR="$bin"
}

pg_stop() {
  [ -n "${KIC_PG_DIR:-}" ] || return 0
  if [ -d "$KIC_PG_DIR/data" ]; then
    pg_as_owner "$KIC_PG_BINDIR/pg_ctl" -D "$KIC_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$KIC_PG_DIR"
  unset KIC_PG_DIR
}
