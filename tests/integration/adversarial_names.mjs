// Adversarial record keys against the real binary: keys equal up to case
// ({"Name":1,"name":2}), keys equal to partition / reserved columns (DT, hr,
// _INGEST_TS), the empty key, control characters, a 10,000-character key.
// Every record lands (the naming rule of docs/lake.md gives each key its own
// column), SELECT 1 and queries over every table keep working in `sluice sql`
// and POST /v1/query, DuckDB reads the Parquet files, and all of it survives
// a restart.  Also: a record over the column cap adds no column and lands in
// the errors table, which is queryable; a 64-character stream's rejected
// records are stored.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, Reporter, makeTmp, openDuck, sqlIdent } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('names');
const DATA = path.join(T, 'data');
const LONG = 'k'.repeat(10000);
const S64 = 's'.repeat(64);
const sinkConf = '    sink:\n      roll_age: 100ms\n';
fs.writeFileSync(path.join(T, 'c.yaml'), `data_dir: ${DATA}\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\n` +
    `streams:\n  names:\n${sinkConf}  capped:\n${sinkConf}      max_columns: 3\n  ${S64}:\n${sinkConf}`);

let srv = null, port = 0;
async function start() {
    const pf = path.join(T, 'port');
    fs.rmSync(pf, { force: true });
    srv = spawn(BIN, ['serve', '-c', path.join(T, 'c.yaml'), '--port-file', pf], { stdio: ['ignore', 'ignore', 'pipe'] });
    srv.stderr.on('data', () => { });
    port = 0;
    for (let i = 0; i < 400 && !port; i++) {
        if (fs.existsSync(pf)) port = Number(fs.readFileSync(pf, 'utf8')) || 0;
        if (!port) await new Promise(r => setTimeout(r, 25));
    }
    if (!port) throw new Error('server did not start');
}
async function stop() {
    srv.kill('SIGTERM');
    await new Promise(r => srv.once('exit', r));
}
const url = (p) => `http://127.0.0.1:${port}${p}`;
async function post(stream, lines) {
    const r = await fetch(url(`/v1/streams/${stream}/records`), { method: 'POST', body: lines.join('\n') + '\n' });
    return r.json();
}
async function landed(stream, n) {
    for (let i = 0; i < 400; i++) {
        const s = await (await fetch(url(`/v1/streams/${stream}`))).json();
        if (s.sink && s.sink.position >= n && s.sink.buffered === 0) return true;
        if (s.sink && s.sink.position >= n && s.sink.buffered === undefined) return true;
        await new Promise(r => setTimeout(r, 25));
    }
    return false;
}
const sql = (q) => spawnSync(BIN, ['sql', '--data', DATA, '--no-tail', '-F', 'csv', q], { encoding: 'utf8', timeout: 20000 });
async function api(q) {
    const r = await fetch(url('/v1/query?format=csv'), { method: 'POST', body: q });
    return { status: r.status, body: await r.text() };
}
function tables() {
    const r = spawnSync(BIN, ['tables', '--data', DATA, '-f', 'json'], { encoding: 'utf8' });
    const j = JSON.parse(r.stdout);
    return (Array.isArray(j) ? j : j.tables).map(t => t.name);
}

const RECORDS = [
    '{"id":1,"Name":1,"name":2}',
    '{"id":2,"DT":3}',
    '{"id":3,"_INGEST_TS":4}',
    '{"id":4,"":5}',
    '{"id":5,"a\\u0001b":6,"tab\\tkey":7,"nul\\u0000":8}',
    `{"id":6,"${LONG}":9}`,
    '{"id":7,"good":"yes"}',
    '{"id":8,"hr":10,"_ingest_ts":11}',
    '{"id":10,"name_2":1,"name":2}', // two keys, one column: to the errors table
];
// column -> [id, value] the naming rule gives each key
const EXPECT = [['Name', 1, 1], ['name_2', 1, 2], ['DT_2', 2, 3], ['_INGEST_TS_2', 3, 4], ['_empty', 4, 5],
    ['a\\x01b', 5, 6], ['tab\\x09key', 5, 7], ['nul\\x00', 5, 8], ['hr_2', 8, 10], ['_ingest_ts_3', 8, 11]];

const columns = (t) => sql(`SELECT * FROM ${sqlIdent(t)} LIMIT 0`).stdout.trim().split(',');
async function checkAll(p, phase, rows) {
    let r = sql('SELECT 1 AS one');
    if (r.status !== 0 || r.stdout.trim() !== 'one\n1') p.push(`${phase}: sluice sql SELECT 1: ${r.status} ${r.stderr}`);
    const a = await api('SELECT 1 AS one');
    if (a.status !== 200 || a.body.trim() !== 'one\n1') p.push(`${phase}: POST /v1/query SELECT 1: ${a.status} ${a.body}`);
    for (const t of tables()) {
        r = sql(`SELECT count(*) AS n FROM ${sqlIdent(t)}`);
        if (r.status !== 0) p.push(`${phase}: sluice sql over ${t}: ${r.stderr}`);
        const b = await api(`SELECT * FROM ${sqlIdent(t)}`);
        if (b.status !== 200) p.push(`${phase}: POST /v1/query over ${t}: ${b.status} ${b.body.slice(0, 200)}`);
    }
    r = sql('SELECT count(*) AS n, sum(good = \'yes\') AS g FROM t1_names');
    if (r.stdout.trim() !== `n,g\n${rows},1`) p.push(`${phase}: t1_names rows: ${r.stdout} ${r.stderr}`);
    for (const [col, id, v] of EXPECT) {
        r = sql(`SELECT ${sqlIdent(col)} AS v FROM t1_names WHERE id = ${id}`);
        if (r.stdout.trim() !== `v\n${v}`) p.push(`${phase}: column ${JSON.stringify(col)} of record ${id}: ${JSON.stringify(r.stdout)} ${r.stderr}`);
    }
    const long = columns('t1_names').find(c => c.startsWith('kkkk')) || '';
    if (!(long.length <= 255 && long.startsWith('kkkk'))) p.push(`${phase}: the long key's column: ${JSON.stringify(long.slice(0, 40))} (${long.length})`);
    else {
        r = sql(`SELECT ${sqlIdent(long)} AS v FROM t1_names WHERE id = 6`);
        if (r.stdout.trim() !== 'v\n9') p.push(`${phase}: long key value: ${r.stdout}`);
    }
}

await R.guard('adversarial_names', async () => {
    const p = [];
    await start();
    let rep = await post('names', RECORDS);
    if (rep.accepted !== RECORDS.length) p.push(`ingest: ${JSON.stringify(rep)}`);
    if (!await landed('names', RECORDS.length)) p.push('names: the sink did not land every record');
    await checkAll(p, 'serving', 8);

    // DuckDB, an independent reader, reads the files
    const db = await openDuck();
    const glob = path.join(DATA, 'lake', 't1_names', '**', '*.parquet');
    const [d] = await db.objs(`SELECT count(*) AS n, sum("name_2") AS n2, sum("_empty") AS e FROM read_parquet('${glob}', hive_partitioning = true, union_by_name = true)`);
    if (Number(d.n) !== 8 || Number(d.n2) !== 2 || Number(d.e) !== 5) p.push(`DuckDB: ${JSON.stringify(d)}`);
    db.close();

    // the column cap: a record that would pass it adds nothing and is stored as an error
    rep = await post('capped', ['{"a":1,"b":2}', '{"c":1,"d":2,"e":3}', '{"a":3}']);
    if (!await landed('capped', 3)) p.push('capped: the sink did not land');
    const capped = columns('t1_capped').join(',');
    if (capped !== 'a,b,_ingest_ts,dt,hr') p.push(`a rejected record added columns: ${capped}`);
    let r;
    r = sql('SELECT count(*) AS n, sum(reason LIKE \'%column cap%\') AS c FROM t1_capped_errors');
    if (r.stdout.trim() !== 'n,c\n1,1') p.push(`t1_capped_errors: ${JSON.stringify(r.stdout)} ${r.stderr}`);
    r = sql("SELECT count(*) AS n, sum(reason LIKE '%both map to column%') AS c FROM t1_names_errors");
    if (r.status !== 0 || r.stdout.trim() !== 'n,c\n1,1') p.push(`t1_names_errors: ${r.stdout} ${r.stderr}`);

    // a 64-character stream's rejected records are stored
    rep = await post(S64, ['{"ok":1}', 'not json']);
    if (rep.rejected !== 1) p.push(`64-char stream: ${JSON.stringify(rep)}`);
    const errDirs = fs.readdirSync(path.join(DATA, 'streams')).filter(n => n.endsWith('.errors') && n.startsWith(S64.slice(0, 40)));
    const bytes = errDirs.flatMap(d => fs.readdirSync(path.join(DATA, 'streams', d)).map(f => path.join(DATA, 'streams', d, f)))
        .filter(f => f.endsWith('.log')).reduce((a, f) => a + fs.statSync(f).size, 0);
    if (errDirs.length !== 1 || !(bytes > 0) || errDirs[0] !== S64 + '.errors') p.push(`64-char stream: errors stream ${JSON.stringify(errDirs)}, ${bytes} bytes`);

    await stop();
    await start(); // restart: the catalog as written still declares, records keep their columns
    rep = await post('names', ['{"id":9,"name":12,"NAME":13}']);
    if (!await landed('names', RECORDS.length + 1)) p.push('names: the sink did not land after restart');
    r = sql('SELECT "name_2" AS a, "NAME_3" AS b FROM t1_names WHERE id = 9');
    if (r.stdout.trim() !== 'a,b\n12,13') p.push(`after restart: ${JSON.stringify(r.stdout)} ${r.stderr}`);
    await checkAll(p, 'restarted', 9);
    await stop();
    R.check('adversarial_keys_all_land_and_every_query_works', p);
});
process.exit(R.failed ? 1 : 0);
