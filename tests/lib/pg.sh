# A private PostgreSQL 15 cluster for a test (sourced after tests/lib/sh.sh):
#   pg_start DIR   initdb in DIR/data, listen on 127.0.0.1:<free port> with the
#                  socket in DIR; sets PGPORT_T and stops the cluster at exit
#                  (chained to the test's own cleanup).  trust for the role
#                  postgres over TCP, passwords for every other role.
#   psql_ DB ...   psql as postgres on DB (ON_ERROR_STOP)
# Exits the test with "skip" when PostgreSQL 15 is not installed.
PGBIN=/usr/lib/postgresql/15/bin
pg_start() {
    local dir=$1
    if [ ! -x "$PGBIN/initdb" ]; then
        echo "skip $(basename "$0"): PostgreSQL 15 is not installed (scripts/deps.sh --test)"
        exit 0
    fi
    mkdir -p "$dir" && chmod 755 "$dir"
    PG_AS=()
    if [ "$(id -u)" = 0 ]; then PG_AS=(runuser -u postgres --); chown postgres "$dir"; fi
    PGPORT_T=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    PG_DIR=$dir
    "${PG_AS[@]}" "$PGBIN/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log"; echo "FAIL $(basename "$0") initdb"; exit 1; }
    sed -i '/^host/d' "$dir/data/pg_hba.conf"
    printf 'host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n' \
        >>"$dir/data/pg_hba.conf"
    "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 30 \
        -o "-p $PGPORT_T -k $dir -c listen_addresses=127.0.0.1 -c log_statement=all" start \
        >/dev/null || { cat "$dir/pg.log"; echo "FAIL $(basename "$0") pg_ctl start"; exit 1; }
    for _ in $(seq 50); do "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT_T" && break; sleep 0.1; done
    trap 'pg_stop; cleanup' EXIT
}
pg_stop() {
    [ -n "${PG_DIR:-}" ] && "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop \
        >/dev/null 2>&1
}
psql_() {
    local db=$1; shift
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT_T" -U postgres -d "$db" "$@"
}
