// Adversarial tests of landing files in the lake (real binary, bounded):
//   - kill -9 during CREATE TABLE AS: no table appears, and the next start
//     (a CTAS, a server) removes the dead writer's temp files in lake-tmp;
//   - queries (`sluice sql`, another process) running while the server's
//     sink compacts never fail: replaced files stay in the lake's trash for
//     trash_grace (sluice's scans read them there); DuckDB globbing the
//     table's directory right after the compactions counts each row once;
//   - odd and long partition values (/, %, =, unicode, quotes, 200
//     characters, NULL) round-trip through CTAS PARTITION BY: sluice sql and
//     DuckDB (hive_partitioning, and the `sluice ddl --dialect duckdb` view)
//     read the same values and counts; distinct long values stay distinct;
//     a value too long for a path segment is an error and leaves no table.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, Reporter, makeTmp, openDuck, sqlStr } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('adv-land');
const DATA = path.join(T, 'data');
const TMPDIR = path.join(DATA, 'lake-tmp');
const deadline = Date.now() + 55000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sql = (q, extra = []) => spawnSync(BIN, ['sql', '--data', DATA, '-F', 'ndjson', ...extra, q],
    { encoding: 'utf8', timeout: 30000 });
const rows = (r) => r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const tempFiles = () => (fs.existsSync(TMPDIR) ? fs.readdirSync(TMPDIR).filter((f) => f.endsWith('.parquet')) : []);
const tables = () => execFileSync(BIN, ['tables', '--data', DATA]).toString();
fs.mkdirSync(DATA, { recursive: true });

await R.guard('kill9_during_ctas', async () => {
    const p = [];
    // a big SELECT: 50 partitions, writers open from the first rows on
    const q = 'CREATE TABLE t3_big PARTITION BY k AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL ' +
        'SELECT x + 1 FROM c WHERE x < 50000000) SELECT x % 50 AS k, x, printf(\'%040d\', x) AS pad FROM c';
    const child = spawn(BIN, ['sql', '--data', DATA, q], { stdio: 'ignore' });
    let seen = 0;
    while (Date.now() < deadline - 40000 && !(seen = tempFiles().length)) await sleep(20);
    await sleep(150);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    if (!seen) p.push('the CTAS never wrote a temp file (test did not exercise the kill)');
    if (/t3_big/.test(tables())) p.push('a killed CTAS left table t3_big in the catalog');
    // the next start: another CTAS collects the dead writer's temp files
    const r = sql('CREATE TABLE t3_small AS SELECT 1 AS a');
    if (r.status !== 0) p.push(`CTAS after the kill failed: ${r.stderr}`);
    const left = tempFiles();
    if (left.length) p.push(`stray temp files after the next start: ${left.slice(0, 3).join(', ')} (${left.length})`);
    if (/t3_big/.test(tables())) p.push('t3_big appeared');
    // the name is free again, and the table holds only what its statement committed
    const r2 = sql('CREATE TABLE t3_big AS SELECT 1 AS a');
    if (r2.status !== 0) p.push(`CREATE TABLE t3_big again failed: ${r2.stderr}`);
    const dir = path.join(DATA, 'lake', 't3_big');
    const files = fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.parquet')) : [];
    if (files.length !== 1) p.push(`lake/t3_big has ${files.length} files, want 1: ${files.slice(0, 3).join(', ')}`);
    R.check('kill9_during_ctas_leaves_no_temp_files_and_no_table', p);
});

const VALUES = ['a/b', '100%', 'x=y', 'é日本', "it's \"q\"", 'sp ace+plus', '..', '#?*:[]^{}\\',
    'L'.repeat(199) + '1', 'L'.repeat(199) + '2', 'M'.repeat(64), 'M'.repeat(63) + 'N'];

await R.guard('odd_partition_values', async () => {
    const p = [];
    const src = VALUES.map((v, i) => `SELECT ${sqlStr(v)} AS k, ${i + 1} AS n`).join(' UNION ALL ') +
        ' UNION ALL SELECT NULL AS k, 100 AS n UNION ALL SELECT \'a/b\' AS k, 1000 AS n';
    let r = sql(`CREATE TABLE t3_odd PARTITION BY k AS ${src}`);
    if (r.status !== 0) { p.push(`CTAS failed: ${r.stderr}`); R.check('odd_partition_values_round_trip', p); return; }
    const want = new Map(VALUES.map((v, i) => [v, i + 1]));
    want.set('a/b', 1001);
    want.set('__HIVE_DEFAULT_PARTITION__', 100);
    const cmp = (who, got) => {
        for (const [k, n] of want) if (got.get(k) !== n) p.push(`${who}: partition ${JSON.stringify(k).slice(0, 60)}: sum ${got.get(k)}, want ${n}`);
        if (got.size !== want.size) p.push(`${who}: ${got.size} partitions, want ${want.size}`);
    };
    r = sql('SELECT k, sum(n) AS s FROM t3_odd GROUP BY k');
    if (r.status !== 0) p.push(`sluice sql read failed: ${r.stderr}`);
    else cmp('sluice sql', new Map(rows(r).map((x) => [x.k, Number(x.s)])));
    // an equality on the partition column prunes by the escaped path and finds the row
    for (const v of ['a/b', 'L'.repeat(199) + '2', '100%']) {
        r = sql(`SELECT sum(n) AS s FROM t3_odd WHERE k = ${sqlStr(v)}`);
        const got = r.status === 0 ? Number(rows(r)[0]?.s) : r.stderr;
        if (got !== want.get(v)) p.push(`WHERE k = ${v.slice(0, 20)}…: ${got}, want ${want.get(v)}`);
    }
    const db = await openDuck();
    const lake = path.join(DATA, 'lake');
    const d = await db.objs(`SELECT k, sum(n) AS s FROM read_parquet('${lake}/t3_odd/**/*.parquet', hive_partitioning = true, hive_types_autocast = false) GROUP BY k`);
    // DuckDB >= 1.5 reads the Hive default partition as NULL (1.4 gave its name)
    const hiveKey = (k) => k ?? '__HIVE_DEFAULT_PARTITION__';
    cmp('DuckDB', new Map(d.map((x) => [hiveKey(x.k), Number(x.s)])));
    const ddl = execFileSync(BIN, ['ddl', '--data', DATA, '--dialect', 'duckdb', 't3_odd']).toString();
    await db.run(ddl);
    const v = await db.objs('SELECT k, sum(n) AS s FROM t3_odd GROUP BY k');
    cmp('DuckDB (sluice ddl view)', new Map(v.map((x) => [hiveKey(x.k), Number(x.s)])));
    db.close();
    // too long for one path segment: an error, and no table is left behind
    r = sql(`CREATE TABLE t3_long PARTITION BY k AS SELECT ${sqlStr('/'.repeat(120))} AS k, 1 AS n`);
    if (r.status === 0 || !/too long/.test(r.stderr)) p.push(`a value over the segment limit: ${r.status} ${r.stderr}`);
    if (/t3_long/.test(tables())) p.push('a failed CTAS left an empty table t3_long');
    R.check('odd_partition_values_round_trip', p);
});

await R.guard('query_across_compaction', async () => {
    const p = [];
    const cfg = path.join(T, 'c.yaml');
    fs.writeFileSync(cfg, `data_dir: ${DATA}\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\n` +
        'streams:\n  ev:\n    sink:\n      partition: none\n      roll_age: 50ms\n      roll_rows: 20\n' +
        '      compact_min_files: 3\n      maintenance_interval: 100ms\n      trash_grace: 30s\n');
    const pf = path.join(T, 'port');
    const srv = spawn(BIN, ['serve', '-c', cfg, '--port-file', pf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    srv.stderr.on('data', (b) => { log += b; });
    let port = 0;
    for (let i = 0; i < 400 && !port; i++) { if (fs.existsSync(pf)) port = Number(fs.readFileSync(pf, 'utf8')) || 0; await sleep(25); }
    if (!port) { p.push('server did not start'); R.check('queries_across_compaction_never_fail', p); return; }
    // the server's start also collects temp files of dead writers
    let id = 0, stop = false;
    const post = async () => {
        while (!stop) {
            const body = Array.from({ length: 20 }, () => JSON.stringify({ id: id++, s: 'x'.repeat(50) })).join('\n') + '\n';
            await fetch(`http://127.0.0.1:${port}/v1/streams/ev/records`, { method: 'POST', body }).catch(() => {});
            await sleep(30);
        }
    };
    const ingest = post();
    while (Date.now() < deadline - 25000 && id < 2000) await sleep(50);
    // slow scans (another process) that list the files, then open them one by one
    const slow = 'SELECT count(*) AS n, sum((WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c ' +
        'WHERE x < 300 + id % 7) SELECT count(*) FROM c)) AS w FROM t1_ev';
    let queries = 0, failures = 0;
    const until = Math.min(Date.now() + 12000, deadline - 8000);
    while (Date.now() < until) {
        const r = spawnSync(BIN, ['sql', '--data', DATA, '--no-tail', '-F', 'ndjson', slow], { encoding: 'utf8', timeout: 20000 });
        queries++;
        if (r.status !== 0) { failures++; if (failures <= 3) p.push(`query failed: ${r.stderr.trim().slice(0, 200)}`); }
    }
    stop = true;
    await ingest;
    const st = await (await fetch(`http://127.0.0.1:${port}/v1/streams/ev`)).json().catch(() => ({}));
    const compacted = Number(st?.sink?.compacted_files ?? 0);
    if (!compacted) p.push(`no compaction happened during the queries (${JSON.stringify(st?.sink ?? {})})`);
    srv.kill('SIGTERM');
    await new Promise((r) => srv.once('exit', r));
    if (failures) p.push(`${failures} of ${queries} queries failed`);
    console.log(`# ${queries} queries, ${compacted} files compacted meanwhile, ${id} records`);
    R.check('queries_across_compaction_never_fail', p);

    // right after the compactions (the replaced files are within trash_grace):
    // an engine that globs the table's directory counts every row once
    const q = [];
    const lake = path.join(DATA, 'lake');
    const parquets = (d) => (fs.existsSync(d) ? fs.readdirSync(d, { recursive: true }).filter((f) => String(f).endsWith('.parquet')) : []);
    const trashed = parquets(path.join(lake, '.trash', 't1_ev')).length;
    if (!compacted || !trashed) q.push(`nothing in the trash to double count (${compacted} compacted, ${trashed} trashed)`);
    const r = sql('SELECT count(*) AS n FROM t1_ev', ['--no-tail']);
    const want = r.status === 0 ? Number(rows(r)[0]?.n) : NaN;
    if (!(want > 0)) q.push(`sluice sql count failed: ${r.stderr}`);
    const db = await openDuck();
    const d = await db.objs(`SELECT count(*) AS n FROM read_parquet('${lake}/t1_ev/**/*.parquet', hive_partitioning = 1)`);
    const d2 = await db.objs(`SELECT count(*) AS n FROM read_parquet('${lake}/t1_ev/*.parquet')`);
    db.close();
    const got = Number(d[0]?.n), got2 = Number(d2[0]?.n);
    if (got !== want) q.push(`DuckDB globbing lake/t1_ev/**/*.parquet counts ${got} rows, sluice sql ${want} (${parquets(path.join(lake, 't1_ev')).length} files in the directory, ${trashed} in the trash)`);
    if (got2 !== want) q.push(`DuckDB globbing lake/t1_ev/*.parquet counts ${got2} rows, sluice sql ${want}`);
    console.log(`# ${want} rows; ${trashed} replaced files in the trash`);
    R.check('directory_glob_after_compaction_counts_each_row_once', q);
});


