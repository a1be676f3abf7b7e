#!/usr/bin/env bash
# A sink whose store fails (the lake's directory replaced by a file) keeps its
# records in the journal and retries with capped exponential backoff: GET
# /v1/streams answers at once while it fails, the retry count grows slowly
# (not a busy loop), a stop ends the wait at once, and once the store is back
# the records land.
source "$(dirname "$0")/../lib/sh.sh" sink_retry
D=$T/data
cat > "$T/sluice.yaml" <<YAML
data_dir: $D
listen: 127.0.0.1:0
shutdown_timeout: 60s
limits:
  min_free_disk: 0
streams:
  ev: {sink: {roll_rows: 1}}
YAML
start_server "$T/sluice.yaml"
field() { grep -o "\"$1\":[^,}]*" "$T/st.json" | head -1 | cut -d: -f2-; }

mv "$D/lake" "$D/lake.moved" && : > "$D/lake"
printf '%s\n' '{"id":1}' '{"id":2}' '{"id":3}' > "$T/ev.ndjson"
c=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$T/ev.ndjson" "$URL/v1/streams/ev/records")
[ "$c" = 200 ]; check ingest_while_the_store_fails $? "$c"

# 4 s of status reads while the sink fails: each within 1 s
slow=0 max=0 n=0
t_end=$(( $(date +%s%N) + 4000000000 ))
while [ "$(date +%s%N)" -lt "$t_end" ]; do
    t=$(curl -s -m 5 -o "$T/st.json" -w '%{time_total}' "$URL/v1/streams")
    ms=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000 }')
    [ "$ms" -gt "$max" ] && max=$ms
    [ "$ms" -ge 1000 ] && slow=$((slow + 1))
    n=$((n + 1))
    sleep 0.2
done
[ "$slow" = 0 ] && [ "$n" -ge 10 ]; check status_answers_while_the_sink_fails $? "$slow of $n reads took 1 s or more (max $max ms)"
retries=$(field retries) backoff=$(field retry_backoff_ms) lag=$(field lag)
echo "# after 4 s failing: $retries retries, backoff $backoff ms, max status read $max ms"
# waits of 50..100, 100..200, ... ms (doubling from 100 ms, half to all of it): 5 to 7 in 4 s
[ -n "$retries" ] && [ "$retries" -ge 3 ] && [ "$retries" -le 9 ]; check retries_back_off $? "retries '$retries' in 4 s"
[ -n "$backoff" ] && [ "$backoff" -ge 400 ]; check backoff_grows $? "retry_backoff_ms '$backoff'"
[ "$lag" = 3 ] && grep -q '"last_error":"[^"]*Not a directory' "$T/st.json"; check status_names_the_failure $? "$(cat "$T/st.json")"
m=$(curl -s "$URL/metrics" | grep '^sluice_sink_retries_total{stream="ev"}' | awk '{print $2}')
[ -n "$m" ] && [ "$m" -ge "$retries" ]; check retries_in_metrics $? "'$m'"

# a stop right after a retry failed (its wait just began) ends the wait at
# once (shutdown_timeout is 60 s)
logged=$(grep -c 'retrying in' "$T/server.log")
for _ in $(seq 200); do
    [ "$(grep -c 'retrying in' "$T/server.log")" != "$logged" ] && break
    sleep 0.05
done
t0=$(date +%s%N)
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" = 0 ] && [ "$ms" -lt 2000 ]; check stop_during_backoff_is_prompt $? "exit $rc after $ms ms"

# the store is back: the journal's records land
rm "$D/lake" && mv "$D/lake.moved" "$D/lake"
start_server "$T/sluice.yaml"
for _ in $(seq 100); do
    curl -s -o "$T/st.json" "$URL/v1/streams/ev"
    [ "$(field lag)" = 0 ] && break
    sleep 0.1
done
[ "$(field lag)" = 0 ] && [ "$(field retry_backoff_ms)" = 0 ]; check lands_once_the_store_is_back $? "$(cat "$T/st.json")"
kill -TERM "$PID"; wait "$PID"; PID=
n=$("$BIN" sql -c "$T/sluice.yaml" --no-tail -F csv "SELECT count(*) FROM t1_ev" 2>&1 | tail -1)
[ "$n" = 3 ]; check every_record_landed $? "'$n' rows"

if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/server.log"; then
    fail sanitizer_clean "$(grep -A5 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$T/server.log" | head -12)"
else ok sanitizer_clean; fi
