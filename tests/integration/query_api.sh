#!/usr/bin/env bash
# POST /v1/query: results as JSON / CSV / NDJSON, large results streamed,
# errors with SQLite's message and position, read-only safety, limits, and
# records visible from the journal tail before their file is committed.
source "$(dirname "$0")/../lib/sh.sh" query

cat > "$T/sluice.yaml" <<YAML
data_dir: $T/data
listen: 127.0.0.1:0
limits:
  min_free_disk: 0
query:
  memory_limit: 48MiB
streams:
  events:
    sink:
      roll_age: 60s
YAML
start_server "$T/sluice.yaml"
Q="$URL/v1/query"
# q BODY [extra curl args]: sets CODE, BODY
q() { local b=$1; shift; BODY=$(curl -s -o - -w '\n%{http_code}' -X POST --data-binary "$b" "$@" "$Q"); CODE=${BODY##*$'\n'}; BODY=${BODY%$'\n'*}; BODY=${BODY%$'\n'}; }

for i in $(seq 1 500); do echo "{\"id\":$i,\"kind\":\"k$((i % 3))\",\"v\":$i.5,\"event_time\":\"2024-05-01T0$((i % 4)):00:00Z\"}"; done > "$T/ev.ndjson"
curl -s -o /dev/null -X POST --data-binary @"$T/ev.ndjson" "$URL/v1/streams/events/records"

# the sink holds them for 60 s: queries see them through the journal tail
q '{"sql":"SELECT kind, count(*) AS n, sum(v) AS s FROM t1_events GROUP BY kind ORDER BY kind"}'
[ "$CODE" = 200 ] && [ "$BODY" = '[
{"kind":"k0","n":166,"s":41666},
{"kind":"k1","n":167,"s":41833.5},
{"kind":"k2","n":167,"s":42000.5}
]' ]; check json_result_includes_journal_tail $? "$CODE $BODY"

BODY=$(curl -s -X POST --data-binary "SELECT id, kind FROM t1_events WHERE hr = '02' ORDER BY id LIMIT 3" "$Q?format=csv")
[ "$BODY" = $'id,kind\n2,k2\n6,k0\n10,k1' ]; check csv_with_url_format $? "$BODY"

n=$(curl -s -X POST -d '{"sql":"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 1000000) SELECT i, i % 7 AS m FROM n","format":"ndjson"}' "$Q" | grep -c '^{"i":')
[ "$n" = 1000000 ]; check ndjson_streams_a_million_rows $? "$n rows"

q '{"sql":"SELECT * FROM t1_events LIMIT 5 OFFSET x"}'
[ "$CODE" = 400 ] && [[ "$BODY" == *'no such column: x'* ]]; check sql_error_400_with_message $? "$CODE $BODY"
q '{"sql":"SELEC 1"}'
[ "$CODE" = 400 ] && [[ "$BODY" == *'at offset 0'* ]]; check sql_error_has_position $? "$CODE $BODY"
q '{"sql":"CREATE TABLE t2_x AS SELECT 1"}'
[ "$CODE" = 403 ]; check writes_refused_403 $? "$CODE $BODY"
q "{\"sql\":\"ATTACH '$T/x.db' AS x\"}"
[ "$CODE" = 403 ] && [ ! -e "$T/x.db" ] && [[ "$BODY" != *"sluice sql"* ]]; check attach_refused_403 $? "$CODE $BODY"
q "{\"sql\":\"SELECT * FROM read_csv('/etc/passwd')\"}"
[ "$CODE" != 200 ] && [[ "$BODY" != *root* ]]; check file_functions_refused $? "$CODE $BODY"
q '{"sql":"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT count(*) FROM n","timeout_ms":300}'
[ "$CODE" = 408 ] && [[ "$BODY" == *'timed out'* ]]; check timeout_408 $? "$CODE $BODY"
q '{"sql":"SELECT id FROM t1_events ORDER BY id","limit":3,"format":"ndjson"}'
[ "$BODY" = $'{"id":1}\n{"id":2}\n{"id":3}' ]; check row_limit $? "$BODY"
q '{"sql":"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 4000000) SELECT length(group_concat(printf(\"%08d-padding-text-x\", i))) FROM n"}'
[ "$CODE" = 413 ] && [[ "$BODY" == *'memory limit'* ]]; check memory_limit_clear_error $? "$CODE $BODY"
q '{"sql":"CREATE TEMP TABLE junk AS SELECT randomblob(1000) AS b"}'
[ "$CODE" = 403 ] && [[ "$BODY" != *'sluice sql'* ]]; check read_only_no_temp_tables_403 $? "$CODE $BODY"
q '{"sql":"SELECT hex(fts3_tokenizer(\"simple\")) AS p"}'
[ "$CODE" = 403 ] && [[ "$BODY" != *'"p"'* ]]; check fts3_tokenizer_refused $? "$CODE $BODY"
q '{"sql":"SELECT value FROM json_each(\"[1,2]\") ORDER BY value","format":"csv"}'
[ "$CODE" = 200 ] && [ "$BODY" = $'value\n1\n2' ]; check json_each_works $? "$CODE $BODY"
q '{"sql":"SELECT 1","timeout_ms":3600000}'
[ "$CODE" = 400 ] && [[ "$BODY" == *'maximum'* ]]; check timeout_over_max_400 $? "$CODE $BODY"
# an error after rows were sent: the JSON array is closed, the error is in the trailer
curl -s -D "$T/qh" -o "$T/qb" -X POST --data-binary '{"sql":"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 5000) SELECT i, json(CASE WHEN i > 4000 THEN \"{x\" ELSE i END) AS j FROM n"}' "$Q"
node -e 'const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (!Array.isArray(a) || a.length < 1000) process.exit(1)' "$T/qb" &&
    grep -qi '^X-Sluice-Error: .*malformed JSON' "$T/qh"
check json_error_after_rows_valid_json_and_trailer $? "$(tail -c 200 "$T/qb"; cat "$T/qh")"
out=$("$BIN" sql -d "$T/nonexistent" "SELECT 1" 2>&1); rc=$?
[ "$rc" != 0 ] && [ ! -e "$T/nonexistent" ] && [[ "$out" == *'does not exist'* ]]
check sql_missing_data_dir_fails $? "exit $rc: $out"
q '{"sql": 42}'
[ "$CODE" = 400 ]; check bad_request_400 $? "$CODE $BODY"
[ "$(curl -s "$URL/healthz")" = ok ]; check still_serving $? "healthz"
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
[ "$rc" = 0 ]; check clean_exit $? "exit $rc"
if grep -qE 'AddressSanitizer|runtime error' "$T/server.log"; then fail sanitizer_clean "$(grep -A5 -E 'AddressSanitizer|runtime error' "$T/server.log" | head -12)"; else ok sanitizer_clean; fi

# A failed or empty query closes its result pipe exactly once: a second
# close(2) of the same number could close a descriptor another thread had just
# opened (a journal segment, a client socket).  strace counts EBADF closes.
cat > "$T/s2.yaml" <<YAML
data_dir: $T/data2
listen: 127.0.0.1:0
limits:
  min_free_disk: 0
YAML
strace -f -qq -e trace=close -o "$T/strace.log" "$BIN" serve -c "$T/s2.yaml" --port-file "$T/port2" 2>>"$T/server2.log" &
SPID=$!
for _ in $(seq 300); do [ -s "$T/port2" ] && break; sleep 0.1; done
U2="http://127.0.0.1:$(cat "$T/port2" 2>/dev/null)/v1/query"
for _ in 1 2 3; do
    curl -s -o /dev/null -X POST --data-binary 'SELEC nonsense' "$U2"
    curl -s -o /dev/null -X POST -d '{"sql":"SELECT 1 WHERE 0","format":"ndjson"}' "$U2"
done
pkill -TERM -P "$SPID"; wait "$SPID"
n=$(grep -c 'close(.*EBADF' "$T/strace.log")
[ -s "$T/port2" ] && [ "$n" = 0 ]; check query_pipe_closed_once $? "$n closes of a closed descriptor: $(grep 'EBADF' "$T/strace.log" | head -3)"
