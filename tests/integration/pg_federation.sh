#!/usr/bin/env bash
# Federation with a real PostgreSQL 15 (a private cluster on 127.0.0.1 and a
# free port): pg.<table> through src/pgfed, with the pushed-down projection
# and WHERE read back from PostgreSQL's statement log (log_statement=all).
# Driven by build/san/pgf_driver (tests/unit/driver/pgf_driver.c: attaches
# the config's postgres section to an in-memory SQLite and runs queries);
# also through `sluice sql -c` once the SQL engine attaches the connections.
set -u
cd "$(dirname "$0")/../.."
PGBIN=/usr/lib/postgresql/15/bin
if [ ! -x "$PGBIN/initdb" ]; then
    echo "skip pg_federation: PostgreSQL 15 is not installed (scripts/deps.sh --test)"
    exit 0
fi

tmp=$(mktemp -d /tmp/sluice-pgfed-XXXXXX)
chmod 755 "$tmp"
AS_PG=()
if [ "$(id -u)" = 0 ]; then AS_PG=(runuser -u postgres --); chown postgres "$tmp"; fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$tmp/pg.log
cleanup() {
    "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "ok $1"; }
fail() {
    echo "FAIL $1"
    shift
    for l in "$@"; do echo "    $l"; done
}

# ---- the cluster ------------------------------------------------------------
"${AS_PG[@]}" "$PGBIN/initdb" -D "$tmp/data" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$tmp/initdb.log" 2>&1 ||
    { cat "$tmp/initdb.log"; echo "FAIL pg_federation initdb"; exit 1; }
# trust for postgres over TCP, passwords for everyone else
sed -i '/^host/d' "$tmp/data/pg_hba.conf"
printf 'host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n' \
    >>"$tmp/data/pg_hba.conf"
"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$tmp/data" -l "$log" -w -t 30 \
    -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c log_statement=all" start >/dev/null ||
    { cat "$log"; echo "FAIL pg_federation pg_ctl start"; exit 1; }
for _ in $(seq 50); do "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done

psql_() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d app "$@"; }
"$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres app
psql_ <<'SQL' || { echo "FAIL pg_federation setup"; exit 1; }
CREATE ROLE app LOGIN PASSWORD 'S3cret-pw-xyz';
CREATE TABLE users (
    id int4 PRIMARY KEY, name text, email varchar(100), age int2, score float8, ratio float4,
    balance numeric(12,2), active bool, big int8, uid uuid, meta jsonb, created timestamptz,
    local_ts timestamp, birthday date, avatar bytea, code char(4));
INSERT INTO users VALUES
 (1, 'ann', 'ann@example.com', 34, 1.5, 0.25, 1234.56, true, 9007199254740993,
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '2024-05-01 12:00:00.5+02',
  '2024-05-01 12:00:00', '1990-02-03', '\x00ff10', 'ab'),
 (2, 'bob', NULL, 51, -2, 1.1, -0.5, false, -1, NULL, NULL, '2024-05-01 00:00:00+00',
  NULL, NULL, '\x', NULL),
 (3, 'carol', 'carol@example.com', 29, 3e10, NULL, 0, true, 0, NULL, '[]',
  '2024-05-02 23:59:59.999999+00', '2024-05-02 23:59:59.999999', '2024-02-29', NULL, 'xyz'),
 (4, 'Émile', 'emile@example.com', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL),
 (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE SCHEMA sales;
CREATE TABLE sales.orders (id int8 PRIMARY KEY, user_id int4, amount numeric(10,2), at timestamptz);
INSERT INTO sales.orders VALUES (1, 1, 9.99, '2024-05-01 10:00:00+00'),
  (2, 3, 5, '2024-05-01 11:00:00+00'), (3, 1, 1.01, '2024-05-03 00:00:00+00');
CREATE VIEW active_users AS SELECT id, name FROM users WHERE active;
CREATE VIEW broken AS SELECT id, 1 / (id - id) AS boom FROM users;
CREATE TABLE big AS
  SELECT g::int8 AS id, repeat(md5(g::text), 8) AS pad FROM generate_series(1, 200000) g;
ANALYZE;
GRANT SELECT ON users, active_users TO app;
SQL

cfg=$tmp/sluice.yaml
printf 'S3cret-pw-xyz\n' >"$tmp/pw"
cat >"$cfg" <<CFG
postgres:
  pg:
    conninfo: "host=127.0.0.1 port=$port dbname=app user=postgres"
    fetch_rows: 1000
  app:
    conninfo: "host=127.0.0.1 port=$port dbname=app user=app"
    password_file: $tmp/pw
CFG

# ---- the driver ---------------------------------------------------------------
DRIVER=build/san/pgf_driver
make --no-print-directory -s "$DRIVER" >/dev/null ||
    { echo "FAIL pg_federation: building the driver"; exit 1; }

# q SQL...: run the driver; stdout in $out, stderr in $err, new log lines in $newlog
q() {
    local mark
    mark=$(stat -c %s "$log")
    out=$("$DRIVER" "$cfg" "$@" 2>"$tmp/err")
    rc=$?
    err=$(cat "$tmp/err")
    sleep 0.05
    newlog=$(tail -c +$((mark + 1)) "$log")
}
expect_out() { # name expected
    if [ "$out" = "$2" ]; then ok "$1"; else fail "$1" "expected:" "$2" "got (rc $rc):" "$out" "$err"; fi
}
expect_log() { # name fixed-string
    if grep -qF -- "$2" <<<"$newlog"; then ok "$1"
    else fail "$1" "not in the PostgreSQL log: $2" "$(grep -F DECLARE <<<"$newlog" | head -5)"; fi
}
expect_nolog() {
    if grep -qF -- "$2" <<<"$newlog"; then fail "$1" "unexpectedly in the log: $2"; else ok "$1"; fi
}

# projection + equality
q "SELECT name FROM pg.users WHERE id = 3"
expect_out projection_eq_result "carol
-- 1 rows"
expect_log projection_eq_pushed 'FOR SELECT "id", "name" FROM "public"."users" WHERE "id" = $1::int8'
expect_log projection_eq_param "parameters: \$1 = '3'"
expect_nolog projection_only_used '"email"'

# ranges, text order as SQLite's (COLLATE "C"), LIMIT when everything is exact
q "SELECT id FROM pg.users WHERE age >= 30 AND age < 60 ORDER BY id"
expect_out range_result "1
2
-- 2 rows"
expect_log range_pushed '"age" >= $1::int8 AND "age" < $2::int8'
q "SELECT id FROM pg.users WHERE name > 'b' ORDER BY id"
expect_out text_range_result "2
3
4
-- 3 rows"
expect_log text_range_collate_c '"name" > $1::text COLLATE "C"'
q "SELECT id FROM pg.users WHERE id > 1 LIMIT 2"
expect_out limit_result "2
3
-- 2 rows"
expect_log limit_pushed 'WHERE "id" > $1::int8 LIMIT $2::int8'
# LIMIT must not be pushed under ORDER BY or a predicate SQLite still checks
q "SELECT id FROM pg.users ORDER BY name DESC LIMIT 1" "SELECT id FROM pg.users WHERE name LIKE 'c%' LIMIT 1" \
    "SELECT id FROM pg.users WHERE score > 0 LIMIT 1 OFFSET 1" "SELECT count(*) FROM pg.users LIMIT 1" \
    "SELECT count(*) FROM (SELECT DISTINCT active FROM pg.users LIMIT 3)"
expect_out limit_not_pushed_when_inexact "4
-- 1 rows
3
-- 1 rows
3
-- 1 rows
5
-- 1 rows
3
-- 1 rows"
expect_nolog limit_not_in_log 'LIMIT $'
q "SELECT id FROM pg.big LIMIT 3"
expect_log limit_fetch_small "FETCH 3 FROM"

# IN, IS NULL, IS NOT NULL
q "SELECT id, name FROM pg.users WHERE id IN (1, 4, 7) ORDER BY id"
expect_out in_result "1|ann
4|Émile
-- 2 rows"
expect_log in_pushed '"id" IN ($1::int8, $2::int8, $3::int8)'
# regression: the values of a text IN list were read after SQLite freed them
# (sqlite3_vtab_in_next invalidates the value before); ASan saw it in myfed
q "SELECT id FROM pg.users WHERE name IN ('carol', 'ann', 'nobody-at-all-xyz', 'bob') ORDER BY id"
expect_out in_text_result "1
2
3
-- 3 rows"
expect_log in_text_pushed '"name" IN ($1::text, $2::text, $3::text, $4::text)'
q "SELECT id FROM pg.users WHERE email IS NULL ORDER BY id"
expect_out isnull_result "2
5
-- 2 rows"
expect_log isnull_pushed '"email" IS NULL'
q "SELECT count(*) FROM pg.users WHERE uid IS NOT NULL"
expect_out notnull_result "1
-- 1 rows"
expect_log notnull_pushed '"uid" IS NOT NULL'

# every mapped type, NULLs
q "SELECT * FROM pg.users ORDER BY id" \
    "SELECT typeof(id), typeof(age), typeof(big), typeof(active), typeof(score), typeof(ratio), typeof(balance), typeof(name), typeof(uid), typeof(meta), typeof(created), typeof(birthday), typeof(avatar) FROM pg.users WHERE id = 1"
expect_out types_round_trip "1|ann|ann@example.com|34|1.5|0.25|1234.5599999999999|1|9007199254740993|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|{\"a\": [1, 2]}|2024-05-01T10:00:00.500000Z|2024-05-01T12:00:00Z|1990-02-03|x'00ff10'|ab  
2|bob|\N|51|-2|1.1000000238418579|-0.5|0|-1|\N|\N|2024-05-01T00:00:00Z|\N|\N|x''|\N
3|carol|carol@example.com|29|30000000000|\N|0|1|0|\N|[]|2024-05-02T23:59:59.999999Z|2024-05-02T23:59:59.999999Z|2024-02-29|\N|xyz 
4|Émile|emile@example.com|\N|\N|\N|\N|\N|\N|\N|\N|\N|\N|\N|\N|\N
5|\N|\N|\N|\N|\N|\N|\N|\N|\N|\N|\N|\N|\N|\N|\N
-- 5 rows
integer|integer|integer|integer|real|real|real|text|text|text|text|text|blob
-- 1 rows"

# timestamps and dates compare as the lake's text; pushed with a one-second margin
q "SELECT id FROM pg.users WHERE created >= '2024-05-01T10:00:00.500000Z' ORDER BY id"
expect_out ts_range_result "1
3
-- 2 rows"
expect_log ts_range_pushed '"created" >= $1::timestamptz'
q "SELECT id FROM pg.users WHERE created = '2024-05-01T00:00:00Z'"
expect_out ts_eq_result "2
-- 1 rows"
q "SELECT id FROM pg.users WHERE birthday < '2000-01-01'"
expect_out date_result "1
-- 1 rows"
expect_log date_pushed '"birthday" < $1::date'
q "SELECT id FROM pg.users WHERE avatar = x'00ff10'"
expect_out bytea_eq_result "1
-- 1 rows"
q "SELECT id FROM pg.users WHERE score > 1 AND balance < 100 ORDER BY id"
expect_out float_numeric_result "3
-- 1 rows"
expect_log float_pushed '"score" > $1::float8 AND "balance"::float8 < $2::float8'

# other schemas, views, joins between PostgreSQL tables
q "SELECT u.name, sum(o.amount) FROM pg.\"sales.orders\" o JOIN pg.users u ON u.id = o.user_id GROUP BY u.name ORDER BY 1" \
    "SELECT * FROM pg.active_users ORDER BY id"
expect_out schema_view_join "ann|11
carol|5
-- 2 rows
1|ann
3|carol
-- 2 rows"

# a large table streams in batches (fetch_rows: 1000) without holding it all
q "SELECT count(*), sum(id), sum(length(pad)) FROM pg.big"
expect_out big_result "200000|20000100000|51200000
-- 1 rows"
fetches=$(grep -c "FETCH 1000 FROM" <<<"$newlog")
if [ "$fetches" -ge 200 ]; then ok "big_streams_in_batches ($fetches FETCHes)"
else fail big_streams_in_batches "$fetches FETCH 1000"; fi
# ASan's quarantine would keep every freed batch: measure without it
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:detect_leaks=0"
rss=$({ /usr/bin/time -f '%M' "$DRIVER" "$cfg" "SELECT max(pad) FROM pg.big" >/dev/null; } 2>&1 | tail -1)
rss_small=$({ /usr/bin/time -f '%M' "$DRIVER" "$cfg" "SELECT max(pad) FROM pg.big WHERE id < 10" >/dev/null; } 2>&1 | tail -1)
# 200k rows x 256 bytes = 51 MB if buffered; one batch is 256 KB
if [ -n "$rss" ] && [ "$rss" -lt $((rss_small + 30000)) ]; then
    ok "big_bounded_memory (max RSS ${rss} KiB vs ${rss_small} KiB for 9 rows)"
else fail big_bounded_memory "max RSS ${rss} KiB vs ${rss_small} KiB"; fi
export ASAN_OPTIONS=${ASAN_OPTIONS%:quarantine_size_mb=0:detect_leaks=0}
[ "$ASAN_OPTIONS" = quarantine_size_mb=0:detect_leaks=0 ] && unset ASAN_OPTIONS

# the app role (password from password_file) sees only what it was granted
q "SELECT name FROM app.users WHERE id = 1" "SELECT count(*) FROM app.active_users"
expect_out password_file_login "ann
-- 1 rows
2
-- 1 rows"
q "SELECT * FROM app.big"
if [ "$rc" -ne 0 ] && grep -q "no such table" <<<"$err"; then ok only_granted_tables
else fail only_granted_tables "$out" "$err"; fi

# errors: PostgreSQL's message surfaces; bad connections name the connection, never the password
q "SELECT boom FROM pg.broken"
if [ "$rc" -ne 0 ] && grep -q 'postgres "pg": division by zero (SQLSTATE 22012)' <<<"$err"; then
    ok pg_error_surfaces
else fail pg_error_surfaces "$err"; fi
badcfg=$tmp/bad.yaml
conn_err() { # name conninfo
    printf 'postgres:\n  %s:\n    conninfo: "%s"\n' "$1" "$2" >"$badcfg"
    out=$("$DRIVER" "$badcfg" "SELECT 1" 2>&1)
    rc=$?
}
no_secret() { ! grep -q S3cret <<<"$out"; }
conn_err refused "host=127.0.0.1 port=1 dbname=app user=app password=S3cret-pw-xyz connect_timeout=2"
if [ "$rc" -ne 0 ] && grep -q 'postgres connection "refused" (.*host=127.0.0.1.*port=1' <<<"$out" && no_secret; then
    ok bad_conn_named_no_password
else fail bad_conn_named_no_password "$out"; fi
conn_err wrongpw "host=127.0.0.1 port=$port dbname=app user=app password=S3cret-pw-WRONG"
if [ "$rc" -ne 0 ] && grep -q 'postgres connection "wrongpw".*password authentication failed' <<<"$out" && no_secret; then
    ok wrong_password_no_password
else fail wrong_password_no_password "$out"; fi
conn_err unparsable "host=127.0.0.1 password=S3cret-pw-xyz bogus"
if [ "$rc" -ne 0 ] && grep -q 'postgres connection "unparsable": conninfo does not parse' <<<"$out" && no_secret; then
    ok bad_conninfo_no_password
else fail bad_conninfo_no_password "$out"; fi
conn_err uri "postgresql://app:S3cret-pw-xyz@127.0.0.1:1/app?connect_timeout=2"
if [ "$rc" -ne 0 ] && grep -q 'postgres connection "uri"' <<<"$out" && no_secret; then ok uri_no_password
else fail uri_no_password "$out"; fi

# reconnect: another session kills ours between two queries of one process
cat >>"$cfg" <<CFG
  admin:
    conninfo: "host=127.0.0.1 port=$port dbname=app user=postgres"
CFG
psql_ -c "CREATE VIEW kill_others AS SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'sluice' AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
q "SELECT name FROM pg.users WHERE id = 1" "SELECT count(*) > 0 FROM admin.kill_others WHERE killed" \
    "SELECT name FROM pg.users WHERE id = 3"
if [ "$rc" -eq 0 ] && [ "$out" = "ann
-- 1 rows
1
-- 1 rows
carol
-- 1 rows" ]; then ok reconnect_after_broken_connection
else fail reconnect_after_broken_connection "$out" "$err"; fi

# sluice sql with the config: PostgreSQL tables next to lake tables
data=$tmp/sluice-data; mkdir -p "$data"  # sluice sql -d refuses a missing directory
if sq=$(build/san/sluice sql -d "$data" -c "$cfg" -F csv "SELECT name FROM pg.users WHERE id = 3" 2>&1) &&
    grep -q carol <<<"$sq"; then
    ok sluice_sql_reads_pg
else
    fail sluice_sql_reads_pg "$sq"
fi

# a connection that cannot be attached (its server down) is left out with a
# warning naming it: the other connections and the lake still answer
dcfg=$tmp/down.yaml
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{ cat "$cfg"; printf '  down:\n    conninfo: "host=127.0.0.1 port=%s dbname=app user=postgres connect_timeout=2"\n' "$dead"; } >"$dcfg"
if sq=$(build/san/sluice sql -d "$data" -c "$dcfg" -F csv "SELECT name FROM pg.users WHERE id = 3" 2>&1) &&
    grep -q carol <<<"$sq" && grep -q 'postgres connection "down".*left out of SQL' <<<"$sq"; then
    ok down_connection_left_out_others_answer
else
    fail down_connection_left_out_others_answer "$sq"
fi

# a lake table (landed by sluice serve) joined with a PostgreSQL table; the
# predicate on the PostgreSQL side must reach PostgreSQL
lcfg=$tmp/lake.yaml
{ printf 'data_dir: %s\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\nstreams:\n  orders:\n    sink:\n      roll_age: 100ms\n' "$data"
  sed -n '/^postgres:/,$p' "$cfg"; } >"$lcfg"
build/san/sluice serve -c "$lcfg" --port-file "$tmp/sport" 2>"$tmp/serve.log" &
spid=$!
for _ in $(seq 200); do [ -s "$tmp/sport" ] && break; sleep 0.05; done
surl="http://127.0.0.1:$(cat "$tmp/sport")"
for i in $(seq 1 30); do echo "{\"order\":$i,\"user_id\":$(( i % 4 + 1 )),\"amount\":$i.5,\"event_time\":\"2024-05-01T10:00:00Z\"}"; done |
    curl -s -o /dev/null -X POST --data-binary @- "$surl/v1/streams/orders/records"
for _ in $(seq 100); do curl -s "$surl/v1/streams/orders" | grep -q '"lag":0,' && break; sleep 0.1; done
kill -TERM "$spid"; wait "$spid"
mark=$(stat -c %s "$log")
jq=$(build/san/sluice sql -d "$data" -c "$lcfg" -F csv \
    "SELECT u.name, count(*) AS n, sum(o.amount) AS total FROM t1_orders o JOIN pg.users u ON u.id = o.user_id WHERE u.age >= 30 GROUP BY u.name ORDER BY u.name" 2>&1)
sleep 0.1
newlog=$(tail -c +$((mark + 1)) "$log")
want='name,n,total
ann,7,115.5
bob,8,124'
if [ "$jq" = "$want" ]; then ok lake_join_pg
else fail lake_join_pg "expected:" "$want" "got:" "$jq"; fi
expect_log lake_join_pg_predicate_pushed '"age" >= $1::int8'
