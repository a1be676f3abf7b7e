#!/usr/bin/env bash
# HTTP ingest against the real server: good bodies in every accepted form, and
# bad input of every kind — each answered with a clear error, nothing written
# where nothing should be, good records beside bad ones kept, and the server
# serving other clients throughout.
source "$(dirname "$0")/../lib/sh.sh" ingest

cat > "$T/sluice.yaml" <<YAML
data_dir: $T/data
listen: 127.0.0.1:0
auto_create_streams: false
http:
  connection_timeout: 2s
limits:
  max_body_bytes: 64KiB
  max_record_bytes: 1KiB
  max_depth: 8
  max_records_per_request: 100
  min_free_disk: 0
streams:
  events:
    tokens: [s3cret]
  open: {}
  tiny:
    max_bytes: 2KB
YAML

start_server "$T/sluice.yaml"
if [ ! -s "$T/port" ]; then fail server_start "$(cat "$T/server.log")"; exit 1; fi
AUTH=(-H "Authorization: Bearer s3cret")

# post STREAM BODY-FILE [curl args...] -> sets CODE and BODY
post() {
    local stream=$1 file=$2; shift 2
    BODY=$(curl -s -o - -w '\n%{http_code}' -X POST --data-binary @"$file" "$@" \
        "$URL/v1/streams/$stream/records")
    CODE=${BODY##*$'\n'}
    BODY=${BODY%$'\n'*}
}
next_offset() { curl -s "$URL/v1/streams/$1" | sed -n 's/.*"next_offset":\([0-9]*\).*/\1/p'; }

[ "$(curl -s "$URL/healthz")" = ok ]; check healthz $? "healthz did not answer ok"

"$BIN" serve -c "$T/sluice.yaml" --listen 127.0.0.1:0 >"$T/second.out" 2>"$T/second.err"; rc=$?
[ "$rc" = 1 ] && grep -q "in use by another sluice server" "$T/second.err"
check second_server_on_same_data_dir_refused $? "exit $rc: $(cat "$T/second.err")"

# --- good bodies -------------------------------------------------------------
for i in 1 2 3; do echo "{\"id\":$i,\"name\":\"n$i\"}"; done > "$T/good.ndjson"
post events "$T/good.ndjson" "${AUTH[@]}"
[ "$CODE" = 200 ] && [[ "$BODY" == *'"accepted":3'* ]] && [[ "$BODY" == *'"first_offset":0'* ]]
check ndjson_accepted $? "got $CODE $BODY"

echo '[{"id":4},{"id":5,"tags":["a","b"]}]' > "$T/array.json"
post events "$T/array.json" "${AUTH[@]}" -H 'Content-Type: application/json'
[ "$CODE" = 200 ] && [[ "$BODY" == *'"accepted":2'* ]]; check json_array_accepted $? "got $CODE $BODY"

for i in 6 7; do echo "{\"id\":$i}"; done | gzip > "$T/good.gz"
post events "$T/good.gz" "${AUTH[@]}" -H 'Content-Encoding: gzip'
[ "$CODE" = 200 ] && [[ "$BODY" == *'"accepted":2'* ]]; check gzip_body $? "got $CODE $BODY"

for i in 8 9; do echo "{\"id\":$i}"; done | zstd -q > "$T/good.zst"
post events "$T/good.zst" "${AUTH[@]}" -H 'Content-Encoding: zstd'
[ "$CODE" = 200 ] && [[ "$BODY" == *'"accepted":2'* ]]; check zstd_body $? "got $CODE $BODY"

n=$("$BIN" read events --data "$T/data" | wc -l)
[ "$n" = 9 ]; check read_back_good $? "journal holds $n records, want 9"

# --- bad records beside good ones ------------------------------------------------
printf '%s\n' '{"id":10}' '{"id": 11,' '[1,2]' '"str"' '{"id":12}' \
    "{\"a\":[[[[[[[[[[1]]]]]]]]]]}" "{\"big\":\"$(head -c 2000 /dev/zero | tr '\0' x)\"}" \
    '{"id":13}' > "$T/mixed.ndjson"
before=$(next_offset events)
post events "$T/mixed.ndjson" "${AUTH[@]}"
[ "$CODE" = 200 ] && [[ "$BODY" == *'"accepted":3'* ]] && [[ "$BODY" == *'"rejected":5'* ]]
check mixed_keeps_good $? "got $CODE $BODY"
[[ "$BODY" == *'"index":1,"line":2,"reason":"invalid_json"'* ]] &&
    [[ "$BODY" == *'"line":3,"reason":"not_object"'* ]] &&
    [[ "$BODY" == *'"line":4,"reason":"not_object"'* ]] &&
    [[ "$BODY" == *'"line":6,"reason":"too_deep"'* ]] &&
    [[ "$BODY" == *'"line":7,"reason":"too_large"'* ]]
check mixed_reasons_by_line $? "got $BODY"
after=$(next_offset events)
[ $((after - before)) = 3 ]; check mixed_only_good_written $? "offset moved by $((after - before))"
"$BIN" read events --data "$T/data" --from "$before" | grep -q '"id":13'
check mixed_order_kept $? "record 13 missing"
errs=$("$BIN" read events.errors --data "$T/data" | wc -l)
"$BIN" read events.errors --data "$T/data" | grep -q '"reason":"invalid_json".*"record":"{\\"id\\": 11,"'
[ $? = 0 ] && [ "$errs" = 5 ]; check error_stream_has_rejects $? "errors stream has $errs records"

printf '{bad\n[1]\n' > "$T/allbad.ndjson"
post events "$T/allbad.ndjson" "${AUTH[@]}"
[ "$CODE" = 400 ] && [[ "$BODY" == *'"accepted":0'* ]]; check all_bad_is_400 $? "got $CODE $BODY"

# a malformed element in an array: the elements after it are still read
echo '[{"id":-3},{bad},{"id":-4}, 7 ,{"id":-5}' > "$T/mixed_array.json"
before=$(next_offset open)
post open "$T/mixed_array.json"
[ "$CODE" = 200 ] && [[ "$BODY" == *'"accepted":2'* ]] && [[ "$BODY" == *'"rejected":3'* ]] &&
    [[ "$BODY" == *'"index":1,'* ]] && [[ "$BODY" == *'"index":3,"reason":"not_object"'* ]] &&
    [[ "$BODY" == *'"index":4,'* ]] && [ "$(next_offset open)" = $((before + 2)) ]
check array_every_element_accounted $? "got $CODE $BODY"

# array elements end where the brackets match: a ']' or '}' nested in arrays, objects or
# strings does not end an element early; a closer that does not match its opener makes
# that element bad and the split resumes at the array's own level
array_case() { # NAME BODY ACCEPTED REJECTED [substring of the reply]
    printf '%s' "$2" > "$T/brackets.json"
    local before; before=$(next_offset open)
    post open "$T/brackets.json"
    [ "$CODE" = 200 ] && [[ "$BODY" == *"\"accepted\":$3"* ]] &&
        { [ "$4" = 0 ] || [[ "$BODY" == *"\"rejected\":$4"* ]]; } &&
        [[ "$BODY" == *"${5:-}"* ]] && [ "$(next_offset open)" = $((before + $3)) ]
    check "$1" $? "got $CODE $BODY"
}
array_case array_nested_closers_stay_inside '[{"a":[1,{"b":"]"}]},{"id":2}]' 2 0
array_case array_closers_in_strings '[{"s":"}],{"},{"t":[[],{}],"u":"]]"},{"id":3}]' 3 0
array_case array_mismatched_bracket_resyncs '[{"a":[1}, {"b":2}]' 1 1 '"index":0,'
array_case array_stray_closer_at_level_1 '[{"a":1], {"b":2}, {"c":3}]' 2 1 '"index":0,'
"$BIN" read open --data "$T/data" | tail -3 | tr -d ' ' | grep -qx '{"b":2}'
check array_resynced_element_intact $? "$("$BIN" read open --data "$T/data" | tail -3)"

# --- request-level refusals: nothing written ------------------------------------------
before=$(next_offset events)
head -c 70000 /dev/zero | tr '\0' ' ' > "$T/huge.ndjson"; echo '{"id":1}' >> "$T/huge.ndjson"
post events "$T/huge.ndjson" "${AUTH[@]}"
[ "$CODE" = 413 ]; check body_over_limit_413 $? "got $CODE $BODY"
post events "$T/huge.ndjson" "${AUTH[@]}" -H 'Transfer-Encoding: chunked'
[ "$CODE" = 413 ]; check chunked_body_over_limit_413 $? "got $CODE $BODY"
head -c 200000 /dev/zero | tr '\0' ' ' | gzip > "$T/bomb.gz"
post events "$T/bomb.gz" "${AUTH[@]}" -H 'Content-Encoding: gzip'
[ "$CODE" = 413 ]; check gzip_bomb_413 $? "got $CODE $BODY"
for i in $(seq 101); do echo "{\"i\":$i}"; done > "$T/many.ndjson"
post events "$T/many.ndjson" "${AUTH[@]}"
[ "$CODE" = 413 ] && [[ "$BODY" == *'more than 100 records'* ]]; check too_many_records_413 $? "got $CODE $BODY"
printf 'this is not gzip' > "$T/notgz"
post events "$T/notgz" "${AUTH[@]}" -H 'Content-Encoding: gzip'
[ "$CODE" = 400 ] && [[ "$BODY" == *gzip* ]]; check bad_gzip_400 $? "got $CODE $BODY"
post events "$T/good.ndjson" "${AUTH[@]}" -H 'Content-Encoding: br'
[ "$CODE" = 415 ]; check unknown_encoding_415 $? "got $CODE $BODY"
post events "$T/good.ndjson" -H "Authorization: Bearer wrong"
[ "$CODE" = 401 ]; check wrong_token_401 $? "got $CODE $BODY"
post events "$T/good.ndjson"
[ "$CODE" = 401 ]; check missing_token_401 $? "got $CODE $BODY"
after=$(next_offset events)
[ "$before" = "$after" ]; check refused_requests_write_nothing $? "offset moved $before -> $after"

post nosuch "$T/good.ndjson"
[ "$CODE" = 404 ] && [[ "$BODY" == *nosuch* ]]; check unknown_stream_404 $? "got $CODE $BODY"
post events.errors "$T/good.ndjson"
[ "$CODE" = 404 ]; check error_stream_not_writable $? "got $CODE $BODY"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/streams/events/records")
[ "$code" = 405 ]; check get_on_records_405 $? "got $code"
long=$(printf 's%.0s' $(seq 65))
post "$long" "$T/good.ndjson"
[ "$CODE" = 400 ] && [[ "$BODY" == *'at most 64'* ]] && [[ "$BODY" != *reserved* ]]
check long_stream_name_says_too_long $? "got $CODE $BODY"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "$URL/v1/nosuch")
code2=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/whatever")
[ "$code" = 404 ] && [ "$code2" = 404 ]; check unknown_path_404_any_method $? "got $code $code2"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/healthz")
[ "$code" = 405 ]; check known_path_wrong_method_405 $? "got $code"
before=$(next_offset open)
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Length: 9' -H 'Content-Length: 9' \
    --data-binary '{"id":99}' "$URL/v1/streams/open/records")
[ "$code" = 400 ] && [ "$(next_offset open)" = "$before" ]
check duplicate_content_length_400 $? "got $code"
post open "$T/good.ndjson"
[ "$CODE" = 200 ]; check stream_without_tokens_open $? "got $CODE $BODY"

# disk budget: the tiny stream refuses once it holds 2 KB
for i in $(seq 30); do echo "{\"pad\":\"$(head -c 100 /dev/zero | tr '\0' p)\"}"; done > "$T/pad.ndjson"
post tiny "$T/pad.ndjson"; post tiny "$T/pad.ndjson"
code=$(curl -s -D "$T/h" -o /dev/null -w '%{http_code}' -X POST --data-binary @"$T/good.ndjson" "$URL/v1/streams/tiny/records")
[ "$code" = 507 ] && grep -qi '^Retry-After:' "$T/h"; check disk_budget_507_retry_after $? "got $code"

# --- a slow client does not hold up others -------------------------------------------------
exec 3<>/dev/tcp/127.0.0.1/"$(cat "$T/port")"
printf 'POST /v1/streams/open/records HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"id":' >&3
t0=$(date +%s%N)
post open "$T/good.ndjson"
t1=$(date +%s%N)
[ "$CODE" = 200 ] && [ $(( (t1 - t0) / 1000000 )) -lt 1500 ]
check slow_client_does_not_block $? "got $CODE after $(( (t1 - t0) / 1000000 )) ms"
sleep 3  # past the 2 s connection timeout: the server must have closed it
if timeout 2 cat <&3 >/dev/null; then closed=0; else closed=1; fi
exec 3<&- 3>&-
[ "$closed" = 0 ]; check slow_client_timed_out $? "connection still open after the timeout"

# --- metrics and shutdown -------------------------------------------------------------------
m=$(curl -s "$URL/metrics")
echo "$m" | grep -q 'sluice_ingest_rejected_total{stream="events",reason="too_deep"} 1' &&
    echo "$m" | grep -q 'sluice_ingest_records_total{stream="events"} 12' &&
    echo "$m" | grep -q 'sluice_journal_fsync_seconds_bucket{stream="events",le="+Inf"}' &&
    echo "$m" | grep -q 'sluice_http_responses_total{code="4xx"}'
check metrics_prometheus $? "$(echo "$m" | head -30)"
info=$(curl -s "$URL/v1/streams")
[[ "$info" == *'"name":"events"'* ]] && [[ "$info" == *'"name":"open"'* ]]
check list_streams $? "$info"

[ "$(curl -s "$URL/healthz")" = ok ]; check still_serving $? "healthz failed after bad input"
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
[ "$rc" = 0 ] && grep -q 'stopped cleanly' "$T/server.log"; check sigterm_exit_0 $? "exit $rc: $(tail -3 "$T/server.log")"
# --- a stream auto-created while its sink cannot start is not registered ---------------
# (a plain file where the sink's temp dir goes): 503, nothing written; once the obstacle
# is gone the next write creates the stream for real and its records land
mkdir -p "$T/data2"; echo x > "$T/data2/lake-tmp"
cat > "$T/auto.yaml" <<YAML
data_dir: $T/data2
listen: 127.0.0.1:0
auto_create_streams: true
limits:
  min_free_disk: 0
YAML
start_server "$T/auto.yaml"
code=$(curl -s -D "$T/h" -o "$T/reply" -w '%{http_code}' -X POST --data-binary @"$T/good.ndjson" \
    "$URL/v1/streams/auto/records")
[ "$code" = 503 ] && grep -qi '^Retry-After:' "$T/h" && grep -q 'stream auto: lake sink' "$T/reply"
check autocreate_sink_fails_503 $? "got $code $(cat "$T/reply")"
code=$(curl -s -o "$T/reply" -w '%{http_code}' "$URL/v1/streams/auto")
[ "$code" = 404 ]; check autocreate_failed_stream_not_registered $? "GET: $code $(cat "$T/reply")"
rm -f "$T/data2/lake-tmp"
post auto "$T/good.ndjson"
[ "$CODE" = 200 ] && [[ "$BODY" == *'"accepted":3'* ]] && [[ "$BODY" == *'"first_offset":0'* ]]
check autocreate_retried_after_obstacle_gone $? "got $CODE $BODY"
curl -s "$URL/v1/streams/auto" | grep -q '"sink":{'; check autocreate_retry_has_sink $? "$(curl -s "$URL/v1/streams/auto")"
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=  # a clean stop lands the sink's buffer
n=$("$BIN" sql -d "$T/data2" --no-tail -F csv "SELECT count(*) FROM t1_auto" 2>&1 | tail -1)
[ "$rc" = 0 ] && [ "$n" = 3 ]; check autocreate_retry_records_land $? "exit $rc, lake has '$n' of 3 rows"
if grep -qE 'AddressSanitizer|runtime error' "$T/server.log"; then fail sanitizer_clean "$(grep -A5 -E 'AddressSanitizer|runtime error' "$T/server.log" | head -20)"; else ok sanitizer_clean; fi
