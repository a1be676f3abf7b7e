// The lake on S3: `sluice serve` with lake.store = s3 against s3rver on
// 127.0.0.1.  DuckDB has no httpfs here, so it reads s3rver's backing files
// (<dir>/<bucket>/<key>._S3rver_object) with hive_partitioning: they must hold
// exactly the records ingested.  A restart then finds no garbage to collect.
// Compaction on S3 moves the replaced objects out of the table's prefix.
import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, Reporter, Server, makeTmp, openDuck, sleep } from '../node/lib/common.mjs';
import { startS3rver, S3RVER_CREDS } from '../node/lib/s3rver.mjs';

const R = new Reporter();
const T = makeTmp('lake-s3');
const BUCKET = 'lake';
const server = new Server(T);

const start = () => server.start(S3RVER_CREDS);
const stop = () => server.stop();
const info = (stream) => server.info(stream);

/* s3rver in <T>/<name> and `sluice serve` with its lake there (bucket BUCKET,
 * prefix warehouse/), data in <T>/<data>, the given `streams:` entries. */
async function startLake(name, data, streams) {
    const s3 = await startS3rver(path.join(T, name), BUCKET);
    fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${T}/${data}
listen: 127.0.0.1:0
limits:
  min_free_disk: 0
lake:
  store: s3
  s3:
    endpoint: ${s3.endpoint}
    bucket: ${BUCKET}
    prefix: warehouse/
streams:
${streams}`);
    await start();
    return s3;
}

/* Poll the stream's info until ok(info) holds or ms pass; the last info. */
async function waitInfo(stream, ok, ms) {
    let i = null;
    for (const t0 = Date.now(); Date.now() - t0 < ms;) {
        i = await info(stream);
        if (i && ok(i)) break;
        await sleep(50);
    }
    return i;
}

await R.guard('lake_on_s3', async () => {
    const s3 = await startLake('s3rver', 'data', `  events:
    sink:
      roll_age: 300ms
      roll_rows: 4000
`);
    const src = path.join(T, 'events.ndjson');
    execFileSync(BIN, ['gen', '--count', '12000', '--seed', '11'], { stdio: ['ignore', fs.openSync(src, 'w'), 'inherit'] });
    execFileSync(BIN, ['ingest', '-q', '--url', server.url, 'events', src]);
    const i = await waitInfo('events', (x) => x.sink && x.sink.position === x.next_offset && x.sink.buffered === 0, 30000);
    const probs = [];
    if (!i.sink || i.sink.position !== 12000) probs.push(`sink did not land: ${JSON.stringify(i && i.sink)}`);
    const glob = `${T}/s3rver/${BUCKET}/warehouse/t1_events/**/*._S3rver_object`;
    const db = await openDuck();
    const [a] = await db.objs(`SELECT count(*) n, count(DISTINCT event_id) d, sum(cost) c FROM read_parquet('${glob}', hive_partitioning=true, union_by_name=true)`);
    const [b] = await db.objs(`SELECT count(*) n, sum(cost) c FROM read_json_auto('${src}')`);
    if (Number(a.n) !== 12000 || Number(a.d) !== 12000) probs.push(`lake on S3 has ${a.n} rows / ${a.d} ids, want 12000`);
    if (Math.abs(Number(a.c) - Number(b.c)) > 1e-6 * Math.abs(Number(b.c))) probs.push(`sum(cost) ${a.c} vs ${b.c}`);
    const [diff] = await db.objs(`SELECT count(*) n FROM (SELECT event_id, cost, country FROM read_json_auto('${src}')
        EXCEPT SELECT event_id, cost, country FROM read_parquet('${glob}', hive_partitioning=true, union_by_name=true))`);
    if (Number(diff.n)) probs.push(`${diff.n} records differ`);
    db.close();
    const loc = execFileSync(BIN, ['tables', '--data', `${T}/data`]).toString();
    if (!loc.includes(`s3://${BUCKET}/warehouse/t1_events`)) probs.push(`catalog location is not the S3 URI:\n${loc}`);
    const ddl = execFileSync(BIN, ['ddl', '--data', `${T}/data`, '--dialect', 'athena', 't1_events']).toString();
    if (!ddl.includes(`LOCATION 's3://${BUCKET}/warehouse/t1_events`)) probs.push(`athena DDL lacks the S3 location:\n${ddl}`);
    if (await stop() !== 0) probs.push('server did not stop cleanly');
    // a restart with nothing new: no garbage collected, nothing rewritten
    await start();
    const again = await info('events');
    if (again.sink.files !== 0 || again.sink.position !== 12000) probs.push(`after restart: ${JSON.stringify(again.sink)}`);
    await stop();
    const log = server.log();
    if (/removed .*never committed/.test(log)) probs.push('restart collected files that should have been committed');
    if (/AddressSanitizer|runtime error/.test(log)) probs.push('sanitizer report:\n' + log.slice(-1500));
    if (/S3RVER/.test(log.replace(/AWS_ACCESS_KEY_ID/g, ''))) probs.push('a credential appears in the log');
    R.check('lake_on_s3_exact_in_duckdb', probs);
    s3.proc.kill('SIGKILL');
});
// Compaction on S3: the replaced objects move (copy + delete) to
// warehouse/.trash/<table>/..., so a glob of the table's prefix counts every
// row once right after it; `sluice sql` scans running meanwhile never fail
// (a file gone from its key is read at its trash key).
await R.guard('compaction_on_s3', async () => {
    const s3 = await startLake('s3rver2', 'data2', `  ev:
    sink:
      partition: none
      roll_age: 50ms
      roll_rows: 20
      compact_min_files: 3
      maintenance_interval: 100ms
      trash_grace: 60s
`);
    const probs = [];
    let id = 0, stop2 = false;
    const post = async () => {
        while (!stop2) {
            const body = Array.from({ length: 20 }, () => JSON.stringify({ id: id++ })).join('\n') + '\n';
            await fetch(`${server.url}/v1/streams/ev/records`, { method: 'POST', body }).catch(() => {});
            await sleep(30);
        }
    };
    const ingest = post();
    // land many small files first (the queries below block this loop)
    for (const t1 = Date.now(); Date.now() - t1 < 20000 && id < 1000;) await sleep(50);
    await waitInfo('ev', (x) => x.sink?.position >= 1000, 10000);
    const env = { ...process.env, ...S3RVER_CREDS };
    const sql = (q) => spawnSync(BIN, ['sql', '-c', path.join(T, 'sluice.yaml'), '--no-tail', '-F', 'ndjson', q],
        { encoding: 'utf8', timeout: 20000, env });
    const slow = 'SELECT count(*) AS n, sum((WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c ' +
        'WHERE x < 300 + id % 7) SELECT count(*) FROM c)) AS w FROM t1_ev';
    const t0 = Date.now();
    let queries = 0, failures = 0;
    while (Date.now() - t0 < 8000) {
        const r = sql(slow);
        queries++;
        if (r.status !== 0) { failures++; if (failures <= 3) probs.push(`query failed: ${String(r.stderr).trim().slice(0, 200)}`); }
    }
    stop2 = true;
    await ingest;
    const st = await info('ev');
    const compacted = Number(st?.sink?.compacted_files ?? 0);
    if (await stop() !== 0) probs.push('server did not stop cleanly');
    if (failures) probs.push(`${failures} of ${queries} queries failed`);
    const base = `${T}/s3rver2/${BUCKET}/warehouse`;
    const objs = (d) => (fs.existsSync(d) ? fs.readdirSync(d, { recursive: true }).filter((f) => String(f).endsWith('._S3rver_object')) : []);
    const trashed = objs(`${base}/.trash/t1_ev`).length;
    if (!compacted || !trashed) probs.push(`nothing in the trash (${compacted} compacted, ${trashed} trashed)`);
    const r = sql('SELECT count(*) AS n FROM t1_ev');
    const want = r.status === 0 ? Number(JSON.parse(r.stdout.trim().split('\n')[0]).n) : NaN;
    if (!(want > 0)) probs.push(`sluice sql count failed: ${r.stderr}`);
    const db = await openDuck();
    const [a] = await db.objs(`SELECT count(*) n FROM read_parquet('${base}/t1_ev/**/*._S3rver_object')`);
    db.close();
    if (Number(a.n) !== want) probs.push(`a glob of the table's prefix counts ${a.n} rows, sluice sql ${want} (${objs(`${base}/t1_ev`).length} objects, ${trashed} in the trash)`);
    console.log(`# ${queries} queries, ${compacted} files compacted, ${want} rows, ${trashed} objects in the trash`);
    R.check('compaction_on_s3_moves_replaced_files_to_the_trash', probs);
    s3.proc.kill('SIGKILL');
});
process.exit(R.failed ? 1 : 0);
