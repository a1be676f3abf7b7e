#!/usr/bin/env bash
# Accounts from SQL (jobs.<name>.accounts.sql): the scheduler runs the
# SELECT when the job fires; one run per account, each with
# {{account.<column>}} and {{account_secret.<column>}} (the secret the
# column names) and SLUICE_ACCOUNT; an account whose secret is missing
# fails alone, with a message naming it and no secret value anywhere; a row
# whose id is not an account id is skipped with a warning; `sluice runs`
# shows the account.
source "$(dirname "$0")/../lib/sh.sh" jobs-accounts
mkdir -p "$T/secrets" "$T/out"
printf 'sekrit-one\n' > "$T/secrets/tok_a1"
printf 'sekrit-two\n' > "$T/secrets/tok_a2"
sed "s|__T__|$T|g" > "$T/sluice.yaml" <<'YAML'
data_dir: __T__/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 2
secrets_dir: __T__/secrets
scheduler: {tick: 100ms, task_timeout: 2s, heartbeat: 300ms}
jobs:
  pull:
    kind: command
    every: 1s
    max_active: 10
    retry_delay: 0s
    accounts:
      sql: "SELECT column1 AS id, column2 AS token_ref, column3 AS region FROM (VALUES ('a1', 'tok_a1', 'eu'), ('a2', 'tok_a2', NULL), ('a3', 'tok_none', 'us'), ('bad id', 'x', 'x'))"
    env:
      REF: "{{account.token_ref}}/{{account.region}}"
      TOKEN: "{{account_secret.token_ref}}"
    command: [sh, -c, 'echo "$SLUICE_ACCOUNT $REF $TOKEN" > __T__/out/$SLUICE_ACCOUNT']
  land:
    kind: command
    window: day
    max_active: 10
    accounts: {list: [a1, a2]}
    command: [sh, -c, 'for i in 1 2 3; do echo "{\"v\":$i,\"acct\":\"$SLUICE_ACCOUNT\",\"run\":$SLUICE_RUN_ID}"; done']
    output: ndjson
    table: t1_land_report_daily
YAML
out=$("$BIN" config --check "$T/sluice.yaml" 2>&1); check config_accepts_accounts_sql $? "$out"
start_server "$T/sluice.yaml"
wait_for() { # seconds, command...
    local end=$(( $(date +%s) + $1 )); shift
    while [ "$(date +%s)" -lt "$end" ]; do "$@" && return 0; sleep 0.2; done
    return 1
}
both() { [ -s "$T/out/a1" ] && [ -s "$T/out/a2" ]; }
wait_for 20 both; check accounts_run $? "$(ls "$T/out") $(tail -5 "$T/server.log")"
[ "$(cat "$T/out/a1" 2>/dev/null)" = "a1 tok_a1/eu sekrit-one" ]; check account_fields_and_secret $? "$(cat "$T/out/a1" 2>/dev/null)"
[ "$(cat "$T/out/a2" 2>/dev/null)" = "a2 tok_a2/ sekrit-two" ]; check account_null_field_is_empty $? "$(cat "$T/out/a2" 2>/dev/null)"
failed_a3() { "$BIN" runs pull -c "$T/sluice.yaml" --state failed 2>/dev/null | grep -q ' a3 '; }
wait_for 20 failed_a3; check missing_secret_fails_that_account $? "$("$BIN" runs pull -c "$T/sluice.yaml" 2>&1 | head -5)"
runs=$("$BIN" runs pull -c "$T/sluice.yaml" --format json 2>&1)
[[ "$runs" == *'"account":"a3"'* && "$runs" == *"tok_none"* ]]; check failure_names_account_and_secret $? "$(echo "$runs" | head -c 600)"
! grep -q 'sekrit' <<<"$runs" && ! grep -q 'sekrit' "$T/server.log"; check secret_values_never_shown $? "$(grep -m2 sekrit "$T/server.log")"
! grep -q '"account":"bad id"' <<<"$runs"; check invalid_account_id_skipped $? "$(echo "$runs" | head -c 300)"
grep -q 'accounts.sql: 1 rows skipped' "$T/server.log"; check invalid_account_id_warned $? "$(grep -m3 accounts "$T/server.log")"
ok_runs=$("$BIN" runs pull -c "$T/sluice.yaml" --state succeeded 2>/dev/null | grep -c ' a[12] ')
[ "$ok_runs" -ge 2 ]; check table_output_has_account_column $? "$("$BIN" runs pull -c "$T/sluice.yaml" 2>&1 | head -3)"
# ---- each (account, day) is a slice of its own, replaced on its own ----------------
"$BIN" backfill land -c "$T/sluice.yaml" --from 2024-05-01 --to 2024-05-03 --parallel 4 --name l1 >/dev/null
landed() { [ "$("$BIN" runs land -c "$T/sluice.yaml" --state succeeded 2>/dev/null | grep -c backfill)" = 4 ]; }
wait_for 30 landed; check account_runs_land $? "$("$BIN" runs land -c "$T/sluice.yaml" 2>&1 | head -6)"
q() { "$BIN" sql --data "$T/data" -F csv "$1" 2>&1 | tail -n +2 | tr '\n' ' '; }
got=$(q "SELECT account, dt, count(*), count(DISTINCT run), sum(acct = account) FROM t1_land_report_daily GROUP BY 1, 2 ORDER BY 1, 2")
[ "$got" = "a1,2024-05-01,3,1,3 a1,2024-05-02,3,1,3 a2,2024-05-01,3,1,3 a2,2024-05-02,3,1,3 " ]; check table_partitioned_by_account_and_day $? "$got"
"$BIN" run land -c "$T/sluice.yaml" --window 2024-05-01 --force >/dev/null 2>&1
rerun() { [ "$("$BIN" runs land -c "$T/sluice.yaml" --state succeeded 2>/dev/null | grep -c manual)" = 2 ]; }
wait_for 30 rerun; check forced_rerun_of_a_day $? "$("$BIN" runs land -c "$T/sluice.yaml" 2>&1 | head -4)"
got=$(q "SELECT account, dt, count(*), count(DISTINCT run) FROM t1_land_report_daily GROUP BY 1, 2 ORDER BY 1, 2")
[ "$got" = "a1,2024-05-01,3,1 a1,2024-05-02,3,1 a2,2024-05-01,3,1 a2,2024-05-02,3,1 " ]; check rerun_replaces_each_slice_once $? "$got"
parts=$(find "$T/data" -path '*t1_land_report_daily/account=a1/dt=2024-05-01*' -name '*.parquet' | wc -l)
[ "$parts" -ge 1 ]; check hive_path_account_then_dt $? "$(find "$T/data" -name '*.parquet' | head -4)"
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
[ $rc = 0 ]; check clean_stop $? "exit $rc"
! grep -q 'AddressSanitizer\|runtime error' "$T/server.log"; check no_sanitizer_reports $? "$(grep -m3 -A3 'Sanitizer\|runtime error' "$T/server.log")"
