# Shared pieces of the shell integration tests (sourced, not a test itself).
#   source tests/lib/sh.sh NAME   -> BIN, T (temp dir, removed at exit), ok/fail/check,
#                                    start_server CONFIG (sets PID and URL, stops at exit)
set -u
BIN=${SLUICE_BIN:-build/san/sluice}
T=$(mktemp -d "/tmp/sluice-${1:-test}-XXXXXX")
PID=
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
check() { # name, condition-result (0 = pass), detail
    if [ "$2" = 0 ]; then ok "$1"; else fail "$1" "$3"; fi
}
# start_server CONFIG: sluice serve with --port-file, waits until it listens
start_server() {
    rm -f "$T/port"
    "$BIN" serve -c "$1" --port-file "$T/port" 2>>"$T/server.log" &
    PID=$!
    for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
    URL="http://127.0.0.1:$(cat "$T/port" 2>/dev/null)"
}
