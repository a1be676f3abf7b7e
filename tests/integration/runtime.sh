#!/usr/bin/env bash
# One owner of "config -> running parts" (src/runtime): `sluice sql` and
# POST /v1/query get the same SQL engine options, so journal-tail rows land in
# the same partitions (the stream's event_time_field); the config's log_level
# is applied.
source "$(dirname "$0")/../lib/sh.sh" runtime

cat > "$T/sluice.yaml" <<YAML
data_dir: $T/data
listen: 127.0.0.1:0
log_level: info
limits:
  min_free_disk: 0
streams:
  events:
    sink:
      event_time_field: ts
      event_time_format: epoch_ms
      roll_age: 60s
YAML
start_server "$T/sluice.yaml"
# 2024-05-01T03:20:00Z and 2023-01-02T23:59:59.5Z as epoch milliseconds; ingest time is now
printf '%s\n' '{"id":1,"ts":1714533600000}' '{"id":2,"ts":1672703999500}' '{"id":3}' > "$T/ev.ndjson"
c=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$T/ev.ndjson" "$URL/v1/streams/events/records")
[ "$c" = 200 ]; check ingest $? "$c"

SQL="SELECT id, dt, hr FROM t1_events ORDER BY id"
cli=$("$BIN" sql -c "$T/sluice.yaml" -F csv "$SQL" 2>&1)
api=$(curl -s -X POST --data-binary "$SQL" "$URL/v1/query?format=csv")
today=$(date -u +%Y-%m-%d)
exp_head=$'id,dt,hr\n1,2024-05-01,03\n2,2023-01-02,23\n3,'
[[ "$cli" == "$exp_head$today"* ]]; check cli_tail_uses_event_time_field $? "$cli"
[[ "$api" == "$exp_head$today"* ]]; check api_tail_uses_event_time_field $? "$api"
[ "$cli" = "$api" ]; check cli_and_api_agree $? "cli: $cli / api: $api"

kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
[ "$rc" = 0 ]; check clean_exit $? "exit $rc"
# after the clean stop the same rows are in files, in the same partitions
files=$("$BIN" sql -c "$T/sluice.yaml" --no-tail -F csv "$SQL" 2>&1)
[ "$files" = "$cli" ]; check landed_rows_match_tail_rows $? "files: $files / tail: $cli"
grep -q 'listening on' "$T/server.log"; check info_lines_at_info $? "$(cat "$T/server.log")"

# log_level: warn drops the info lines (the start-up line among them)
sed -i 's/^log_level: info/log_level: warn/' "$T/sluice.yaml"
: > "$T/server.log"
start_server "$T/sluice.yaml"
[ "$(curl -s "$URL/healthz")" = ok ]; check serving_at_warn $? "$(cat "$T/server.log")"
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
[ "$rc" = 0 ] && ! grep -q 'listening on' "$T/server.log"; check log_level_warn_applied $? "exit $rc: $(cat "$T/server.log")"

if grep -qE 'AddressSanitizer|runtime error' "$T/server.log"; then fail sanitizer_clean "$(grep -A5 -E 'AddressSanitizer|runtime error' "$T/server.log" | head -12)"; else ok sanitizer_clean; fi
