/* The merge view of an incremental snapshot (tables.<t>.merge) against a
 * real PostgreSQL 15:
 *   - insert, run; update some rows twice and insert more, run; run again:
 *     `SELECT * FROM <view>` in sluice sql equals `SELECT * FROM source`
 *     exactly (one row per key, the latest), with the key defaulting to
 *     the source's primary key (a composite one too, its cursor renamed) and decimal/time
 *     columns as the base table presents them
 *   - `sluice ddl <view> --dialect duckdb` run in DuckDB over the lake files
 *     gives the same rows; trino/spark/athena texts quote as they should
 *   - `sluice tables` marks it a view, `sluice describe` shows its definition
 *   - user SQL cannot drop it nor create views outside temp; the HTTP query
 *     API sees it too
 *   - SQLite and MariaDB sources: their primary keys are the default key
 *   - bad config: an unknown key column, a masked key, a view named like a
 *     table or a case twin, an SQL keyword, no cursor: errors naming the job,
 *     the table and the column */
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, makeTmp, Server, sluice, openDuck, sanitizerReport } from '../node/lib/common.mjs';
import { startPg } from '../node/lib/pg.mjs';
import { startMariadb } from '../node/lib/mariadb.mjs';
import { run } from '../node/lib/common.mjs';
import { runsOf as jobRuns, trigger as jobTrigger, latest } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('snapshot-merge');
const pg = await startPg(path.join(T, 'pg'));
if (!pg) { R.skip('snapshot_merge', 'PostgreSQL 15 is not installed (scripts/deps.sh --test)'); process.exit(0); }
await pg.createdb('app');
await pg.psql('app', `
CREATE TABLE public.orders (id int8 PRIMARY KEY, status text, amount numeric(12,2), at_time time, updated_at timestamptz NOT NULL);
INSERT INTO public.orders SELECT g, 'new', g * 1.25, time '10:00' + g * interval '1 second', timestamptz '2024-05-01' + g * interval '1 second' FROM generate_series(1, 500) g;
CREATE TABLE public.lines (order_id int8, line int4, qty int4, updated_at timestamptz NOT NULL, PRIMARY KEY (order_id, line));
INSERT INTO public.lines SELECT g / 3, g % 3, g, timestamptz '2024-05-01' + g * interval '1 second' FROM generate_series(1, 300) g;
CREATE TABLE public.nokey (a int4, updated_at timestamptz);
INSERT INTO public.nokey VALUES (1, now());
`);
const conninfo = `host=127.0.0.1 port=${pg.port} dbname=app user=postgres`;
/* SQLite: a composite primary key; MariaDB (when installed): a primary key not on the first column */
const DB = path.join(T, 'app.db');
const sq = (q) => run('sqlite3', [DB, q]).then((r) => { if (r.status !== 0) throw new Error(r.stderr); return r.stdout.toString().trim(); });
await sq(`PRAGMA journal_mode = WAL; CREATE TABLE items (shop TEXT, sku INTEGER, price REAL, ver INTEGER NOT NULL, PRIMARY KEY (shop, sku));
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100) INSERT INTO items SELECT 's' || (n % 4), n, n * 0.5, n FROM g;`);
const my = await startMariadb(path.join(T, 'my'));
const PW = 'merge-pw-4Rt';
if (my) {
    await my.sql('', `CREATE DATABASE crm;
CREATE TABLE crm.contacts (name VARCHAR(40), id INT NOT NULL, seen BIGINT NOT NULL, PRIMARY KEY (id));
INSERT INTO crm.contacts VALUES ('a', 1, 1), ('b', 2, 2), ('c', 3, 3);
CREATE USER 'reader'@'127.0.0.1' IDENTIFIED BY '${PW}';
GRANT SELECT ON crm.* TO 'reader'@'127.0.0.1';`);
    fs.writeFileSync(path.join(T, 'mypw'), PW + '\n');
}
const myCfg = my ? `mysql:
  crm: {host: 127.0.0.1, port: ${my.port}, user: reader, password_file: ${T}/mypw}
` : '';
const myJob = my ? `  crm:
    kind: snapshot
    source: crm
    window: day
    retries: 0
    tables:
      crm.contacts: {cursor: seen, merge: {}}
` : '';
const cfgPath = path.join(T, 'sluice.yaml');
fs.writeFileSync(cfgPath, `
data_dir: ${T}/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 2
scheduler: {tick: 100ms, task_timeout: 2s, heartbeat: 300ms, max_deliveries: 5}
postgres:
  app: {conninfo: "${conninfo}"}
sqlite:
  lite: {path: ${DB}}
${myCfg}jobs:
${myJob}  items:
    kind: snapshot
    source: lite
    window: day
    retries: 0
    tables:
      main.items: {cursor: ver, merge: {}}
  shop:
    kind: snapshot
    source: app
    window: day
    retries: 0
    tables:
      public.orders: {cursor: updated_at, merge: {}}
      public.lines: {cursor: updated_at, rename: {updated_at: changed_at}, merge: {view: lines_now}}
      public.nokey: {cursor: updated_at, merge: {}}
`);
const srv = new Server(T, cfgPath);
process.on('exit', () => { if (srv.proc) srv.proc.kill('SIGKILL'); });
await srv.start();
const DATA = path.join(T, 'data');
const runsOf = (job, want) => jobRuns(cfgPath, job, want);
const trigger = (job, day) => jobTrigger(cfgPath, job, day);
const sql = async (q) => {
    const r = await sluice(['sql', '--data', DATA, '-F', 'csv', q]);
    return { ok: r.status === 0, out: r.stdout.toString().trim(), err: r.stderr.toString() };
};
const srcRows = async (q) => (await pg.psql('app', q)).trim();

await trigger('shop', '2024-05-01');
let runs = await runsOf('shop', 3);
const nk = latest(runs, 'public.nokey');
R.check('no_primary_key_no_merge_key_fails_alone', nk && nk.state === 'failed' && /job shop: table public\.nokey: merge: the source reports no primary key/.test(nk.error)
    ? [] : [JSON.stringify(nk)]);
R.check('first_run', latest(runs, 'public.orders')?.state === 'succeeded' ? [] : [JSON.stringify(runs)]);

/* every 10th order updated twice (two runs' worth of changes in one: only the latest is read) and again after */
await pg.psql('app', `UPDATE public.orders SET status = 'paid', updated_at = timestamptz '2024-06-01' + id * interval '1 ms' WHERE id % 10 = 0;
UPDATE public.orders SET status = 'shipped', amount = amount + 1, updated_at = timestamptz '2024-06-02' + id * interval '1 ms' WHERE id % 20 = 0;
INSERT INTO public.orders SELECT g, 'new', 0.01, NULL, timestamptz '2024-06-03' FROM generate_series(501, 510) g;
UPDATE public.lines SET qty = -qty, updated_at = timestamptz '2024-06-01' WHERE line = 1;`);
await trigger('shop', '2024-05-02');
runs = await runsOf('shop', 6);
await pg.psql('app', `UPDATE public.orders SET status = 'done', updated_at = timestamptz '2024-07-01' + id * interval '1 ms' WHERE id % 20 = 0;
UPDATE public.lines SET qty = 0, updated_at = timestamptz '2024-07-01' WHERE line = 1 AND order_id < 10;`);
await trigger('shop', '2024-05-03');
runs = await runsOf('shop', 9);
const o3 = latest(runs, 'public.orders');
R.check('three_runs_succeeded', o3?.state === 'succeeded' && latest(runs, 'public.lines')?.state === 'succeeded' ? [] : [JSON.stringify(runs)]);

{
    const base = await sql('SELECT count(*), count(DISTINCT id) FROM public_orders');
    const cols = "id, status, amount, at_time, updated_at";
    const got = await sql(`SELECT id, status, printf('%.2f', amount), at_time, updated_at FROM public_orders_latest ORDER BY id`);
    const want = await srcRows(`SELECT id || ',' || status || ',' || amount || ',' || coalesce(at_time::text, '') || ',' || to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM public.orders ORDER BY id`);
    const g = got.out.split('\n').slice(1).map((l) => l.replace(/"/g, '')).join('\n');
    R.check('base_table_holds_every_version', base.out.split('\n')[1] === '585,510' ? [] : [base.out, base.err]);
    R.check('view_equals_source_exactly', got.ok && g === want ? [] : [got.err, g.slice(0, 300), '---', want.slice(0, 300)]);
    const star = await sql('SELECT * FROM public_orders_latest LIMIT 1');
    R.check('view_star_is_the_source_columns', star.ok && star.out.split('\n')[0] === cols.replace(/ /g, '') ? [] : [star.out, star.err]);
    const ty = await sql("SELECT typeof(amount), typeof(at_time), typeof(updated_at) FROM public_orders_latest WHERE id = 20");
    R.check('view_types_are_the_base_tables', ty.out.split('\n')[1] === 'real,text,text' ? [] : [ty.out]);
    const l = await sql('SELECT order_id, line, qty FROM lines_now ORDER BY order_id, line');
    const lw = await srcRows(`SELECT order_id || ',' || line || ',' || qty FROM public.lines ORDER BY order_id, line`);
    R.check('composite_primary_key_view', l.ok && l.out.split('\n').slice(1).join('\n') === lw ? [] : [l.err, l.out.slice(0, 200)]);
}

/* SQLite and MariaDB sources: the primary key they report is the key */
{
    await trigger('items', '2024-05-01');
    await runsOf('items', 1);
    await sq(`UPDATE items SET price = -price, ver = 1000 + sku WHERE sku % 7 = 0; INSERT INTO items VALUES ('s9', 1, 9.5, 2000);`);
    await trigger('items', '2024-05-02');
    const ir = await runsOf('items', 2);
    const got = await sql("SELECT shop, sku, printf('%.1f', price), ver FROM main_items_latest ORDER BY shop, sku");
    const want = (await sq(`SELECT shop || ',' || sku || ',' || printf('%.1f', price) || ',' || ver FROM items ORDER BY shop, sku`));
    R.check('sqlite_primary_key_view', latest(ir, 'main.items')?.state === 'succeeded' && got.out.split('\n').slice(1).join('\n') === want
        ? [] : [JSON.stringify(ir), got.err, got.out.slice(0, 200), '---', want.slice(0, 200)]);
    if (my) {
        await trigger('crm', '2024-05-01');
        await runsOf('crm', 1);
        await my.sql('', `UPDATE crm.contacts SET name = 'bb', seen = 10 WHERE id = 2; UPDATE crm.contacts SET name = 'bbb', seen = 11 WHERE id = 2; INSERT INTO crm.contacts VALUES ('d', 4, 12);`);
        await trigger('crm', '2024-05-02');
        const cr = await runsOf('crm', 2);
        const c = await sql('SELECT name, id, seen FROM crm_contacts_latest ORDER BY id');
        R.check('mysql_primary_key_view', latest(cr, 'crm.contacts')?.state === 'succeeded' && c.out === 'name,id,seen\na,1,1\nbbb,2,11\nc,3,3\nd,4,12'
            ? [] : [JSON.stringify(cr), c.out, c.err]);
    } else R.skip('mysql_primary_key_view', 'MariaDB is not installed (scripts/deps.sh --test)');
}

/* the HTTP query API sees the views too */
{
    const r = await srv.request('POST', '/v1/query?format=csv', 'SELECT count(*) AS n, count(DISTINCT id) AS k FROM public_orders_latest');
    R.check('query_api_sees_the_view', r.code === 200 && r.body.trim() === 'n,k\n510,510' ? [] : [r.code, r.body]);
    const g = await srv.request('GET', '/v1/tables');
    const gv = g.code === 200 ? JSON.parse(g.body).find((x) => x.name === 'public_orders_latest') : null;
    R.check('get_tables_lists_the_views', gv?.kind === 'view' && gv.base === 'public_orders' ? [] : [g.code, g.body.slice(0, 400)]);
}

/* tables, describe, ddl */
{
    const t = await sluice(['tables', '--data', DATA]);
    const line = t.stdout.toString().split('\n').find((x) => x.startsWith('public_orders_latest '));
    R.check('tables_marks_views', line && /\bview\b/.test(line) && /public_orders \(job shop\)/.test(line) ? [] : [t.stdout.toString()]);
    const tj = JSON.parse((await sluice(['tables', '--data', DATA, '--format', 'json'])).stdout.toString());
    const vj = tj.find((x) => x.name === 'lines_now');
    R.check('tables_json_views', vj && vj.kind === 'view' && vj.base === 'public_lines' && vj.key.join() === 'order_id,line' && vj.order === 'changed_at' ? [] : [JSON.stringify(vj)]);
    const d = await sluice(['describe', '--data', DATA, 'public_orders_latest']);
    R.check('describe_shows_definition', d.status === 0 && /row_number\(\) OVER \(PARTITION BY "id" ORDER BY "updated_at" DESC NULLS LAST/.test(d.stdout.toString()) ? [] : [d.stdout.toString(), d.stderr.toString()]);
    const want = { trino: /CREATE OR REPLACE VIEW "public_orders_latest" AS[\s\S]*PARTITION BY "id" ORDER BY "updated_at" DESC/, athena: /PARTITION BY "id" ORDER BY "updated_at" DESC/,
        spark: /CREATE OR REPLACE VIEW `public_orders_latest` AS[\s\S]*PARTITION BY `id` ORDER BY `updated_at` DESC/, duckdb: /= 1;/ };
    for (const [dialect, re] of Object.entries(want)) {
        const r = await sluice(['ddl', '--data', DATA, 'public_orders_latest', '--dialect', dialect]);
        R.check(`ddl_view_${dialect}`, r.status === 0 && re.test(r.stdout.toString()) ? [] : [r.stdout.toString(), r.stderr.toString()]);
    }
    /* DuckDB: the table's view over the files, then the merge view's text */
    const duck = await openDuck();
    const tddl = (await sluice(['ddl', '--data', DATA, 'public_orders', '--dialect', 'duckdb'])).stdout.toString();
    const vddl = (await sluice(['ddl', '--data', DATA, 'public_orders_latest', '--dialect', 'duckdb'])).stdout.toString();
    await duck.run(tddl);
    await duck.run(vddl);
    const dr = (await duck.all(`SELECT id, status, amount::VARCHAR FROM public_orders_latest ORDER BY id`)).rows.map((r) => r.join(',')).join('\n');
    const sw = await srcRows(`SELECT id || ',' || status || ',' || amount FROM public.orders ORDER BY id`);
    R.check('duckdb_runs_the_ddl_view', dr === sw ? [] : [dr.slice(0, 200), '---', sw.slice(0, 200)]);
    duck.close();
}

/* the view is sluice's: user SQL cannot drop it or make persistent views */
{
    const d = await sql('DROP VIEW public_orders_latest');
    const c = await sql('CREATE VIEW lake.v AS SELECT 1');
    R.check('user_sql_cannot_drop_or_create_views', !d.ok && /not authorized/.test(d.err) && !c.ok && /not authorized/.test(c.err) ? [] : [d.err, c.err]);
}
await srv.stop();
R.check('no_sanitizer_reports', sanitizerReport(srv.log()) ? [sanitizerReport(srv.log())] : []);

/* bad config: each a clear error naming the job, the table and the column */
const bad = (name, tables, re, extra = '') => {
    const p = path.join(T, `bad-${name}.yaml`);
    fs.writeFileSync(p, `
data_dir: ${T}/bad
postgres:
  app: {conninfo: "${conninfo}"}
${extra}jobs:
  shop:
    kind: snapshot
    source: app
    window: day
    tables:
${tables}
`);
    return sluice(['config', '--check', p]).then((r) => {
        const out = r.stderr.toString() + r.stdout.toString();
        R.check(`bad_config_${name}`, r.status !== 0 && re.test(out) ? [] : [`exit ${r.status}: ${out}`]);
    });
};
await bad('unknown_key_column', `      public.orders: {cursor: updated_at, columns: [id, updated_at], merge: {key: [nope]}}`,
    /jobs\.shop\.tables\.public\.orders.*merge\.key: column nope is not among columns/);
await bad('dropped_key_column', `      public.orders: {cursor: updated_at, drop: [id], merge: {key: [id]}}`,
    /jobs\.shop\.tables\.public\.orders.*merge\.key: column id is in drop/);
await bad('masked_key', `      public.orders: {cursor: updated_at, mask: {id: "null"}, merge: {key: [id]}}`,
    /jobs\.shop: tables\.public\.orders\.merge\.key: column id is masked to one value/);
await bad('view_is_a_table', `      public.orders: {cursor: updated_at, merge: {view: public_lines}}\n      public.lines: {cursor: updated_at}`,
    /jobs\.shop: tables\.public\.orders\.merge: view public_lines has the name of lake table public_lines/);
await bad('view_case_twin', `      public.orders: {cursor: updated_at, merge: {view: Lines_Now}}\n      public.lines: {cursor: updated_at, merge: {view: lines_now}}`,
    /jobs\.shop: tables\.public\.(orders|lines)\.merge: view (Lines_Now|lines_now) is also the merge view of source table public\.(lines|orders)/);
await bad('view_is_a_keyword', `      public.orders: {cursor: updated_at, merge: {view: select}}`,
    /jobs\.shop: tables\.public\.orders\.merge: view name select is an SQL keyword/);
await bad('merge_needs_cursor', `      public.orders: {merge: {}}`, /jobs\.shop\.tables\.public\.orders.*merge needs cursor/);
await bad('view_is_a_sql_jobs_table', `      public.orders: {cursor: updated_at, merge: {view: t2_x_aggr_1d_daily}}
  agg: {kind: sql, sql: "SELECT 1 AS x", table: t2_x_aggr_1d_daily, window: day}`,
    /jobs\.shop: tables\.public\.orders\.merge: view t2_x_aggr_1d_daily has the name of the table job agg writes/);

if (my) await my.stop();
console.log(`${R.passed} passed, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
