/* split_by + parallel: 8 as range tasks shared by worker processes, against
 * a real PostgreSQL 15: a serve with one worker thread and two `sluice
 * worker` processes read one 50k-row table's eight ranges in the
 * coordinator's snapshot; the lake table equals a serial read row for row
 * (DuckDB EXCEPT ALL both ways) and the ranges were read by more than one
 * process (the run's log line).  One worker process killed -9 while ranges
 * are in flight: the run still completes with the exact rows, and no staged
 * object stays behind.  One worker thread in all (no worker processes):
 * the coordinator reads every range itself and completes.  The coordinator
 * killed -9 (in a worker process): its run is taken over, starts again in a
 * new snapshot and completes exactly; what the old one staged is deleted. */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Reporter, makeTmp, Server, openDuck, sleep, sanitizerReport, lakeScan, BIN, sluice } from '../node/lib/common.mjs';
import { startPg } from '../node/lib/pg.mjs';
import { runsOf as jobRuns, trigger, latest } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('snapshot-parw');
const pg = await startPg(path.join(T, 'pg'));
if (!pg) { R.skip('snapshot_parallel_workers', 'PostgreSQL 15 is not installed (scripts/deps.sh --test)'); process.exit(0); }
const N = 50000;
await pg.createdb('app');
await pg.psql('app', `
CREATE TABLE public.big (id int8 PRIMARY KEY, bucket int4, v text, amount numeric(12,2), at timestamptz);
INSERT INTO public.big SELECT g, CASE WHEN g % 97 = 0 THEN NULL ELSE (g * 7919) % 100000 END,
  'row ' || g, g / 100.0, timestamptz '2024-05-01' + g * interval '1 second' FROM generate_series(1, ${N}) g;
`);
const cfgPath = path.join(T, 'sluice.yaml');
const config = (workers) => `
data_dir: ${T}/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: ${workers}
query: {write_tokens: [wtok-1]}
scheduler: {tick: 100ms, task_timeout: 2s, heartbeat: 300ms}
postgres:
  app: {conninfo: "host=127.0.0.1 port=${pg.port} dbname=app user=postgres"}
jobs:
  par:
    kind: snapshot
    source: app
    window: day
    retries: 0
    table_prefix: par_
    tables:
      public.big: {split_by: bucket, parallel: 8}
  nowin:
    kind: snapshot
    source: app
    retries: 0
    table_prefix: nowin_
    tables:
      public.big: {split_by: id, parallel: 3}
  ser:
    kind: snapshot
    source: app
    window: day
    retries: 0
    table_prefix: ser_
    include: [public.big]
`;
fs.writeFileSync(cfgPath, config(1));
const lake = path.join(T, 'data', 'lake');
const srv = new Server(T, cfgPath);
const workers = [];
process.on('exit', () => {
    if (srv.proc) srv.proc.kill('SIGKILL');
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
});
await srv.start();
const duck = await openDuck();
const runsOf = (job, want, t = 50000) => jobRuns(cfgPath, job, want, t);
const startWorker = (i) => {
    const log = fs.openSync(path.join(T, `worker${i}.log`), 'a');
    const w = spawn(BIN, ['worker', '-c', cfgPath, '--threads', '1', '--server', srv.url], { stdio: ['ignore', 'ignore', log] });
    fs.closeSync(log);
    workers.push(w);
    return w;
};
const logs = () => [srv.log(), ...workers.map((_, i) => {
    const p = path.join(T, `worker${i + 1}.log`);
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '';
})].join('\n');

/* The parallel lake table against the serial one, row for row. */
async function sameRows(what) {
    for (let i = 0; ; i++) { /* (the replaced files move to the trash just after the commit) */
        try { return await sameRows1(what); } catch (e) { if (i === 5) return R.check(what, [String(e)]); }
        await sleep(200);
    }
}
async function sameRows1(what) {
    const a = lakeScan(lake, 'par_public_big'), b = lakeScan(lake, 'ser_public_big');
    const cols = 'id, bucket, v, amount, "at", dt';
    const [[x]] = (await duck.all(`SELECT count(*) FROM (SELECT ${cols} FROM ${a} EXCEPT ALL SELECT ${cols} FROM ${b})`)).rows;
    const [[y]] = (await duck.all(`SELECT count(*) FROM (SELECT ${cols} FROM ${b} EXCEPT ALL SELECT ${cols} FROM ${a})`)).rows;
    const [[n, d]] = (await duck.all(`SELECT count(*), count(DISTINCT id) FROM ${a}`)).rows;
    R.check(what, Number(x) === 0 && Number(y) === 0 && Number(n) === N && Number(d) === N
        ? [] : [`only in parallel ${x}, only in serial ${y}, rows ${n}, distinct ids ${d}`]);
}
const staged = () => {
    const d = path.join(lake, '.stage');
    const out = [];
    const walk = (p) => { for (const e of fs.readdirSync(p, { withFileTypes: true })) e.isDirectory() ? walk(path.join(p, e.name)) : out.push(path.join(p, e.name)); };
    if (fs.existsSync(d)) walk(d);
    return out;
};

/* What stays staged once a range reader that lost its race has cleaned up (5 s). */
async function stagedLeft() {
    let left = staged();
    for (let i = 0; i < 50 && left.length; i++) { await sleep(100); left = staged(); }
    return left;
}

await trigger(cfgPath, 'ser', '2024-05-01');
const ser = await runsOf('ser', 1);
R.check('serial_run_succeeds', ser[0] && ser[0].state === 'succeeded' && ser[0].rows === N ? [] : [JSON.stringify(ser[0])]);

/* 1 worker thread in serve + 2 worker processes */
startWorker(1);
startWorker(2);
await sleep(500);
await trigger(cfgPath, 'par', '2024-05-01');
let par = latest(await runsOf('par', 1), 'public.big');
R.check('parallel_run_succeeds', par && par.state === 'succeeded' && par.rows === N ? [] : [JSON.stringify(par), logs().slice(-3000)]);
await sameRows('parallel_equals_serial_row_for_row');
{
    const m = logs().match(new RegExp(`job par run ${par && par.id} table public\\.big -> par_public_big: .* 8 ranges \\(read by ([^)]*)\\)`));
    const procs = new Set(m ? [...m[1].matchAll(/-(\d+)-w\d+ x\d+/g)].map((x) => x[1]) : []);
    R.check('ranges_read_by_more_than_one_process', procs.size >= 2 ? [] : [m ? m[0] : 'no log line', fs.readFileSync(path.join(T, 'worker1.log'), 'utf8').slice(-1500)]);
    R.check('nothing_staged_left', (await stagedLeft()).slice(0, 5));
}

/* a job without a window: the whole table, unpartitioned */
{
    await sluice(['run', 'nowin', '-c', cfgPath, '-w', '2024-05-01']);
    const r = latest(await runsOf('nowin', 1), 'public.big');
    R.check('unpartitioned_split_read_succeeds', r && r.state === 'succeeded' && r.rows === N ? [] : [JSON.stringify(r)]);
}

/* kill -9 a worker process while it reads a range */
{
    const before = fs.readFileSync(path.join(T, 'worker1.log'), 'utf8').length;
    await trigger(cfgPath, 'par', '2024-05-01', true);
    let killed = false;
    for (let i = 0; i < 2000 && !killed; i++) {
        for (const f of staged().filter((f) => /\.start$/.test(f))) {
            let by = '';
            try { by = fs.readFileSync(f, 'utf8'); } catch { continue; }
            if (by.includes(`-${workers[0].pid}-w`) && !fs.existsSync(f.replace(/\.start$/, '.done'))) {
                workers[0].kill('SIGKILL');
                killed = true;
                break;
            }
        }
        await sleep(5);
    }
    if (!killed) workers[0].kill('SIGKILL');
    R.check('worker_killed_while_reading_a_range', killed ? [] : ['worker 1 never held a range']);
    startWorker(3);
    const runs = await runsOf('par', 2);
    par = latest(runs, 'public.big');
    R.check('worker_killed_run_still_succeeds', runs.length === 2 && par.state === 'succeeded' && par.rows === N ? [] : [JSON.stringify(par), logs().slice(-3000)]);
    await sameRows('worker_killed_result_exact');
}

/* one worker thread in all: the coordinator reads every range */
{
    for (const w of workers) if (w.exitCode === null) w.kill('SIGTERM');
    for (const w of workers) while (w.exitCode === null && w.signalCode === null) await sleep(20);
    await srv.stop();
    await srv.start();
    await trigger(cfgPath, 'par', '2024-05-01', true);
    const runs = await runsOf('par', 3);
    par = latest(runs, 'public.big');
    R.check('one_worker_thread_completes', runs.length === 3 && par.state === 'succeeded' && par.rows === N ? [] : [JSON.stringify(par), srv.log().slice(-3000)]);
    await sameRows('one_worker_thread_result_exact');
    await sleep(300);
    R.check('nothing_staged_left_after_all', (await stagedLeft()).slice(0, 5));
}

/* the coordinator killed -9 (in a worker process: the server runs no tasks) */
{
    fs.writeFileSync(cfgPath, config(0));
    await srv.stop();
    await srv.start();
    const a = startWorker(4), b = startWorker(5);
    await trigger(cfgPath, 'par', '2024-05-01', true);
    let killed = null;
    for (let i = 0; i < 2000 && !killed; i++) {
        const r = await sluice(['runs', 'par', '-c', cfgPath, '--format', 'json']);
        let runs = [];
        try { runs = JSON.parse(r.stdout.toString() || '[]'); } catch { }
        const run = latest(runs, 'public.big');
        const plan = staged().some((f) => f.endsWith('/plan'));
        if (run && run.state === 'running' && plan) {
            killed = [a, b].find((w) => run.worker.includes(`-${w.pid}-w`));
            if (killed) killed.kill('SIGKILL');
        }
        await sleep(5);
    }
    R.check('coordinator_killed_while_its_ranges_run', killed ? [] : ['no coordinator in a worker process found']);
    startWorker(6);
    const runs = await runsOf('par', 4);
    par = latest(runs, 'public.big');
    R.check('coordinator_killed_run_taken_over_and_succeeds', runs.length === 4 && par.state === 'succeeded' && par.rows === N && par.deliveries >= 2
        ? [] : [JSON.stringify(par), logs().slice(-3000)]);
    await sameRows('coordinator_killed_result_exact');
    R.check('coordinator_killed_nothing_staged_left', (await stagedLeft()).slice(0, 5));
}

for (const w of workers) if (w.exitCode === null) w.kill('SIGTERM');
await srv.stop();
const san = sanitizerReport(logs());
R.check('no_sanitizer_reports', san ? [san] : []);
duck.close();
console.log(`${R.passed} passed, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
