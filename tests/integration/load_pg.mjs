/* kind load into a real PostgreSQL 15 (a private cluster):
 *   - hourly scheduled replace_window loads of a 5-day lookback (the test
 *     clock) while a reader (another connection) counts rows per day
 *     continuously: every count it saw is a complete one some load
 *     committed, never a missing or partial day; days whose lake files did
 *     not change are not reloaded (load history, said in the log)
 *   - kill -9 of the server mid-COPY: nothing committed, the task taken
 *     over loads once; counts and sums per day equal DuckDB's over the lake
 *   - target schema: created from the lake's types, a new lake column added
 *     with ALTER TABLE in the load, columns matched ignoring case
 *   - upsert and replace_table; max_errors (set aside in _load_errors, or
 *     rolled back past the limit)
 *   - every lake type: a PostgreSQL table snapshotted into the lake and
 *     loaded back reads as the source (text forms compared column by column)
 *   - sluice load --plan prints exactly what the next run sends (pg.log)
 *   - bad config: unknown connection (config check), unknown source table,
 *     window column not in the table (the run fails naming the job). */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Reporter, makeTmp, Server, sluice, openDuck, sleep, sanitizerReport, lakeScan } from '../node/lib/common.mjs';
import { startPg } from '../node/lib/pg.mjs';
import { runsOf, trigger } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('load-pg');
const pg = await startPg(path.join(T, 'pg'));
if (!pg) { R.skip('load_pg', 'PostgreSQL 15 is not installed (scripts/deps.sh --test)'); process.exit(0); }
const PW = 'loader-pw-9Qx';
await pg.createdb('wh');
await pg.psql('wh', `CREATE ROLE loader LOGIN PASSWORD '${PW}'; CREATE SCHEMA rep AUTHORIZATION loader; CREATE TABLE public.stop_reader (x int);`);
const t0 = Date.now(), lap = (what) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
fs.writeFileSync(path.join(T, 'pw'), PW + '\n');
const DATA = path.join(T, 'data'), LAKE = path.join(DATA, 'lake'), CLOCK = path.join(T, 'clock');
const DAYS = ['2024-05-01', '2024-05-02', '2024-05-03', '2024-05-04', '2024-05-05'];
const PER_DAY = 3000;
const target = (t) => `{connection: wh, table: rep.${t}}`;
const cfgText = (extra = '') => `
data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 2
scheduler: {tick: 100ms, task_timeout: 3s, heartbeat: 300ms}
postgres:
  wh: {conninfo: "host=127.0.0.1 port=${pg.port} dbname=wh user=loader", password_file: ${T}/pw}
  shop: {conninfo: "host=127.0.0.1 port=${pg.port} dbname=shop user=postgres"}
streams:
  sales: {sink: {roll_age: 100ms, event_time_field: at}}
  inv: {sink: {roll_age: 100ms, event_time_field: at}}
jobs:
  sales_load:
    kind: load
    source: t1_sales
    schedule: "0 * * * *"
    catchup: false
    window: day
    lookback: 4
    window_column: dt
    target: ${target('sales')}
    retries: 3
    retry_delay: 1s
  ts_load:
    kind: load
    source: t1_sales
    window: day
    window_column: AT
    target: ${target('Sales_TS')}
    retries: 0
  agg_upsert:
    kind: load
    source: t1_sales
    window: day
    mode: upsert
    key: [dt, country]
    query: "SELECT dt, country, count(*) AS n, sum(amount) AS amount FROM t1_sales WHERE dt = '{{ds}}' GROUP BY dt, country"
    target: ${target('agg')}
    retries: 0
  all_table:
    kind: load
    source: t1_sales
    mode: replace_table
    target: ${target('all_sales')}
    retries: 0
  inv5: {kind: load, source: t1_inv, window: day, window_column: dt, target: ${target('inv')}, max_errors: 5, retries: 0}
  inv2: {kind: load, source: t1_inv, window: day, window_column: dt, target: ${target('inv2')}, max_errors: 2, retries: 0}
  hourly_dt: {kind: load, source: t1_sales, window: hour, window_column: dt, target: ${target('z')}, retries: 0}
  types_snap: {kind: snapshot, source: shop, window: day, include: [public.types], table_prefix: t1_, retries: 0}
  types_load: {kind: load, source: t1_public_types, window: day, window_column: dt, target: ${target('types')}, retries: 0}
  nosrc:
    kind: load
    source: t1_not_there
    window: day
    window_column: dt
    target: ${target('x')}
    retries: 0
  badcol:
    kind: load
    source: t1_sales
    window: day
    window_column: shipped_at
    target: ${target('y')}
    retries: 0
${extra}`;
const CFG = path.join(T, 'sluice.yaml');
fs.writeFileSync(CFG, cfgText());
const setClock = (iso) => {
    fs.writeFileSync(CLOCK + '.tmp', String(Date.parse(iso) * 1000) + '\n');
    fs.renameSync(CLOCK + '.tmp', CLOCK);
};
setClock('2024-05-06T00:30:00Z');

let res = await sluice(['config', '--check', CFG]);
res.status === 0 ? R.ok('config_accepts_load_jobs') : R.fail('config_accepts_load_jobs', res.stderr.toString());
{
    const bad = path.join(T, 'bad.yaml'), p = [];
    for (const [extra, want] of [
        ['  b1: {kind: load, source: t1_sales, window: day, window_column: dt, target: {connection: nope, table: rep.z}}', "jobs.b1: target.connection: no connection 'nope'"],
        ['  b2: {kind: load, source: t1_sales, window: day, target: {connection: wh, table: rep.z}}', 'jobs.b2: mode replace_window needs window_column'],
        ['  b3: {kind: load, source: t1_sales, mode: upsert, target: {connection: wh, table: rep.z}}', 'jobs.b3: mode upsert needs key'],
        ['  b4: {kind: load, source: t1_sales, mode: append, target: {connection: wh, table: "rep.z;drop"}}', 'jobs.b4: target table'],
        ['  b5: {kind: sql, table: t2_x, window: day, mode: upsert, sql: "SELECT 1"}', 'jobs.b5: modes upsert and replace_table are a load job'],
        ['  b6: {kind: load, mode: append, target: {connection: wh, table: rep.z}}', 'jobs.b6: a load job needs source']]) {
        fs.writeFileSync(bad, cfgText(extra));
        const r = await sluice(['config', '--check', bad]);
        if (r.status === 0 || !r.stderr.toString().includes(want)) p.push(`${extra.trim()}: want "${want}", got ${r.status}: ${r.stderr}`);
    }
    R.check('bad_config_errors_name_the_job', p);
}

/* Records: PER_DAY per day, `at` spread over the day; n and amount to sum. */
let seq = 0;
const records = (day, k, extra = {}) => Array.from({ length: k }, () => {
    const i = seq++;
    const ms = Date.parse(day + 'T00:00:00Z') + (i * 7919) % 86400000;
    return { at: new Date(ms).toISOString(), country: ['DE', 'FR', 'US', 'JP'][i % 4], n: i % 10, amount: (i % 1000) / 4, ...extra };
});
const srv = new Server(T, CFG);
process.on('exit', () => { if (srv.proc) srv.proc.kill('SIGKILL'); });
/* loads slowed down (10 ms per 250 rows) so that the reader polls mid-COPY */
await srv.start({ SLUICE_JOBS_CLOCK_FILE: CLOCK, SLUICE_TEST_LOAD_DELAY: '250:10' });
const post = async (recs) => {
    for (let i = 0; i < recs.length; i += 2000) {
        const r = await srv.post('sales', recs.slice(i, i + 2000));
        if (r.code !== 200) throw new Error(`ingest: ${r.code} ${r.body.slice(0, 300)}`);
    }
    await srv.landed('sales');
};
for (const d of DAYS) await post(records(d, PER_DAY));

const duck = await openDuck();
const lakeDays = async () => Object.fromEntries((await duck.objs(`SELECT CAST(dt AS VARCHAR) AS dt, count(*) AS n, sum(n) AS s, round(sum(amount), 4) AS a FROM ${lakeScan(LAKE, 't1_sales')} GROUP BY dt`))
    .map((r) => [r.dt, { n: Number(r.n), s: Number(r.s), a: Number(r.a) }]));
const pgDays = async (t = 'rep.sales') => Object.fromEntries((await pg.psql('wh', `SELECT dt, count(*), sum(n), round(sum(amount)::numeric, 4) FROM ${t} GROUP BY dt`))
    .split('\n').filter(Boolean).map((l) => l.split('|')).map(([d, n, s, a]) => [d, { n: Number(n), s: Number(s), a: Number(a) }]));
const sameDays = (a, b) => DAYS.filter((d) => JSON.stringify(a[d]) !== JSON.stringify(b[d])).map((d) => `${d}: pg ${JSON.stringify(a[d])}, lake ${JSON.stringify(b[d])}`);
const allRuns = async (job) => JSON.parse((await sluice(['runs', job, '-c', CFG, '--format', 'json', '--limit', '1000'])).stdout.toString() || '[]');
const settled = async (job, want, ms = 30000) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
        const v = await allRuns(job);
        if (v.length >= want && v.every((r) => ['succeeded', 'failed', 'dead'].includes(r.state))) return v;
    }
    return allRuns(job);
};

lap('/* ---- hourly fires');
/* ---- hourly fires, lookback 4 days, a reader counting per day ----------------------- */
setClock('2024-05-06T01:00:05Z'); /* the 01:00 fire: 2024-05-05 and the 4 days before */
let runs = await settled('sales_load', 5);
R.check('first_fire_loads_every_day_of_the_lookback', [
    ...runs.filter((r) => r.state !== 'succeeded').map((r) => `run ${r.id} ${r.window_start}: ${r.state} ${r.error}`),
    ...(runs.length !== 5 ? [`${runs.length} runs, want 5`] : []),
    ...sameDays(await pgDays(), await lakeDays())]);
{
    const cols = (await pg.psql('wh', `SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_schema = 'rep' AND table_name = 'sales' ORDER BY ordinal_position`)).trim().split('\n');
    const want = ['at timestamp with time zone', 'country text', 'n bigint', 'amount double precision', 'dt date', 'hr text'];
    R.check('target_created_from_the_lake_types', want.filter((w) => !cols.includes(w)).map((w) => `missing "${w}" in ${JSON.stringify(cols)}`));
}

/* The reader: one connection, a statement every ~5 ms (READ COMMITTED: each
 * sees the latest commit), what it saw kept in a temp table. */
const readerSql = `CREATE TEMP TABLE seen (i int, dt date, n bigint);
DO $$ DECLARE i int := 0; BEGIN
  WHILE NOT EXISTS (SELECT 1 FROM public.stop_reader) AND i < 20000 LOOP
    i := i + 1;
    INSERT INTO seen SELECT i, d.dt, coalesce(c.n, 0) FROM unnest(ARRAY['${DAYS.join("','")}']::date[]) AS d(dt)
      LEFT JOIN (SELECT dt, count(*) AS n FROM rep.sales GROUP BY dt) c ON c.dt = d.dt;
    PERFORM pg_sleep(0.005);
  END LOOP; END $$;
SELECT i, dt, n FROM seen ORDER BY i, dt;`;
const reader = spawn('/usr/lib/postgresql/15/bin/psql', ['-X', '-q', '-At', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', 'wh'], { stdio: ['pipe', 'pipe', 'pipe'] });
let readerOut = '', readerErr = '';
reader.stdout.on('data', (d) => readerOut += d);
reader.stderr.on('data', (d) => readerErr += d);
const readerDone = new Promise((r) => reader.once('exit', r));
reader.stdin.end(readerSql);
const committed = Object.fromEntries(DAYS.map((d) => [d, new Set()]));
for (const [d, v] of Object.entries(await pgDays())) committed[d].add(v.n);
await sleep(300);
let fired = 5;
const hours = [['2024-05-02', '2024-05-04'], ['2024-05-02'], [], ['2024-05-05', '2024-05-01']];
for (let h = 0; h < hours.length; h++) {
    for (const d of hours[h]) await post(records(d, 700 + 100 * h)); /* late events restate those days */
    const lake = await lakeDays();
    setClock(`2024-05-06T0${h + 2}:00:05Z`);
    fired += 5;
    runs = await settled('sales_load', fired);
    for (const d of hours[h]) committed[d].add(lake[d].n);
}
await pg.psql('wh', `INSERT INTO public.stop_reader VALUES (1)`);
await readerDone;
{
    const p = [];
    let polls = 0;
    for (const line of readerOut.split('\n').filter(Boolean)) {
        const [i, d, n] = line.split('|');
        polls = Math.max(polls, Number(i));
        if (!committed[d].has(Number(n)) && p.length < 10) p.push(`poll ${i}: ${d} had ${n} rows, committed counts ${[...committed[d]].join(', ')}`);
    }
    console.log(`# reader: ${polls} polls; counts committed per day: ${DAYS.map((d) => `${d} ${[...committed[d]].join('/')}`).join(', ')}`);
    if (polls < 50) p.push(`the reader polled ${polls} times (${readerErr.slice(0, 300)})`);
    if (!runs.every((r) => r.state === 'succeeded')) p.push(`runs not succeeded: ${JSON.stringify(runs.filter((r) => r.state !== 'succeeded').map((r) => [r.id, r.state, r.error]))}`);
    p.push(...sameDays(await pgDays(), await lakeDays()));
    R.check('reader_sees_old_or_new_day_never_missing_or_partial', p);
    const log = srv.log(), skips = (log.match(/did not change since run \d+ loaded them: nothing to load/g) || []).length;
    /* 4 fires after the first: 20 runs, 5 days restated once each (2024-05-02 twice) */
    const loaded = 20 - skips;
    console.log(`# hourly fires after the first: ${loaded} windows loaded, ${skips} unchanged`);
    R.check('unchanged_days_are_not_reloaded', loaded === 5 ? [] : [`${skips} runs skipped, ${loaded} loaded; want 15 and 5`]);
}

lap('/* ---- kill -9');
/* ---- kill -9 mid-COPY; the task taken over loads once -------------------------------- */
{
    await srv.stop();
    await srv.start({ SLUICE_JOBS_CLOCK_FILE: CLOCK, SLUICE_TEST_LOAD_DELAY: '200:20' });
    await post(records('2024-05-03', 2000));
    const lake = await lakeDays(), p = [];
    res = await trigger(CFG, 'sales_load', '2024-05-03', true);
    let copying = false;
    for (let i = 0; i < 300 && !copying; i++, await sleep(50))
        copying = (await pg.psql('wh', `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sluice load' AND query LIKE 'COPY%'`)).trim() === '1';
    if (!copying) p.push('never saw the COPY running');
    await sleep(300);
    await srv.stop('SIGKILL');
    for (let i = 0; i < 100; i++, await sleep(50))
        if ((await pg.psql('wh', `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sluice load'`)).trim() === '0') break;
    const mid = await pgDays();
    console.log(`# killed mid-COPY: 2024-05-03 has ${mid['2024-05-03'].n} rows (lake now ${lake['2024-05-03'].n})`);
    if (mid['2024-05-03'].n === lake['2024-05-03'].n) p.push('the killed load committed');
    if (!committed['2024-05-03'].has(mid['2024-05-03'].n)) p.push(`after the kill 2024-05-03 has ${mid['2024-05-03'].n} rows: not a committed count`);
    await srv.start({ SLUICE_JOBS_CLOCK_FILE: CLOCK });
    runs = await runsOf(CFG, 'sales_load', fired + 1, 30000);
    const r = runs.sort((a, b) => b.id - a.id)[0];
    if (r.state !== 'succeeded') p.push(`the run taken over: ${r.state} ${r.error}`);
    p.push(...sameDays(await pgDays(), lake));
    R.check('kill_mid_copy_rolls_back_and_the_takeover_loads_once', p);
}

lap('/* ---- schema drift');
/* ---- schema drift: a new lake column, a key-case change; a timestamp window ----------- */
{
    const p = [];
    await post(records('2024-05-04', 50, { Coupon: 'SPRING' })); /* a new column */
    await pg.psql('wh', `ALTER TABLE rep.sales RENAME COLUMN country TO "COUNTRY"`); /* case differs from the lake's */
    res = await trigger(CFG, 'sales_load', '2024-05-04', true);
    runs = await runsOf(CFG, 'sales_load', fired + 2, 30000);
    const r = runs.sort((a, b) => b.id - a.id)[0];
    if (r.state !== 'succeeded') p.push(`drift run: ${r.state} ${r.error}`);
    const cols = (await pg.psql('wh', `SELECT column_name FROM information_schema.columns WHERE table_schema = 'rep' AND table_name = 'sales' ORDER BY ordinal_position`)).trim().split('\n');
    if (!cols.includes('Coupon') && !cols.includes('coupon')) p.push(`no coupon column: ${cols}`);
    if (cols.includes('country')) p.push(`a second country column was added: ${cols}`);
    const [c1, c2] = (await pg.psql('wh', `SELECT count(*) FILTER (WHERE coalesce("Coupon", '') = 'SPRING'), count(*) FILTER (WHERE "COUNTRY" IN ('DE','FR','US','JP')) FROM rep.sales WHERE dt = '2024-05-04'`)).trim().split('|').map(Number);
    const lake = await lakeDays();
    if (c1 !== 50) p.push(`${c1} rows with coupon SPRING, want 50`);
    if (c2 !== lake['2024-05-04'].n) p.push(`${c2} rows with a country, want ${lake['2024-05-04'].n}`);
    res = await trigger(CFG, 'ts_load', '2024-05-02');
    const [t] = await runsOf(CFG, 'ts_load', 1);
    if (!t || t.state !== 'succeeded') p.push(`ts_load: ${t && t.state} ${t && t.error}`);
    else {
        const n = Number((await pg.psql('wh', `SELECT count(*) FROM rep."Sales_TS" WHERE at >= '2024-05-02' AND at < '2024-05-03'`)).trim());
        const all = Number((await pg.psql('wh', `SELECT count(*) FROM rep."Sales_TS"`)).trim());
        if (n !== lake['2024-05-02'].n || all !== n) p.push(`Sales_TS: ${n} rows in the window, ${all} in all; want ${lake['2024-05-02'].n}`);
    }
    R.check('schema_drift_adds_columns_and_matches_case', p);
}

lap('/* ---- upsert and');
/* ---- upsert and replace_table ---------------------------------------------------------- */
{
    const p = [];
    await trigger(CFG, 'agg_upsert', '2024-05-01');
    await trigger(CFG, 'agg_upsert', '2024-05-02');
    let v = await runsOf(CFG, 'agg_upsert', 2);
    await post(records('2024-05-01', 40));
    await trigger(CFG, 'agg_upsert', '2024-05-01', true);
    v = await runsOf(CFG, 'agg_upsert', 3);
    p.push(...v.filter((r) => r.state !== 'succeeded').map((r) => `upsert run ${r.id}: ${r.state} ${r.error}`));
    const lake = await lakeDays();
    const agg = (await pg.psql('wh', `SELECT dt, sum(n), count(*) FROM rep.agg GROUP BY dt ORDER BY dt`)).trim().split('\n');
    const want = [`2024-05-01|${lake['2024-05-01'].n}|4`, `2024-05-02|${lake['2024-05-02'].n}|4`];
    if (JSON.stringify(agg) !== JSON.stringify(want)) p.push(`rep.agg ${JSON.stringify(agg)}, want ${JSON.stringify(want)}`);
    await trigger(CFG, 'all_table', '2024-05-01');
    await sleep(200);
    await trigger(CFG, 'all_table', '2024-05-02');
    v = await runsOf(CFG, 'all_table', 2);
    p.push(...v.filter((r) => r.state !== 'succeeded').map((r) => `replace_table run ${r.id}: ${r.state} ${r.error}`));
    const total = Object.values(lake).reduce((s, x) => s + x.n, 0);
    const n = Number((await pg.psql('wh', `SELECT count(*) FROM rep.all_sales`)).trim());
    if (n !== total) p.push(`rep.all_sales has ${n} rows, want ${total}`);
    const left = (await pg.psql('wh', `SELECT string_agg(table_name, ',') FROM information_schema.tables WHERE table_name LIKE '%sluice%'`)).trim();
    if (left) p.push(`staging tables left: ${left}`);
    R.check('upsert_and_replace_table', p);
}

lap('/* ---- run-time errors');
/* ---- run-time errors name the job ---------------------------------------------------- */
{
    const p = [];
    await trigger(CFG, 'nosrc', '2024-05-01');
    await trigger(CFG, 'badcol', '2024-05-01');
    const [a] = await runsOf(CFG, 'nosrc', 1), [b] = await runsOf(CFG, 'badcol', 1);
    if (!a || a.state !== 'failed' || !/job nosrc: .*lake table t1_not_there does not exist/.test(a.error)) p.push(`nosrc: ${a && a.state} ${a && a.error}`);
    if (!b || b.state !== 'failed' || !/job badcol: .*window_column shipped_at is not a column of lake table t1_sales/.test(b.error)) p.push(`badcol: ${b && b.state} ${b && b.error}`);
    await trigger(CFG, 'hourly_dt', '2024-05-01T03:00:00Z');
    const [h] = await runsOf(CFG, 'hourly_dt', 1);
    if (!h || h.state !== 'failed' || !/job hourly_dt: .*window_column dt is a date: it cannot tell the rows of an hour window/.test(h.error)) p.push(`hourly_dt: ${h && h.state} ${h && h.error}`);
    R.check('run_errors_name_job_table_and_column', p);
}

lap('max_errors');
/* ---- max_errors: refused rows set aside up to the limit, else rolled back -------------- */
{
    const p = [];
    await pg.psql('wh', `CREATE TABLE rep.inv (at timestamptz, sku text, qty bigint, dt date, hr text) ;
        CREATE TABLE rep.inv2 (LIKE rep.inv); ALTER TABLE rep.inv OWNER TO loader; ALTER TABLE rep.inv2 OWNER TO loader;
        INSERT INTO rep.inv2 VALUES ('2024-05-01T01:00:00Z', 'sentinel', 1, '2024-05-01', '01');`);
    const recs = Array.from({ length: 23 }, (_, i) => ({ at: `2024-05-01T0${i % 10}:00:00Z`, sku: `s${i}`, qty: i < 20 ? String(i) : ['x', '1.5', ''][i - 20] }));
    for (const r of [await srv.post('inv', recs)]) if (r.code !== 200) p.push(`ingest inv: ${r.code} ${r.body}`);
    await srv.landed('inv');
    await trigger(CFG, 'inv5', '2024-05-01');
    await trigger(CFG, 'inv2', '2024-05-01');
    const [a] = await runsOf(CFG, 'inv5', 1), [b] = await runsOf(CFG, 'inv2', 1);
    if (!a || a.state !== 'succeeded') p.push(`inv5: ${a && a.state} ${a && a.error}`);
    const n = Number((await pg.psql('wh', 'SELECT count(*) FROM rep.inv')).trim());
    if (n !== 20) p.push(`rep.inv has ${n} rows, want 20`);
    const e = await sluice(['sql', '-c', CFG, '-F', 'csv', `SELECT "column", value, reason FROM _load_errors WHERE job = 'inv5' ORDER BY "row"`]);
    const errs = e.stdout.toString().trim().split('\n').slice(1);
    const want = [`qty,x,'x' is not an integer`, `qty,1.5,'1.5' is not an integer`, `qty,,'' is not an integer`];
    if (JSON.stringify(errs) !== JSON.stringify(want)) p.push(`_load_errors ${JSON.stringify(errs)} ${e.stderr}, want ${JSON.stringify(want)}`);
    if (!b || b.state !== 'failed' || !/job inv2: target rep.inv2: 3 rows failed conversion \(max_errors 2\), nothing loaded; the first: row \d+ column qty: 'x' is not an integer/.test(b.error))
        p.push(`inv2: ${b && b.state} ${b && b.error}`);
    const left = (await pg.psql('wh', 'SELECT string_agg(sku, \',\') FROM rep.inv2')).trim();
    if (left !== 'sentinel') p.push(`rep.inv2 after the failed load: ${left} (want the sentinel only: rolled back)`);
    R.check('max_errors_sets_rows_aside_or_rolls_back', p);
}

lap('types');
/* ---- every lake type into PostgreSQL: a snapshot of a typed table, loaded back ---------- */
{
    const p = [];
    await pg.createdb('shop');
    await pg.psql('shop', `CREATE TABLE public.types (id int8 PRIMARY KEY, b bool, i4 int4, f4 real, f8 float8,
        dec numeric(12,2), t text, ts timestamptz, tsn timestamp, d date, tm time, by bytea, js jsonb, big numeric(38,10));
      INSERT INTO public.types SELECT g, g % 2 = 0, g * 1000, g / 8.0, g * 1.1, g * 1234567.89, E'line\\ttab\\\\ "q" ' || g,
        timestamptz '2024-05-01 00:00:00+00' + g * interval '1 hour 0.5 s', timestamp '2024-05-01 10:00' + g * interval '1 minute',
        date '2000-01-01' + g, time '00:00' + g * interval '17.25 s', decode(lpad(to_hex(g), 6, '0'), 'hex'),
        jsonb_build_object('g', g, 'a', jsonb_build_array(1, 'x')), 1234567890123456789.1234567891 * g FROM generate_series(1, 200) g;
      INSERT INTO public.types (id) VALUES (0);
      INSERT INTO public.types VALUES (-1, false, -2147483648, -3.4e38, -1.7976931348623157e308, -9999999999.99, '', '0001-01-01 00:00:00+00', '9999-12-31 23:59:59', '0001-01-01', '23:59:59.999999', '', '[]', -9999999999999999999999999999.9999999999);`);
    // big: 29 digits, past what a double holds: a load must send every digit
    const cols = `id, b, i4, f4, f8, dec, t, ts, tsn, d, tm, encode(by, 'hex'), js::text, big`;
    const src = await pg.psql('shop', `SET TimeZone = 'UTC'; SELECT ${cols} FROM public.types ORDER BY id`);
    await trigger(CFG, 'types_snap', '2024-05-01');
    const [s] = await runsOf(CFG, 'types_snap', 1);
    if (!s || s.state !== 'succeeded') p.push(`types_snap: ${s && s.state} ${s && s.error}`);
    await trigger(CFG, 'types_load', '2024-05-01');
    const [l] = await runsOf(CFG, 'types_load', 1);
    if (!l || l.state !== 'succeeded') p.push(`types_load: ${l && l.state} ${l && l.error}`);
    else {
        const got = await pg.psql('wh', `SET TimeZone = 'UTC'; SELECT ${cols.replace('js::text', 'js')} FROM rep.types ORDER BY id`);
        const a = src.trim().split('\n'), b = got.trim().split('\n');
        if (a.length !== b.length) p.push(`${b.length} rows loaded, source has ${a.length}`);
        for (let i = 0; i < Math.min(a.length, b.length) && p.length < 8; i++) if (a[i] !== b[i]) p.push(`source ${a[i]}\n      load   ${b[i]}`);
        const types = (await pg.psql('wh', `SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'rep' AND table_name = 'types'`)).trim();
        const want = 'id bigint, b boolean, i4 integer, f4 real, f8 double precision, dec numeric, t text, ts timestamp with time zone, tsn timestamp without time zone, d date, tm time without time zone, by bytea, js text, big numeric, dt date';
        if (types !== want) p.push(`target types: ${types}\n      want ${want}`);
    }
    R.check('every_lake_type_loads_as_the_source_had_it', p);
}

lap('plan');
/* ---- sluice load --plan prints exactly what the run then sends ------------------------ */
{
    const p = [];
    await post(records('2024-05-03', 10));
    const r = await sluice(['load', '--plan', 'sales_load', '-c', CFG, '--window', '2024-05-03']);
    const planned = r.stdout.toString().split('\n').filter((l) => l && !l.startsWith('--'));
    if (r.status !== 0) p.push(`plan: ${r.status} ${r.stderr}`);
    const logBefore = fs.readFileSync(pg.log, 'utf8').length;
    await trigger(CFG, 'sales_load', '2024-05-03', true);
    const v = await runsOf(CFG, 'sales_load', fired + 3, 30000);
    const last = v.sort((a, b) => b.id - a.id)[0];
    if (last.state !== 'succeeded') p.push(`run after the plan: ${last.state} ${last.error}`);
    const lines = fs.readFileSync(pg.log, 'utf8').slice(logBefore).split('\n');
    const begin = lines.find((l) => l.includes("statement: BEGIN; SELECT pg_advisory_xact_lock(hashtext('rep.sales'))"));
    const pid = begin && begin.match(/\[(\d+)\]/)[1];
    const sent = lines.filter((l) => pid && l.includes(`[${pid}]`) && l.includes('statement: ')).map((l) => l.slice(l.indexOf('statement: ') + 11) + ';')
        .filter((l) => !l.startsWith('SET TimeZone')); /* the session's setup, as every connection's */
    if (JSON.stringify(sent) !== JSON.stringify(planned)) p.push(`planned ${JSON.stringify(planned)}\nsent ${JSON.stringify(sent)}`);
    if (!planned.some((l) => l.startsWith(`DELETE FROM "rep"."sales" WHERE "dt" >= '2024-05-03' AND "dt" < '2024-05-04'`))) p.push(`no DELETE of the window in ${JSON.stringify(planned)}`);
    const rs = path.join(T, 'rs.yaml');
    fs.writeFileSync(rs, cfgText('  rs_load: {kind: load, source: t1_sales, window: day, window_column: dt, target: {connection: wh, table: rep.sales, dialect: redshift, iam_role: "arn:aws:iam::1:role/x"}}'));
    const r2 = await sluice(['load', '--plan', 'rs_load', '-c', rs, '--window', '2024-05-03']);
    if (r2.status !== 1 || !r2.stderr.toString().includes('dialect redshift needs the lake on S3')) p.push(`redshift plan on a local lake: ${r2.status} ${r2.stderr}`);
    R.check('plan_prints_exactly_what_the_run_sends', p);
}

lap('end');
await srv.stop();
duck.close();
const san = sanitizerReport(srv.log());
R.check('no_sanitizer_reports', san ? [san] : []);
process.exit(R.failed ? 1 : 0);
