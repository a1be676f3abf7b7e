#!/usr/bin/env bash
# Staging files of `kind: command` output (<data_dir>/jobs/tmp/sl-<pid>-*.ndjson)
# left by a `sluice worker` killed -9 while its command streams output: the
# orphan is removed when another worker starts, while the file a living
# worker (another process) is writing is kept and its run lands every row.
source "$(dirname "$0")/../lib/sh.sh" jobs_staging

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s|__T__|$T|" -e "s|__PORT__|$PORT|" > "$T/sluice.yaml" <<'YAML'
data_dir: __T__/data
listen: 127.0.0.1:__PORT__
limits: {min_free_disk: 0}
workers: 0
scheduler: {tick: 100ms, task_timeout: 2s, heartbeat: 300ms}
jobs:
  stream:
    kind: command
    window: hour
    command: [sh, -c, 'for i in $(seq 60); do echo "{\"w\":\"$SLUICE_HR\",\"i\":$i}"; sleep 0.1; done']
    output: ndjson
    table: t2_stream_snapshot_hourly
YAML
WPIDS=
cleanup() {
    for p in $WPIDS; do kill -9 "$p" 2>/dev/null; done
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    rm -rf "$T"
}
runs_json() { "$BIN" runs "$1" -c "$T/sluice.yaml" -f json -n 1000 "${@:2}" 2>>"$T/cli.log"; }
sql() { "$BIN" sql -c "$T/sluice.yaml" -F csv "$1" 2>&1; }
wait_for() { # seconds, command...
    local s=$1; shift
    for _ in $(seq $((s * 10))); do "$@" && return 0; sleep 0.1; done
    return 1
}
worker() { # name: a `sluice worker` with one thread, its pid in $T/NAME.pid
    "$BIN" worker -c "$T/sluice.yaml" --threads 1 2>>"$T/$1.log" &
    echo $! > "$T/$1.pid"; WPIDS="$WPIDS $!"
}
staged() { ls "$T/data/jobs/tmp/" 2>/dev/null | grep "^sl-$1-.*\.ndjson\$"; }
streaming() { [ -s "$T/data/jobs/tmp/$(staged "$1" | head -1)" ] && [ -n "$(staged "$1")" ]; }

start_server "$T/sluice.yaml"
[ "$(cat "$T/port" 2>/dev/null)" = "$PORT" ]; check server_started $? "$(tail -5 "$T/server.log")"
# a living worker streams its run (another process, its file locked)
worker c; C=$(cat "$T/c.pid")
"$BIN" run stream -c "$T/sluice.yaml" --window 2024-05-01T02:00:00Z >/dev/null 2>&1
wait_for 20 streaming "$C"; check living_worker_streaming $? "$(ls -la "$T/data/jobs/tmp" 2>&1; tail -3 "$T/c.log")"
living=$(staged "$C")
# a second worker is killed -9 while its command streams
worker a; A=$(cat "$T/a.pid")
"$BIN" run stream -c "$T/sluice.yaml" --window 2024-05-01T01:00:00Z >/dev/null 2>&1
wait_for 20 streaming "$A"; check killed_worker_was_streaming $? "$(ls -la "$T/data/jobs/tmp" 2>&1; tail -3 "$T/a.log")"
orphan=$(staged "$A")
kill -9 "$A"; wait "$A" 2>/dev/null
[ -n "$orphan" ] && [ -e "$T/data/jobs/tmp/$orphan" ]; check orphan_left_by_kill $? "$orphan"

# another worker starts: the orphan goes, the living worker's file stays
worker b
gone() { [ ! -e "$T/data/jobs/tmp/$orphan" ]; }
wait_for 10 gone; check orphan_removed_at_worker_start $? "$(ls -la "$T/data/jobs/tmp")"
[ -n "$living" ] && [ -e "$T/data/jobs/tmp/$living" ]; check living_workers_file_kept $? "$living: $(ls -la "$T/data/jobs/tmp")"
grep -q 'removed 1 staging files of workers that are gone' "$T/b.log"; check removal_logged $? "$(tail -5 "$T/b.log")"

# both runs succeed (the killed one taken over), each window's 60 rows once
done2() { [ "$(runs_json stream --state succeeded | grep -o '"state":' | wc -l)" = 2 ]; }
wait_for 60 done2; check both_runs_succeed $? "$(runs_json stream | head -c 800)"
got=$(sql "SELECT w, count(*), count(DISTINCT i) FROM t2_stream_snapshot_hourly GROUP BY w ORDER BY w" | tail -2 | tr '\n' ' ')
[ "$got" = "01,60,60 02,60,60 " ]; check rows_landed_once $? "$got"
left=$(ls "$T/data/jobs/tmp" | wc -l)
[ "$left" = 0 ]; check no_staging_left $? "$(ls -la "$T/data/jobs/tmp")"

for p in $(cat "$T/b.pid") "$C"; do kill -TERM "$p"; wait "$p"; done; WPIDS=
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
[ "$rc" = 0 ]; check server_clean_exit $? "exit $rc"
if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T"/*.log; then
    fail sanitizer_clean "$(grep -h -A8 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$T"/*.log | head -20)"
else ok sanitizer_clean; fi
