// A timestamp column that widens to string keeps every record's original text
// (docs/lake.md, "Widening"): records landed by `sluice serve` while `ts` was a
// timestamp, then a record that is not a time; `sluice sql` must return each
// record's text byte for byte (old files and new), and DuckDB must still read
// every file (the old ones as TIMESTAMP WITH TIME ZONE at the right instants,
// the texts' layouts only in the footer's key/value metadata).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, Reporter, makeTmp, openDuck, sluice, crashed, describe, duckMicros } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('tstext');
const DATA = path.join(T, 'data');
const LAKE = path.join(DATA, 'lake');
const CONF = path.join(T, 'sluice.yaml');

fs.writeFileSync(CONF, `data_dir: ${DATA}
listen: 127.0.0.1:0
auto_create_streams: true
limits:
  min_free_disk: 0
streams:
  x:
    sink:
      roll_age: 100ms
`);

// [text, UTC micros]
const TEXTS = [
    ['2024-05-01T05:30:00+05:30', 1714521600000000n],
    ['2024-05-01T00:00:00Z', 1714521600000000n],
    ['2024-05-01t00:00:00.5z', 1714521600500000n],
    ['2024-05-01 00:00:00', 1714521600000000n],
    ['2023-12-31T23:30:00-05:00', 1704083400000000n],
    ['2024-05-01T00:00:00.123456000-00:00', 1714521600123456n],
    ['2024-02-29T23:59:59.999+0100', 1709247599999000n],
    ['2024-01-01T00:15:00.000001+05:30', 1704048300000001n],
];

/* Start the server, ingest the NDJSON text, stop it (SIGTERM lands what it buffers). */
async function serveAndIngest(ndjson, tag) {
    const pf = path.join(T, 'port-' + tag);
    const log = fs.openSync(path.join(T, 'server.log'), 'a');
    const server = spawn(BIN, ['serve', '-c', CONF, '--port-file', pf], { stdio: ['ignore', 'ignore', log] });
    let port = 0;
    for (let i = 0; i < 400 && !port; i++) {
        if (fs.existsSync(pf) && fs.readFileSync(pf, 'utf8').trim()) port = Number(fs.readFileSync(pf, 'utf8').trim());
        else await new Promise(r => setTimeout(r, 25));
    }
    if (!port) throw new Error('server did not start: ' + fs.readFileSync(path.join(T, 'server.log'), 'utf8').slice(-2000));
    const src = path.join(T, tag + '.ndjson');
    fs.writeFileSync(src, ndjson);
    execFileSync(BIN, ['ingest', '-q', '--url', `http://127.0.0.1:${port}`, 'x', src]);
    const exited = new Promise(r => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
}

async function sql(q) {
    const args = ['sql', '-d', DATA, '--format', 'ndjson', q];
    const res = await sluice(args);
    const c = crashed(res);
    if (c || res.status !== 0) throw new Error(c || describe(res, args));
    return res.stdout.toString('utf8').split('\n').filter(Boolean).map(l => JSON.parse(l));
}

async function main() {
    // two servers' worth of files while ts is a timestamp, then the widening
    await serveAndIngest(TEXTS.slice(0, 4).map(([t], i) => JSON.stringify({ id: i, ts: t })).join('\n') + '\n', 'a');
    await serveAndIngest(TEXTS.slice(4).map(([t], i) => JSON.stringify({ id: i + 4, ts: t })).join('\n') + '\n', 'b');
    const before = await sql('SELECT ts FROM t1_x WHERE id = 0');
    R.check('timestamp_before_widening', before.length === 1 && before[0].ts === '2024-05-01T00:00:00.000000Z' ? [] :
        ['got ' + JSON.stringify(before)]);
    await serveAndIngest(JSON.stringify({ id: 100, ts: 'not a time' }) + '\n', 'c');

    await R.guard('texts_after_widening', async () => {
        const rows = await sql('SELECT id, ts FROM t1_x ORDER BY id');
        const want = [...TEXTS.map(([t], i) => ({ id: i, ts: t })), { id: 100, ts: 'not a time' }];
        const probs = [];
        if (rows.length !== want.length) probs.push(`${rows.length} rows, not ${want.length}`);
        for (let i = 0; i < Math.min(rows.length, want.length); i++)
            if (Number(rows[i].id) !== want[i].id || rows[i].ts !== want[i].ts)
                probs.push(`row ${i}: ${JSON.stringify(rows[i])}, not ${JSON.stringify(want[i])}`);
        R.check('texts_after_widening', probs);
    });

    await R.guard('duckdb_reads_the_files', async () => {
        const db = await openDuck();
        const probs = [];
        const files = execFileSync('find', [path.join(LAKE, 't1_x'), '-name', '*.parquet']).toString().trim().split('\n').sort();
        let tsFiles = 0;
        for (const f of files) {
            const schema = await db.all(`SELECT name, type FROM parquet_schema('${f}') WHERE name = 'ts'`);
            const kv = await db.all(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${f}')`);
            const key = kv.rows.find(r => r[0] === 'sluice.ts_text.ts');
            const rows = await db.all(`SELECT id, ts FROM read_parquet('${f}') ORDER BY id`);
            const isTs = schema.rows.length && schema.rows[0][1] === 'INT64';
            if (isTs) {
                tsFiles++;
                if (!key) probs.push(`${path.basename(f)}: no sluice.ts_text.ts key`);
                if (!/^TIMESTAMP/.test(rows.types[1])) probs.push(`${path.basename(f)}: ts is ${rows.types[1]} in DuckDB`);
                for (const [id, ts] of rows.rows) {
                    const want = TEXTS[Number(id)][1];
                    if (duckMicros(ts) !== want) probs.push(`id ${id}: DuckDB ${duckMicros(ts)}, not ${want}`);
                }
            } else if (key) probs.push(`${path.basename(f)}: a string file with a ts_text key`);
        }
        if (tsFiles < 2) probs.push(`${tsFiles} timestamp files, not 2 (${files.length} files)`);
        const all = await db.all(`SELECT count(*), count(ts) FROM read_parquet('${path.join(LAKE, 't1_x', '**', '*.parquet')}', union_by_name = true)`);
        if (Number(all.rows[0][0]) !== TEXTS.length + 1 || Number(all.rows[0][1]) !== TEXTS.length + 1)
            probs.push('union_by_name count ' + JSON.stringify(all.rows[0].map(Number)));
        db.close();
        R.check('duckdb_reads_the_files', probs);
    });
}

await R.guard('lake_tstext', main);
process.exit(R.failed ? 1 : 0);
