#!/usr/bin/env bash
# Review 9 (jobs, 6f2e365): defects seen through the binary.  Each check
# fails on the reviewed code.
#   cli_window_in_job_zone        `sluice run --window D` is D in the job's zone (the CLI
#                                 parses it as UTC midnight: a New York day job runs D-1)
#   cycle_check_is_linear         config --check of a layered diamond DAG (30 x 2 jobs)
#                                 finishes (the DFS walks every path: 2^30)
#   background_child_does_not_hold_run   a command that exits at once but left a child
#                                 holding stdout finishes when it exits (waits for EOF)
#   setsid_child_cannot_wedge_worker     a run whose program exited but left a setsid'ed
#                                 child holding its pipes ends (the loop waited for pipe
#                                 EOF forever, and SIGTERM of the server hung)
#   command_has_default_sigpipe   commands do not inherit the server's SIG_IGN of SIGPIPE
#   command_signals_unblocked     a program exec'd without a shell has SIGTERM/SIGINT
#                                 unblocked (it inherits serve's sigwait mask: a timeout's
#                                 SIGTERM never arrives, only SIGKILL 5 s later)
#   timeout_message_intact        the timeout error says "timed out" (ut_fail formats
#                                 e->msg into itself)
#   environment_not_truncated     a server with > 96 variables passes its HOME on
source "$(dirname "$0")/../lib/sh.sh" review9_jobs

DPID=
cleanup9() { [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup9 EXIT

wait_for() { # seconds, command...
    local s=$1; shift
    for _ in $(seq $((s * 10))); do "$@" && return 0; sleep 0.1; done
    return 1
}

# ---- config --check of a diamond DAG ------------------------------------------------
{
    printf 'data_dir: %s/dag\njobs:\n' "$T"
    for i in $(seq 0 29); do
        for k in a b; do
            printf '  j%s%s:\n    kind: command\n    command: [true]\n' "$i" "$k"
            [ "$i" -gt 0 ] && printf '    depends_on: [j%sa, j%sb]\n' $((i - 1)) $((i - 1))
        done
    done
} > "$T/dag.yaml"
timeout 20 "$BIN" config --check "$T/dag.yaml" >"$T/dag.out" 2>&1; rc=$?
[ $rc = 0 ]; check cycle_check_is_linear $? "exit $rc (124: still walking after 20 s): $(tail -2 "$T/dag.out")"

# ---- a server with command jobs --------------------------------------------------------
sed "s|__T__|$T|g" > "$T/sluice.yaml" <<'YAML'
data_dir: __T__/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 3
scheduler: {tick: 100ms, task_timeout: 2s, heartbeat: 300ms}
jobs:
  ny_day:
    kind: command
    window: day
    timezone: America/New_York
    command: ['true']
  bg:
    kind: command
    retries: 0
    command: [sh, -c, 'sleep 20 & echo started']
  daemon:
    kind: command
    retries: 0
    timeout: 2s
    command: [sh, -c, 'setsid sleep 60 & echo $! > __T__/daemon.pid; echo started']
  sigpipe:
    kind: command
    retries: 0
    command: [sh, -c, 'yes 2>__T__/yes.err | head -1 >/dev/null; test ! -s __T__/yes.err']
  slow:
    kind: command
    retries: 0
    timeout: 1s
    command: [sleep, '5']
  mask:
    kind: command
    retries: 0
    command: [grep, -q, 'SigBlk:[[:space:]]*0000000000000000', /proc/self/status]
  home:
    kind: command
    retries: 0
    command: [sh, -c, 'test "$HOME" = /r9home || { echo "HOME=[$HOME]" >&2; exit 1; }']
YAML
start_server "$T/sluice.yaml"
[ -n "$(cat "$T/port" 2>/dev/null)" ]; check server_started $? "$(tail -5 "$T/server.log")"
runs_json() { "$BIN" runs "$1" -c "$T/sluice.yaml" -f json 2>>"$T/cli.log"; }

"$BIN" run ny_day -c "$T/sluice.yaml" --window 2024-05-01 --wait 20 >/dev/null 2>&1
j=$(runs_json ny_day)
[[ "$j" == *'"window_start":"2024-05-01T04:00:00Z"'* ]]; check cli_window_in_job_zone $? "${j:0:200}"

"$BIN" run bg -c "$T/sluice.yaml" --window 2024-01-01 >/dev/null 2>&1
bg_done() { [[ "$(runs_json bg)" == *'"state":"succeeded"'* ]]; }
wait_for 8 bg_done; check background_child_does_not_hold_run $? "$(runs_json bg | head -c 300)"

"$BIN" run daemon -c "$T/sluice.yaml" --window 2024-01-01 >/dev/null 2>&1
wait_for 10 test -s "$T/daemon.pid"; DPID=$(cat "$T/daemon.pid" 2>/dev/null)
daemon_done() { [[ "$(runs_json daemon)" =~ \"state\":\"(succeeded|failed)\" ]]; }
wait_for 12 daemon_done; check setsid_child_cannot_wedge_worker $? "$(runs_json daemon | head -c 300)"

"$BIN" run sigpipe -c "$T/sluice.yaml" --window 2024-01-01 --wait 20 >/dev/null 2>&1
check command_has_default_sigpipe $? "$(cat "$T/yes.err" 2>/dev/null)"

"$BIN" run mask -c "$T/sluice.yaml" --window 2024-01-01 --wait 20 >/dev/null 2>&1
check command_signals_unblocked $? "SIGINT/SIGTERM blocked in the program (serve.c blocks them for sigwait; the worker threads and their children inherit the mask)"

"$BIN" run slow -c "$T/sluice.yaml" --window 2024-01-01 --wait 20 >/dev/null 2>&1
j=$(runs_json slow)
[[ "$j" == *'timed out after 1000 ms'* ]]; check timeout_message_intact $? "${j:0:400}"

kill -TERM "$PID"
for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID" 2>/dev/null; [ $? != 0 ]; check sigterm_stops_within_10s $? "server $PID still running"
kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=
[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; DPID=

# ---- a server whose environment has over 96 variables ------------------------------------
sed -i '/^  daemon:/,/^  sigpipe:/{/^  sigpipe:/!d}' "$T/sluice.yaml"
filler=(); for i in $(seq 1 100); do filler+=("R9_FILL_$i=x"); done
rm -f "$T/port"
env -u HOME "${filler[@]}" HOME=/r9home "$BIN" serve -c "$T/sluice.yaml" --port-file "$T/port" 2>>"$T/server.log" &
PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
"$BIN" run home -c "$T/sluice.yaml" --window 2024-01-01 --wait 20 >/dev/null 2>&1
check environment_not_truncated $? "$(runs_json home | grep -o '"error":"[^"]*"')"
kill -TERM "$PID"; wait "$PID"; PID=
