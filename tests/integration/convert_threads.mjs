// sluice convert --threads: the file is byte-identical for any number of
// worker threads, and DuckDB reads every row back.
//
//   same-<input>   for each input, --threads 1, 2, 4, 7 give the same bytes
//                  (cmp) and DuckDB counts the expected rows; inputs: gen
//                  NDJSON over many row groups, CSV with quoted newlines and
//                  CRLF, nested values, NULL-heavy, no final newline, a
//                  schema that widens after the speculative sample, empty
//   reject-lines   bad records in later chunks are reported with their own
//                  input line numbers, the same for every thread count
//   error-exit     a required column missing in a late chunk: exit 1, same
//                  message and line and the same file for any thread count
//   read-error     a gzip input truncated after many chunks: exit 1 naming it,
//                  no output and no temp file, for 1 and 4 threads
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Reporter, makeTmp, sluice, crashed, describe, openDuck, sqlStr } from '../node/lib/common.mjs';

const T = new Reporter();
const tmp = makeTmp('convert_threads');
const db = await openDuck();
const THREADS = [1, 2, 4, 7];

function rows(n, f) { let s = ''; for (let i = 0; i < n; i++) s += f(i); return s; }

const gen = await sluice(['gen', '--count', '30000', '--seed', '7']);
const inputs = {
    'gen-ndjson': { ext: 'ndjson', text: gen.stdout, rows: 30000, args: ['--row-group-rows', '4000'] },
    'csv-quoted': {
        ext: 'csv', rows: 9000, args: ['--row-group-rows', '1000'],
        text: 'id,name,note\r\n' + rows(9000, (i) => `${i},"n ${i}","line1\nline2, ""q"" ${i % 7}"\r\n`),
    },
    nested: {
        ext: 'ndjson', rows: 5000, args: ['--row-group-rows', '700'],
        text: rows(5000, (i) => JSON.stringify({ id: i, o: { a: [i, { b: 'x' }] }, arr: [1, 2, i] }) + '\n'),
    },
    'null-heavy': {
        ext: 'ndjson', rows: 6000, args: ['--row-group-rows', '500'],
        text: rows(6000, (i) => JSON.stringify({ id: i, a: i % 97 ? null : i, b: i % 5 ? null : 'v' + i }) + '\n'),
    },
    'no-final-newline': {
        ext: 'ndjson', rows: 3001, args: ['--row-group-rows', '1000'],
        text: rows(3001, (i) => JSON.stringify({ id: i, s: 's' + i }) + '\n').replace(/\n$/, ''),
    },
    'widens-late': { /* int until record 25000, then a double: the full two passes run */
        ext: 'ndjson', rows: 30000, args: ['--row-group-rows', '3000'],
        text: rows(30000, (i) => JSON.stringify({ id: i, v: i === 25000 ? 1.5 : i }) + '\n'),
    },
    empty: { ext: 'ndjson', rows: 0, args: ['--schema', 'a:int64'], text: '' },
};

for (const [name, inp] of Object.entries(inputs)) {
    await T.guard(`same-${name}`, async () => {
        const src = path.join(tmp, `${name}.${inp.ext}`);
        fs.writeFileSync(src, inp.text);
        const problems = [];
        let first = null;
        for (const t of THREADS) {
            const out = path.join(tmp, `${name}-${t}.parquet`);
            const args = ['convert', '-q', '--threads', String(t), ...inp.args, src, out];
            const res = await sluice(args);
            if (crashed(res) || res.status !== 0) { problems.push(describe(res, args)); break; }
            const bytes = fs.readFileSync(out);
            if (!first) first = bytes;
            else if (!first.equals(bytes)) problems.push(`--threads ${t} differs from --threads 1`);
        }
        if (!problems.length) {
            const pq = path.join(tmp, `${name}-7.parquet`);
            const r = await db.all(`SELECT count(*) FROM read_parquet(${sqlStr(pq)})`);
            const n = Number(r.rows[0][0]);
            if (n !== inp.rows) problems.push(`DuckDB reads ${n} rows, expected ${inp.rows}`);
            if (name === 'widens-late') {
                const d = await db.all(`SELECT typeof(v) FROM read_parquet(${sqlStr(pq)}) LIMIT 1`);
                if (d.rows[0][0] !== 'DOUBLE') problems.push(`v is ${d.rows[0][0]}, expected DOUBLE`);
            }
            if (name === 'csv-quoted') {
                const d = await db.all(`SELECT note FROM read_parquet(${sqlStr(pq)}) WHERE id = 8999`);
                if (d.rows[0][0] !== 'line1\nline2, "q" 4') problems.push(`note is ${JSON.stringify(d.rows[0][0])}`);
            }
        }
        T.check(`same-${name}`, problems);
    });
}

await T.guard('reject-lines', async () => {
    /* bad records at lines 10, 2501 and 4999 (chunks of 1000 records) */
    const bad = new Set([10, 2501, 4999]);
    const src = path.join(tmp, 'rej.ndjson');
    fs.writeFileSync(src, rows(5000, (i) => (bad.has(i + 1) ? '{"id": oops}\n' : JSON.stringify({ id: i }) + '\n')));
    const problems = [];
    let firstErr = null;
    for (const t of THREADS) {
        const out = path.join(tmp, `rej-${t}.parquet`);
        const args = ['convert', '-q', '--threads', String(t), '--row-group-rows', '1000', '--max-errors', '5', src, out];
        const res = await sluice(args);
        if (crashed(res) || res.status !== 0) { problems.push(describe(res, args)); break; }
        const lines = [...res.stderr.matchAll(/rej\.ndjson:(\d+):/g)].map((m) => +m[1]);
        if (lines.join(',') !== '10,2501,4999') problems.push(`--threads ${t}: reported lines ${lines.join(',')}`);
        if (firstErr === null) firstErr = res.stderr;
        else if (firstErr !== res.stderr) problems.push(`--threads ${t}: stderr differs`);
    }
    T.check('reject-lines', problems);
});

await T.guard('error-exit', async () => {
    const src = path.join(tmp, 'req.ndjson');
    fs.writeFileSync(src, rows(5000, (i) => JSON.stringify(i === 3700 ? { x: 1 } : { id: i }) + '\n'));
    const problems = [];
    let first = null;
    for (const t of THREADS) {
        const out = path.join(tmp, `req-${t}.parquet`);
        const args = ['convert', '-q', '--threads', String(t), '--row-group-rows', '1000',
                      '--schema', 'id:int64!', '--ignore-unknown', src, out];
        const res = await sluice(args);
        if (crashed(res)) { problems.push(crashed(res)); break; }
        if (res.status !== 1) problems.push(`--threads ${t}: exit ${res.status}, expected 1`);
        if (!/req\.ndjson:3701: required column 'id' is missing/.test(res.stderr))
            problems.push(`--threads ${t}: stderr ${JSON.stringify(res.stderr)}`);
        const bytes = fs.existsSync(out) ? fs.readFileSync(out) : null;
        if (!bytes) problems.push(`--threads ${t}: no file (the good records are kept)`);
        else if (first && !first.equals(bytes)) problems.push(`--threads ${t}: file differs from --threads 1`);
        first ??= bytes;
    }
    T.check('error-exit', problems);
});

await T.guard('read-error', async () => {
    const gz = zlib.gzipSync(Buffer.from(gen.stdout), { level: 1 });
    const src = path.join(tmp, 'trunc.ndjson.gz');
    fs.writeFileSync(src, gz.subarray(0, gz.length >> 1));
    const problems = [];
    for (const t of [1, 4]) {
        const out = path.join(tmp, `trunc-${t}.parquet`);
        const args = ['convert', '-q', '--threads', String(t), '--row-group-rows', '500',
                      '--schema', 'event_id:string,cost:double', '--ignore-unknown', src, out]; // read once
        const res = await sluice(args);
        if (crashed(res)) { problems.push(crashed(res)); break; }
        if (res.status !== 1 || !/trunc\.ndjson\.gz: gzip data truncated/.test(res.stderr))
            problems.push(`--threads ${t}: exit ${res.status}, stderr ${JSON.stringify(res.stderr)}`);
        const left = fs.readdirSync(tmp).filter((f) => f.startsWith(`trunc-${t}.parquet`));
        if (left.length) problems.push(`--threads ${t}: left ${left.join(', ')}`);
    }
    T.check('read-error', problems);
});

db.close();
console.log(`convert_threads: ${T.passed} passed, ${T.failed} failed`);
process.exit(T.failed ? 1 : 0);
