// The lake end to end: `sluice serve` lands streams as Parquet in event-time
// partitions; DuckDB (an independent reader) reads the table directory with
// hive_partitioning and must find exactly the records that were acknowledged.
// Also: late events in their own partitions, schema drift (keys gained, lost,
// renamed, int -> float) recorded as versions, and exactly-once across kill -9.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, Reporter, Server, makeTmp, openDuck, sanitizerReport, lakeScan, sleep } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('lake');
const DATA = path.join(T, 'data');
const LAKE = path.join(DATA, 'lake');
const server = new Server(T);

function config(extra = '') {
    const cfg = `data_dir: ${DATA}
listen: 127.0.0.1:0
auto_create_streams: true
limits:
  min_free_disk: 0
streams:
  events:
    sink:
      roll_age: 300ms
  drift:
    sink:
      roll_age: 200ms
      roll_rows: 40
  ci:
    sink:
      roll_age: 200ms
      case_insensitive: true
  compact:
    sink:
      roll_age: 100ms
      roll_rows: 40
      compact_min_files: 4
      maintenance_interval: 300ms
      trash_grace: 0s
  old:
    sink:
      roll_age: 100ms
      retention: 2d
      maintenance_interval: 300ms
      trash_grace: 0s
  crash:
    sink:
      roll_age: 150ms
      roll_rows: 3000
${extra}`;
    fs.writeFileSync(path.join(T, 'sluice.yaml'), cfg);
}

const post = (stream, lines) => server.post(stream, lines);
const streamInfo = (s) => server.info(s);
const landed = (s, timeoutMs) => server.landed(s, timeoutMs);

const readLake = t => lakeScan(LAKE, t);

config();
const db = await openDuck();
db.rows = db.objs;

await R.guard('lake_end_to_end', async () => {
    await server.start();
    // ---- 1. gen | ingest, then DuckDB reads exactly the records --------------------------
    const src = path.join(T, 'events.ndjson');
    execFileSync(BIN, ['gen', '--count', '30000', '--seed', '7'], { stdio: ['ignore', fs.openSync(src, 'w'), 'inherit'] });
    execFileSync(BIN, ['ingest', '-q', '--url', server.url, 'events', src]);
    const info = await landed('events');
    const [a] = await db.rows(`SELECT count(*) AS n, count(DISTINCT event_id) AS d, sum(cost) AS c FROM ${readLake('t1_events')}`);
    const [b] = await db.rows(`SELECT count(*) AS n, count(DISTINCT event_id) AS d, sum(cost) AS c FROM read_json_auto('${src}')`);
    const probs = [];
    if (Number(a.n) !== 30000 || Number(a.d) !== 30000) probs.push(`lake has ${a.n} rows, ${a.d} distinct ids; want 30000`);
    if (Math.abs(Number(a.c) - Number(b.c)) > 1e-6 * Math.abs(Number(b.c))) probs.push(`sum(cost) ${a.c} vs source ${b.c}`);
    const [diff] = await db.rows(`SELECT count(*) AS n FROM (
        SELECT event_id, event_type, campaign_id, advertiser, country, cost, user_id FROM read_json_auto('${src}')
        EXCEPT SELECT event_id, event_type, campaign_id, advertiser, country, cost, user_id FROM ${readLake('t1_events')})`);
    if (Number(diff.n) !== 0) probs.push(`${diff.n} source records differ from the lake`);
    const [badpart] = await db.rows(`SELECT count(*) AS n FROM ${readLake('t1_events')}
        WHERE strftime(event_time AT TIME ZONE 'UTC', '%Y-%m-%d') <> CAST(dt AS VARCHAR)
           OR CAST(hour(event_time AT TIME ZONE 'UTC') AS INT) <> CAST(hr AS INT)`);
    if (Number(badpart.n) !== 0) probs.push(`${badpart.n} rows in a partition that is not their event time's`);
    const [ing] = await db.rows(`SELECT count(*) AS n FROM ${readLake('t1_events')} WHERE _ingest_ts IS NULL`);
    if (Number(ing.n) !== 0) probs.push('rows without _ingest_ts');
    const types = await db.rows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${readLake('t1_events')})`);
    const ty = Object.fromEntries(types.map(r => [r.column_name, r.column_type]));
    if (!/TIMESTAMP/.test(ty.event_time || '')) probs.push(`event_time is ${ty.event_time}, want a timestamp`);
    if (ty.cost !== 'DOUBLE') probs.push(`cost is ${ty.cost}`);
    if (!/TIMESTAMP/.test(ty._ingest_ts || '')) probs.push(`_ingest_ts is ${ty._ingest_ts}`);
    if (!info.sink || info.sink.files < 1) probs.push('no files committed');
    R.check('gen_ingest_lands_exactly_in_duckdb', probs);

    // ---- 2. late events land in their own partitions -------------------------------------------
    const now = Date.now();
    const late = [];
    for (const [i, agoH] of [[0, 3], [1, 27], [2, 24 * 9 + 5], [3, 0.01]]) {
        const t = new Date(now - agoH * 3600e3);
        late.push({ event_id: `late-${i}`, event_time: t.toISOString(), cost: 1.5, event_type: 'click' });
    }
    late.push({ event_id: 'late-epoch', event_time: Math.floor((now - 50 * 3600e3) / 1000), cost: 2 }); // epoch seconds
    late.push({ event_id: 'late-none', cost: 3 }); // no event time -> ingest time
    let r = await post('events', late);
    if (r.code !== 200) throw new Error(`late post: ${r.code} ${r.body}`);
    await landed('events');
    const got = await db.rows(`SELECT event_id, CAST(dt AS VARCHAR) AS dt, CAST(hr AS INT) AS hr FROM ${readLake('t1_events')} WHERE event_id LIKE 'late-%' ORDER BY event_id`);
    const lp = [];
    const want = id => {
        const l = late.find(x => x.event_id === id);
        let ms = l.event_time === undefined ? null : typeof l.event_time === 'number' ? l.event_time * 1000 : Date.parse(l.event_time);
        if (ms === null) return null;
        const d = new Date(ms);
        return [d.toISOString().slice(0, 10), d.getUTCHours()];
    };
    if (got.length !== late.length) lp.push(`${got.length} late rows in the lake, want ${late.length}`);
    for (const g of got) {
        const w = want(g.event_id);
        if (w && (w[0] !== g.dt || w[1] !== g.hr)) lp.push(`${g.event_id}: partition dt=${g.dt}/hr=${g.hr}, want dt=${w[0]}/hr=${w[1]}`);
        if (!w) { const d = new Date(); if (g.dt !== d.toISOString().slice(0, 10)) lp.push(`late-none: dt=${g.dt}, want today (ingest time)`); }
    }
    R.check('late_events_land_in_event_time_partitions', lp);

    // ---- 3. schema drift ---------------------------------------------------------------------
    const drift = [];
    for (let i = 0; i < 60; i++) drift.push({ id: i, n: i, name: `a${i}`, event_time: '2024-06-01T10:00:00Z' });
    r = await post('drift', drift);
    await landed('drift');
    const drift2 = [];
    for (let i = 60; i < 120; i++) drift2.push({ id: i, n: i + 0.5, title: `b${i}`, extra: { k: i }, event_time: '2024-06-01T11:00:00Z' });
    r = await post('drift', drift2);
    await landed('drift');
    const drift3 = [];
    for (let i = 120; i < 150; i++) drift3.push({ id: i, flag: i % 2 === 0, event_time: '2024-06-02T00:00:00Z' });
    r = await post('drift', drift3);
    await landed('drift');
    const dp = [];
    const rows = await db.rows(`SELECT id, n, name, title, extra, flag FROM ${readLake('t1_drift')} ORDER BY id`);
    if (rows.length !== 150) dp.push(`${rows.length} rows, want 150`);
    for (const row of rows) {
        const i = Number(row.id);
        if (i < 60 && (Number(row.n) !== i || row.name !== `a${i}`)) dp.push(`row ${i}: n=${row.n} name=${row.name}`);
        if (i >= 60 && i < 120 && (Number(row.n) !== i + 0.5 || row.title !== `b${i}` || row.name !== null || JSON.parse(row.extra).k !== i)) dp.push(`row ${i}: n=${row.n} title=${row.title} name=${row.name} extra=${row.extra}`);
        if (i >= 120 && (row.flag !== (i % 2 === 0) || row.n !== null)) dp.push(`row ${i}: flag=${row.flag} n=${row.n}`);
        if (dp.length > 10) break;
    }
    const desc = JSON.parse(execFileSync(BIN, ['describe', '--data', DATA, '--json', 't1_drift']).toString());
    const hist = desc.history || desc.versions || desc.schema_history || [];
    if (hist.length < 3) dp.push(`catalog shows ${hist.length} schema versions, want >= 3: ${JSON.stringify(hist).slice(0, 300)}`);
    const changes = JSON.stringify(hist);
    if (!/widened n int64 -> double/.test(changes)) dp.push(`no "widened n int64 -> double" in the history: ${changes.slice(0, 400)}`);
    if (!/added title/.test(changes) || !/added flag/.test(changes)) dp.push('added columns missing from the history');
    R.check('schema_drift_queryable_and_versioned', dp);

    // case-insensitive key matching (ad APIs change key case without notice)
    r = await post('ci', [{ Cost: 1.5, Clicks: 3, event_time: '2024-06-03T00:00:00Z' }, { cost: 2.5, CLICKS: 4, event_time: '2024-06-03T00:00:00Z' }]);
    await landed('ci');
    const ci = await db.all(`SELECT * FROM ${readLake('t1_ci')} ORDER BY 1`);
    const cp = [];
    const cols = ci.names.filter(n => !['_ingest_ts', 'dt', 'hr', 'event_time'].includes(n));
    if (cols.join(',') !== 'Cost,Clicks') cp.push(`columns ${cols}, want Cost,Clicks (first spelling)`);
    if (ci.rows.length !== 2) cp.push(`${ci.rows.length} rows`);
    R.check('case_insensitive_keys_share_columns', cp);

    // ---- compaction: many small files in one partition become few, rows unchanged ----
    for (let k = 0; k < 10; k++) {
        const batch = [];
        for (let i = 0; i < 40; i++) batch.push({ id: k * 40 + i, v: (k * 40 + i) * 1.5, w: k % 2 ? 'x' : 7, event_time: '2024-07-01T05:00:00Z' });
        await post('compact', batch);
        await landed('compact');
    }
    const filesIn = dir => execFileSync('find', [path.join(LAKE, dir), '-name', '*.parquet']).toString().trim().split('\n').filter(Boolean);
    const before = filesIn('t1_compact').length;
    // poll until compaction is done: the catalog commits first, then the
    // replaced files leave the directory (for the trash), so wait for both
    const catFiles = () => (JSON.parse(execFileSync(BIN, ['describe', '--data', DATA, '--json', '--files', 't1_compact']).toString()).files || []).length;
    let after = before, cinfo = await streamInfo('compact');
    for (let t = 0; t < 100; t++) {
        if (after <= 3 && cinfo.sink.compacted_files >= 8 && catFiles() === after) break;
        await sleep(100);
        after = filesIn('t1_compact').length;
        cinfo = await streamInfo('compact');
    }
    const cp2 = [];
    if (cinfo.sink.files < 10) cp2.push(`only ${cinfo.sink.files} files committed: the test did not make small files`);
    if (cinfo.sink.compacted_files < 8) cp2.push(`${cinfo.sink.compacted_files} files compacted, want >= 8`);
    if (after > 3) cp2.push(`${after} files after compaction (was ${before})`);
    const [cc] = await db.rows(`SELECT count(*) n, count(DISTINCT id) d, sum(v) s, count(*) FILTER (WHERE w = 'x') x, count(*) FILTER (WHERE w = '7') seven FROM ${readLake('t1_compact')}`);
    if (Number(cc.n) !== 400 || Number(cc.d) !== 400) cp2.push(`${cc.n} rows / ${cc.d} ids after compaction, want 400`);
    if (Number(cc.s) !== 1.5 * 399 * 400 / 2) cp2.push(`sum(v) ${cc.s}`);
    if (Number(cc.x) !== 200 || Number(cc.seven) !== 200) cp2.push(`w widened int -> string wrong: x=${cc.x} '7'=${cc.seven}`);
    const cdesc = JSON.parse(execFileSync(BIN, ['describe', '--data', DATA, '--json', '--files', 't1_compact']).toString());
    if ((cdesc.files || []).length !== after) cp2.push(`catalog lists ${(cdesc.files || []).length} files, ${after} on disk`);
    R.check('compaction_merges_small_files_atomically', cp2);

    // ---- retention: partitions older than 2 days are dropped ------------------------------
    const today = new Date().toISOString().slice(0, 10);
    await post('old', [{ id: 'ancient', event_time: '2020-01-01T00:00:00Z' }, { id: 'fresh', event_time: new Date().toISOString() }]);
    await landed('old');
    let ids = [];
    for (let t = 0; t < 60; t++) {
        await sleep(100);
        ids = (await db.rows(`SELECT id FROM ${readLake('t1_old')} ORDER BY id`)).map(r => r.id);
        if (ids.length === 1) break;
    }
    const rp = [];
    if (ids.join(',') !== 'fresh') rp.push(`rows after retention: ${ids}`);
    if (fs.existsSync(path.join(LAKE, 't1_old', 'dt=2020-01-01'))
        && filesIn('t1_old/dt=2020-01-01').length) rp.push('the dropped partition still has files');
    if (!filesIn(`t1_old/dt=${today}`).length) rp.push('today\'s partition is gone');
    R.check('retention_drops_old_partitions', rp);

    const tables = execFileSync(BIN, ['tables', '--data', DATA]).toString();
    R.check('sluice_tables_lists_landed_tables', ['t1_events', 't1_drift'].filter(t => !tables.includes(t)).map(t => `${t} missing from:\n${tables}`));

    const code = await server.stop();
    R.check('sigterm_with_sinks_exit_0', code === 0 ? [] : [`exit ${code}`]);
});

// ---- 4. exactly once across kill -9 during ingest and flushing ---------------------------------
await R.guard('lake_exactly_once_kill9', async () => {
    await server.start();
    const acked = new Set();
    let stopFlag = false, seq = 0;
    async function client(c) {
        while (!stopFlag) {
            const batch = [];
            for (let i = 0; i < 50; i++) batch.push({ id: `c${c}-${seq++}`, v: seq, event_time: new Date(Date.UTC(2024, 4, 1, seq % 4)).toISOString() });
            const res = await post('crash', batch);
            if (res.code === 200 && JSON.parse(res.body).accepted === 50) batch.forEach(b => acked.add(b.id));
            else if (res.code === 0) await sleep(20);
        }
    }
    const clients = [0, 1, 2, 3].map(client);
    for (let k = 0; k < 4; k++) {
        await sleep(600 + 200 * k);
        await server.stop('SIGKILL');
        await server.start();
    }
    await sleep(400);
    stopFlag = true;
    await Promise.all(clients);
    await landed('crash', 30000);
    const [x] = await db.rows(`SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${readLake('t1_crash')}`);
    const ids = new Set((await db.rows(`SELECT id FROM ${readLake('t1_crash')}`)).map(r => r.id));
    const probs = [];
    if (Number(x.n) !== Number(x.d)) probs.push(`${Number(x.n) - Number(x.d)} duplicated rows (${x.n} rows, ${x.d} distinct ids)`);
    let missing = 0;
    for (const id of acked) if (!ids.has(id)) { missing++; if (missing < 5) probs.push(`acked ${id} missing`); }
    if (missing) probs.push(`${missing} acknowledged records missing`);
    if (acked.size < 1000) probs.push(`only ${acked.size} acked: not enough load`);
    // files in the table directory that the catalog does not list must not exist after the restart's GC
    const desc = JSON.parse(execFileSync(BIN, ['describe', '--data', DATA, '--json', '--files', 't1_crash']).toString());
    const listed = new Set((desc.files || []).map(f => f.path));
    const onDisk = execFileSync('find', [path.join(LAKE, 't1_crash'), '-name', '*.parquet']).toString().trim().split('\n').filter(Boolean)
        .map(p => path.relative(path.join(LAKE, 't1_crash'), p));
    const stray = onDisk.filter(p => !listed.has(p));
    if (listed.size && stray.length) probs.push(`${stray.length} uncommitted files left in the table directory: ${stray.slice(0, 3)}`);
    console.log(`# ${acked.size} acked, ${x.n} rows in the lake, ${onDisk.length} files`);
    R.check('acked_records_land_exactly_once', probs);
    await server.stop();
    const san = sanitizerReport(server.log());
    R.check('no_sanitizer_reports', san ? [san] : []);
});

db.close();
process.exit(R.failed ? 1 : 0);
