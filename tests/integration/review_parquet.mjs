// Parquet results streamed (src/sql/output.c without a path, POST /v1/query
// format parquet), the cases console_download.mjs does not try:
//   - a column whose type changes after the 1000-row sample (an integer
//     column meets a real at row 100001, after the first row group went
//     out): the trailer says which column and why, not "stopped by the
//     output"; the file has no footer;
//   - wide rows: 200 rows of 1 MB each stream with the server's RSS flat
//     (the sample of 1000 rows held them all: ~200 MB), as CSV does;
//   - 200 columns of distinct 4 KB strings: the dictionaries count against
//     the row group's 16 MiB (they were 4 bytes a value: ~500 MB held);
//   - a result with no rows keeps its columns' types (an INTEGER column
//     came out VARCHAR: its types were decided after the statement ended);
//   - a client that leaves mid-stream, 12 times (more than the 8 query
//     slots): the next query runs, no sanitizer report;
//   - sluice sql --format parquet, failing midway: no footer on stdout
//     (the file ended with PAR1, readable as the rows before the failure),
//     and -o FILE leaves no FILE (it was renamed into place), exit 1.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { BIN, Reporter, Server, makeTmp, openDuck, run, sanitizerReport, sqlStr } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('review-parquet');
const DATA = path.join(T, 'data');
fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${DATA}\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\n` +
    `query:\n  tokens: [rtok]\n  write_tokens: [wtok]\n`);
const srv = new Server(T);
await srv.start({ ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:quarantine_size_mb=8' });

const gen = (n, cols) => `WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < ${n}) SELECT ${cols} FROM k`;
const TYPE_CHANGE = gen(200000, 'x AS id, CASE WHEN x > 100000 THEN x + 0.5 ELSE x END AS v');
const WIDE = gen(200, "x AS id, printf('%d%.*c', x, 1000000, 'w') AS blob");

function rssKb(pid) {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
}

/* POST /v1/query: {code, trailers, bytes, rssGrewMb}; leave: stop reading after that many bytes. */
function query(body, { tok = 'rtok', leave = 0 } = {}) {
    const base = rssKb(srv.proc.pid);
    let peak = base;
    const timer = setInterval(() => { peak = Math.max(peak, rssKb(srv.proc.pid)); }, 20);
    return new Promise((resolve) => {
        const done = (r) => { clearInterval(timer); resolve({ ...r, rssGrewMb: (peak - base) / 1024 }); };
        const req = http.request({ host: '127.0.0.1', port: srv.port, method: 'POST', path: '/v1/query', agent: false,
            headers: { Authorization: `Bearer ${tok}` } }, (res) => {
            const parts = [];
            let got = 0;
            res.on('data', (x) => {
                parts.push(x);
                got += x.length;
                if (leave && got >= leave) { req.destroy(); done({ code: res.statusCode, left: true }); }
            });
            res.on('end', () => done({ code: res.statusCode, trailers: res.trailers, bytes: Buffer.concat(parts) }));
            res.on('error', () => {});
        });
        req.on('error', (e) => { if (!leave) done({ code: 0, error: String(e) }); });
        req.end(JSON.stringify(body));
    });
}

await R.guard('parquet_type_change_after_sample_says_why', async () => {
    const p = [];
    const d = await query({ sql: TYPE_CHANGE, format: 'parquet' });
    if (d.code !== 200) p.push(`status ${d.code} ${d.error ?? d.bytes?.toString().slice(0, 200)}`);
    else {
        const why = d.trailers['x-sluice-error'] || '';
        if (!/column v/.test(why) || !/CAST/.test(why)) p.push(`trailer ${JSON.stringify(why)}: does not name column v and what to do`);
        if (d.bytes.subarray(-4).toString() === 'PAR1') p.push('ends with PAR1: a failed result looks complete');
    }
    R.check('parquet_type_change_after_sample_says_why', p);
});

await R.guard('parquet_wide_rows_memory_bounded', async () => {
    const p = [];
    const c = await query({ sql: WIDE, format: 'csv' });
    const d = await query({ sql: WIDE, format: 'parquet' });
    console.log(`# 200 rows of 1 MB: server RSS grew ${c.rssGrewMb.toFixed(0)} MB for CSV, ${d.rssGrewMb.toFixed(0)} MB for Parquet`);
    if (d.code !== 200 || d.trailers['x-sluice-error']) p.push(`status ${d.code} ${JSON.stringify(d.trailers)}`);
    if (d.rssGrewMb > 64) p.push(`server RSS grew ${d.rssGrewMb.toFixed(0)} MB for a Parquet result of 1 MB rows (CSV: ${c.rssGrewMb.toFixed(0)} MB)`);
    const file = path.join(T, 'wide.parquet');
    fs.writeFileSync(file, d.bytes);
    const db = await openDuck();
    const [got] = await db.objs(`SELECT count(*)::BIGINT AS n, sum(length(blob))::BIGINT AS len FROM read_parquet(${sqlStr(file)})`);
    db.close();
    let len = 0;
    for (let x = 1; x <= 200; x++) len += String(x).length + 1000000;
    if (Number(got.n) !== 200 || Number(got.len) !== len) p.push(`DuckDB: ${got.n} rows, ${got.len} bytes; want 200, ${len}`);
    R.check('parquet_wide_rows_memory_bounded', p);
});

await R.guard('parquet_many_dictionary_columns_memory_bounded', async () => {
    // 200 text columns of distinct 4 KB values: each value went into its
    // column's dictionary (up to 1 MiB each) while row_group_bytes counted
    // 4 bytes for it: ~500 MB held under a 16 MiB row group cap
    const p = [];
    const cols = Array.from({ length: 200 }, (_, i) => `printf('%d-%d-%.*c', x, ${i}, 4000, 'a') AS c${i}`).join(', ');
    const d = await query({ sql: gen(300, cols), format: 'parquet' });
    console.log(`# 200 columns x 300 rows of 4 KB values: server RSS grew ${d.rssGrewMb.toFixed(0)} MB`);
    if (d.code !== 200 || d.trailers['x-sluice-error']) p.push(`status ${d.code} ${JSON.stringify(d.trailers)}`);
    if (d.rssGrewMb > 250) p.push(`server RSS grew ${d.rssGrewMb.toFixed(0)} MB`);
    const file = path.join(T, 'dict.parquet');
    fs.writeFileSync(file, d.bytes);
    const db = await openDuck();
    const [got] = await db.objs(`SELECT count(*)::BIGINT AS n, count(DISTINCT c199)::BIGINT AS d FROM read_parquet(${sqlStr(file)})`);
    db.close();
    if (Number(got.n) !== 300 || Number(got.d) !== 300) p.push(`DuckDB: ${got.n} rows, ${got.d} distinct`);
    R.check('parquet_many_dictionary_columns_memory_bounded', p);
});

await R.guard('parquet_no_rows_keeps_types', async () => {
    const p = [];
    const mk = await query({ sql: 'CREATE TABLE typed AS SELECT 1 AS i, 2.5 AS d, \'x\' AS s', format: 'json' }, { tok: 'wtok' });
    if (mk.code !== 200) p.push(`CTAS: ${mk.code} ${mk.bytes?.toString()}`);
    const db = await openDuck();
    for (const [name, sql] of [['none', 'SELECT i, d, s FROM typed WHERE i < 0'], ['some', 'SELECT i, d, s FROM typed']]) {
        const d = await query({ sql, format: 'parquet' });
        if (d.code !== 200) { p.push(`${name}: status ${d.code} ${d.bytes?.toString().slice(0, 200)}`); continue; }
        const file = path.join(T, `typed-${name}.parquet`);
        fs.writeFileSync(file, d.bytes);
        const r = await db.all(`SELECT * FROM read_parquet(${sqlStr(file)})`);
        if (JSON.stringify(r.types) !== JSON.stringify(['BIGINT', 'DOUBLE', 'VARCHAR'])) p.push(`${name} rows: types ${JSON.stringify(r.types)}`);
    }
    db.close();
    R.check('parquet_no_rows_keeps_types', p);
});

await R.guard('parquet_client_leaves_midway', async () => {
    const p = [];
    const BIG = gen(3000000, "x AS id, printf('row-%d', x) AS label");
    for (let i = 0; i < 12; i++) {
        const d = await query({ sql: BIG, format: 'parquet' }, { leave: 1 });
        if (d.code !== 200) p.push(`leave ${i}: status ${d.code}`);
    }
    let ok = null;
    for (let i = 0; i < 50 && !(ok && ok.code === 200); i++) {
        ok = await query({ sql: 'SELECT 1 AS a', format: 'parquet' });
        if (ok.code === 429) await new Promise((r) => setTimeout(r, 100));
    }
    if (!ok || ok.code !== 200) p.push(`a query after 12 clients left: ${ok?.code}`);
    R.check('parquet_client_leaves_midway', p);
});

await R.guard('cli_parquet_failing_midway_is_not_a_file', async () => {
    const p = [];
    const r = await run(BIN, ['sql', '--data', DATA, '--format', 'parquet', TYPE_CHANGE], { maxBuffer: 1 << 30 });
    if (r.status !== 1) p.push(`stdout: exit ${r.status}`);
    if (r.stdout.length >= 12 && r.stdout.subarray(-4).toString() === 'PAR1') p.push(`stdout: ${r.stdout.length} bytes ending with the footer: a failed result looks complete`);
    const out = path.join(T, 'cli.parquet');
    const o = await run(BIN, ['sql', '--data', DATA, '-o', out, TYPE_CHANGE]);
    if (o.status !== 1) p.push(`-o: exit ${o.status}`);
    if (fs.existsSync(out)) p.push(`-o: ${out} exists (${fs.statSync(out).size} bytes) after the query failed`);
    if (fs.existsSync(out + '.tmp')) p.push('-o: its .tmp is left');
    R.check('cli_parquet_failing_midway_is_not_a_file', p);
});

await srv.stop();
const san = sanitizerReport(srv.log());
if (san) R.fail('no_sanitizer_report', san);
else R.ok('no_sanitizer_report');
process.exit(R.failed ? 1 : 0);
