/* Schema-change alerts of snapshot jobs, against a real PostgreSQL 15:
 * between two runs a column is added, one dropped, one retyped and one
 * renamed.  The second run
 *   - succeeds, and the lake table still reads (in DuckDB and sluice sql):
 *     the dropped column stays, NULL in the new snapshot; the added and the
 *     renamed-to columns are there; the retyped one holds the new values
 *   - writes one record per change to the _alerts stream (and its lake
 *     table), with the details, exactly once (a third run without changes
 *     writes none)
 *   - POSTs one Slack-compatible {"text": ...} to the job's webhook (a
 *     loopback server here) naming every change
 *   - notes the changes in the lake table's schema history
 *     (sluice describe). */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Reporter, makeTmp, Server, sluice, openDuck, sleep, sanitizerReport, lakeScan } from '../node/lib/common.mjs';
import { startPg } from '../node/lib/pg.mjs';
import { runsOf as jobRuns, trigger as jobTrigger } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('snapshot-schema');
const pg = await startPg(path.join(T, 'pg'));
if (!pg) { R.skip('snapshot_schema', 'PostgreSQL 15 is not installed (scripts/deps.sh --test)'); process.exit(0); }
await pg.createdb('app');
await pg.psql('app', `
CREATE TABLE public.people (id int8 PRIMARY KEY, name text, phone text, age int4, city text);
INSERT INTO public.people SELECT g, 'p' || g, '555-' || g, 20 + g % 50, 'c' || g % 7 FROM generate_series(1, 100) g;`);

const posts = [];
const hook = http.createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => { posts.push({ type: req.headers['content-type'], body: b }); res.end('ok'); });
});
await new Promise((r) => hook.listen(0, '127.0.0.1', r));
fs.mkdirSync(path.join(T, 'secrets'));
fs.writeFileSync(path.join(T, 'secrets', 'hook'), `http://127.0.0.1:${hook.address().port}/services/T0/B0/x\n`);

const cfgPath = path.join(T, 'sluice.yaml');
fs.writeFileSync(cfgPath, `
data_dir: ${T}/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 2
secrets_dir: ${T}/secrets
scheduler: {tick: 100ms}
streams:
  _alerts: {sink: {table: _alerts, roll_age: 300ms}}
postgres:
  app: {conninfo: "host=127.0.0.1 port=${pg.port} dbname=app user=postgres"}
jobs:
  people:
    kind: snapshot
    source: app
    window: day
    include: [public.people]
    alert_webhook: "{{secret.hook}}"
    retries: 0
`);
const lake = path.join(T, 'data', 'lake');
const srv = new Server(T, cfgPath);
process.on('exit', () => { if (srv.proc) srv.proc.kill('SIGKILL'); });
await srv.start();
const duck = await openDuck();

const runsOf = (want, t) => jobRuns(cfgPath, 'people', want, t);
const trigger = (day) => jobTrigger(cfgPath, 'people', day, true);
async function alerts(want, timeoutMs = 20000) {
    const t0 = Date.now();
    let rows = [];
    while (Date.now() - t0 < timeoutMs) {
        const r = await sluice(['sql', '-c', cfgPath, '--format', 'json', "SELECT change, \"column\", \"to\", from_type, to_type, \"table\", lake_table, job FROM lake._alerts ORDER BY change"]);
        try { rows = JSON.parse(r.stdout.toString() || '[]'); } catch { rows = []; }
        if (rows.length >= want) return rows;
        await sleep(200);
    }
    return rows;
}

await trigger('2024-05-01');
let runs = await runsOf(1);
R.check('first_run_succeeds', runs[0] && runs[0].state === 'succeeded' ? [] : [JSON.stringify(runs)]);
await sleep(800);
R.check('first_run_alerts_nothing', posts.length === 0 ? [] : [JSON.stringify(posts)]);

await pg.psql('app', `ALTER TABLE public.people ADD COLUMN email text;
ALTER TABLE public.people DROP COLUMN phone;
ALTER TABLE public.people ALTER COLUMN age TYPE int8;
ALTER TABLE public.people RENAME COLUMN city TO town;
UPDATE public.people SET email = 'e' || id || '@x.org', age = age + 1000000000000;`);
await trigger('2024-05-02');
runs = await runsOf(2);
const r2 = runs.sort((a, b) => b.id - a.id)[0];
R.check('run_after_changes_succeeds', r2 && r2.state === 'succeeded' ? [] : [JSON.stringify(r2)]);

const a = await alerts(4);
{
    const got = a.map((x) => [x.change, x.column, x.to, x.from_type, x.to_type].filter((v) => v !== null && v !== undefined).join(' ')).sort();
    const want = ['added email text', 'dropped phone text', 'renamed city town text text', 'retyped age integer bigint'].sort();
    R.check('one_alert_per_change_with_details', JSON.stringify(got) === JSON.stringify(want) && a.every((x) => x.table === 'public.people' && x.lake_table === 'public_people' && x.job === 'people')
        ? [] : [`got ${JSON.stringify(got)}`, JSON.stringify(a[0])]);
}
{
    const p = [];
    if (posts.length !== 1) p.push(`${posts.length} webhook posts`);
    const body = posts[0] ? JSON.parse(posts[0].body) : {};
    for (const w of ['added email', 'dropped phone', 'retyped age integer -> bigint', 'renamed city -> town', 'public.people'])
        if (!String(body.text).includes(w)) p.push(`webhook text lacks '${w}': ${body.text}`);
    if (posts[0] && posts[0].type !== 'application/json') p.push(`content-type ${posts[0].type}`);
    R.check('webhook_gets_slack_json_naming_every_change', p);
}
{
    const scan = lakeScan(lake, 'public_people');
    const r = await duck.all(`SELECT dt, count(*), count(phone), count(email), count(town), count(city), max(age) FROM ${scan} GROUP BY dt ORDER BY dt`);
    const rows = r.rows.map((x) => x.map(String).join(' '));
    const want = ['2024-05-01 100 100 0 0 100 69', '2024-05-02 100 0 100 100 0 1000000000069'];
    R.check('lake_table_still_reads_dropped_column_null', JSON.stringify(rows) === JSON.stringify(want) ? [] : [JSON.stringify(rows)]);
    const s = await sluice(['sql', '-c', cfgPath, '--format', 'csv', 'SELECT count(*), count(phone), count(town) FROM lake.public_people']);
    R.check('sluice_sql_reads_it_too', s.stdout.toString().trim().split('\n').pop() === '200,100,100' ? [] : [s.stdout.toString() + s.stderr]);
}
{
    const d = await sluice(['describe', 'public_people', '-d', path.join(T, 'data')]);
    const out = d.stdout.toString();
    const p = [];
    for (const w of ['dropped phone (text)', 'renamed city -> town (text)', 'added email', 'retyped age integer -> bigint'])
        if (!out.includes(w)) p.push(`describe lacks '${w}'`);
    R.check('schema_history_shows_the_changes', p.length ? [...p, out.slice(0, 1500) + d.stderr] : []);
}
await trigger('2024-05-03');
runs = await runsOf(3);
await sleep(1000);
const a3 = await alerts(4);
R.check('no_changes_no_new_alerts', a3.length === 4 && posts.length === 1 ? [] : [`${a3.length} alerts, ${posts.length} posts`]);

await srv.stop();
hook.close();
const san = sanitizerReport(srv.log());
R.check('no_sanitizer_reports', san ? [san] : []);
duck.close();
console.log(`${R.passed} passed, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
