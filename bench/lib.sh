# Helpers for bench/run (sourced, never run): the kept PostgreSQL cluster
# that holds the year of calls between runs, kicd started and stopped with
# a config of our own, and the small statistics the table needs.
# Expects ROOT, BIN and WORK to be set, and scripts/lib/pg.sh sourced.

# ---- the kept cluster --------------------------------------------------
# Same settings as scripts/lib/pg.sh (fsync and synchronous_commit on,
# 256 MB shared buffers), but in a directory that outlives the run, so the
# year generated through kicd (about ten minutes) is generated once.

keep_pg_init() { # $1 = directory
  local dir=$1 bin
  bin=$(pg_bindir)
  rm -rf "$dir"
  mkdir -p "$dir"
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  pg_as_owner "$bin/initdb" -D "$dir/data" -U kic -A trust -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
}

keep_pg_start() { # $1 = directory, $2 = port; sets KEEP_PG_BASE
  local dir=$1 port=$2 bin
  bin=$(pg_bindir)
  pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 \
    -o "-k $dir -p $port -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c max_connections=300 -c shared_buffers=256MB" \
    start >/dev/null || { tail -20 "$dir/server.log" >&2; return 1; }
  KEEP_PG_DIR=$dir
  KEEP_PG_BASE="host=$dir port=$port user=kic"
}

keep_pg_stop() {
  [ -n "${KEEP_PG_DIR:-}" ] || return 0
  pg_as_owner "$(pg_bindir)/pg_ctl" -D "$KEEP_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  KEEP_PG_DIR=""
}

# ---- kicd --------------------------------------------------------------

# Starts kicd on $KICD_PORT/$KICD_HTTP against conninfo $1 without
# waiting; $2 = name of the run (its log is $WORK/kicd-NAME.log); further
# arguments are extra INI lines for [limits]. Sets KICD_PID, KICD_LOG.
kicd_launch() {
  local pg=$1 name=$2
  shift 2
  KICD_LOG=$WORK/kicd-$name.log
  {
    printf '[server]\nlisten = 127.0.0.1:%s\nhttp = 127.0.0.1:%s\npg = %s\nlog_level = %s\n' \
      "$KICD_PORT" "$KICD_HTTP" "$pg" "${KICD_LOG_LEVEL:-info}"
    printf '[storage]\njournal_path = %s/kicd-%s.journal\n' "$WORK" "$name"
    # the generated day of calls runs into tomorrow (ingest_load.c)
    printf '[metrics]\nevent_skew_s = 172800\n'
    printf '[callers]\nsecret = bench-secret-not-for-production\n[limits]\n'
    printf '%s\n' "$@"
  } >"$WORK/kicd-$name.ini"
  "$BIN/server/kicd" --config "$WORK/kicd-$name.ini" 2>"$KICD_LOG" &
  KICD_PID=$!
}

# kicd_launch, then waits until its port takes connections.
kicd_start() {
  kicd_launch "$@"
  local _
  for _ in $(seq 1200); do
    nc -z 127.0.0.1 "$KICD_PORT" 2>/dev/null && return 0
    kill -0 "$KICD_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "bench: kicd did not start" >&2
  tail -20 "$KICD_LOG" >&2
  return 1
}

kicd_stop() {
  [ -n "${KICD_PID:-}" ] || return 0
  kill "$KICD_PID" 2>/dev/null || true
  wait "$KICD_PID" 2>/dev/null || true
  KICD_PID=""
}

# VmRSS of a process in KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# ---- statistics and the table ------------------------------------------

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
field() { sed -n "s/.*[ ^]$1=\([-0-9.e]*\).*/\1/p" | head -1; }
ratio() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN{if (b == 0) print "-"; else printf f "\n", a / b}'; }
# true (0) when awk expression $1 holds
holds() { awk "BEGIN{exit !($1)}"; }

# One row of the result table: figure, kicd's value, the baseline, the
# ratio, the target and whether it was met (yes / no / -), and a note.
table_row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$WORK/table.tsv"; }

table_print() {
  local fmt='%-4s %-56s %12s  %-28s %8s  %-10s %-4s  %s\n'
  # shellcheck disable=SC2059
  printf "$fmt" "#" "figure" "kicd" "baseline" "ratio" "target" "met" "notes"
  printf '%s\n' "$(printf '%.0s-' $(seq 140))"
  while IFS=$'\t' read -r n fig val base rat tgt met note; do
    # shellcheck disable=SC2059
    printf "$fmt" "$n" "$fig" "$val" "$base" "$rat" "$tgt" "$met" "$note"
  done <"$WORK/table.tsv"
}

say() { echo "bench: $*" >&2; }
