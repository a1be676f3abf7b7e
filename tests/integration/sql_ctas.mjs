// CREATE TABLE … AS SELECT / INSERT INTO … SELECT write lake tables: Parquet in
// Hive partitions, committed in one catalog transaction; DuckDB (independent
// reader) reads the written table and finds the same numbers as the source;
// refused statements leave nothing behind.
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, Reporter, makeTmp, openDuck } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('ctas');
const DATA = path.join(T, 'data');
fs.writeFileSync(path.join(T, 'c.yaml'), `data_dir: ${DATA}\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\nstreams:\n  events:\n    sink:\n      roll_age: 200ms\n`);
const pf = path.join(T, 'port');
const srv = spawn(BIN, ['serve', '-c', path.join(T, 'c.yaml'), '--port-file', pf], { stdio: 'ignore' });
let port = 0;
for (let i = 0; i < 400 && !port; i++) { if (fs.existsSync(pf)) port = Number(fs.readFileSync(pf, 'utf8')) || 0; await new Promise(r => setTimeout(r, 25)); }
const ev = path.join(T, 'ev.ndjson');
execFileSync(BIN, ['gen', '--count', '20000', '--seed', '9', '--spacing-ms', '20000'], { stdio: ['ignore', fs.openSync(ev, 'w'), 'inherit'] });
execFileSync(BIN, ['ingest', '-q', '--url', `http://127.0.0.1:${port}`, 'events', ev]);
for (let i = 0; i < 200; i++) {
    const s = await (await fetch(`http://127.0.0.1:${port}/v1/streams/events`)).json();
    if (s.sink.position === 20000) break;
    await new Promise(r => setTimeout(r, 50));
}
srv.kill('SIGTERM');
await new Promise(r => srv.once('exit', r));
const sql = (q) => spawnSync(BIN, ['sql', '--data', DATA, '-F', 'csv', q], { encoding: 'utf8' });

await R.guard('ctas', async () => {
    const p = [];
    let r = sql('CREATE TABLE t2_daily PARTITION BY dt AS SELECT dt, country, count(*) AS n, sum(cost) AS cost FROM t1_events GROUP BY dt, country');
    if (r.status !== 0) p.push(`CTAS failed: ${r.stderr}`);
    r = sql("INSERT INTO t2_daily SELECT '2030-01-01' AS dt, 'XX' AS country, 7 AS n, 2.5 AS cost");
    if (r.status !== 0) p.push(`INSERT failed: ${r.stderr}`);
    const db = await openDuck();
    const lake = path.join(DATA, 'lake');
    const [d] = await db.objs(`SELECT sum(n) AS n, round(sum(cost), 6) AS c, count(DISTINCT dt) AS days FROM read_parquet('${lake}/t2_daily/**/*.parquet', hive_partitioning = true) WHERE dt <> '2030-01-01'`);
    const [s] = await db.objs(`SELECT count(*) AS n, round(sum(cost), 6) AS c, count(DISTINCT dt) AS days FROM read_parquet('${lake}/t1_events/**/*.parquet', hive_partitioning = true)`);
    if (Number(d.n) !== Number(s.n) || Math.abs(Number(d.c) - Number(s.c)) > 1e-6 || Number(d.days) !== Number(s.days))
        p.push(`t2_daily (DuckDB) ${JSON.stringify(d)} vs source ${JSON.stringify(s)}`);
    const [x] = await db.objs(`SELECT country, n, cost FROM read_parquet('${lake}/t2_daily/dt=2030-01-01/*.parquet')`);
    if (!x || x.country !== 'XX' || Number(x.n) !== 7 || x.cost !== 2.5) p.push(`inserted row: ${JSON.stringify(x)}`);
    db.close();
    r = sql("SELECT sum(n) FROM t2_daily WHERE dt = '2030-01-01'");
    if (r.stdout.trim().split('\n')[1] !== '7') p.push(`sluice sql reads the insert: ${r.stdout}`);
    const before = execFileSync('find', [path.join(lake, 't2_daily'), '-name', '*.parquet']).toString();
    for (const [q, why] of [['CREATE TABLE t2_daily AS SELECT 1 AS a', 'already exists'],
        ['INSERT INTO t1_events SELECT * FROM t1_events LIMIT 1', 'landed by stream'],
        ["INSERT INTO t2_daily SELECT '2031-01-01' AS dt, 'x' AS nope", 'no column'],
        ["INSERT INTO t2_daily SELECT '2031-01-01' AS dt, country, cost AS n, 1 AS cost FROM t1_events", 'int64 but a row has a REAL']]) {
        r = sql(q);
        if (r.status === 0 || !r.stderr.includes(why)) p.push(`"${q}" should fail with "${why}": ${r.status} ${r.stderr}`);
    }
    const after = execFileSync('find', [path.join(lake, 't2_daily'), '-name', '*.parquet']).toString();
    if (before !== after) p.push('a refused statement left files behind');
    // a CTAS that fails while landing (a partition value too long for a path
    // segment) leaves no table behind, not even an empty one
    r = sql(`CREATE TABLE t2_fail PARTITION BY k AS SELECT country AS k, 1 AS n FROM t1_events UNION ALL SELECT '${'v'.repeat(300)}', 1`);
    if (r.status === 0 || !r.stderr.includes('too long')) p.push(`over-long partition value: ${r.status} ${r.stderr}`);
    if (execFileSync(BIN, ['tables', '--data', DATA]).toString().includes('t2_fail')) p.push('a failed CTAS left table t2_fail');
    // long partition values that share 63+ characters stay distinct (were cut at 63 and merged)
    const long = (c) => 'p'.repeat(70) + c;
    r = sql(`CREATE TABLE t2_long PARTITION BY k AS SELECT '${long('a')}' AS k, 1 AS n UNION ALL SELECT '${long('b')}', 2`);
    if (r.status !== 0) p.push(`CTAS with long values: ${r.stderr}`);
    r = sql(`SELECT count(DISTINCT k) AS d, sum(n) AS s, max(length(k)) AS l FROM t2_long WHERE k = '${long('b')}' OR k = '${long('a')}'`);
    if (r.stdout.trim().split('\n')[1] !== '2,3,71') p.push(`long partition values read back as ${r.stdout.trim().split('\n')[1]}, want 2,3,71`);
    const desc = JSON.parse(execFileSync(BIN, ['describe', '--data', DATA, '--json', 't2_daily']).toString());
    if (desc.partition !== 'dt' && !(JSON.stringify(desc).includes('"dt"'))) p.push('catalog does not record the partition column');
    R.check('ctas_and_insert_write_lake_tables', p);
});
process.exit(R.failed ? 1 : 0);
