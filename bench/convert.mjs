// DuckDB side of bench/run.sh (run from the repo root).
//
//   node bench/convert.mjs duck IN.ndjson OUT.parquet
//        COPY (SELECT * FROM read_json_auto(IN)) TO OUT (FORMAT parquet,
//        COMPRESSION zstd) with all threads; prints {"copy_s": seconds of the
//        COPY statement alone, "total_s": instance creation + COPY}
//   node bench/convert.mjs baseline
//        loads DuckDB and opens an in-memory instance, does nothing: its peak
//        RSS is node's + DuckDB's baseline, for honest RSS comparisons
//   node bench/convert.mjs count FILE.parquet
//        prints the row count DuckDB reads
//   node bench/convert.mjs describe FILE.parquet
//        prints the column types DuckDB reads ("name TYPE, ...")
//   node bench/convert.mjs version
//        prints the version of the @duckdb/node-api package in use
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.resolve('tests/node/package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');
const sql = (s) => "'" + s.replace(/'/g, "''") + "'";

const [mode, a, b] = process.argv.slice(2);
if (mode === 'version') {
    console.log(require('@duckdb/node-api/package.json').version);
    process.exit(0);
}
const threads = String(os.availableParallelism ? os.availableParallelism() : os.cpus().length);
const t0 = process.hrtime.bigint();
const inst = await DuckDBInstance.create(':memory:', { threads });
const con = await inst.connect();

if (mode === 'duck') {
    const t1 = process.hrtime.bigint();
    await con.run(`COPY (SELECT * FROM read_json_auto(${sql(a)})) TO ${sql(b)} (FORMAT parquet, COMPRESSION zstd)`);
    const t2 = process.hrtime.bigint();
    console.log(JSON.stringify({ copy_s: Number(t2 - t1) / 1e9, total_s: Number(t2 - t0) / 1e9, threads: +threads }));
} else if (mode === 'baseline') {
    await con.run('SELECT 1');
    console.log(JSON.stringify({ threads: +threads }));
} else if (mode === 'count') {
    const r = await con.runAndReadAll(`SELECT count(*) FROM read_parquet(${sql(a)})`);
    console.log(String(r.getRows()[0][0]));
} else if (mode === 'describe') {
    const r = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sql(a)})`);
    console.log(r.getRows().map((x) => `${x[0]} ${x[1]}`).join(', '));
} else {
    console.error('usage: node bench/convert.mjs duck IN OUT | baseline | count FILE | describe FILE | version');
    process.exit(2);
}
