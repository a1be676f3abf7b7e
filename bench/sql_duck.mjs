// DuckDB side of bench/sql.sh: run each query over the same lake directory
// (read_parquet with hive_partitioning), best of N, print JSON lines.
import { createRequire } from 'node:module';
import path from 'node:path';
const require = createRequire(path.resolve('tests/node/package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');
const [lake, reps, ...queries] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:');
const c = await inst.connect();
await c.run(`CREATE VIEW t1_events AS SELECT * FROM read_parquet('${lake}/t1_events/**/*.parquet', hive_partitioning = true, hive_types_autocast = false, union_by_name = true)`);
for (const q of queries) {
    let best = Infinity, rows = null;
    for (let i = 0; i < Number(reps); i++) {
        const t0 = process.hrtime.bigint();
        const r = await c.runAndReadAll(q);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (ms < best) best = ms;
        rows = r.getRowsJson();
    }
    console.log(JSON.stringify({ ms: best, result: rows }));
}
