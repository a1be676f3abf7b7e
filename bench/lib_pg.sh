# Sourced by the benchmarks that need a scratch PostgreSQL 15 (load.sh,
# snapshot.sh):
#
#   bench_pg_start NAME [SETTING=VALUE ...]
#
# makes the scratch directory T (bench/out/NAME-XXXXXX), starts a server on a
# free loopback port ($port; socket in $T; shared_buffers=512MB plus the
# given settings) as the postgres user when run as root (AS_PG), and at exit
# kills the bench's own sluice process ($SPID, if set), stops PostgreSQL and
# removes T.  psql_ ARGS... runs psql against it, stopping at the first error.
PGBIN=/usr/lib/postgresql/15/bin

bench_pg_cleanup() {
    if [ -n "${SPID:-}" ]; then kill -9 "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null || true; fi
    "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$T/pg" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$T"
}

psql_() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }

bench_pg_start() {
    local name=$1
    shift
    mkdir -p bench/out
    T=$(mktemp -d "$PWD/bench/out/$name-XXXXXX")
    chmod 755 "$T"
    AS_PG=()
    if [ "$(id -u)" = 0 ]; then AS_PG=(runuser -u postgres --); chown postgres "$T"; fi
    SPID=
    trap bench_pg_cleanup EXIT
    set +m # the serve process is killed at the end: no message about it
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    local opts="-p $port -k $T -c listen_addresses=127.0.0.1 -c shared_buffers=512MB" o
    for o in "$@"; do opts="$opts -c $o"; done
    "${AS_PG[@]}" "$PGBIN/initdb" -D "$T/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$T/pg" -l "$T/pg.log" -w -o "$opts" start >/dev/null
}
