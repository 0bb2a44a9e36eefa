# The figures of bench/run, one function each (sourced). Each measures
# kicd and its baseline in the same run and adds one or two rows to the
# table (bench/lib.sh table_row). Figures 1-5 run against the throwaway
# cluster (KIC_PG_BASE), 6-7 against the kept year of calls (KEEP_PG_BASE).

probe() { "$BIN/bench/kic-bench-probe" "$@"; }
# started in the background, so called directly: a function would put a
# subshell between the PID and the client, and killing it would leave the
# client behind
CONNS=$BIN/bench/kic-bench-conns
addr() { echo "127.0.0.1:$KICD_PORT"; }

# A new database on the throwaway cluster, migrated, with a bridge, a
# supervisor and one agent (kic-agent-01): SCRATCH_PG, BRIDGE, SUPER, AGENT.
scratch_db() {
  SCRATCH_PG="$KIC_PG_BASE dbname=$1"
  pgsql "$KIC_PG_BASE dbname=postgres" -c "CREATE DATABASE $1"
  "$BIN/tools/kicctl/kicctl" --pg "$SCRATCH_PG" migrate >/dev/null
  local user=("$BIN/tools/kicctl/kicctl" --pg "$SCRATCH_PG" user create --tenant bench)
  BRIDGE=$("${user[@]}" --name pbx --role bridge | tail -1)
  SUPER=$("${user[@]}" --name super --role supervisor | tail -1)
  AGENT=$("${user[@]}" --name kic-agent-01 --role agent --teams kic | tail -1)
}

# Waits (up to $2 s) for a line matching $3 in file $1.
wait_for_line() {
  local i
  for i in $(seq $(($2 * 10))); do
    grep -q "$3" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# ---- 1. ingest ---------------------------------------------------------

# Each writer (kicd, COPY, the naive inserts) starts right after a
# checkpoint: otherwise one pays for the WAL another left (a checkpoint
# in the middle of a run, and full-page images after it), and runs after
# the first were up to a third slower, whichever was measured.
checkpoint() {
  pgsql "$SCRATCH_PG" -c CHECKPOINT
}
# A server that has run a while recycles its WAL segments; a fresh
# cluster creates and zero-fills each one on first use. That took a tenth
# of kicd's writer session's time (runs up to a quarter slower; RESULTS.md,
# stop 16), and fell on whichever writer came first, kicd. So the cluster keeps
# 2 GB of segments (min_wal_size, bench/run) and they are made here,
# once, before any writer is measured: about five times the WAL of one
# kicd run.
wal_warm() {
  pgsql "$KIC_PG_BASE dbname=postgres" \
    -c "CREATE TABLE wal_warm AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 1000000) g" \
    -c "DROP TABLE wal_warm" -c CHECKPOINT
  say "WAL warmed: $(find "$KIC_PG_DIR/data/pg_wal" -maxdepth 1 -type f -name '0*' | wc -l) segments"
}

# kicd's durable acks over one pipelined bridge
# connection, then COPY of the very same rows and one INSERT per
# transaction, each run in a fresh database. The bridge keeps up to
# INGEST_WINDOW events unanswered (kicd's max_outstanding raised to let
# it): with 4,000 the batches stay near 650 events and the pipeline to
# PostgreSQL runs dry between them.
INGEST_WINDOW=${INGEST_WINDOW:-8000}

fig_ingest() {
  local run out rate stored
  : >"$WORK/ingest.kicd"; : >"$WORK/ingest.copy"; : >"$WORK/ingest.copyall"; : >"$WORK/ingest.naive"
  wal_warm
  for run in $(seq "$RUNS"); do
    scratch_db "ingest_$run"
    checkpoint
    KICD_LOG_LEVEL=warn kicd_start "$SCRATCH_PG" "ingest-$run" \
      "max_outstanding = $((INGEST_WINDOW + 2000))"
    out=$("$BIN/bench/kic-bench-ingest" throughput "$(addr)" "$BRIDGE" "$INGEST_EVENTS" \
      "$INGEST_WINDOW")
    kicd_stop
    rate=$(echo " $out" | field rate)
    echo "$rate" >>"$WORK/ingest.kicd"
    stored=$(pgsql -At "$SCRATCH_PG" -c "SELECT count(*) FROM events")
    [ "$stored" = "$INGEST_EVENTS" ] || { say "ingest: $stored of $INGEST_EVENTS events stored"; return 1; }
    ingest_copy "$SCRATCH_PG" >>"$WORK/ingest.copy"
    ingest_copy_all "$SCRATCH_PG" >>"$WORK/ingest.copyall"
    checkpoint
    "$BIN/bench/kic-bench-ingest" naive "$SCRATCH_PG" "$NAIVE_ROWS" | sed 's/^/ /' | field rate >>"$WORK/ingest.naive"
    say "ingest run $run: kicd $rate/s, COPY $(tail -1 "$WORK/ingest.copy")/s, COPY of all it stored $(tail -1 "$WORK/ingest.copyall")/s, naive $(tail -1 "$WORK/ingest.naive")/s"
    # gone, so autovacuum does not work on its tables during the next run
    pgsql "$KIC_PG_BASE dbname=postgres" -c "DROP DATABASE ingest_$run"
  done
  local k c a n
  k=$(median <"$WORK/ingest.kicd"); c=$(median <"$WORK/ingest.copy"); n=$(median <"$WORK/ingest.naive")
  a=$(median <"$WORK/ingest.copyall")
  table_row 1a "ingest: durable acks/s, 1 bridge conn [median]" "$k/s" "COPY $c rows/s" \
    "$(ratio "$k" "$c")" ">= 0.5x" "$(holds "$k >= 0.5 * $c" && echo yes || echo no)" \
    "$INGEST_EVENTS events, window $INGEST_WINDOW, $RUNS runs"
  table_row 1b "ingest vs one INSERT per transaction [median]" "$k/s" "naive $n rows/s" \
    "$(ratio "$k" "$n" %.1f)" ">= 20x" "$(holds "$k >= 20 * $n" && echo yes || echo no)" \
    "naive: $NAIVE_ROWS rows"
  table_row 1c "ingest vs COPY of every row kicd stored [median]" "$k/s" "COPY $a events/s" \
    "$(ratio "$k" "$a")" "-" "-" "events, keys, calls, legs, states, sums: the floor"
  fig_ingest_backlog "$k"
}

# The same events dated two days back: a bridge catching up. Each
# contact's repeat window then reaches past what kicd holds in memory,
# so its repeats are settled in storage too (it once ran at 2,000/s).
fig_ingest_backlog() {
  local today=$1 out rate stored
  scratch_db ingest_backlog
  checkpoint
  KICD_LOG_LEVEL=warn kicd_start "$SCRATCH_PG" "ingest-backlog" \
    "max_outstanding = $((INGEST_WINDOW + 2000))"
  out=$(KIC_BENCH_DAYS_BACK=2 "$BIN/bench/kic-bench-ingest" throughput "$(addr)" "$BRIDGE" \
    "$INGEST_EVENTS" "$INGEST_WINDOW")
  kicd_stop
  rate=$(echo " $out" | field rate)
  stored=$(pgsql -At "$SCRATCH_PG" -c "SELECT count(*) FROM events")
  [ "$stored" = "$INGEST_EVENTS" ] || { say "backlog: $stored of $INGEST_EVENTS events stored"; return 1; }
  say "ingest of a backlog: $rate/s"
  pgsql "$KIC_PG_BASE dbname=postgres" -c "DROP DATABASE ingest_backlog"
  table_row 1d "ingest of calls 2 days old (a backlog) [1 run]" "$rate/s" "today's $today/s" \
    "$(ratio "$rate" "$today")" "-" "-" "repeats settled in storage too"
}

# PostgreSQL's COPY of the events kicd stored, into a table of the same
# shape and indexes; prints rows/s.
ingest_copy() {
  local pg=$1 t0 t1
  pgsql "$pg" -c "\\copy (SELECT * FROM events) TO '$WORK/events.copy'"
  pgsql "$pg" -c "CREATE TABLE scratch (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES)"
  checkpoint
  t0=$(date +%s.%N)
  pgsql "$pg" -c "\\copy scratch FROM '$WORK/events.copy'"
  t1=$(date +%s.%N)
  rm -f "$WORK/events.copy"
  awk -v n="$INGEST_EVENTS" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f\n", n / (b - a)}'
}

# The floor under kicd's figure: COPY of every row the run left, into
# tables of the same shape and indexes, in one session: the events and
# their keys, the calls (as they ended: kicd inserted, then updated them
# as events came), the agents' legs of them, agent state intervals, the
# sums and their write marks.
# Prints the run's events over the time that took. kicd stores no less
# than this for its events (DESIGN.md); 1c shows how near it comes.
INGEST_TABLES="events event_keys calls call_legs agent_states call_sums_15m write_marks"
ingest_copy_all() {
  local pg=$1 t t0 t1 load=()
  for t in $INGEST_TABLES; do
    pgsql "$pg" -c "\\copy (SELECT * FROM $t) TO '$WORK/$t.copy'" \
      -c "CREATE TABLE scratch_$t (LIKE $t INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING STORAGE)"
    load+=(-c "\\copy scratch_$t FROM '$WORK/$t.copy'")
  done
  checkpoint
  t0=$(date +%s.%N)
  pgsql "$pg" "${load[@]}"
  t1=$(date +%s.%N)
  for t in $INGEST_TABLES; do rm -f "$WORK/$t.copy"; done
  awk -v n="$INGEST_EVENTS" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f\n", n / (b - a)}'
}

# ---- 2. wrap-up latency under load -------------------------------------

WRAPUP_RATE=50 # wrap-ups a second, one at a time

fig_wrapup() {
  local run bg count=$((PROBE_SECONDS * WRAPUP_RATE))
  scratch_db wrapup
  KICD_LOG_LEVEL=warn kicd_start "$SCRATCH_PG" wrapup
  : >"$WORK/wrapup.idle"; : >"$WORK/wrapup.loaded"; : >"$WORK/wrapup.bg"
  for run in $(seq "$RUNS"); do
    probe wrapup "$(addr)" "$BRIDGE" "$AGENT" kic-agent-01 "$count" "$WRAPUP_RATE" \
      | sed 's/^/ /' | field p99_ms >>"$WORK/wrapup.idle"
    # the background: 2,000 events/s over its own bridge connection,
    # running from 2 s before the probe until after it
    "$BIN/bench/kic-bench-ingest" latency "$(addr)" "$BRIDGE" "$BACKGROUND_RATE" \
      $((PROBE_SECONDS + 8)) >"$WORK/bg.out" &
    bg=$!
    HELPER_PIDS="$HELPER_PIDS $bg"
    sleep 2
    probe wrapup "$(addr)" "$BRIDGE" "$AGENT" kic-agent-01 "$count" "$WRAPUP_RATE" \
      | sed 's/^/ /' | field p99_ms >>"$WORK/wrapup.loaded"
    wait "$bg"
    sed 's/^/ /' "$WORK/bg.out" | field p99_ms >>"$WORK/wrapup.bg"
    say "wrap-up run $run: p99 $(tail -1 "$WORK/wrapup.loaded") ms loaded, $(tail -1 "$WORK/wrapup.idle") ms idle; background ack p99 $(tail -1 "$WORK/wrapup.bg") ms"
  done
  kicd_stop
  local l i b
  l=$(median <"$WORK/wrapup.loaded"); i=$(median <"$WORK/wrapup.idle"); b=$(median <"$WORK/wrapup.bg")
  table_row 2 "wrap-up p99, 2,000 events/s behind [median]" "$l ms" "no load: $i ms" \
    "$(ratio "$l" "$i")" "-" "-" \
    "$count wrap-ups at $WRAPUP_RATE/s; background's own ack p99 $b ms"
}

# ---- 3. live push latency ----------------------------------------------

fig_push() {
  local run samples=$((PROBE_SECONDS * 2)) out mode
  scratch_db push
  KICD_LOG_LEVEL=warn kicd_start "$SCRATCH_PG" push
  for mode in quiet busy; do : >"$WORK/push.$mode.p99"; : >"$WORK/push.$mode.p50"; : >"$WORK/push.$mode.max"; : >"$WORK/push.$mode.send"; done
  : >"$WORK/ping.p99"; : >"$WORK/ping.p50"
  for run in $(seq "$RUNS"); do
    for mode in quiet busy; do
      probe push "$(addr)" "$BRIDGE" "$SUPER" "$samples" "$mode" >"$WORK/push.out" || true
      out=$(grep '^ack_to_update' "$WORK/push.out" | sed 's/^[a-z_]*/ /')
      grep '^send_to_update' "$WORK/push.out" | sed 's/^[a-z_]*/ /' | field p99_ms >>"$WORK/push.$mode.send"
      echo "$out" | field p99_ms >>"$WORK/push.$mode.p99"
      echo "$out" | field p50_ms >>"$WORK/push.$mode.p50"
      echo "$out" | field max_ms >>"$WORK/push.$mode.max"
    done
    out=$(probe ping "$(addr)" "$SUPER" 10 50 | sed 's/^/ /')
    echo "$out" | field p99_ms >>"$WORK/ping.p99"
    echo "$out" | field p50_ms >>"$WORK/ping.p50"
    say "push run $run: ack->update p99 $(tail -1 "$WORK/push.quiet.p99") ms quiet, $(tail -1 "$WORK/push.busy.p99") ms busy; ping p99 $(tail -1 "$WORK/ping.p99") ms"
  done
  kicd_stop
  local r s
  r=$(median <"$WORK/ping.p99"); s=$(median <"$WORK/ping.p50")
  push_row 3a quiet "subscriber quiet" "$r" "$s" "$samples"
  push_row 3b busy "a call waiting" "$r" "$s" "$samples"
}

push_row() { # $1 = row, $2 = mode, $3 = label, $4/$5 = ping p99/p50, $6 = samples
  local p q m e
  p=$(median <"$WORK/push.$2.p99"); q=$(median <"$WORK/push.$2.p50"); m=$(median <"$WORK/push.$2.max")
  e=$(median <"$WORK/push.$2.send")
  table_row "$1" "push ack -> stats.update p99, $3 [median]" "$p ms" "ping p99 $4 ms" \
    "$(ratio "$p" "$4" %.1f)" "< 100 ms" "$(holds "$p < 100" && echo yes || echo no)" \
    "p50 $q ms (ping $5 ms), max $m ms; from sending the event (commit included) p99 $e ms; $6 events a run, interval_ms 250; 0 = the update left with the ack"
}

# ---- 4. memory of idle connections -------------------------------------

fig_rss() {
  local before after out idle
  scratch_db rss
  KICD_LOG_LEVEL=warn kicd_start "$SCRATCH_PG" rss "max_connections = $((IDLE_CONNS + 100))"
  probe ping "$(addr)" "$SUPER" 1 10 >/dev/null # one session has come and gone
  sleep 1
  before=$(rss_kib "$KICD_PID")
  "$CONNS" idle "$(addr)" "$SUPER" "$IDLE_CONNS" >"$WORK/idle.out" &
  idle=$!
  HELPER_PIDS="$HELPER_PIDS $idle"
  wait_for_line "$WORK/idle.out" 300 '^ready' || { say "rss: connections not all logged in"; cat "$WORK/idle.out" >&2; }
  sleep 2
  after=$(rss_kib "$KICD_PID")
  out=$(head -1 "$WORK/idle.out")
  kill "$idle" 2>/dev/null || true
  wait "$idle" 2>/dev/null || true
  kicd_stop
  local mb0 mb1
  mb0=$(awk -v k="$before" 'BEGIN{printf "%.1f", k / 1024}')
  mb1=$(awk -v k="$after" 'BEGIN{printf "%.1f", k / 1024}')
  table_row 4 "RSS with $IDLE_CONNS idle logged-in conns" "$mb1 MB" "no conns: $mb0 MB" \
    "$(ratio "$after" "$before" %.1f)" "<= 100 MB" "$(holds "$after <= 102400" && echo yes || echo no)" \
    "$(awk -v a="$after" -v b="$before" -v n="$IDLE_CONNS" 'BEGIN{printf "%.1f KiB a connection", (a - b) / n}'); one run (not noisy); $out"
}

# ---- 5. a normal client beside slowloris -------------------------------

SLOW_LOGIN_TIMEOUT=3600 # seconds: every slowloris connection stays open

fig_slowloris() {
  local run slow
  scratch_db slow
  KICD_LOG_LEVEL=warn kicd_start "$SCRATCH_PG" slow "max_connections = $((SLOW_CONNS + 200))" \
    "login_timeout_s = $SLOW_LOGIN_TIMEOUT"
  : >"$WORK/slow.with"; : >"$WORK/slow.without"
  for run in $(seq "$RUNS"); do
    probe ping "$(addr)" "$SUPER" "$PROBE_SECONDS" 100 | sed 's/^/ /' | field p99_ms >>"$WORK/slow.without"
    "$CONNS" slowloris "$(addr)" "$SLOW_CONNS" 1000 >"$WORK/slow.out" &
    slow=$!
    HELPER_PIDS="$HELPER_PIDS $slow"
    wait_for_line "$WORK/slow.out" 120 '^ready' || say "slowloris: not all connections open"
    sleep 2 # every connection has trickled a byte or two
    probe ping "$(addr)" "$SUPER" "$PROBE_SECONDS" 100 | sed 's/^/ /' | field p99_ms >>"$WORK/slow.with"
    kill "$slow"; wait "$slow" || true
    say "slowloris run $run: ping p99 $(tail -1 "$WORK/slow.with") ms with, $(tail -1 "$WORK/slow.without") ms without; $(tail -1 "$WORK/slow.out")"
  done
  kicd_stop
  local w o
  w=$(median <"$WORK/slow.with"); o=$(median <"$WORK/slow.without")
  table_row 5 "ping p99 beside $SLOW_CONNS slowloris conns [median]" "$w ms" "without: $o ms" \
    "$(ratio "$w" "$o" %.1f)" "< 50 ms" "$(holds "$w < 50" && echo yes || echo no)" \
    "1 byte/s each; login_timeout_s=$SLOW_LOGIN_TIMEOUT so all stay open; $(tail -1 "$WORK/slow.out" | sed 's/ bytes=.*//')"
}

# ---- 6. the year's report ----------------------------------------------

REPORT_RUNS=5

# The report's range: the whole generated period, local days.
report_range() {
  REPORT_FROM=$(date -u -d "${YEAR_UNTIL%T*} -$YEAR_DAYS days" +%Y-%m-%dT00:00:00Z)
  REPORT_TO=$(date -u -d "${YEAR_UNTIL%T*} +1 day" +%Y-%m-%dT00:00:00Z)
}

# One report over HTTP: prints "seconds bytes".
report_get() { # $1 = interval
  curl -sf -o /dev/null -w '%{time_total} %{size_download}\n' \
    -H "Authorization: Bearer $YEAR_SUPER" \
    "http://127.0.0.1:$KICD_HTTP/api/v1/report?from=$REPORT_FROM&to=$REPORT_TO&interval=$1&group_by=queue"
}

# PostgreSQL's own aggregate of the same calls, through psql to /dev/null.
report_sql() { # $1 = bucket expression
  cat <<SQL
SELECT $1 AS bucket, queue, count(*) AS offered,
       count(*) FILTER (WHERE answered) AS answered,
       count(*) FILTER (WHERE abandoned) AS abandoned,
       count(*) FILTER (WHERE answered AND wait_s <= 20) AS answered_in_sl,
       avg(wait_s) FILTER (WHERE answered) AS asa_s,
       avg(talk_s) FILTER (WHERE answered) AS talk_avg_s,
       avg(acw_s) FILTER (WHERE acw_s IS NOT NULL) AS acw_avg_s,
       count(*) FILTER (WHERE transferred) AS transferred,
       count(*) FILTER (WHERE resolved) AS resolved,
       count(*) FILTER (WHERE followed_by_repeat) AS repeated
FROM calls
WHERE tenant_id = (SELECT tenant_id FROM tenants WHERE name = 'bench')
  AND offered_at >= '$REPORT_FROM' AND offered_at < '$REPORT_TO'
GROUP BY 1, 2 ORDER BY 1, 2
SQL
}

timed() { # runs "$@" to /dev/null, prints its wall seconds
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f\n", b - a}'
}

# The report rows' count, MB and kicd's own time from its log line
# "N rows from rollup in T ms (B bytes)", medians over the timed runs.
report_log_figures() { # $1 = how many log lines to take from the end
  grep ' rows from ' "$KICD_LOG" | tail -"$1" >"$WORK/report.log"
  LOG_ROWS=$(sed -n 's/.* \([0-9]*\) rows from.*/\1/p' "$WORK/report.log" | tail -1)
  LOG_MS=$(sed -n 's/.* in \([0-9.]*\) ms.*/\1/p' "$WORK/report.log" | median)
  LOG_MB=$(sed -n 's/.*(\([0-9]*\) bytes).*/\1/p' "$WORK/report.log" | tail -1 | awk '{printf "%.1f", $1 / 1e6}')
}

# The rollup rows kicd reads for either report (it adds them up itself),
# read by psql: what PostgreSQL alone takes to hand them over.
rollup_sql() {
  echo "SELECT * FROM call_sums_15m WHERE tenant_id = (SELECT tenant_id FROM tenants WHERE name = 'bench')
    AND bucket >= '$REPORT_FROM' AND bucket < '$REPORT_TO'"
}

report_one() { # $1 = row id, $2 = interval, $3 = label, $4 = SQL bucket, $5 = target ms
  local i e2e sql rollup
  : >"$WORK/report.e2e"; : >"$WORK/report.sql"; : >"$WORK/report.rollup"
  report_get "$2" >/dev/null # warm-up: caches as a server in use has them
  for i in $(seq "$REPORT_RUNS"); do
    report_get "$2" | awk '{print $1 * 1000}' >>"$WORK/report.e2e"
    timed pgsql -At "$KEEP_PG_BASE dbname=kicd" -c "$(report_sql "$4")" | awk '{print $1 * 1000}' >>"$WORK/report.sql"
    timed pgsql -At "$KEEP_PG_BASE dbname=kicd" -c "$(rollup_sql)" | awk '{print $1 * 1000}' >>"$WORK/report.rollup"
  done
  report_log_figures "$REPORT_RUNS"
  e2e=$(median <"$WORK/report.e2e"); sql=$(median <"$WORK/report.sql"); rollup=$(median <"$WORK/report.rollup")
  local met="-"
  [ -n "$5" ] && met=$(holds "$e2e < $5" && echo yes || echo no)
  table_row "$1" "$3 [median]" "$(printf %.0f "$e2e") ms" "psql aggregate $(printf %.0f "$sql") ms" \
    "$(ratio "$e2e" "$sql")" "${5:+< $5 ms}" "$met" \
    "$LOG_ROWS rows, $LOG_MB MB JSON; kicd's log: $(printf %.0f "$LOG_MS") ms to answer (queries + summing + JSON), the rest is sending; psql reads the $(wc -l <"$WORK/rollup.rows") rollup rows in $(printf %.0f "$rollup") ms; $REPORT_RUNS runs after a warm-up"
}

fig_report() {
  report_range
  say "report over $REPORT_FROM .. $REPORT_TO ($YEAR_CALLS calls)"
  pgsql -At "$KEEP_PG_BASE dbname=kicd" -c "$(rollup_sql)" >"$WORK/rollup.rows"
  KICD_LOG_LEVEL=info kicd_start "$KEEP_PG_BASE dbname=kicd" report
  probe serving "$(addr)" "$YEAR_SUPER" "$(date +%s.%N)" 300 >/dev/null
  report_one 6a 15m "report 15 min x queue, $YEAR_DAYS days" \
    "date_bin('15 minutes', offered_at, '2000-01-01')" 300
  report_one 6b 1d "report day x queue, $YEAR_DAYS days" \
    "date_trunc('day', offered_at AT TIME ZONE 'Europe/Amsterdam')" ""
  kicd_stop
}

# ---- 7. restart to serving ---------------------------------------------

# The rows kicd reads at start-up (server/store.c: the events, repeat
# flags and wrap-ups of calls with an event in the last cache_days = 8
# local days), read by psql to /dev/null.
startup_sql() {
  local since="(date_trunc('day', now() AT TIME ZONE 'Europe/Amsterdam') - interval '8 days') AT TIME ZONE 'Europe/Amsterdam'"
  local tenant="(SELECT tenant_id FROM tenants WHERE name = 'bench')"
  local calls="(SELECT DISTINCT call_id FROM events WHERE tenant_id = $tenant AND at >= $since AND call_id <> '')"
  cat <<SQL
SELECT tenant_id, type, payload::text FROM events WHERE tenant_id = $tenant
  AND (call_id IN $calls OR (call_id = '' AND at >= $since)) ORDER BY tenant_id, call_id;
SELECT tenant_id, call_id, followed_by_repeat FROM calls WHERE tenant_id = $tenant
  AND followed_by_repeat AND call_id IN $calls;
SELECT tenant_id, call_id, agent, at, category, resolved, follow_up, caller_type FROM wrapups
  WHERE tenant_id = $tenant AND call_id IN $calls;
SQL
}

# Seconds between the first log lines of file $1 matching $2 and $3
# (kicd's log lines start with an RFC 3339 UTC time).
log_span() {
  local a b
  a=$(grep -m1 "$2" "$1" | cut -c1-24); b=$(grep -m1 "$3" "$1" | cut -c1-24)
  [ -n "$a" ] && [ -n "$b" ] || { echo nan; return; }
  awk -v a="$(date -d "$a" +%s.%N)" -v b="$(date -d "$b" +%s.%N)" 'BEGIN{printf "%.3f\n", b - a}'
}

fig_restart() {
  local run t0 out loaded
  : >"$WORK/restart.kicd"; : >"$WORK/restart.psql"; : >"$WORK/restart.load"
  pgsql -At "$KEEP_PG_BASE dbname=kicd" -c "$(startup_sql | head -2)" >"$WORK/startup.rows" # warm
  loaded=$(wc -l <"$WORK/startup.rows")
  for run in $(seq "$RUNS"); do
    t0=$(date +%s.%N)
    KICD_LOG_LEVEL=info kicd_launch "$KEEP_PG_BASE dbname=kicd" "restart-$run"
    out=$(probe serving "$(addr)" "$YEAR_SUPER" "$t0" 600)
    kicd_stop
    echo " $out" | field serving_s >>"$WORK/restart.kicd"
    log_span "$KICD_LOG" 'loading the live state' 'serving JSON-RPC' >>"$WORK/restart.load"
    timed pgsql -At "$KEEP_PG_BASE dbname=kicd" -c "$(startup_sql)" >>"$WORK/restart.psql"
    say "restart run $run: serving after $(tail -1 "$WORK/restart.kicd") s; psql reads its rows in $(tail -1 "$WORK/restart.psql") s"
  done
  local k p l
  k=$(median <"$WORK/restart.kicd"); p=$(median <"$WORK/restart.psql"); l=$(median <"$WORK/restart.load")
  table_row 7 "restart to serving, $YEAR_CALLS calls stored [median]" "$k s" "psql reads them $p s" \
    "$(ratio "$k" "$p" %.1f)" "-" "-" \
    "kicd loads $loaded events (calls of the last 8 days), $l s of it between its log lines 'loading the live state' and 'serving'; baseline: its 3 start-up queries via psql"
}
