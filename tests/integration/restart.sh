#!/usr/bin/env bash
# Restarts: every stream found in the data directory is reopened (also ones
# auto-created on the embedded default) and its sink resumes, after kill -9
# and after SIGTERM; a clean stop lands the sinks' buffers, all sinks at once,
# within shutdown_timeout.  Two streams that would land in one table are
# refused at config --check, at start-up and at auto-create, naming both.
source "$(dirname "$0")/../lib/sh.sh" restart
D=$T/data

# serve_default DIR: the embedded default (no -c) on DIR, any free port
serve_default() {
    rm -f "$T/port"
    "$BIN" serve --data "$1" --listen 127.0.0.1:0 --port-file "$T/port" 2>>"$T/server.log" &
    PID=$!
    for _ in $(seq 150); do [ -s "$T/port" ] && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    URL="http://127.0.0.1:$(cat "$T/port" 2>/dev/null)"
}
serve_config() {
    rm -f "$T/port"
    "$BIN" serve -c "$1" --port-file "$T/port" 2>>"$T/server.log" &
    PID=$!
    for _ in $(seq 150); do [ -s "$T/port" ] && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    URL="http://127.0.0.1:$(cat "$T/port" 2>/dev/null)"
}
stop() { # SIGTERM and wait; sets RC
    kill -"${1:-TERM}" "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; RC=$?; PID=
}
records() { # N [first id]: NDJSON with an event time in 2024-05-01
    local n=$1 from=${2:-1}
    for i in $(seq "$from" $((from + n - 1))); do
        echo "{\"id\":$i,\"event_time\":\"2024-05-01T0$((i % 4)):00:00Z\"}"
    done
}
post() { # STREAM FILE -> prints the status; body in $T/reply
    curl -s -o "$T/reply" -w '%{http_code}' -X POST --data-binary @"$2" "$URL/v1/streams/$1/records"
}
get_code() { curl -s -o "$T/reply" -w '%{http_code}' "$URL/v1/streams/$1"; }
lake_count() { # DIR TABLE: rows in committed files only (no journal tail)
    "$BIN" sql -d "$1" --no-tail -F csv "SELECT count(*) FROM $2" 2>>"$T/sql.log" | tail -1
}

# ---- item 2: kill -9, auto-created stream, embedded default ----------------------------
records 100 > "$T/a.ndjson"
serve_default "$D"
c=$(post ev "$T/a.ndjson")
[ "$c" = 200 ]; check autocreate_accepts $? "$c $(cat "$T/reply")"
stop KILL
serve_default "$D"
c=$(get_code ev)
[ "$c" = 200 ]; check kill9_restart_reopens_auto_created_stream $? "GET /v1/streams/ev: $c $(cat "$T/reply")"
grep -q '"sink":{' "$T/reply"; check kill9_restart_resumes_sink $? "$(cat "$T/reply")"
stop TERM
[ "$RC" = 0 ]; check sigterm_exit_0 $? "exit $RC"
n=$(lake_count "$D" t1_ev)
[ "$n" = 100 ]; check kill9_acked_records_land_after_restart $? "lake has '$n' of 100 rows"

# ---- item 2: SIGTERM, restart, more writes: nothing lost or doubled --------------------
records 50 > "$T/b1.ndjson"
records 50 51 > "$T/b2.ndjson"
serve_default "$D"
post ev2 "$T/b1.ndjson" >/dev/null
stop TERM
n=$(lake_count "$D" t1_ev2)
[ "$n" = 50 ]; check sigterm_lands_buffers $? "lake has '$n' of 50 rows"
mkdir -p "$D/streams/bad name" # not a stream name: reported, never blocks the others
serve_default "$D"
c=$(get_code ev2)
[ "$c" = 200 ] && grep -q '"position":50' "$T/reply"; check sigterm_restart_reopens_stream $? "$c $(cat "$T/reply")"
c=$(get_code ev)
[ "$c" = 200 ] && grep -q '"position":100' "$T/reply"; check every_stream_reopened $? "$c $(cat "$T/reply")"
grep -q "stream bad name found in" "$T/server.log"; check bad_found_stream_reported $? "$(tail -5 "$T/server.log")"
post ev2 "$T/b2.ndjson" >/dev/null
stop TERM
n=$(lake_count "$D" t1_ev2)
m=$("$BIN" sql -d "$D" --no-tail -F csv "SELECT count(DISTINCT id) FROM t1_ev2" 2>>"$T/sql.log" | tail -1)
[ "$n" = 100 ] && [ "$m" = 100 ]; check restart_no_loss_no_duplicates $? "rows '$n', distinct '$m'"

# ---- a stream found in the data directory but not declared (auto_create off) -----------
cat > "$T/strict.yaml" <<YAML
data_dir: $D
listen: 127.0.0.1:0
limits:
  min_free_disk: 0
streams:
  declared: {}
YAML
records 10 > "$T/c.ndjson"
serve_default "$D"
post ev3 "$T/c.ndjson" >/dev/null
stop KILL
serve_config "$T/strict.yaml"
c=$(get_code ev3)
[ "$c" = 200 ]; check undeclared_stream_reopened_with_config $? "$c $(cat "$T/reply")"
c=$(post ev3 "$T/c.ndjson")
[ "$c" = 404 ]; check undeclared_stream_takes_no_writes_without_auto_create $? "$c $(cat "$T/reply")"
stop TERM
n=$(lake_count "$D" t1_ev3)
[ "$n" = 10 ]; check undeclared_stream_lands $? "lake has '$n' of 10 rows"

# ---- a stream once declared with its own table, then dropped from the config ----------
cat > "$T/custom.yaml" <<YAML
data_dir: $T/custom
listen: 127.0.0.1:0
limits:
  min_free_disk: 0
streams:
  cx: {sink: {table: custom_cx, partition: dt}}
YAML
records 10 > "$T/g.ndjson"
serve_config "$T/custom.yaml"
post cx "$T/g.ndjson" >/dev/null
stop KILL
serve_default "$T/custom"
stop TERM
n=$(lake_count "$T/custom" custom_cx)
m=$("$BIN" sql -d "$T/custom" --no-tail -F csv "SELECT count(*) FROM lake.sqlite_master WHERE name = 't1_cx'" 2>>"$T/sql.log" | tail -1)
p=$("$BIN" sql -d "$T/custom" --no-tail -F csv "SELECT count(DISTINCT dt) FROM custom_cx" 2>>"$T/sql.log" | tail -1)
[ "$n" = 10 ] && [ "$m" = 0 ] && [ "$p" = 1 ]; check undeclared_stream_resumes_in_its_catalog_table $? "custom_cx '$n' of 10 rows, t1_cx tables '$m', dt values '$p'"

# the catalog knows custom_cx is fed by cx: a new stream may not take it
cat > "$T/steal.yaml" <<YAML
data_dir: $T/custom
listen: 127.0.0.1:0
limits:
  min_free_disk: 0
streams:
  other: {sink: {table: custom_cx}}
YAML
"$BIN" serve -c "$T/steal.yaml" 2>"$T/start.log" &
PID=$!
for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PID" 2>/dev/null; then stop KILL; RC=running; else wait "$PID"; RC=$?; PID=; fi
grep -q "streams cx and other" "$T/start.log"; check startup_refuses_table_of_catalog_stream $? "exit $RC: $(cat "$T/start.log")"
# a table made by CREATE TABLE AS is not a stream's either
"$BIN" sql -d "$T/custom" "CREATE TABLE t1_zz AS SELECT 1 AS x" >/dev/null 2>>"$T/sql.log"
serve_default "$T/custom"
c=$(post zz "$T/g.ndjson")
[ "$c" = 409 ] && grep -q "CREATE TABLE AS" "$T/reply"; check autocreate_refuses_ctas_table $? "$c $(cat "$T/reply")"
stop TERM
n=$("$BIN" sql -d "$T/custom" --no-tail -F csv "SELECT count(*) FROM t1_zz" 2>>"$T/sql.log" | tail -1)
[ "$n" = 1 ]; check ctas_table_untouched $? "t1_zz has '$n' rows"

# ---- shutdown: all sinks stop together, within shutdown_timeout ------------------------
D2=$T/many
serve_default "$D2"
records 3 > "$T/d.ndjson"
for i in $(seq 1 12); do post "s$i" "$T/d.ndjson" >/dev/null; done
t0=$(date +%s%N)
stop TERM
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# SIGTERM with 12 sinks to land: $ms ms"
[ "$RC" = 0 ] && [ "$ms" -lt 5000 ]; check sigterm_with_12_sinks_is_quick $? "exit $RC after $ms ms"
bad=0
for i in $(seq 1 12); do [ "$(lake_count "$D2" "t1_s$i")" = 3 ] || bad=$((bad + 1)); done
[ "$bad" = 0 ]; check sigterm_lands_every_sink $? "$bad of 12 tables incomplete"

# ---- shutdown_timeout bounds the stop; what did not land lands after the restart -----
cat > "$T/bound.yaml" <<YAML
data_dir: $T/bound
listen: 127.0.0.1:0
shutdown_timeout: 100ms
limits:
  min_free_disk: 0
streams:
  big: {sink: {roll_rows: 100000000, roll_bytes: 4GiB, max_buffer_bytes: 4GiB}}
YAML
serve_config "$T/bound.yaml"
"$BIN" gen --count 150000 > "$T/big.ndjson"
"$BIN" ingest big "$T/big.ndjson" --url "$URL" >/dev/null 2>&1
stop KILL
serve_config "$T/bound.yaml" # the sink now reads 150000 records back from the journal
t0=$(date +%s%N)
stop TERM
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$RC" = 0 ] && [ "$ms" -lt 3000 ]; check stop_bounded_by_shutdown_timeout $? "exit $RC after $ms ms"
grep -q 'stream big: the sink did not land its buffer within the shutdown timeout' "$T/server.log"; check cut_short_stop_names_the_stream $? "$(tail -3 "$T/server.log")"
sed -i 's/^shutdown_timeout: 100ms/shutdown_timeout: 60s/' "$T/bound.yaml"
serve_config "$T/bound.yaml"
t0=$(date +%s%N)
stop TERM
echo "# full stop landing 150000 records: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
n=$(lake_count "$T/bound" t1_big)
m=$("$BIN" sql -d "$T/bound" --no-tail -F csv "SELECT count(DISTINCT event_id) FROM t1_big" 2>>"$T/sql.log" | tail -1)
[ "$n" = 150000 ] && [ "$m" = 150000 ]; check cut_short_stop_loses_nothing $? "rows '$n', distinct '$m' of 150000"

# ---- item 3: one table for two streams -------------------------------------------------
cat > "$T/clash.yaml" <<YAML
data_dir: $T/clash
streams:
  a-b: {}
  a_b: {}
YAML
out=$("$BIN" config --check "$T/clash.yaml" 2>&1); rc=$?
[ "$rc" = 1 ] && [[ "$out" == *a-b* ]] && [[ "$out" == *a_b* ]] && [[ "$out" == *t1_a_b* ]]; check config_check_refuses_table_collision $? "exit $rc: $out"
cat > "$T/clash2.yaml" <<YAML
data_dir: $T/clash
streams:
  A_b: {}
  a_b: {}
YAML
out=$("$BIN" config --check "$T/clash2.yaml" 2>&1); rc=$?
[ "$rc" = 1 ] && [[ "$out" == *A_b* ]] && [[ "$out" == *a_b* ]]; check config_check_refuses_case_collision $? "exit $rc: $out"
cat > "$T/clash3.yaml" <<YAML
data_dir: $T/clash
streams:
  x: {sink: {table: t1_y}}
  y: {}
  z: {sink: {enabled: false, table: t1_y}}
YAML
out=$("$BIN" config --check "$T/clash3.yaml" 2>&1); rc=$?
[ "$rc" = 1 ] && [[ "$out" == *"streams x and y"* ]]; check config_check_refuses_explicit_table_collision $? "exit $rc: $out"
cat > "$T/noclash.yaml" <<YAML
data_dir: $T/clash
streams:
  a-b: {sink: {table: t1_ab_dash}}
  a_b: {}
  z: {sink: {enabled: false}}
  t1_z: {sink: {table: z}}
YAML
out=$("$BIN" config --check "$T/noclash.yaml" 2>&1); rc=$?
[ "$rc" = 0 ]; check config_check_accepts_distinct_tables $? "exit $rc: $out"

# A table name over 120 characters gets a hashed errors table name (a prefix and
# 8 hex digits of XXH3 of the name, lk_errors_table_name): the collision rule
# must use that name, not "<table>_errors".
LONG=$(printf 'l%.0s' $(seq 125))                  # 125 characters
LONG_ERR=$(printf 'l%.0s' $(seq 111))_5ebdd4e3_errors # its errors table (127)
cat > "$T/clash4.yaml" <<YAML
data_dir: $T/clash
streams:
  x: {sink: {table: $LONG}}
  y: {sink: {table: $LONG_ERR}}
YAML
out=$("$BIN" config --check "$T/clash4.yaml" 2>&1); rc=$?
[ "$rc" = 1 ] && [[ "$out" == *"streams x and y"* ]] && [[ "$out" == *"$LONG_ERR"* ]]; check config_check_refuses_hashed_errors_table_collision $? "exit $rc: $out"
cat > "$T/clash5.yaml" <<YAML
data_dir: $T/clash
streams:
  x: {sink: {table: $LONG}}
  y: {sink: {table: ${LONG_ERR%_errors}}}
YAML
out=$("$BIN" config --check "$T/clash5.yaml" 2>&1); rc=$?
[ "$rc" = 1 ] && [[ "$out" == *"streams x and y"* ]] && [[ "$out" == *"$LONG_ERR"* ]]; check config_check_refuses_two_streams_one_hashed_errors_table $? "exit $rc: $out"
cat > "$T/noclash2.yaml" <<YAML
data_dir: $T/clash
streams:
  x: {sink: {table: $LONG}}
  y: {sink: {table: ${LONG}m}}
YAML
out=$("$BIN" config --check "$T/noclash2.yaml" 2>&1); rc=$?
[ "$rc" = 0 ]; check config_check_accepts_long_distinct_tables $? "exit $rc: $out"
# a stream found in the data directory resumes in its long-named table, not in
# that table's (hashed) errors table
cat > "$T/long.yaml" <<YAML
data_dir: $T/long
listen: 127.0.0.1:0
limits:
  min_free_disk: 0
streams:
  lg: {sink: {table: $LONG}}
YAML
records 10 > "$T/lg.ndjson"
serve_config "$T/long.yaml"
post lg "$T/lg.ndjson" >/dev/null
stop TERM
serve_default "$T/long"
c=$(post lg "$T/lg.ndjson")
stop TERM
n=$(lake_count "$T/long" "$LONG")
m=$(lake_count "$T/long" "$LONG_ERR")
[ "$c" = 200 ] && [ "$n" = 20 ] && [ "$m" = 0 ]; check found_stream_resumes_in_long_named_table $? "post $c, table '$n' of 20 rows, errors table '$m' rows"

D3=$T/auto
records 20 > "$T/e.ndjson"
records 5 > "$T/f.ndjson"
serve_default "$D3"
c=$(post a-b "$T/e.ndjson")
[ "$c" = 200 ]; check first_stream_accepted $? "$c"
c=$(post a_b "$T/f.ndjson")
[ "$c" = 409 ] && grep -q "a-b" "$T/reply" && grep -q "a_b" "$T/reply"; check autocreate_refuses_collision $? "$c $(cat "$T/reply")"
c=$(post A-B "$T/f.ndjson")
[ "$c" = 409 ]; check autocreate_refuses_case_collision $? "$c $(cat "$T/reply")"
c=$(post a-b_errors "$T/f.ndjson")
[ "$c" = 409 ]; check autocreate_refuses_errors_table_collision $? "$c $(cat "$T/reply")"
[ ! -e "$D3/streams/a_b" ]; check refused_stream_not_created $? "$(ls "$D3/streams")"
c=$(post a-b "$T/f.ndjson")
[ "$c" = 200 ]; check first_stream_still_writable $? "$c"
stop TERM
n=$(lake_count "$D3" t1_a_b)
[ "$n" = 25 ]; check first_stream_data_intact $? "lake has '$n' of 25 rows"

# start-up: a stream found in the data directory clashes with a declared one
cat > "$T/startclash.yaml" <<YAML
data_dir: $D3
listen: 127.0.0.1:0
limits:
  min_free_disk: 0
streams:
  a_b: {}
YAML
"$BIN" serve -c "$T/startclash.yaml" 2>"$T/start.log" &
PID=$!
for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PID" 2>/dev/null; then stop KILL; RC=running; else wait "$PID"; RC=$?; PID=; fi
[ "$RC" = 1 ] && grep -q "a-b" "$T/start.log" && grep -q "a_b" "$T/start.log"; check startup_refuses_collision $? "exit $RC: $(cat "$T/start.log")"

if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/server.log" "$T/sql.log"; then
    fail sanitizer_clean "$(grep -h -A5 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$T/server.log" "$T/sql.log" | head -12)"
else ok sanitizer_clean; fi
