/* kind snapshot from a SQLite file (sqlite.<name>), read back by DuckDB:
 *   - include main.* (tables and views, not sqlite_*): one run per table
 *   - classes from declared types and the values: INTEGER -> BIGINT, REAL ->
 *     DOUBLE (every digit), TEXT -> VARCHAR, BLOB -> BLOB (raw bytes, NUL
 *     bytes too), BOOLEAN of 0/1 -> BOOLEAN, NUMERIC of numbers -> DOUBLE,
 *     DATETIME -> VARCHAR, a column with no type of text and numbers ->
 *     VARCHAR; an INTEGER column holding a text -> VARCHAR, a BOOLEAN holding
 *     2 -> BIGINT, a blob among text -> "\x" + hex
 *   - every value reads back as the sqlite3 CLI prints it (NULLs, extremes,
 *     unicode), from a WAL-mode file
 *   - a hash mask on a column (HMAC-SHA256, checked with node's crypto)
 *   - an incremental cursor (max in the read transaction, appended rows)
 *   - the file is never written (its bytes are the same after the runs)
 *   - a table that does not exist and a file that does not exist fail alone,
 *     with a message naming the job, the table and the file. */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { Reporter, makeTmp, Server, sluice, run, openDuck, sleep, sanitizerReport, lakeScan } from '../node/lib/common.mjs';
import { runsOf as jobRuns, trigger as jobTrigger } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('snapshot-sqlite');
if (!fs.existsSync('/usr/bin/sqlite3')) { R.skip('snapshot_sqlite', 'the sqlite3 CLI is not installed (scripts/deps.sh --test)'); process.exit(0); }

const KEY = 'mask-key-Sq11';
const N = 2000;
const DB = path.join(T, 'app.db');
const sq = async (text, args = []) => {
    const r = await run('/usr/bin/sqlite3', [...args, DB], { input: text });
    if (r.status !== 0) throw new Error('sqlite3: ' + r.stderr);
    return r.stdout.toString('utf8');
};

await sq(`
PRAGMA journal_mode = WAL;
CREATE TABLE users (
  id INTEGER PRIMARY KEY, email TEXT, name VARCHAR(80), score REAL, qty INT, active BOOLEAN,
  created DATETIME, avatar BLOB, misc, amount NUMERIC, note TEXT, nada BLOB);
WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ${N})
INSERT INTO users SELECT x, 'user' || x || '@example.com', CASE WHEN x % 7 = 0 THEN NULL ELSE 'Zoë ' || x END,
  x * 1.5 - 1000 + 0.1, x % 100, x % 3 = 0, '2024-05-01 00:00:' || printf('%02d', x % 60),
  CASE WHEN x % 5 = 0 THEN NULL ELSE CAST(printf('%08x', x) AS BLOB) END, CASE WHEN x % 2 THEN x ELSE 'm' || x END,
  CASE WHEN x % 4 THEN x * 0.25 ELSE x END, CASE WHEN x = 3 THEN x'00ff10' ELSE 'n' || x END, NULL
FROM g;
INSERT INTO users VALUES (-9223372036854775808, 'min@example.com', '日本語 ✓ "quoted" \\ back', -1.7976931348623157e308,
  -2147483648, 0, '0001-01-01', x'00', 'tab	here', -0.5, '', NULL);
INSERT INTO users VALUES (9223372036854775807, 'max@example.com', '', 0.1, 2147483647, 1, NULL, x'', NULL, 1e300, NULL, NULL);
INSERT INTO users (id) VALUES (0);
CREATE TABLE mixed (id INTEGER, n INTEGER, flag BOOLEAN, r REAL);
INSERT INTO mixed VALUES (1, 10, 0, 1.25), (2, 'n/a', 2, 3), (3, NULL, 1, NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT);
INSERT INTO events (what) VALUES ('a'), ('b'), ('c');
CREATE VIEW cheap AS SELECT id, name FROM users WHERE score < 0;
`);

fs.mkdirSync(path.join(T, 'secrets'));
fs.writeFileSync(path.join(T, 'secrets', 'mask_key'), KEY + '\n');
const config = (extraTables = '') => `
data_dir: ${T}/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 2
secrets_dir: ${T}/secrets
scheduler: {tick: 100ms, task_timeout: 10s, heartbeat: 500ms}
sqlite:
  app: {path: ${DB}}
  gone: {path: ${T}/no-such.db}
jobs:
  app:
    kind: snapshot
    source: app
    window: day
    include: ["main.*"]
    exclude: ["main.events"]
    table_prefix: s1_
    mask_key: mask_key
    retries: 0
    tables:
      main.users:
        rename: {email: email_hash}
        mask: {email: hash}
${extraTables}
  inc:
    kind: snapshot
    source: app
    window: day
    include: [main.events]
    table_prefix: s2_
    retries: 0
    tables:
      main.events: {cursor: id}
  gone:
    kind: snapshot
    source: gone
    window: day
    include: [main.users]
    table_prefix: s9_
    retries: 0
`;
const cfgPath = path.join(T, 'sluice.yaml');
fs.writeFileSync(cfgPath, config());
const lake = path.join(T, 'data', 'lake');

let res = await sluice(['config', '--check', cfgPath]);
if (res.status === 0) R.ok('config_accepts_sqlite_source'); else R.fail('config_accepts_sqlite_source', res.stderr);

const before = fs.readFileSync(DB);
const srv = new Server(T, cfgPath);
process.on('exit', () => { if (srv.proc) srv.proc.kill('SIGKILL'); });
await srv.start();

const runsOf = (job, want, t) => jobRuns(cfgPath, job, want, t);
const trigger = (job, day = '2024-05-01', force) => jobTrigger(cfgPath, job, day, force);

res = await trigger('app');
let runs = await runsOf('app', 3);
const parts = runs.map((r) => r.account).sort();
R.check('one_run_per_table_and_view', JSON.stringify(parts) === JSON.stringify(['main.cheap', 'main.mixed', 'main.users'])
    ? [] : [`runs for ${JSON.stringify(parts)} (${res.stderr.trim()})`]);
R.check('runs_succeed', runs.filter((r) => r.state !== 'succeeded').map((r) => `${r.account}: ${r.state} ${r.error}`));

const duck = await openDuck();
const scan = (t) => lakeScan(lake, t);

/* ---- types -------------------------------------------------------------------------------- */
{
    const t = await duck.all(`DESCRIBE SELECT * FROM ${scan('s1_main_users')}`);
    const types = Object.fromEntries(t.rows.map((r) => [r[0], r[1]]));
    const want = { id: 'BIGINT', email_hash: 'VARCHAR', name: 'VARCHAR', score: 'DOUBLE', qty: 'BIGINT', active: 'BOOLEAN',
        created: 'VARCHAR', avatar: 'BLOB', misc: 'VARCHAR', amount: 'DOUBLE', note: 'VARCHAR', nada: 'BLOB' };
    R.check('lake_types_users', Object.entries(want).filter(([k, v]) => types[k] !== v).map(([k, v]) => `${k}: want ${v}, got ${types[k]}`));
    const m = await duck.all(`DESCRIBE SELECT * FROM ${scan('s1_main_mixed')}`);
    const mt = Object.fromEntries(m.rows.map((r) => [r[0], r[1]]));
    const mw = { id: 'BIGINT', n: 'VARCHAR', flag: 'BIGINT', r: 'DOUBLE' };
    R.check('lake_types_follow_the_values', Object.entries(mw).filter(([k, v]) => mt[k] !== v).map(([k, v]) => `${k}: want ${v}, got ${mt[k]}`));
    const rows = (await duck.all(`SELECT id, n, flag, r FROM ${scan('s1_main_mixed')} ORDER BY id`)).rows.map((r) => r.map(String).join('|'));
    R.check('mixed_values', JSON.stringify(rows) === JSON.stringify(['1|10|0|1.25', '2|n/a|2|3', '3|null|1|null']) ? [] : [JSON.stringify(rows)]);
}

/* ---- values, as the sqlite3 CLI has them -------------------------------------------------------- */
{
    /* SQLite's own printf of a real is not always exact in the last digit: reals compare
       within 1e-15 here, and exactly for the literals below; blobs as hex */
    const nul = (e, x) => `CASE WHEN ${x} IS NULL THEN '<null>' ELSE ${e} END`;
    const src = (await sq(`SELECT id, coalesce(name, '<null>'), ${nul("printf('%!.17g', score)", 'score')},
        coalesce(qty, '<null>'), coalesce(active, '<null>'), coalesce(created, '<null>'),
        ${nul('lower(hex(avatar))', 'avatar')}, coalesce(CAST(misc AS TEXT), '<null>'),
        ${nul("printf('%!.17g', amount)", 'amount')},
        CASE WHEN typeof(note) = 'blob' THEN '\\x' || lower(hex(note)) ELSE coalesce(note, '<null>') END
        FROM users ORDER BY id`, ['-separator', '\x1f', '-newline', '\x1e'])).split('\x1e').filter(Boolean).map((l) => l.split('\x1f'));
    const lk = (await duck.all(`SELECT CAST(id AS VARCHAR), coalesce(name, '<null>'), score, coalesce(CAST(qty AS VARCHAR), '<null>'),
        coalesce(CAST(CAST(active AS INTEGER) AS VARCHAR), '<null>'), coalesce(created, '<null>'), coalesce(lower(hex(avatar)), '<null>'),
        coalesce(misc, '<null>'), amount, coalesce(note, '<null>') FROM ${scan('s1_main_users')} ORDER BY id`)).rows;
    const p = [];
    if (src.length !== lk.length || src.length !== N + 3) p.push(`rows: source ${src.length}, lake ${lk.length}`);
    const names = ['id', 'name', 'score', 'qty', 'active', 'created', 'avatar', 'misc', 'amount', 'note'];
    for (let i = 0; i < Math.min(src.length, lk.length) && p.length < 20; i++)
        for (let c = 0; c < names.length; c++) {
            const s = src[i][c], l = lk[i][c];
            const near = (a, b) => a === b || Math.abs(a - b) <= 1e-15 * Math.abs(a);
            const same = c === 2 || c === 8 ? (s === '<null>' ? l === null : near(Number(s), l)) : s === String(l);
            if (!same) p.push(`id ${src[i][0]} ${names[c]}: source ${JSON.stringify(s)}, lake ${JSON.stringify(String(l))}`);
        }
    R.check('every_value_reads_back_as_the_source_has_it', p);
    const ex = (await duck.all(`SELECT score, amount FROM ${scan('s1_main_users')} WHERE id IN (-9223372036854775808, 9223372036854775807) ORDER BY id`)).rows;
    R.check('reals_exact', JSON.stringify(ex) === JSON.stringify([[-1.7976931348623157e308, -0.5], [0.1, 1e300]]) ? [] : [JSON.stringify(ex)]);
    const [[z]] = (await duck.all(`SELECT count(*) FROM ${scan('s1_main_users')} WHERE avatar = '\\x00'::BLOB AND id < 0`)).rows;
    R.check('nul_byte_blob_kept', Number(z) === 1 ? [] : [`rows ${z}`]);
    const [[v]] = (await duck.all(`SELECT count(*) FROM ${scan('s1_main_cheap')}`)).rows;
    const want = Number((await sq('SELECT count(*) FROM users WHERE score < 0')).trim());
    R.check('view_snapshots', Number(v) === want && want > 0 ? [] : [`lake ${v}, source ${want}`]);
}

/* ---- masks ---------------------------------------------------------------------------------- */
{
    const rows = await duck.objs(`SELECT CAST(id AS VARCHAR) AS id, email_hash FROM ${scan('s1_main_users')} WHERE id BETWEEN 1 AND 50 ORDER BY id`);
    const p = [];
    for (const r of rows) {
        const want = crypto.createHmac('sha256', KEY).update(`user${r.id}@example.com`).digest('hex');
        if (r.email_hash !== want) p.push(`id ${r.id}: email_hash ${r.email_hash}, want ${want}`);
    }
    if (rows.length !== 50) p.push(`${rows.length} rows`);
    const hits = [];
    const walk = (d) => { for (const f of fs.readdirSync(d, { withFileTypes: true })) {
        const fp = path.join(d, f.name);
        if (f.isDirectory()) walk(fp); else if (fs.readFileSync(fp).includes('user17@example.com')) hits.push(fp);
    } };
    walk(lake);
    R.check('hash_mask_and_no_raw_email_in_the_lake', [...p, ...hits]);
}

/* ---- the file was only read ------------------------------------------------------------------ */
R.check('source_file_not_written', Buffer.compare(before, fs.readFileSync(DB)) === 0 ? [] : ['app.db changed']);

/* ---- incremental -------------------------------------------------------------------------- */
{
    await trigger('inc', '2024-05-01');
    await runsOf('inc', 1);
    await sq(`INSERT INTO events (what) VALUES ('d'), ('e');`);
    await trigger('inc', '2024-05-02');
    const b = await runsOf('inc', 2);
    const p = b.filter((r) => r.state !== 'succeeded').map((r) => `${r.account}: ${r.state} ${r.error}`);
    const rows = (await duck.all(`SELECT dt, string_agg(what, '' ORDER BY id) FROM read_parquet('${lake}/s2_main_events/**/*.parquet', hive_partitioning = true) GROUP BY dt ORDER BY dt`)).rows
        .map((r) => `${r[0]} ${r[1]}`);
    if (JSON.stringify(rows) !== JSON.stringify(['2024-05-01 abc', '2024-05-02 de'])) p.push(`partitions ${JSON.stringify(rows)}`);
    R.check('incremental_cursor_appends_the_new_rows', p);
}

/* ---- bad input -------------------------------------------------------------------------------- */
{
    await sq(`INSERT INTO mixed VALUES ('x', 4, 1, 0.5);`); /* id now holds a text too */
    fs.writeFileSync(cfgPath, config('      main.nope: {}'));
    await srv.stop();
    await srv.start();
    await trigger('app', '2024-05-01', true);
    runs = await runsOf('app', 7);
    const last = new Map();
    for (const r of runs) if (!last.has(r.account) || last.get(r.account).id < r.id) last.set(r.account, r);
    const p = [];
    const nope = last.get('main.nope'), users = last.get('main.users');
    if (!nope || nope.state !== 'failed' || !/job app: table main\.nope: sqlite "app": table main\.nope does not exist/.test(nope.error)) p.push(`main.nope: ${JSON.stringify(nope)}`);
    if (!users || users.state !== 'succeeded') p.push(`main.users: ${JSON.stringify(users)}`);
    R.check('missing_table_fails_alone_with_its_name', p);
    const mixed = last.get('main.mixed');
    const ids = mixed && mixed.state === 'succeeded'
        ? (await duck.all(`SELECT typeof(id), string_agg(id, ',' ORDER BY id) FROM ${scan('s1_main_mixed')} GROUP BY 1`)).rows : [];
    R.check('column_retyped_by_its_values_widens_to_string', JSON.stringify(ids) === JSON.stringify([['VARCHAR', '1,2,3,x']])
        ? [] : [JSON.stringify(mixed), JSON.stringify(ids)]);
    await trigger('gone');
    const g = await runsOf('gone', 1);
    const e = g[0] && g[0].error || '';
    R.check('missing_file_fails_naming_it', g[0] && g[0].state === 'failed' && /sqlite "gone": cannot open .*no-such\.db/.test(e) && !fs.existsSync(path.join(T, 'no-such.db'))
        ? [] : [JSON.stringify(g[0])]);
}

await srv.stop();
const san = sanitizerReport(srv.log());
R.check('no_sanitizer_reports', san ? [san] : []);
duck.close();
console.log(`${R.passed} passed, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
