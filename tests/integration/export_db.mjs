/* kind export: a t3 lake table (built by a sql job over an ingested stream)
 * into service databases, a real PostgreSQL 15 and a real MariaDB:
 *   - replace_table into both: the target equals the lake table (counts and
 *     sums, DuckDB over the lake files)
 *   - the target database stopped mid-export (PostgreSQL: immediate stop;
 *     MariaDB: kill -9, in the middle of its LOAD DATA statements), restarted, the export re-run alone: the target
 *     equals the lake table, the run history shows the upstream sql job ran
 *     once (never recomputed) and the export twice (failed, succeeded)
 *   - replace_table readers (a polling loop on each database) never see the
 *     table empty or missing
 *   - upsert: existing keys updated, other rows kept
 *   - errors: a key that is not a lake column, a target column that refuses
 *     a value, bad config (mode, connection, Redshift keys on an export)
 *   - sluice export JOB --sample N: N rows into a development table. */
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, makeTmp, Server, sluice, openDuck, sleep, sanitizerReport, lakeScan } from '../node/lib/common.mjs';
import { startPg } from '../node/lib/pg.mjs';
import { startMariadb } from '../node/lib/mariadb.mjs';
import { trigger } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('export-db');
const pg = await startPg(path.join(T, 'pg'));
if (!pg) { R.skip('export_db', 'PostgreSQL 15 is not installed (scripts/deps.sh --test)'); process.exit(0); }
const my = await startMariadb(path.join(T, 'my'));
if (!my) { R.skip('export_db', 'MariaDB is not installed (scripts/deps.sh --test)'); process.exit(0); }
const PW = 'export-pw-7Kd';
fs.writeFileSync(path.join(T, 'pw'), PW + '\n');
await pg.createdb('svc');
await pg.createdb('dev');
await pg.psql('svc', `CREATE ROLE exporter LOGIN PASSWORD '${PW}'; GRANT ALL ON SCHEMA public TO exporter;`);
await pg.psql('dev', `GRANT ALL ON SCHEMA public TO exporter;`);
await my.sql(null, `CREATE DATABASE svc; CREATE DATABASE dev;
CREATE USER 'exporter'@'127.0.0.1' IDENTIFIED BY '${PW}';
GRANT ALL ON svc.* TO 'exporter'@'127.0.0.1'; GRANT ALL ON dev.* TO 'exporter'@'127.0.0.1';`);
const t0 = Date.now(), lap = (what) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);

const DATA = path.join(T, 'data'), LAKE = path.join(DATA, 'lake');
const DAY = '2024-05-01', SELLERS = 10000;
const SRC = 't3_seller_exported_jdbc';
const cfgText = (extra = '') => `
data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 2
scheduler: {tick: 100ms, task_timeout: 5s, heartbeat: 300ms}
postgres:
  svc_pg: {conninfo: "host=127.0.0.1 port=${pg.port} dbname=svc user=exporter", password_file: ${T}/pw}
  dev_pg: {conninfo: "host=127.0.0.1 port=${pg.port} dbname=dev user=exporter", password_file: ${T}/pw}
mysql:
  svc_my: {host: 127.0.0.1, port: ${my.port}, user: exporter, database: svc, password_file: ${T}/pw}
  dev_my: {host: 127.0.0.1, port: ${my.port}, user: exporter, database: dev, password_file: ${T}/pw}
streams:
  sales: {sink: {roll_age: 100ms, event_time_field: at}}
jobs:
  ${SRC}:
    kind: sql
    window: day
    retries: 0
    table: ${SRC}
    sql: "SELECT seller_id, country, count(*) AS n, sum(amount) AS amount, max(at) AS last_at FROM t1_sales WHERE dt = '{{ds}}' GROUP BY seller_id, country"
  to_pg: {kind: export, source: ${SRC}, mode: replace_table, target: {connection: svc_pg, table: public.sellers}, retries: 0}
  to_my: {kind: export, source: ${SRC}, mode: replace_table, target: {connection: svc_my, table: sellers}, retries: 0}
  up_pg: {kind: export, source: ${SRC}, mode: upsert, key: [seller_id], target: {connection: svc_pg, table: public.sellers_up}, retries: 0}
  up_my: {kind: export, source: ${SRC}, mode: upsert, key: [seller_id], target: {connection: svc_my, table: sellers_up}, retries: 0}
  raw_pg: {kind: export, source: t1_sales, query: "SELECT * FROM t1_sales WHERE seller_id < 2000", mode: replace_table, target: {connection: svc_pg, table: raw}, retries: 0}
  raw_my: {kind: export, source: t1_sales, query: "SELECT * FROM t1_sales WHERE seller_id < 2000", mode: replace_table, target: {connection: svc_my, table: raw}, retries: 0}
  badkey_my: {kind: export, source: ${SRC}, mode: upsert, key: [nope], target: {connection: svc_my, table: bk}, retries: 0}
  refuse_my: {kind: export, source: ${SRC}, mode: replace_table, target: {connection: svc_my, table: refuse}, retries: 0}
${extra}`;
const CFG = path.join(T, 'sluice.yaml');
fs.writeFileSync(CFG, cfgText());

let res = await sluice(['config', '--check', CFG]);
res.status === 0 ? R.ok('config_accepts_export_jobs') : R.fail('config_accepts_export_jobs', res.stderr.toString());
{
    const bad = path.join(T, 'bad.yaml'), p = [];
    for (const [extra, want] of [
        ['  b1: {kind: export, source: x, mode: replace_table, target: {connection: nope, table: t}}', "jobs.b1: target.connection: no connection 'nope' under postgres or mysql"],
        ['  b2: {kind: export, source: x, target: {connection: svc_my, table: t}}', 'jobs.b2: mode: an export\'s modes are replace_table and upsert'],
        ['  b3: {kind: export, source: x, mode: upsert, target: {connection: svc_my, table: t}}', 'jobs.b3: mode upsert needs key'],
        ['  b4: {kind: export, mode: replace_table, target: {connection: svc_pg, table: t}}', 'jobs.b4: an export job needs source'],
        ['  b5: {kind: export, source: x, mode: replace_table, target: {connection: svc_pg, table: t, distkey: a}}', 'jobs.b5: target: dialect, iam_role, diststyle, distkey and sortkey are a load'],
        ['  b6: {kind: export, source: x, mode: replace_table, target: {connection: svc_my, table: "a;b"}}', "jobs.b6: target table 'a;b'"],
        ['  b7: {kind: load, source: x, mode: append, target: {connection: svc_my, table: t}}', "jobs.b7: target.connection: no connection 'svc_my' under postgres"],
        ['  b8: {kind: load, source: x, mode: append, target: {connection: svc_pg, table: t, dialect: redshift, iam_role: r, diststyle: key}}', 'jobs.b8: target.diststyle key needs target.distkey']]) {
        fs.writeFileSync(bad, cfgText(extra));
        const r = await sluice(['config', '--check', bad]);
        if (r.status === 0 || !r.stderr.toString().includes(want)) p.push(`${extra.trim()}: want "${want}", got ${r.status}: ${r.stderr}`);
    }
    R.check('bad_export_config_errors_name_the_job_and_key', p);
}

const srv = new Server(T, CFG);
process.on('exit', () => { if (srv.proc) srv.proc.kill('SIGKILL'); });
/* exports slowed down (20 ms per 400 rows) so that the databases die mid-export */
await srv.start({ SLUICE_TEST_LOAD_DELAY: '400:20' });
{
    const recs = Array.from({ length: 2 * SELLERS }, (_, i) => ({
        at: new Date(Date.parse(DAY + 'T00:00:00Z') + (i * 7919) % 86400000).toISOString(),
        seller_id: i % SELLERS, country: ['DE', 'FR', "it's", 'J\tP'][i % 4 % 2 + (i % SELLERS) % 2 * 2], amount: (i % 1000) / 4 }));
    for (let i = 0; i < recs.length; i += 4000) {
        const r = await srv.post('sales', recs.slice(i, i + 4000));
        if (r.code !== 200) throw new Error(`ingest: ${r.code} ${r.body.slice(0, 300)}`);
    }
    await srv.landed('sales');
}
const allRuns = async (job) => JSON.parse((await sluice(['runs', job, '-c', CFG, '--format', 'json', '--limit', '1000'])).stdout.toString() || '[]');
const settled = async (job, want, ms = 40000) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
        const v = await allRuns(job);
        if (v.length >= want && v.every((r) => ['succeeded', 'failed', 'dead'].includes(r.state))) return v;
    }
    return allRuns(job);
};
const runJob = async (job, want, day = DAY) => {
    const r = await trigger(CFG, job, day, true);
    if (r.status !== 0) throw new Error(`sluice run ${job}: ${r.stderr}`);
    return settled(job, want);
};
lap('upstream sql job');
let runs = await runJob(SRC, 1);
R.check('upstream_sql_job_built_the_t3_table', runs.length === 1 && runs[0].state === 'succeeded' ? [] : [JSON.stringify(runs)]);

const duck = await openDuck();
/* counts, sums, the text (lengths summed, the greatest), the dates */
const lake = (await duck.objs(`SELECT count(*) AS c, sum(n) AS n, sum(seller_id) AS s, round(sum(amount), 2) AS a,
    max(last_at) AS e, sum(length(country)) AS l, min(CAST(dt AS VARCHAR)) AS d FROM ${lakeScan(LAKE, SRC)}`))[0];
const want = `${lake.c}|${lake.n}|${lake.s}|${Number(lake.a).toFixed(2)}|${lake.e}|${lake.l}|${lake.d}`;
console.log(`# lake ${SRC}: ${want}`);
const pgSum = async (t, db = 'svc') => (await pg.psql(db, `SELECT count(*), sum(n), sum(seller_id), round(sum(amount)::numeric, 2),
    max(last_at), sum(length(country)), min(dt) FROM ${t}`)).trim();
const mySum = async (t, db = 'svc') => (await my.sql(db, `SET time_zone = '+00:00'; SELECT count(*), sum(n), sum(seller_id), round(sum(amount), 2),
    max(last_at), sum(char_length(country)), min(dt) FROM ${t}`)).trim().replace(/\t/g, '|');

/* Poll a target's row count until stop(): every count seen (or the error). */
function poller(count) {
    const seen = new Map();
    let on = true;
    const done = (async () => {
        while (on) {
            let v;
            try { v = await count(); } catch (e) { v = 'error: ' + String(e.message).split('\n')[0].slice(0, 120); }
            seen.set(v, (seen.get(v) || 0) + 1);
        }
    })();
    return { seen, stop: async () => { on = false; await done; } };
}
const pgCount = () => pg.psql('svc', 'SELECT count(*) FROM public.sellers').then((s) => s.trim());
const myCount = () => my.sql('svc', 'SELECT count(*) FROM sellers').then((s) => s.trim());

/* Wait until the server log / database log shows the export's rows going in. */
const waitFor = async (file, re, ms = 20000) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
        if (fs.existsSync(file) && re.test(fs.readFileSync(file, 'utf8'))) return true;
    }
    return false;
};

for (const [name, job, db, sum, count, table, intoRe] of [
    ['pg', 'to_pg', pg, pgSum, pgCount, 'public.sellers', /COPY "public"\."sellers__sluice_new"/g],
    ['mysql', 'to_my', my, mySum, myCount, 'sellers', /LOAD DATA LOCAL INFILE 'sluice' INTO TABLE "sellers__sluice_new"/g]]) {
    lap(`${name}: first export`);
    runs = await runJob(job, 1);
    const p1 = runs[0]?.state === 'succeeded' ? [] : [`run: ${JSON.stringify(runs[0])}`];
    const got1 = await sum(table);
    if (got1 !== want) p1.push(`target ${got1}, lake ${want}`);
    R.check(`${name}_replace_table_export_equals_the_lake`, p1);

    /* readers during a second export: the old count or the new, never 0 / missing */
    lap(`${name}: export killed mid-way`);
    const log = name === 'pg' ? pg.log : my.log;
    const before = fs.readFileSync(log, 'utf8').match(intoRe)?.length ?? 0;
    const rd = poller(count);
    const r = await trigger(CFG, job, DAY, true);
    if (r.status !== 0) throw new Error(`sluice run ${job}: ${r.stderr}`);
    /* the rows are going in (the staging table's COPY / LOAD DATA statements logged), then the database dies */
    let inflight = false;
    for (const end = Date.now() + 20000; Date.now() < end && !inflight; await sleep(20))
        inflight = (fs.readFileSync(log, 'utf8').match(intoRe)?.length ?? 0) > before + (name === 'pg' ? 0 : 3);
    await rd.stop();
    const readerSaw = [...rd.seen.keys()];
    await db.restart();
    runs = await settled(job, 2);
    const p2 = [];
    if (!inflight) p2.push('the export never started sending rows');
    if (runs[0]?.state !== 'failed') p2.push(`the interrupted export: ${JSON.stringify(runs[0])}`);
    else console.log(`# ${name}: interrupted export failed: ${runs[0].error}`);
    const badReads = readerSaw.filter((v) => v !== String(lake.c));
    if (badReads.length) p2.push(`readers saw ${JSON.stringify(readerSaw)} (want only ${lake.c})`);
    const afterCrash = await sum(table);
    if (afterCrash !== want) p2.push(`after the crash the target has ${afterCrash}, want the previous export's ${want}`);
    R.check(`${name}_target_killed_mid_export_keeps_the_old_table`, p2);

    /* the export alone again: the same lake files, no upstream run */
    lap(`${name}: re-run`);
    runs = await runJob(job, 3);
    const p3 = runs[0]?.state === 'succeeded' ? [] : [`re-run: ${JSON.stringify(runs[0])}`];
    const got3 = await sum(table);
    if (got3 !== want) p3.push(`target ${got3}, lake ${want}`);
    const up = await allRuns(SRC);
    if (up.length !== 1) p3.push(`upstream ${SRC} ran ${up.length} times: ${JSON.stringify(up.map((x) => [x.id, x.trigger, x.state]))}`);
    if (runs.length !== 3) p3.push(`${job} ran ${runs.length} times, want 3`);
    R.check(`${name}_rerun_export_alone_equals_the_lake_and_no_upstream_job_reran`, p3);
    console.log(`# ${name}: readers polled ${[...rd.seen.values()].reduce((a, b) => a + b, 0)} times during the killed export: ${JSON.stringify(Object.fromEntries(rd.seen))}`);
}

/* the lake's types: t1_sales (timestamp at, double amount, bigint, text, the dt partition),
 * through an export's query */
{
    lap('typed export');
    const p = [];
    const l = (await duck.objs(`SELECT count(*) AS c, sum(CAST(epoch_ms("at") AS BIGINT)) AS e, round(sum(amount), 2) AS a, sum(seller_id) AS s,
        min(strftime("at", '%Y-%m-%d %H:%M:%S.%f')) AS m, min(CAST(dt AS VARCHAR)) AS d FROM ${lakeScan(LAKE, 't1_sales')} WHERE seller_id < 2000`))[0];
    const w = `${l.c}|${l.e}|${Number(l.a).toFixed(2)}|${l.s}|${l.m}|${l.d}`;
    await Promise.all(['raw_pg', 'raw_my'].map((job) => trigger(CFG, job, DAY, true))); /* both at once */
    for (const [name, job, q] of [
        ['pg', 'raw_pg', () => pg.psql('svc', `SET TimeZone = 'UTC'; SELECT count(*), sum((extract(epoch FROM at) * 1000)::bigint), round(sum(amount)::numeric, 2), sum(seller_id), to_char(min(at), 'YYYY-MM-DD HH24:MI:SS.US'), min(dt) FROM raw`)],
        ['mysql', 'raw_my', () => my.sql('svc', `SET time_zone = '+00:00'; SELECT count(*), sum(floor(UNIX_TIMESTAMP(\`at\`) * 1000)), round(sum(amount), 2), sum(seller_id), min(\`at\`), min(dt) FROM raw`).then((x) => x.replace(/\t/g, '|'))]]) {
        runs = await settled(job, 1);
        if (runs[0]?.state !== 'succeeded') { p.push(`${name}: ${JSON.stringify(runs[0])}`); continue; }
        const got = (await q()).trim();
        if (got !== w) p.push(`${name}: ${got}, lake ${w}`);
    }
    if (!p.length) console.log(`# t1_sales exported with its types: ${w}`);
    R.check('lake_types_export_as_the_lake_has_them', p);
}

/* readers during a replace_table export that completes (the swap itself) */
{
    lap('readers across swaps');
    const p = [];
    for (const [name, job, count] of [['pg', 'to_pg', pgCount], ['mysql', 'to_my', myCount]]) {
        const rd = poller(count);
        const n0 = (await allRuns(job)).length;
        runs = await runJob(job, n0 + 1);
        await rd.stop();
        if (runs[0]?.state !== 'succeeded') p.push(`${name}: ${JSON.stringify(runs[0])}`);
        const saw = [...rd.seen.keys()];
        if (saw.some((v) => v !== String(lake.c))) p.push(`${name}: readers saw ${JSON.stringify(Object.fromEntries(rd.seen))}`);
        console.log(`# ${name}: ${[...rd.seen.values()].reduce((a, b) => a + b, 0)} reads across a swap, all ${lake.c}`);
    }
    R.check('replace_table_readers_never_see_an_empty_or_missing_table', p);
}

/* mariadb --batch output as psql -At's: '|' between fields, \t \n \\ unescaped */
const myRows = (out) => out.split('\n').map((l) => l.split('\t').map((f) => f.replace(/\\(.)/g, (_, c) => ({ t: '\t', n: '\n', 0: '\0' })[c] ?? c)).join('|')).join('\n');
/* upsert: stale rows for some keys, an extra key the lake lacks */
{
    lap('upsert');
    const p = [];
    await pg.psql('svc', `CREATE TABLE public.sellers_up (seller_id bigint PRIMARY KEY, country text, n bigint, amount double precision, last_at timestamptz, dt date);
        INSERT INTO public.sellers_up (seller_id, country, n, amount) VALUES (1, 'old', 999, -1), (2, 'old', 999, -1), (-5, 'kept', 1, 1);`);
    await pg.psql('svc', `ALTER TABLE public.sellers_up OWNER TO exporter`);
    await my.sql('svc', `CREATE TABLE sellers_up (seller_id bigint PRIMARY KEY, country varchar(20), n bigint, amount double, last_at datetime(6), dt date);
        INSERT INTO sellers_up (seller_id, country, n, amount) VALUES (1, 'old', 999, -1), (2, 'old', 999, -1), (-5, 'kept', 1, 1);`);
    const lk = Object.fromEntries((await duck.objs(`SELECT seller_id, country, n FROM ${lakeScan(LAKE, SRC)} WHERE seller_id IN (1, 2)`)).map((r) => [String(r.seller_id), `${r.country}|${r.n}`]));
    for (const [name, job, q] of [['pg', 'up_pg', (s) => pg.psql('svc', s)], ['mysql', 'up_my', (s) => my.sql('svc', s).then(myRows)]]) {
        runs = await runJob(job, 1);
        if (runs[0]?.state !== 'succeeded') { p.push(`${name}: ${JSON.stringify(runs[0])}`); continue; }
        const rows = Object.fromEntries((await q(`SELECT seller_id, country, n FROM sellers_up WHERE seller_id IN (-5, 1, 2)`)).trim().split('\n').map((l) => l.split('|')).map(([k, c, n]) => [k, `${c}|${n}`]));
        for (const k of ['1', '2']) if (rows[k] !== lk[k]) p.push(`${name}: key ${k}: ${rows[k]}, lake ${lk[k]}`);
        if (rows['-5'] !== 'kept|1') p.push(`${name}: the row the lake lacks: ${rows['-5']}`);
        const c = (await q(`SELECT count(*) FROM sellers_up`)).trim();
        if (c !== String(Number(lake.c) + 1)) p.push(`${name}: ${c} rows, want ${Number(lake.c) + 1}`);
        /* a second upsert of the same lake rows changes nothing */
        runs = await runJob(job, 2);
        const c2 = (await q(`SELECT count(*) FROM sellers_up`)).trim();
        if (runs[0]?.state !== 'succeeded' || c2 !== c) p.push(`${name}: second upsert: ${runs[0]?.state}, ${c2} rows`);
    }
    R.check('upsert_updates_existing_keys_and_keeps_other_rows', p);
}

/* errors: a key not among the lake's columns; a target column that refuses values */
{
    lap('errors');
    const p = [];
    runs = await runJob('badkey_my', 1);
    if (runs[0]?.state !== 'failed' || !/job badkey_my: target bk: key column nope is not among the lake rows' columns/.test(runs[0]?.error))
        p.push(`badkey: ${JSON.stringify(runs[0])}`);
    await my.sql('svc', `CREATE TABLE refuse (seller_id bigint, country int)`);
    runs = await runJob('refuse_my', 1);
    if (runs[0]?.state !== 'failed' || !/job refuse_my: target refuse: \d+ rows failed conversion \(max_errors 0\), nothing loaded; the first: row \d+ column country: .* is not an integer/.test(runs[0]?.error))
        p.push(`refuse: ${JSON.stringify(runs[0])}`);
    const left = (await my.sql('svc', `SELECT count(*) FROM refuse`)).trim();
    if (left !== '0') p.push(`refuse has ${left} rows after the failed export`);
    /* Redshift keys naming no lake column: the plan refuses, naming the key */
    const rs = path.join(T, 'rs.yaml');
    fs.writeFileSync(rs, cfgText(`  rs: {kind: load, source: ${SRC}, mode: append, target: {connection: svc_pg, table: x, dialect: redshift, iam_role: "arn:aws:iam::1:role/x", sortkey: [seller_id, nope]}}`));
    const r = await sluice(['load', '--plan', 'rs', '-c', rs, '--window', DAY]);
    if (r.status !== 1 || !r.stderr.toString().includes('job rs: target x: target.sortkey nope is not among the lake rows\' columns')) p.push(`redshift sortkey nope: ${r.status} ${r.stderr}`);
    R.check('wrong_columns_fail_the_export_with_a_clear_error', p);
}

/* sluice load --plan of an export: the statements its run sends */
{
    const p = [];
    const r = await sluice(['load', '--plan', 'to_my', '--window', DAY, '-c', CFG]);
    const out = r.stdout.toString();
    for (const w of ['SELECT GET_LOCK(SHA1(\'sellers\'), 3600);', 'CREATE TABLE "sellers__sluice_new" LIKE "sellers"; START TRANSACTION;',
        'INSERT INTO "sellers__sluice_new" ("seller_id", "country", "n", "amount", "last_at", "dt") VALUES (...), (...);',
        'RENAME TABLE "sellers" TO "sellers__sluice_old", "sellers__sluice_new" TO "sellers"; DROP TABLE "sellers__sluice_old";'])
        if (!out.includes(w)) p.push(`missing ${w}`);
    const logged = fs.readFileSync(my.log, 'utf8');
    if (!logged.includes('RENAME TABLE "sellers" TO "sellers__sluice_old", "sellers__sluice_new" TO "sellers"')) p.push('the run did not send the swap the plan shows');
    if (r.status !== 0 || p.length) p.push(`exit ${r.status}: ${out} ${r.stderr}`);
    R.check('plan_of_a_mysql_export_shows_what_it_sends', p);
}

/* --sample N into development databases */
{
    lap('--sample');
    const p = [];
    for (const [to, table, count] of [['dev_pg', 'public.sellers_sample', () => pg.psql('dev', 'SELECT count(*) FROM public.sellers_sample')],
        ['dev_my', 'sellers_sample', () => my.sql('dev', 'SELECT count(*) FROM sellers_sample')]]) {
        const n0 = (await allRuns('to_my')).length;
        const r = await sluice(['export', 'to_my', '--sample', '250', '--to', to, '--table', table, '-c', CFG]);
        if (r.status !== 0 || !/250 rows exported/.test(r.stdout.toString())) p.push(`${to}: ${r.status} ${r.stdout} ${r.stderr}`);
        const c = (await count().catch((e) => String(e))).trim();
        if (c !== '250') p.push(`${to}: ${c} rows, want 250`);
        if ((await allRuns('to_my')).length !== n0) p.push(`${to}: a run was recorded for the sample`);
    }
    const r = await sluice(['export', 'to_my', '--sample', '5', '--to', 'nope', '-c', CFG]);
    if (r.status === 0 || !/job to_my: --to: no connection 'nope'/.test(r.stderr.toString())) p.push(`--to nope: ${r.status} ${r.stderr}`);
    const r2 = await sluice(['export', 'to_my', '-c', CFG]);
    if (r2.status !== 2) p.push(`without --sample: exit ${r2.status}`);
    R.check('export_sample_exports_n_rows_to_a_development_target', p);
}

await srv.stop();
const san = sanitizerReport(srv.log());
san ? R.fail('no_sanitizer_reports', san) : R.ok('no_sanitizer_reports');
lap('done');
process.exit(R.failed ? 1 : 0);
