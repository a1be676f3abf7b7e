#!/usr/bin/env bash
# POST /v1/query with tokens (read vs write) and a configured SQLite file
# joined with a lake table, through the API and through sluice sql.
source "$(dirname "$0")/../lib/sh.sh" qauth

sqlite3 "$T/ref.db" "CREATE TABLE countries(code TEXT PRIMARY KEY, name TEXT); INSERT INTO countries VALUES ('k0','Zero'),('k1','One'),('k2','Two');"
cat > "$T/sluice.yaml" <<YAML
data_dir: $T/data
listen: 127.0.0.1:0
limits:
  min_free_disk: 0
query:
  tokens: [reader-token]
  write_tokens: [writer-token]
sqlite:
  ref:
    path: $T/ref.db
streams:
  events:
    sink:
      roll_age: 100ms
YAML
start_server "$T/sluice.yaml"
for i in $(seq 1 90); do echo "{\"id\":$i,\"kind\":\"k$((i % 3))\",\"event_time\":\"2024-05-01T00:00:00Z\"}"; done |
    curl -s -o /dev/null -X POST --data-binary @- "$URL/v1/streams/events/records"
for _ in $(seq 100); do curl -s "$URL/v1/streams/events" | grep -q '"lag":0,' && break; sleep 0.1; done

q() { # token body -> CODE BODY
    local a=(); [ -n "$1" ] && a=(-H "Authorization: Bearer $1")
    BODY=$(curl -s -o - -w '\n%{http_code}' -X POST "${a[@]}" --data-binary "$2" "$URL/v1/query"); CODE=${BODY##*$'\n'}; BODY=${BODY%$'\n'*}; BODY=${BODY%$'\n'}; }

q "" '{"sql":"SELECT 1"}'
[ "$CODE" = 401 ]; check no_token_401 $? "$CODE $BODY"
q "wrong" '{"sql":"SELECT 1"}'
[ "$CODE" = 401 ]; check wrong_token_401 $? "$CODE $BODY"
join='{"sql":"SELECT r.name, count(*) AS n FROM t1_events e JOIN ref.countries r ON r.code = e.kind GROUP BY r.name ORDER BY r.name","format":"ndjson"}'
q reader-token "$join"
[ "$CODE" = 200 ] && [ "$BODY" = $'{"name":"One","n":30}\n{"name":"Two","n":30}\n{"name":"Zero","n":30}' ]
check lake_join_attached_sqlite_api $? "$CODE $BODY"
out=$("$BIN" sql -c "$T/sluice.yaml" -F csv "SELECT r.name, count(*) FROM t1_events e JOIN ref.countries r ON r.code = e.kind GROUP BY 1 ORDER BY 1" 2>&1)
[ "$out" = $'name,count(*)\nOne,30\nTwo,30\nZero,30' ]; check lake_join_attached_sqlite_cli $? "$out"
q reader-token '{"sql":"INSERT INTO ref.countries VALUES (1, 2)"}'
[ "$CODE" = 403 ]; check attached_file_not_writable $? "$CODE $BODY"
q reader-token '{"sql":"CREATE TABLE t2_kinds AS SELECT kind, count(*) AS n FROM t1_events GROUP BY kind"}'
[ "$CODE" = 403 ]; check reader_cannot_write $? "$CODE $BODY"
q writer-token '{"sql":"CREATE TABLE t2_kinds AS SELECT kind, count(*) AS n FROM t1_events GROUP BY kind"}'
[ "$CODE" = 200 ] && [ "$BODY" = '{"rows_written":3}' ]; check writer_can_create_lake_table $? "$CODE $BODY"
q reader-token '{"sql":"SELECT kind, n FROM t2_kinds ORDER BY kind","format":"csv"}'
[ "$BODY" = $'kind,n\nk0,30\nk1,30\nk2,30' ]; check created_table_queryable $? "$CODE $BODY"
[ "$(sqlite3 "$T/ref.db" 'SELECT count(*) FROM countries')" = 3 ]; check attached_file_unchanged $? "countries changed"
printf 'data_dir: %s\nquery:\n  tokens: "hunter2-secret"\n' "$T/d2" > "$T/bad.yaml"
out=$("$BIN" serve -c "$T/bad.yaml" 2>&1); rc=$?
[ "$rc" != 0 ] && [[ "$out" == *query.tokens* ]] && [[ "$out" != *hunter2* ]]
check config_error_hides_token $? "exit $rc: $out"
kill -TERM "$PID"; wait "$PID"; PID=
if grep -qE 'AddressSanitizer|runtime error' "$T/server.log"; then fail sanitizer_clean "$(grep -A5 -E 'AddressSanitizer|runtime error' "$T/server.log" | head)"; else ok sanitizer_clean; fi
