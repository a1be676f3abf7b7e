// DuckDB side of bench/collect.sh: the same report file, already on disk,
// CSV -> Parquet (zstd) with DuckDB at its best (all threads, type sniffing),
// printing {"ms":N,"rows":N}.  The transformation alone: no download, no
// raw copy, no catalog.
import { createRequire } from 'node:module';
import path from 'node:path';
const require = createRequire(path.resolve('tests/node/package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');
const [csv, out] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:');
const c = await inst.connect();
const t0 = process.hrtime.bigint();
await c.run(`COPY (SELECT * FROM read_csv('${csv}')) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const r = await c.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet('${out}')`);
console.log(JSON.stringify({ ms, rows: Number(r.getRowsJson()[0][0]) }));
