/* `sluice load --plan` of a dialect redshift load over a lake on S3 (s3rver):
 * the CREATE TABLE of the files' columns with DISTSTYLE / DISTKEY / SORTKEY
 * from target.diststyle / distkey / sortkey, the manifest of the window's
 * files (full s3:// urls, meta.content_length) and the COPY reading it.
 * Redshift itself cannot run here (golden SQL: tests/unit/test_wh.c). */
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, Server, makeTmp, sluice } from '../node/lib/common.mjs';
import { startS3rver, S3RVER_CREDS } from '../node/lib/s3rver.mjs';

const R = new Reporter();
const T = makeTmp('load-rs-plan');
const s3 = await startS3rver(path.join(T, 's3rver'), 'lake');
process.on('exit', () => s3.proc.kill('SIGKILL'));
const CFG = path.join(T, 'sluice.yaml');
const cfg = (target) => `data_dir: ${T}/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
lake: {store: s3, s3: {endpoint: ${s3.endpoint}, bucket: lake, prefix: wh/}}
postgres: {dwh: {conninfo: "host=127.0.0.1 dbname=x"}}
streams:
  sales: {sink: {roll_age: 50ms, event_time_field: at}}
jobs:
  rs:
    kind: load
    source: t1_sales
    window: day
    window_column: dt
    target: ${target}
`;
fs.writeFileSync(CFG, cfg('{connection: dwh, table: rep.sales, dialect: redshift, iam_role: "arn:aws:iam::1:role/l", distkey: country, sortkey: [at, country]}'));
const srv = new Server(T, CFG);
process.on('exit', () => { if (srv.proc) srv.proc.kill('SIGKILL'); });
await srv.start(S3RVER_CREDS);
const recs = Array.from({ length: 50 }, (_, i) => ({ at: `2024-05-01T0${i % 10}:00:00Z`, country: ['DE', 'FR'][i % 2], n: i }));
const r0 = await srv.post('sales', recs);
if (r0.code !== 200) throw new Error('ingest ' + r0.body);
await srv.landed('sales');
await srv.stop();
const env = { env: { ...process.env, ...S3RVER_CREDS } };
let r = await sluice(['load', '--plan', 'rs', '-c', CFG, '--window', '2024-05-01'], env);
const out = r.stdout.toString();
{
    const p = [];
    if (r.status !== 0) p.push(`exit ${r.status}: ${r.stderr}`);
    const create = out.split('\n').find((l) => l.startsWith('CREATE TABLE'));
    const want = 'CREATE TABLE IF NOT EXISTS "rep"."sales" ("at" timestamptz, "country" varchar(65535), "n" bigint) DISTSTYLE KEY DISTKEY ("country") SORTKEY ("at", "country");';
    if (create !== want) p.push(`CREATE: ${create}\nwant:   ${want}`);
    const m = out.match(/-- manifest (s3:\/\/\S+):\n(\{[\s\S]*?\n\]\})/);
    if (!m) p.push(`no manifest in:\n${out}`);
    else {
        const man = JSON.parse(m[2]);
        if (!man.entries.length || !man.entries.every((e) => /^s3:\/\/lake\/wh\/t1_sales\/dt=2024-05-01\/.+\.parquet$/.test(e.url) && e.mandatory === true && e.meta.content_length > 0))
            p.push(`manifest entries: ${m[2]}`);
        if (!out.includes(`COPY "rep"."sales" FROM '${m[1]}' IAM_ROLE 'arn:aws:iam::1:role/l' FORMAT AS PARQUET MANIFEST;`)) p.push(`COPY missing:\n${out}`);
    }
    if (out.indexOf('CREATE TABLE') > out.indexOf('BEGIN;')) p.push('CREATE TABLE after BEGIN');
    R.check('redshift_plan_creates_the_table_with_distkey_and_sortkey', p);
}
fs.writeFileSync(CFG, cfg('{connection: dwh, table: rep.sales, dialect: redshift, iam_role: r, diststyle: even}'));
r = await sluice(['load', '--plan', 'rs', '-c', CFG, '--window', '2024-05-01'], env);
R.check('redshift_plan_diststyle_alone', r.status === 0 && /\("at" timestamptz, "country" varchar\(65535\), "n" bigint\) DISTSTYLE EVEN;/.test(r.stdout.toString()) ? [] : [`${r.status} ${r.stdout} ${r.stderr}`]);
fs.writeFileSync(CFG, cfg('{connection: dwh, table: rep.sales, dialect: redshift, iam_role: r, distkey: nope}'));
r = await sluice(['load', '--plan', 'rs', '-c', CFG, '--window', '2024-05-01'], env);
R.check('redshift_plan_unknown_distkey_names_it', r.status === 1 && r.stderr.toString().includes('job rs: target rep.sales: target.distkey nope is not among the lake rows\' columns') ? [] : [`${r.status} ${r.stderr}`]);
process.exit(R.failed ? 1 : 0);
