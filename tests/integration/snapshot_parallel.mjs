/* split_by + parallel against a real PostgreSQL 15: one table read by four
 * connections, each a range of an integer column, all in the first one's
 * snapshot; the lake table equals a serial read of the same table row for
 * row (DuckDB EXCEPT ALL both ways), NULLs of the split column included;
 * PostgreSQL's log shows the shared snapshot and the four ranged COPYs;
 * a key range narrower than `parallel` uses fewer readers; a split_by that
 * is not an integer fails that table's run with a message naming it. */
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, makeTmp, Server, sluice, openDuck, sleep, sanitizerReport, lakeScan } from '../node/lib/common.mjs';
import { startPg } from '../node/lib/pg.mjs';
import { runsOf as jobRuns, trigger as jobTrigger } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('snapshot-par');
const pg = await startPg(path.join(T, 'pg'));
if (!pg) { R.skip('snapshot_parallel', 'PostgreSQL 15 is not installed (scripts/deps.sh --test)'); process.exit(0); }
const N = 60000;
await pg.createdb('app');
await pg.psql('app', `
CREATE TABLE public.big (id int8 PRIMARY KEY, bucket int4, v text, amount numeric(12,2), at timestamptz);
INSERT INTO public.big SELECT g, CASE WHEN g % 97 = 0 THEN NULL ELSE (g * 7919) % 100000 - 50000 END,
  'row ' || g, g / 100.0, timestamptz '2024-05-01' + g * interval '1 second' FROM generate_series(1, ${N}) g;
CREATE TABLE public.tiny (id int8 PRIMARY KEY, v text);
INSERT INTO public.tiny VALUES (5, 'a'), (6, 'b');
CREATE TABLE public.texty (id int8, name text);
INSERT INTO public.texty VALUES (1, 'x');
CREATE SCHEMA a; CREATE SCHEMA a_b;
CREATE TABLE a.b_c (id int); CREATE TABLE a_b.c (id int);
`);
const cfgPath = path.join(T, 'sluice.yaml');
fs.writeFileSync(cfgPath, `
data_dir: ${T}/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 2
scheduler: {tick: 100ms}
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
      public.big: {split_by: bucket, parallel: 4}
      public.tiny: {split_by: id, parallel: 8}
      public.texty: {split_by: name, parallel: 2}
  win:
    kind: snapshot
    source: app
    window: day
    retries: 0
    table_prefix: win_
    tables:
      public.big: {where: "at < '{{window_start}}'::timestamptz + interval '1000 seconds'"}
  twins:
    kind: snapshot
    source: app
    window: day
    retries: 0
    include: ["a*.*"]
  ser:
    kind: snapshot
    source: app
    window: day
    retries: 0
    table_prefix: ser_
    include: [public.big]
`);
const lake = path.join(T, 'data', 'lake');
const srv = new Server(T, cfgPath);
process.on('exit', () => { if (srv.proc) srv.proc.kill('SIGKILL'); });
await srv.start();
const duck = await openDuck();

const runsOf = (job, want, t = 90000) => jobRuns(cfgPath, job, want, t);
const logMark = fs.statSync(pg.log).size;
await sluice(['run', 'par', '-c', cfgPath, '-w', '2024-05-01']);
await sluice(['run', 'ser', '-c', cfgPath, '-w', '2024-05-01']);
const par = await runsOf('par', 3), ser = await runsOf('ser', 1);
const of = (runs, t) => runs.find((r) => r.account === t);
R.check('parallel_and_serial_runs_succeed', [of(par, 'public.big'), of(par, 'public.tiny'), of(ser, 'public.big')]
    .filter((r) => !r || r.state !== 'succeeded' || r.rows !== (r.account === 'public.tiny' ? 2 : N)).map((r) => JSON.stringify(r)));
{
    const a = lakeScan(lake, 'par_public_big'), b = lakeScan(lake, 'ser_public_big');
    const cols = 'id, bucket, v, amount, "at", dt';
    const [[x]] = (await duck.all(`SELECT count(*) FROM (SELECT ${cols} FROM ${a} EXCEPT ALL SELECT ${cols} FROM ${b})`)).rows;
    const [[y]] = (await duck.all(`SELECT count(*) FROM (SELECT ${cols} FROM ${b} EXCEPT ALL SELECT ${cols} FROM ${a})`)).rows;
    const [[n, nulls]] = (await duck.all(`SELECT count(*), count(*) FILTER (WHERE bucket IS NULL) FROM ${a}`)).rows;
    R.check('parallel_equals_serial_row_for_row', Number(x) === 0 && Number(y) === 0 && Number(n) === N && Number(nulls) === Math.floor(N / 97)
        ? [] : [`only in parallel ${x}, only in serial ${y}, rows ${n}, NULL buckets ${nulls}`]);
    const files = fs.readdirSync(path.join(lake, 'par_public_big', 'dt=2024-05-01')).filter((f) => f.endsWith('.parquet'));
    R.check('one_file_per_reader', files.length === 4 ? [] : [`${files.length} files: ${files.join(' ')}`]);
}
{
    await sleep(300);
    const log = fs.readFileSync(pg.log, 'utf8').slice(logMark);
    const sets = (log.match(/SET TRANSACTION SNAPSHOT/g) || []).length;
    const copies = log.split('\n').filter((l) => /COPY \(SELECT .* FROM "public"\."big" WHERE .*"bucket"/.test(l) && /statement:/.test(l));
    const p = [];
    if (sets < 3) p.push(`${sets} SET TRANSACTION SNAPSHOT`);
    if (copies.length !== 4) p.push(`${copies.length} ranged COPYs of public.big:\n${copies.join('\n')}`);
    if (!copies.some((l) => /"bucket" IS NULL/.test(l))) p.push('no reader takes the NULLs');
    if (!/pg_export_snapshot/.test(log)) p.push('no pg_export_snapshot');
    R.check('pg_log_shows_shared_snapshot_and_ranges', p);
}
{
    const tiny = of(par, 'public.tiny');
    const files = fs.readdirSync(path.join(lake, 'par_public_tiny', 'dt=2024-05-01')).filter((f) => f.endsWith('.parquet'));
    R.check('narrow_key_range_uses_fewer_readers', tiny && tiny.state === 'succeeded' && files.length === 2 ? [] : [`${files.length} files`, JSON.stringify(tiny)]);
    const tx = of(par, 'public.texty');
    R.check('split_by_not_integer_fails_naming_it', tx && tx.state === 'failed' && /job par: table public\.texty: split_by: column name is text, not an integer/.test(tx.error)
        ? [] : [JSON.stringify(tx)]);
}

{
    await sluice(['run', 'twins', '-c', cfgPath, '-w', '2024-05-01']);
    const tw = await runsOf('twins', 2);
    R.check('two_sources_one_lake_table_fail_naming_both', tw.length === 2 && tw.every((r) => r.state === 'failed' && /lands in lake table a_b_c too/.test(r.error))
        && !fs.existsSync(path.join(lake, 'a_b_c')) ? [] : tw.map((r) => JSON.stringify(r)));
}

{ /* where is templated with the run's window */
    await sluice(['run', 'win', '-c', cfgPath, '-w', '2024-05-01']);
    const w = await runsOf('win', 1);
    R.check('where_templated_with_the_window', w[0] && w[0].state === 'succeeded' && w[0].rows === 999 ? [] : [JSON.stringify(w[0])]);
    fs.writeFileSync(path.join(T, 'bad.yaml'), fs.readFileSync(cfgPath, 'utf8').replace('{{window_start}}', '{{no_such_var}}'));
    const c = await sluice(['config', '--check', path.join(T, 'bad.yaml')]);
    R.check('where_with_an_unknown_variable_refused', c.status !== 0 && /tables\.public\.big\.where: .*no_such_var/.test(c.stderr) ? [] : [`${c.status} ${c.stderr}`]);
}

await srv.stop();
const san = sanitizerReport(srv.log());
R.check('no_sanitizer_reports', san ? [san] : []);
duck.close();
console.log(`${R.passed} passed, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
