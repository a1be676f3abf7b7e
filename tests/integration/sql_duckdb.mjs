// Differential test of `sluice sql`: a lake built by `sluice serve` + `sluice gen |
// sluice ingest` is queried by sluice (SQLite over the lake's virtual tables) and by
// DuckDB (read_parquet with hive partitioning and union_by_name) with the same SQL;
// results must be identical after normalising types (booleans -> 0/1, timestamps ->
// microseconds, numbers within 1e-9 relative).  Every query has an ORDER BY.
// Also: --explain shows partition pruning; -o out.parquet reads back in DuckDB;
// errors carry SQLite's position.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, Reporter, makeTmp, openDuck, sluice, crashed, describe, duckMicros } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('sqldiff');
const DATA = path.join(T, 'data');
const LAKE = path.join(DATA, 'lake');

fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${DATA}
listen: 127.0.0.1:0
auto_create_streams: true
limits:
  min_free_disk: 0
streams:
  events:
    sink:
      roll_age: 200ms
      roll_rows: 4000
`);

async function buildLake() {
    const pf = path.join(T, 'port');
    const log = fs.openSync(path.join(T, 'server.log'), 'a');
    const server = spawn(BIN, ['serve', '-c', path.join(T, 'sluice.yaml'), '--port-file', pf],
        { stdio: ['ignore', 'ignore', log] });
    let port = 0;
    for (let i = 0; i < 400 && !port; i++) {
        if (fs.existsSync(pf) && fs.readFileSync(pf, 'utf8').trim()) port = Number(fs.readFileSync(pf, 'utf8').trim());
        else await new Promise(r => setTimeout(r, 25));
    }
    if (!port) throw new Error('server did not start: ' + fs.readFileSync(path.join(T, 'server.log'), 'utf8').slice(-2000));
    const starts = ['2024-05-01T00:00:00Z', '2024-05-01T05:30:00Z', '2024-05-02T10:00:00Z'];
    for (let i = 0; i < starts.length; i++) {
        const src = path.join(T, `gen${i}.ndjson`);
        execFileSync(BIN, ['gen', '--count', '6000', '--seed', String(11 + i), '--start', starts[i]],
            { stdio: ['ignore', fs.openSync(src, 'w'), 'inherit'] });
        execFileSync(BIN, ['ingest', '-q', '--url', `http://127.0.0.1:${port}`, 'events', src]);
    }
    const exited = new Promise(r => server.once('exit', r));
    server.kill('SIGTERM'); // flushes and commits what the sink holds
    await exited;
}

const Q = [
    ['count', `SELECT count(*) AS n FROM t1_events`],
    ['count_by_partition', `SELECT dt, hr, count(*) AS n FROM t1_events GROUP BY dt, hr ORDER BY dt, hr`],
    ['dt_eq', `SELECT count(*) AS n, min(event_id) AS m FROM t1_events WHERE dt = '2024-05-02'`],
    ['dt_range', `SELECT dt, count(*) AS n FROM t1_events WHERE dt >= '2024-05-01' AND dt < '2024-05-02' GROUP BY dt ORDER BY dt`],
    ['hr_in', `SELECT hr, count(*) AS n FROM t1_events WHERE hr IN ('00', '05', '10') GROUP BY hr ORDER BY hr`],
    ['hr_gt', `SELECT count(*) AS n FROM t1_events WHERE dt = '2024-05-01' AND hr > '04'`],
    ['int_eq', `SELECT event_id, campaign_id FROM t1_events WHERE campaign_id = 11645 ORDER BY event_id`],
    ['int_range', `SELECT count(*) AS n, sum(campaign_id) AS s FROM t1_events WHERE campaign_id BETWEEN 11000 AND 11500`],
    ['int_lt', `SELECT count(*) AS n FROM t1_events WHERE campaign_id < 10100`],
    ['int_mod', `SELECT campaign_id % 7 AS k, count(*) AS n FROM t1_events GROUP BY 1 ORDER BY 1`],
    ['double_gt', `SELECT count(*) AS n FROM t1_events WHERE cost > 0.002`],
    ['double_le', `SELECT event_id, cost FROM t1_events WHERE cost <= 0.0002 ORDER BY cost, event_id`],
    ['double_sum', `SELECT country, round(sum(cost), 6) AS s, round(avg(cost), 9) AS a FROM t1_events GROUP BY country ORDER BY country`],
    ['string_eq', `SELECT count(*) AS n FROM t1_events WHERE country = 'JP'`],
    ['string_range', `SELECT country, count(*) AS n FROM t1_events WHERE country > 'IN' AND country <= 'US' GROUP BY country ORDER BY country`],
    ['string_in', `SELECT event_type, count(*) AS n FROM t1_events WHERE event_type IN ('click', 'install') GROUP BY 1 ORDER BY 1`],
    ['string_not_in', `SELECT count(*) AS n FROM t1_events WHERE country NOT IN ('JP', 'IN', 'US')`],
    ['like_prefix', `SELECT media, count(*) AS n FROM t1_events WHERE media LIKE 'com.news%' GROUP BY media ORDER BY media`],
    ['like_infix', `SELECT count(*) AS n FROM t1_events WHERE device LIKE '%ios%'`],
    ['like_user', `SELECT user_id FROM t1_events WHERE user_id LIKE 'u_000100%' ORDER BY user_id, event_id`],
    ['bool_true', `SELECT count(*) AS n FROM t1_events WHERE viewable`],
    ['bool_false', `SELECT event_type, count(*) AS n FROM t1_events WHERE NOT viewable GROUP BY 1 ORDER BY 1`],
    ['bool_group', `SELECT viewable, count(*) AS n FROM t1_events GROUP BY viewable ORDER BY viewable NULLS FIRST`],
    ['ts_min_max', `SELECT dt, min(event_time) AS a, max(event_time) AS b FROM t1_events GROUP BY dt ORDER BY dt`],
    ['ts_ge', `SELECT count(*) AS n FROM t1_events WHERE event_time >= '2024-05-01T05:30:01'`],
    ['ts_range', `SELECT count(*) AS n FROM t1_events WHERE event_time >= '2024-05-01T00:00:02' AND event_time < '2024-05-01T00:00:03'`],
    ['ts_order', `SELECT event_id, event_time FROM t1_events WHERE dt = '2024-05-02' ORDER BY event_time DESC, event_id LIMIT 5`],
    ['ingest_ts_present', `SELECT count(*) AS n FROM t1_events WHERE _ingest_ts IS NULL`],
    ['null_count', `SELECT count(*) - count(cost) AS nulls, count(cost) AS vals FROM t1_events`],
    ['null_filter', `SELECT event_id FROM t1_events WHERE cost IS NULL AND dt = '2024-05-02' ORDER BY event_id LIMIT 20`],
    ['null_coalesce', `SELECT round(sum(coalesce(cost, 1)), 6) AS s FROM t1_events`],
    ['null_order', `SELECT event_id, cost FROM t1_events WHERE campaign_id < 10300 ORDER BY cost NULLS FIRST, event_id LIMIT 30`],
    // Trino's and DuckDB's default: NULLs last, ascending or descending (SQLite: first when ascending)
    ['null_order_default', `SELECT event_id, cost FROM t1_events WHERE campaign_id < 10300 ORDER BY cost, event_id LIMIT 3000`],
    ['null_order_desc', `SELECT event_id, cost FROM t1_events WHERE campaign_id < 10300 ORDER BY cost DESC, event_id LIMIT 3000`],
    ['null_group_top', `SELECT country, count(*) AS n FROM t1_events GROUP BY country ORDER BY country LIMIT 3`],
    ['group_having', `SELECT advertiser, count(*) AS n FROM t1_events GROUP BY advertiser HAVING count(*) > 500 ORDER BY n DESC, advertiser`],
    ['group_two', `SELECT event_type, country, count(*) AS n FROM t1_events GROUP BY 1, 2 ORDER BY 1, 2`],
    ['distinct', `SELECT DISTINCT event_type FROM t1_events ORDER BY event_type`],
    ['count_distinct', `SELECT count(DISTINCT user_id) AS u, count(DISTINCT country) AS c FROM t1_events`],
    ['window_rank', `SELECT event_id, rn FROM (SELECT event_id, row_number() OVER (PARTITION BY country ORDER BY event_time, event_id) AS rn FROM t1_events) WHERE rn <= 2 ORDER BY event_id`],
    ['window_sum', `SELECT event_id, round(sum(cost) OVER (ORDER BY event_time, event_id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), 9) AS s FROM t1_events WHERE dt = '2024-05-02' AND hr = '10' ORDER BY event_time, event_id LIMIT 50`],
    ['window_lag', `SELECT event_id, lag(campaign_id) OVER (ORDER BY event_time, event_id) AS p FROM t1_events WHERE campaign_id > 11900 ORDER BY event_time, event_id LIMIT 40`],
    ['join_self', `SELECT a.country, count(*) AS n FROM t1_events a JOIN (SELECT country, max(cost) AS mc FROM t1_events GROUP BY country) b ON a.country = b.country AND a.cost = b.mc GROUP BY a.country ORDER BY a.country`],
    ['join_users', `WITH a AS (SELECT user_id, count(*) AS n FROM t1_events WHERE dt = '2024-05-01' GROUP BY 1), b AS (SELECT user_id, count(*) AS n FROM t1_events WHERE dt = '2024-05-02' GROUP BY 1) SELECT a.user_id, a.n AS na, b.n AS nb FROM a JOIN b ON a.user_id = b.user_id ORDER BY a.user_id LIMIT 50`],
    ['left_join', `WITH a AS (SELECT country, count(*) AS n FROM t1_events GROUP BY 1), b AS (SELECT country, count(*) AS n FROM t1_events WHERE event_type = 'install' GROUP BY 1) SELECT a.country, a.n AS total, b.n AS installs FROM a LEFT JOIN b ON a.country = b.country ORDER BY a.country`],
    ['cte_union', `WITH c AS (SELECT event_type, count(*) AS n FROM t1_events WHERE dt = '2024-05-01' GROUP BY 1) SELECT event_type, n FROM c UNION ALL SELECT 'total', sum(n) FROM c ORDER BY 1`],
    ['in_subquery', `SELECT count(*) AS n FROM t1_events a WHERE a.user_id IN (SELECT user_id FROM t1_events WHERE event_type = 'install')`],
    ['case_when', `SELECT CASE WHEN cost IS NULL THEN 'none' WHEN cost > 0.001 THEN 'high' ELSE 'low' END AS band, count(*) AS n FROM t1_events GROUP BY 1 ORDER BY 1`],
    ['string_funcs', `SELECT lower(country) AS l, length(advertiser) AS len, substr(event_id, 1, 8) AS p FROM t1_events WHERE campaign_id = 10500 ORDER BY event_id`],
    ['concat', `SELECT dt || '/' || hr AS p, count(*) AS n FROM t1_events GROUP BY 1 ORDER BY 1`],
    ['order_limit_offset', `SELECT event_id FROM t1_events ORDER BY event_id LIMIT 10 OFFSET 100`],
    ['order_desc', `SELECT campaign_id, event_id FROM t1_events ORDER BY campaign_id DESC, event_id DESC LIMIT 15`],
    ['cast', `SELECT CAST(campaign_id AS TEXT) AS c FROM t1_events WHERE campaign_id > 11990 ORDER BY event_id`],
    ['min_max_text', `SELECT min(advertiser) AS a, max(advertiser) AS b, min(user_id) AS u FROM t1_events`],
    ['lake_qualified', `SELECT count(*) AS n FROM lake.t1_events WHERE dt = '2024-05-01'`, `SELECT count(*) AS n FROM t1_events WHERE dt = '2024-05-01'`],
];

function isTsText(s) { return typeof s === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(s); }
function tsMicros(s) {
    const ms = Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10), +s.slice(11, 13), +s.slice(14, 16), +s.slice(17, 19));
    return String(BigInt(ms) * 1000n + BigInt(s.slice(20, 26)));
}
function normOurs(v) {
    if (v === null || v === undefined) return null;
    if (isTsText(v)) return 'ts:' + tsMicros(v);
    return v;
}
function normDuck(v) {
    if (v === null || v === undefined) return null;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'object' && (v.micros !== undefined || v.millis !== undefined || v.nanos !== undefined))
        return 'ts:' + duckMicros(v).toString();
    if (typeof v === 'object' && v.width !== undefined && v.value !== undefined) // DECIMAL
        return Number(v.value) / 10 ** v.scale;
    return v;
}
function same(a, b) {
    if (typeof a === 'number' && typeof b === 'number')
        return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
    return a === b;
}

async function main() {
    await buildLake();
    const db = await openDuck();
    const glob = path.join(LAKE, 't1_events', '**', '*.parquet');
    await db.run(`CREATE VIEW t1_events AS SELECT * FROM read_parquet('${glob}', hive_partitioning = true, union_by_name = true, hive_types = {'dt': VARCHAR, 'hr': VARCHAR})`);

    let matched = 0;
    for (const [name, sql, duckSql] of Q) {
        await R.guard('query_' + name, async () => {
            const args = ['sql', '-d', DATA, '--format', 'ndjson', sql];
            const t0 = Date.now();
            const res = await sluice(args);
            console.log(`# ${name}: ${Date.now() - t0} ms`);
            const c = crashed(res);
            if (c || res.status !== 0) { R.fail('query_' + name, c || describe(res, args)); return; }
            const ours = res.stdout.toString('utf8').split('\n').filter(Boolean).map(l => Object.values(JSON.parse(l)).map(normOurs));
            const d = await db.all(duckSql ?? sql);
            const theirs = d.rows.map(r => r.map(normDuck));
            const probs = [];
            if (ours.length !== theirs.length) probs.push(`rows: sluice ${ours.length}, duckdb ${theirs.length}`);
            for (let i = 0; i < Math.min(ours.length, theirs.length) && probs.length < 5; i++) {
                if (ours[i].length !== theirs[i].length) { probs.push(`row ${i}: ${ours[i].length} vs ${theirs[i].length} columns`); continue; }
                for (let k = 0; k < ours[i].length; k++)
                    if (!same(ours[i][k], theirs[i][k]))
                        probs.push(`row ${i} col ${d.names[k]}: sluice ${JSON.stringify(ours[i][k])}, duckdb ${JSON.stringify(theirs[i][k])}`);
            }
            if (!probs.length) matched++;
            R.check('query_' + name, probs);
        });
    }
    if (Q.length < 40) R.fail('enough_queries', `${Q.length} < 40`);
    else R.check('differential_summary', matched === Q.length ? [] : [`${matched} of ${Q.length} matched`]);

    await R.guard('explain_prunes', async () => {
        const args = ['sql', '-d', DATA, '--explain', '--format', 'csv', "SELECT count(*) FROM t1_events WHERE dt = '2024-05-02'"];
        const res = await sluice(args);
        const m = /partitions (\d+) of (\d+), files (\d+) of (\d+)/.exec(res.stderr);
        const probs = [];
        if (res.status !== 0 || !m) probs.push(describe(res, args));
        else if (!(+m[1] < +m[2] && +m[3] < +m[4])) probs.push('no pruning: ' + m[0]);
        R.check('explain_prunes', probs);
    });

    await R.guard('output_parquet', async () => {
        const out = path.join(T, 'out.parquet');
        const args = ['sql', '-d', DATA, '-o', out, "SELECT country, count(*) AS n, round(sum(cost), 6) AS s FROM t1_events GROUP BY country ORDER BY country"];
        const res = await sluice(args);
        const probs = [];
        if (res.status !== 0) probs.push(describe(res, args));
        else {
            const a = await db.all(`SELECT * FROM read_parquet('${out}') ORDER BY country`);
            const b = await db.all(`SELECT country, count(*) AS n, round(sum(cost), 6) AS s FROM t1_events GROUP BY country ORDER BY country`);
            if (JSON.stringify(a.types) !== JSON.stringify(['VARCHAR', 'BIGINT', 'DOUBLE'])) probs.push('types ' + a.types.join(','));
            if (a.rows.length !== b.rows.length) probs.push(`rows ${a.rows.length} vs ${b.rows.length}`);
            for (let i = 0; i < Math.min(a.rows.length, b.rows.length); i++)
                for (let k = 0; k < 3; k++)
                    if (!same(normDuck(a.rows[i][k]), normDuck(b.rows[i][k]))) probs.push(`row ${i} col ${k}`);
        }
        R.check('output_parquet', probs);
    });

    await R.guard('error_position', async () => {
        const args = ['sql', '-d', DATA, 'SELECT nope FROM t1_events'];
        const res = await sluice(args);
        R.check('error_position', res.status === 1 && /no such column: nope \(at offset 7/.test(res.stderr) ? [] : [describe(res, args)]);
    });
    db.close();
}

await R.guard('sql_duckdb', main);
process.exit(R.failed ? 1 : 0);
