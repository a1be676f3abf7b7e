// sluice convert / gen against DuckDB: what convert writes must read back in
// DuckDB with the values DuckDB itself reads from the same NDJSON / CSV.
//
//   gen-roundtrip     gen | convert; every value equals read_json_auto's
//   types             inferred column types as DuckDB sees them
//   stdin-gzip        gzip NDJSON on stdin (spooled for two passes)
//   csv               quoted fields, "" escapes, newlines in quotes, CRLF, nulls
//   rejects           bad records reported as IN:LINE, good ones kept, exit codes
//   no-partial-output a failed run leaves no OUT and no temp file
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Reporter, makeTmp, sluice, crashed, describe, openDuck, sqlStr } from '../node/lib/common.mjs';

const T = new Reporter();
const tmp = makeTmp('convert');
const db = await openDuck();
const N = 20000;

async function must(name, args, opts) {
    const res = await sluice(args, opts);
    const c = crashed(res);
    if (c || res.status !== 0) { T.fail(name, (c ? c + '\n' : '') + describe(res, args)); return null; }
    return res;
}

await T.guard('gen-roundtrip', async () => {
    const gen = await must('gen-roundtrip', ['gen', '--count', String(N), '--seed', '3']);
    if (!gen) return;
    const nd = path.join(tmp, 'ev.ndjson'), pq = path.join(tmp, 'ev.parquet');
    fs.writeFileSync(nd, gen.stdout);
    if (!(await must('gen-roundtrip', ['convert', '-q', nd, pq]))) return;
    const diff = await db.all(`
        WITH a AS (SELECT * FROM read_parquet(${sqlStr(pq)})),
             b AS (SELECT * FROM read_json(${sqlStr(nd)}, columns = {event_id: 'VARCHAR',
                   event_time: 'TIMESTAMPTZ', event_type: 'VARCHAR', campaign_id: 'BIGINT',
                   advertiser: 'VARCHAR', media: 'VARCHAR', device: 'JSON', country: 'VARCHAR',
                   cost: 'DOUBLE', viewable: 'BOOLEAN', user_id: 'VARCHAR'}))
        SELECT count(*) FILTER (WHERE a.event_id IS NULL OR b.event_id IS NULL) AS missing,
               count(*) FILTER (WHERE a.event_time IS DISTINCT FROM b.event_time
                   OR a.event_type IS DISTINCT FROM b.event_type OR a.campaign_id IS DISTINCT FROM b.campaign_id
                   OR a.advertiser IS DISTINCT FROM b.advertiser OR a.media IS DISTINCT FROM b.media
                   OR a.device::JSON IS DISTINCT FROM b.device OR a.country IS DISTINCT FROM b.country
                   OR a.cost IS DISTINCT FROM b.cost OR a.viewable IS DISTINCT FROM b.viewable
                   OR a.user_id IS DISTINCT FROM b.user_id) AS differ,
               count(*) AS n
        FROM a FULL JOIN b USING (event_id)`);
    const [missing, differ, n] = diff.rows[0].map(Number);
    T.check('gen-roundtrip', [
        ...(n !== N ? [`${n} rows joined, expected ${N}`] : []),
        ...(missing ? [`${missing} event_ids only on one side`] : []),
        ...(differ ? [`${differ} rows differ from DuckDB's read of the NDJSON`] : []),
    ]);
    const d = await db.all(`DESCRIBE SELECT * FROM read_parquet(${sqlStr(pq)})`);
    const types = Object.fromEntries(d.rows.map((r) => [r[0], r[1]]));
    const want = { event_id: 'VARCHAR', event_time: 'TIMESTAMP WITH TIME ZONE', campaign_id: 'BIGINT',
                   device: 'VARCHAR', cost: 'DOUBLE', viewable: 'BOOLEAN' };
    T.check('types', Object.entries(want).filter(([k, v]) => types[k] !== v)
        .map(([k, v]) => `${k}: ${types[k]}, expected ${v}`));
});

await T.guard('stdin-gzip', async () => {
    const gen = await must('stdin-gzip', ['gen', '--count', '5000', '--seed', '4']);
    if (!gen) return;
    const pq = path.join(tmp, 'gz.parquet');
    const res = await must('stdin-gzip', ['convert', '-q', '-', pq], { input: zlib.gzipSync(gen.stdout) });
    if (!res) return;
    const r = await db.all(`SELECT count(*), count(DISTINCT event_id) FROM read_parquet(${sqlStr(pq)})`);
    T.check('stdin-gzip', r.rows[0].map(Number).join() === '5000,5000' ? [] : [`rows: ${r.rows[0]}`]);
});

await T.guard('csv', async () => {
    const csv = path.join(tmp, 'in.csv'), pq = path.join(tmp, 'csv.parquet');
    fs.writeFileSync(csv, '\ufeffid,name,note,amount,at\r\n' +
        '1,"Smith, J","line1\nline2",1.25,2024-05-01T10:00:00Z\r\n' +
        '2,,"say ""hi""",,2024-05-01 11:00:00.5+02:00\r\n' +
        '3,plain,,-7,\r\n');
    if (!(await must('csv', ['convert', '-q', csv, pq]))) return;
    const r = await db.all(`SELECT id, name, note, amount, epoch_us("at") FROM read_parquet(${sqlStr(pq)}) ORDER BY id`);
    const got = JSON.stringify(r.rows, (k, v) => typeof v === 'bigint' ? Number(v) : v);
    const want = JSON.stringify([[1, 'Smith, J', 'line1\nline2', 1.25, 1714557600000000],
                                 [2, null, 'say "hi"', null, 1714554000500000],
                                 [3, 'plain', null, -7, null]]);
    T.check('csv', got === want ? [] : [`got ${got}`, `want ${want}`]);
});

await T.guard('rejects', async () => {
    const nd = path.join(tmp, 'bad.ndjson'), pq = path.join(tmp, 'bad.parquet');
    fs.writeFileSync(nd, '{"a":1,"t":"2024-01-01T00:00:00Z"}\n{"a":2,\n[1]\n{"a":"x"}\n{"a":3}\n');
    const args = ['convert', '--schema', 'a:int64!,t:timestamp', nd, pq];
    const res = await sluice(args);
    const problems = [];
    if (crashed(res)) problems.push(crashed(res));
    if (res.status !== 1) problems.push(`exit ${res.status}, expected 1`);
    for (const l of [`${nd}:2: `, `${nd}:3: record is an array`, `${nd}:4: column 'a'`])
        if (!res.stderr.includes(l)) problems.push(`stderr lacks "${l}": ${res.stderr}`);
    if (fs.existsSync(pq)) {
        const r = await db.all(`SELECT list(a ORDER BY a) FROM read_parquet(${sqlStr(pq)})`);
        if (JSON.stringify(r.rows[0][0].items.map(Number)) !== '[1,3]') problems.push(`rows: ${r.rows[0][0]}`);
    } else problems.push('no output file');
    const ok = await sluice(['convert', '-q', '--max-errors', '3', '--schema', 'a:int64!,t:timestamp', nd, pq]);
    if (ok.status !== 0) problems.push(`--max-errors 3: exit ${ok.status}`);
    T.check('rejects', problems);
});

await T.guard('no-partial-output', async () => {
    const nd = path.join(tmp, 'x.ndjson'), dir = path.join(tmp, 'out');
    fs.mkdirSync(dir);
    fs.writeFileSync(nd, '{"a":1}\n');
    const res = await sluice(['convert', '--codec', 'zstd', '--schema', 'a:int64', '/nonexistent/in.ndjson', path.join(dir, 'o.parquet')]);
    const problems = [];
    if (res.status !== 1) problems.push(`missing input: exit ${res.status}`);
    if (!res.stderr.includes('/nonexistent/in.ndjson')) problems.push(`error does not name the file: ${res.stderr}`);
    const empty = await sluice(['convert', path.join(tmp, 'nothing.ndjson'), path.join(dir, 'o.parquet')]);
    if (empty.status !== 1) problems.push(`missing input 2: exit ${empty.status}`);
    fs.writeFileSync(path.join(tmp, 'empty.ndjson'), '');
    const e2 = await sluice(['convert', path.join(tmp, 'empty.ndjson'), path.join(dir, 'o.parquet')]);
    if (e2.status !== 1 || !/no records/.test(e2.stderr)) problems.push(`empty input: exit ${e2.status} ${e2.stderr}`);
    const left = fs.readdirSync(dir);
    if (left.length) problems.push(`left behind: ${left.join(', ')}`);
    T.check('no-partial-output', problems);
});

db.close();
console.log(`convert_duckdb: ${T.passed} passed, ${T.failed} failed`);
process.exit(T.failed ? 1 : 0);
