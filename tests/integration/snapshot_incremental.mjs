/* Incremental snapshots (tables.<t>.cursor) from a real PostgreSQL 15, read
 * back by DuckDB:
 *   - the first run reads every row; after updates and inserts the next run
 *     appends exactly the changed rows (the latest row per key equals the
 *     source); a run with nothing new appends nothing and keeps the cursor
 *   - the server killed -9 in the middle of a run: after the restart the
 *     run is taken over and the table holds every row exactly once (the
 *     cursor never moved past files that were not committed)
 *   - a cursor column that does not exist fails that table's run, naming it */
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, makeTmp, Server, sluice, openDuck, sleep, sanitizerReport, lakeScan } from '../node/lib/common.mjs';
import { startPg } from '../node/lib/pg.mjs';
import { runsOf as jobRuns, trigger as jobTrigger, latest } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('snapshot-inc');
const pg = await startPg(path.join(T, 'pg'));
if (!pg) { R.skip('snapshot_incremental', 'PostgreSQL 15 is not installed (scripts/deps.sh --test)'); process.exit(0); }
const BIG = 400000;
await pg.createdb('app');
await pg.psql('app', `
CREATE TABLE public.events (id int8 PRIMARY KEY, v text, updated_at timestamptz NOT NULL);
INSERT INTO public.events SELECT g, 'v' || g, timestamptz '2024-05-01' + g * interval '1 second' FROM generate_series(1, 1000) g;
CREATE TABLE public.big (id int8 PRIMARY KEY, pad text, seq int8 NOT NULL);
INSERT INTO public.big SELECT g, repeat(md5(g::text), 4), g FROM generate_series(1, ${BIG}) g;
CREATE TABLE public.nocur (id int8);
INSERT INTO public.nocur VALUES (1);
`);
const cfgPath = path.join(T, 'sluice.yaml');
fs.writeFileSync(cfgPath, `
data_dir: ${T}/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 2
scheduler: {tick: 100ms, task_timeout: 2s, heartbeat: 300ms, max_deliveries: 5}
postgres:
  app: {conninfo: "host=127.0.0.1 port=${pg.port} dbname=app user=postgres"}
jobs:
  inc:
    kind: snapshot
    source: app
    window: day
    retries: 0
    tables:
      public.events: {cursor: updated_at}
      public.nocur: {cursor: no_such_column}
  inc_big:
    kind: snapshot
    source: app
    window: day
    retries: 2
    retry_delay: 0s
    tables:
      public.big: {cursor: seq}
`);
const lake = path.join(T, 'data', 'lake');
const srv = new Server(T, cfgPath);
process.on('exit', () => { if (srv.proc) srv.proc.kill('SIGKILL'); });
await srv.start();
const duck = await openDuck();
const q1 = async (sql) => (await duck.all(sql)).rows[0];

const runsOf = (job, want, t) => jobRuns(cfgPath, job, want, t);
const trigger = (job, day, force) => jobTrigger(cfgPath, job, day, force);

/* ---- first run, then only the changes ------------------------------------------------------- */
await trigger('inc', '2024-05-01');
let runs = await runsOf('inc', 2);
let ev = latest(runs, 'public.events');
R.check('first_run_reads_every_row', ev && ev.state === 'succeeded' && ev.rows === 1000 ? [] : [JSON.stringify(runs)]);
const nc = latest(runs, 'public.nocur');
R.check('missing_cursor_column_fails_alone', nc && nc.state === 'failed' && /job inc: table public\.nocur: cursor: the source has no column 'no_such_column'/.test(nc.error)
    ? [] : [JSON.stringify(nc)]);

await pg.psql('app', `UPDATE public.events SET v = 'changed', updated_at = timestamptz '2024-06-01' + id * interval '1 ms' WHERE id % 100 = 0;
INSERT INTO public.events SELECT g, 'new', timestamptz '2024-06-02' FROM generate_series(1001, 1005) g;`);
await trigger('inc', '2024-05-02');
runs = await runsOf('inc', 4);
ev = latest(runs, 'public.events');
R.check('next_run_reads_exactly_the_changed_rows', ev && ev.state === 'succeeded' && ev.rows === 15 ? [] : [JSON.stringify(ev)]);
{
    const scan = lakeScan(lake, 'public_events');
    const [n, keys] = (await q1(`SELECT count(*), count(DISTINCT id) FROM ${scan}`)).map(Number);
    const want = (await pg.psql('app', `SELECT id, v FROM public.events ORDER BY id`)).trim().split('\n').join(';');
    const got = (await duck.all(`SELECT id, v FROM (SELECT id, v, row_number() OVER (PARTITION BY id ORDER BY updated_at DESC) AS k FROM ${scan}) WHERE k = 1 ORDER BY id`))
        .rows.map((r) => `${r[0]}|${r[1]}`).join(';');
    R.check('appended_rows_give_the_latest_row_per_key', n === 1015 && keys === 1005 && got === want ? [] : [`rows ${n}, keys ${keys}, latest per key equal: ${got === want}`]);
    const [d1, d2] = (await duck.all(`SELECT count(*) FILTER (WHERE dt = '2024-05-01'), count(*) FILTER (WHERE dt = '2024-05-02') FROM ${scan}`)).rows[0].map(Number);
    R.check('each_run_appends_to_its_window', d1 === 1000 && d2 === 15 ? [] : [`dt=2024-05-01 ${d1}, dt=2024-05-02 ${d2}`]);
}
await trigger('inc', '2024-05-03');
runs = await runsOf('inc', 6);
ev = latest(runs, 'public.events');
const [n3] = (await q1(`SELECT count(*) FROM ${lakeScan(lake, 'public_events')}`)).map(Number);
R.check('nothing_new_appends_nothing', ev && ev.state === 'succeeded' && ev.rows === 0 && n3 === 1015 ? [] : [JSON.stringify(ev), `rows ${n3}`]);

/* ---- kill -9 in the middle of a run ---------------------------------------------------------- */
{
    await trigger('inc_big', '2024-05-01');
    for (let i = 0; i < 200; i++) { /* until the COPY is under way */
        const r = JSON.parse((await sluice(['runs', 'inc_big', '-c', cfgPath, '--format', 'json'])).stdout.toString() || '[]');
        if (r[0] && r[0].state === 'running') break;
        await sleep(20);
    }
    await sleep(300);
    await srv.stop('SIGKILL');
    const before = fs.existsSync(path.join(lake, 'public_big')) ? (await q1(`SELECT count(*) FROM ${lakeScan(lake, 'public_big')}`).catch(() => [0n]))[0] : 0;
    await srv.start();
    runs = await runsOf('inc_big', 1, 120000);
    const b = runs[0];
    const [n, keys] = (await q1(`SELECT count(*), count(DISTINCT id) FROM ${lakeScan(lake, 'public_big')}`)).map(Number);
    R.check('killed_run_retried_without_duplicates', b && b.state === 'succeeded' && b.deliveries >= 2 && Number(before) === 0 && n === BIG && keys === BIG
        ? [] : [`run ${JSON.stringify(b)}; rows ${n}, keys ${keys} (${before} committed before the restart)`]);
    await trigger('inc_big', '2024-05-02');
    runs = await runsOf('inc_big', 2);
    const b2 = latest(runs, 'public.big');
    R.check('cursor_after_the_takeover_is_the_committed_one', b2 && b2.state === 'succeeded' && b2.rows === 0 ? [] : [JSON.stringify(b2)]);
}

await srv.stop();
const san = sanitizerReport(srv.log());
R.check('no_sanitizer_reports', san ? [san] : []);
duck.close();
console.log(`${R.passed} passed, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
