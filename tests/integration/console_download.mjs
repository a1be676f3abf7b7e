// Downloads of a 1M-row result (POST /v1/downloads, then GET the ticket):
// CSV is byte for byte `sluice sql --format csv`, Parquet byte for byte
// `sluice sql --format parquet` (streamed to stdout) and read by DuckDB to
// the same aggregates; the server's RSS stays flat while ~90 MB stream out;
// the first byte arrives before the query has finished; a query that fails
// mid-stream leaves a Parquet file without its footer (DuckDB refuses it)
// and says why in the X-Sluice-Error trailer; one failing at once is a 400.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { BIN, Reporter, Server, makeTmp, openDuck, run, sqlStr } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('download');
const DATA = path.join(T, 'data');
const TOKEN = 'read-token-dl';
fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${DATA}\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\n` +
    `query:\n  tokens: [${TOKEN}]\nstreams:\n  events: {}\n`);
const srv = new Server(T);
// ASan keeps freed memory in a 256 MB quarantine: keep it small, so RSS
// measures what the server holds, not what it freed
await srv.start({ ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:quarantine_size_mb=8' });

const N = 1000000;
const PAD = 'p'.repeat(60);
const BIG = `WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < ${N}) ` +
    `SELECT x AS id, printf('row-%07d-%s', x, '${PAD}') AS label, x * 0.25 AS cost, ` +
    `CASE WHEN x % 7 = 0 THEN NULL ELSE x % 13 END AS g FROM k`;
// fails at row 300000: after the first row groups have gone out
const FAILS_LATE = `WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < ${N}) ` +
    `SELECT x AS id, CASE WHEN x = 300000 THEN json_extract('{bad', '$') ELSE x END AS v FROM k`;
const FAILS_EARLY = "SELECT json_extract('{bad', '$') AS v";

function rssKb(pid) {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
}

function post(p, body) {
    return new Promise((resolve) => {
        const req = http.request({ host: '127.0.0.1', port: srv.port, method: 'POST', path: p, agent: false,
            headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' } }, (res) => {
            let d = '';
            res.on('data', (x) => d += x);
            res.on('end', () => resolve({ code: res.statusCode, body: d }));
        });
        req.on('error', (e) => resolve({ code: 0, body: String(e) }));
        req.end(JSON.stringify(body));
    });
}

/* Ticket, then GET it: {code, headers, trailers, bytes, ttfbMs, ms, rssBase, rssPeak} (RSS in kB). */
async function download(sql, format) {
    const t = await post('/v1/downloads', { sql, format });
    if (t.code !== 201) return { code: t.code, error: t.body };
    const url = JSON.parse(t.body).url;
    const rssBase = rssKb(srv.proc.pid);
    let rssPeak = rssBase;
    const timer = setInterval(() => { rssPeak = Math.max(rssPeak, rssKb(srv.proc.pid)); }, 50);
    const t0 = Date.now();
    try {
        return await new Promise((resolve) => {
            http.get({ host: '127.0.0.1', port: srv.port, path: url, agent: false }, (res) => {
                const parts = [];
                let ttfbMs = -1;
                res.on('data', (x) => { if (ttfbMs < 0) ttfbMs = Date.now() - t0; parts.push(x); });
                res.on('end', () => resolve({ code: res.statusCode, headers: res.headers, trailers: res.trailers,
                    bytes: Buffer.concat(parts), ttfbMs, ms: Date.now() - t0, rssBase, rssPeak }));
                res.on('error', (e) => resolve({ code: 0, error: String(e) }));
            }).on('error', (e) => resolve({ code: 0, error: String(e) }));
        });
    } finally {
        clearInterval(timer);
    }
}

const cli = (format, sql) => run(BIN, ['sql', '--data', DATA, '--format', format, sql], { maxBuffer: 1 << 30 });

function flat(name, d, p) {
    const grew = (d.rssPeak - d.rssBase) / 1024;
    console.log(`# ${name}: ${(d.bytes.length / 1e6).toFixed(1)} MB in ${d.ms} ms, first byte after ${d.ttfbMs} ms, ` +
        `server RSS ${(d.rssBase / 1024).toFixed(0)} -> peak ${(d.rssPeak / 1024).toFixed(0)} MB`);
    if (grew > 48) p.push(`server RSS grew ${grew.toFixed(0)} MB during a ${(d.bytes.length / 1e6).toFixed(0)} MB download`);
    if (d.ttfbMs < 0 || d.ttfbMs > d.ms / 2) p.push(`first byte after ${d.ttfbMs} ms of ${d.ms} ms: not streamed`);
}

await R.guard('download_csv_1m_rows', async () => {
    const p = [];
    const d = await download(BIG, 'csv');
    if (d.code !== 200) { R.fail('download_csv_1m_rows', `${d.code} ${d.error ?? ''}`); return; }
    if (!/attachment; filename="result\.csv"/.test(d.headers['content-disposition'] || '')) p.push(`disposition ${d.headers['content-disposition']}`);
    flat('CSV', d, p);
    const want = await cli('csv', BIG);
    if (want.status !== 0) p.push(`sluice sql: ${want.stderr}`);
    else if (Buffer.compare(d.bytes, want.stdout) !== 0)
        p.push(`download (${d.bytes.length} bytes) differs from sluice sql --format csv (${want.stdout.length} bytes)`);
    const lines = d.bytes.toString().split('\n').length - 2;
    if (lines !== N) p.push(`${lines} data lines, want ${N}`);
    if (d.trailers['x-sluice-error']) p.push(`trailer says ${d.trailers['x-sluice-error']}`);
    R.check('download_csv_1m_rows', p);
});

await R.guard('download_parquet_1m_rows', async () => {
    const p = [];
    const d = await download(BIG, 'parquet');
    if (d.code !== 200) { R.fail('download_parquet_1m_rows', `${d.code} ${d.error ?? ''}`); return; }
    if (d.headers['content-type'] !== 'application/vnd.apache.parquet') p.push(`content-type ${d.headers['content-type']}`);
    if (!/filename="result\.parquet"/.test(d.headers['content-disposition'] || '')) p.push(`disposition ${d.headers['content-disposition']}`);
    flat('Parquet', d, p);
    const want = await cli('parquet', BIG);
    if (want.status !== 0) p.push(`sluice sql --format parquet: ${want.stderr}`);
    else if (Buffer.compare(d.bytes, want.stdout) !== 0)
        p.push(`download (${d.bytes.length} bytes) differs from sluice sql --format parquet (${want.stdout.length} bytes)`);
    const file = path.join(T, 'result.parquet');
    fs.writeFileSync(file, d.bytes);
    const db = await openDuck();
    const [got] = await db.objs(`SELECT count(*)::BIGINT AS n, sum(id)::BIGINT AS s, count(g)::BIGINT AS ng, sum(g)::BIGINT AS sg, ` +
        `sum(cost)::DOUBLE AS c, min(label) AS lo, max(label) AS hi FROM read_parquet(${sqlStr(file)})`);
    const [rg] = await db.objs(`SELECT count(DISTINCT row_group_id)::BIGINT AS n FROM parquet_metadata(${sqlStr(file)})`);
    db.close();
    let sg = 0n, ng = 0n;
    for (let x = 1; x <= N; x++) if (x % 7) { ng++; sg += BigInt(x % 13); }
    const expect = { n: BigInt(N), s: BigInt(N) * BigInt(N + 1) / 2n, ng, sg, c: N * (N + 1) / 2 * 0.25,
        lo: `row-0000001-${PAD}`, hi: `row-${String(N).padStart(7, '0')}-${PAD}` };
    for (const k of Object.keys(expect))
        if (String(got[k]) !== String(expect[k])) p.push(`DuckDB ${k} = ${got[k]}, want ${expect[k]}`);
    // bounded memory on the server means row groups of at most 65,536 rows
    if (Number(rg.n) < Math.ceil(N / 65536)) p.push(`${rg.n} row groups: one row group holds more than 65,536 rows`);
    R.check('download_parquet_1m_rows', p);
});

await R.guard('download_parquet_failing_midway_has_no_footer', async () => {
    const p = [];
    const d = await download(FAILS_LATE, 'parquet');
    if (d.code !== 200) p.push(`status ${d.code} (the result had started: want 200 and a trailer)`);
    else {
        if (!/malformed JSON/i.test(d.trailers['x-sluice-error'] || '')) p.push(`trailer: ${JSON.stringify(d.trailers)}`);
        if (d.bytes.length < 1000) p.push(`only ${d.bytes.length} bytes: the rows before the failure did not stream`);
        if (d.bytes.subarray(0, 4).toString() !== 'PAR1') p.push('no PAR1 magic at the start');
        if (d.bytes.subarray(-4).toString() === 'PAR1') p.push('the file ends with PAR1: a failed result looks complete');
        const file = path.join(T, 'failed.parquet');
        fs.writeFileSync(file, d.bytes);
        const db = await openDuck();
        try {
            await db.all(`SELECT count(*) FROM read_parquet(${sqlStr(file)})`);
            p.push('DuckDB read the failed result as a file');
        } catch { /* refused: as it must be */ }
        db.close();
    }
    const e = await download(FAILS_EARLY, 'parquet');
    if (e.code !== 400) p.push(`failing at once: status ${e.code}, want 400`);
    const bad = await post('/v1/downloads', { sql: 'SELECT 1', format: 'xlsx' });
    if (bad.code !== 400 || !/parquet/.test(bad.body)) p.push(`format xlsx: ${bad.code} ${bad.body}`);
    R.check('download_parquet_failing_midway_has_no_footer', p);
});

await R.guard('query_api_parquet', async () => {
    // POST /v1/query streams Parquet too (for curl | duckdb)
    const p = [];
    const r = await new Promise((resolve) => {
        const req = http.request({ host: '127.0.0.1', port: srv.port, method: 'POST', path: '/v1/query', agent: false,
            headers: { Authorization: `Bearer ${TOKEN}` } }, (res) => {
            const parts = [];
            res.on('data', (x) => parts.push(x));
            res.on('end', () => resolve({ code: res.statusCode, ct: res.headers['content-type'], bytes: Buffer.concat(parts) }));
        });
        req.end(JSON.stringify({ sql: "SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, NULL", format: 'parquet' }));
    });
    if (r.code !== 200 || r.ct !== 'application/vnd.apache.parquet') p.push(`${r.code} ${r.ct}`);
    const file = path.join(T, 'q.parquet');
    fs.writeFileSync(file, r.bytes);
    const db = await openDuck();
    const got = await db.all(`SELECT a, b FROM read_parquet(${sqlStr(file)}) ORDER BY a`);
    db.close();
    if (JSON.stringify(got.rows.map((x) => x.map(String))) !== JSON.stringify([['1', 'x'], ['2', 'null']]))
        p.push(`rows ${JSON.stringify(got.rows.map((x) => x.map(String)))}`);
    R.check('query_api_parquet', p);
});

await srv.stop();
process.exit(R.failed ? 1 : 0);
