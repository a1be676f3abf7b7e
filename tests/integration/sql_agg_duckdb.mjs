// Differential test of the aggregate fast path (docs/sql.md "The aggregate fast
// path"): every query runs with `--path fast` (which must take the fast path: its
// --explain line says so), with `--path sqlite`, and in DuckDB over the same Parquet
// files.  fast and sqlite must give the same rows (numbers within 1e-9 relative: the
// order doubles are added in differs), DuckDB the same after normalising types.
// Data: `sluice gen` events (NULL-heavy cost, partitions dt/hr) plus a stream whose
// column `v` widened int64 -> double across files and whose `n` is mostly NULL.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BIN, Reporter, makeTmp, openDuck, sluice, crashed, describe, duckMicros, Server, pool } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('sqlagg');
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
      roll_rows: 3000
  metrics:
    sink:
      roll_age: 200ms
`);

function metric(i, widened) {
    const r = { event_time: `2024-05-0${1 + (i % 3)}T0${i % 4}:1${i % 10}:00Z`, k: ['a', 'b', 'c', 'é'][i % 4] };
    r.v = widened ? (i % 7) + 0.25 : (i % 11) * 1000003;
    if (i % 9 === 0) r.n = i; // mostly NULL
    if (i % 5 === 0) r.v = null;
    return r;
}

async function buildLake() {
    const srv = new Server(T);
    for (const widened of [false, true]) {
        await srv.start();
        const lines = [];
        for (let i = 0; i < 400; i++) lines.push(metric(i, widened));
        const r = await srv.post('metrics', lines);
        if (r.code !== 200) throw new Error('post: ' + r.code + ' ' + r.body);
        if (!widened) {
            const starts = ['2024-05-01T00:00:00Z', '2024-05-01T05:30:00Z', '2024-05-02T10:00:00Z'];
            for (let i = 0; i < starts.length; i++) {
                const src = path.join(T, `gen${i}.ndjson`);
                execFileSync(BIN, ['gen', '--count', '4000', '--seed', String(21 + i), '--start', starts[i]],
                    { stdio: ['ignore', fs.openSync(src, 'w'), 'inherit'] });
                execFileSync(BIN, ['ingest', '-q', '--url', srv.url, 'events', src]);
            }
        }
        await srv.landed('metrics');
        await srv.landed('events');
        await srv.stop();
    }
}

const E = 't1_events', M = 't1_metrics';
// [name, sql, duckdb sql (when it differs)]
const Q = [
    ['count_star', `SELECT count(*) AS n FROM ${E}`],
    ['count_col_nulls', `SELECT count(cost) AS c, count(*) AS n FROM ${E}`],
    ['count_distinct', `SELECT count(DISTINCT country) AS c, count(DISTINCT user_id) AS u FROM ${E}`],
    ['sum_int', `SELECT sum(campaign_id) AS s FROM ${E}`],
    ['sum_double', `SELECT round(sum(cost), 6) AS s, round(avg(cost), 9) AS a FROM ${E}`],
    ['min_max_text', `SELECT min(advertiser) AS a, max(advertiser) AS b, min(user_id) AS u, max(media) AS m FROM ${E}`],
    ['min_max_num', `SELECT min(cost) AS a, max(cost) AS b, min(campaign_id) AS c, max(campaign_id) AS d FROM ${E}`],
    ['min_max_ts', `SELECT dt, min(event_time) AS a, max(event_time) AS b FROM ${E} GROUP BY dt ORDER BY dt`],
    ['avg_int', `SELECT event_type, avg(campaign_id) AS a FROM ${E} GROUP BY event_type ORDER BY event_type`],
    ['group_partition', `SELECT dt, hr, count(*) AS n, round(sum(cost), 6) AS s FROM ${E} GROUP BY dt, hr ORDER BY dt, hr`],
    ['group_two_cols', `SELECT event_type, country, count(*) AS n FROM ${E} GROUP BY event_type, country ORDER BY event_type, country`],
    ['group_by_position', `SELECT event_type, count(*) AS n FROM ${E} GROUP BY 1 ORDER BY 1`],
    ['group_bool', `SELECT viewable, count(*) AS n FROM ${E} GROUP BY viewable ORDER BY viewable NULLS FIRST`],
    ['eq_partition', `SELECT count(*) AS n, min(event_id) AS m FROM ${E} WHERE dt = '2024-05-02'`],
    ['eq_string', `SELECT dt, count(*) AS n FROM ${E} WHERE country = 'JP' GROUP BY dt ORDER BY dt`],
    ['eq_int', `SELECT count(*) AS n, max(cost) AS m FROM ${E} WHERE campaign_id = 11645`],
    ['ne_string', `SELECT event_type, count(*) AS n FROM ${E} WHERE country <> 'US' GROUP BY event_type ORDER BY event_type`],
    ['ne_bang', `SELECT count(*) AS n FROM ${E} WHERE event_type != 'impression'`],
    ['lt_double', `SELECT country, count(*) AS n FROM ${E} WHERE cost < 0.0005 GROUP BY country ORDER BY country`],
    ['le_int', `SELECT count(*) AS n, sum(campaign_id) AS s FROM ${E} WHERE campaign_id <= 10400`],
    ['gt_ts', `SELECT count(*) AS n FROM ${E} WHERE event_time > '2024-05-01T05:30:01.000000Z'`],
    ['ge_partition', `SELECT hr, count(*) AS n FROM ${E} WHERE dt = '2024-05-01' AND hr >= '05' GROUP BY hr ORDER BY hr`],
    ['between_int', `SELECT count(*) AS n, round(sum(cost), 6) AS s FROM ${E} WHERE campaign_id BETWEEN 11000 AND 11500`],
    ['between_partition', `SELECT dt, count(*) AS n FROM ${E} WHERE dt BETWEEN '2024-05-01' AND '2024-05-01' GROUP BY dt ORDER BY dt`],
    ['in_string', `SELECT event_type, count(*) AS n FROM ${E} WHERE event_type IN ('click', 'install') GROUP BY event_type ORDER BY event_type`],
    ['in_partition', `SELECT hr, count(*) AS n FROM ${E} WHERE hr IN ('00', '05', '10') GROUP BY hr ORDER BY hr`],
    ['in_int', `SELECT count(*) AS n FROM ${E} WHERE campaign_id IN (10301, 11575, 11645)`],
    ['is_null', `SELECT dt, count(*) AS n FROM ${E} WHERE cost IS NULL GROUP BY dt ORDER BY dt`],
    ['is_not_null', `SELECT count(*) AS n, round(avg(cost), 9) AS a FROM ${E} WHERE cost IS NOT NULL`],
    ['and_many', `SELECT country, count(*) AS n FROM ${E} WHERE dt = '2024-05-01' AND cost > 0.001 AND event_type <> 'install' AND country IN ('JP', 'US', 'DE') GROUP BY country ORDER BY country`],
    ['having', `SELECT advertiser, count(*) AS n FROM ${E} GROUP BY advertiser HAVING count(*) > 300 ORDER BY n DESC, advertiser`],
    ['having_sum', `SELECT country, round(sum(cost), 6) AS s FROM ${E} GROUP BY country HAVING sum(cost) > 10 ORDER BY country`],
    ['order_agg_limit', `SELECT campaign_id, round(sum(cost), 6) AS c FROM ${E} WHERE dt = '2024-05-01' GROUP BY campaign_id ORDER BY c DESC, campaign_id LIMIT 10`],
    ['limit_offset', `SELECT country, count(*) AS n FROM ${E} GROUP BY country ORDER BY country LIMIT 5 OFFSET 3`],
    ['expr_items', `SELECT event_type, round(sum(cost) / count(*), 9) AS per, count(*) - count(cost) AS nulls FROM ${E} GROUP BY event_type ORDER BY event_type`],
    ['hour_bucket', `SELECT substr(event_time, 1, 13) AS h, count(*) AS n FROM ${E} GROUP BY h ORDER BY h`,
        `SELECT strftime(event_time, '%Y-%m-%dT%H') AS h, count(*) AS n FROM ${E} GROUP BY h ORDER BY h`],
    ['day_bucket', `SELECT strftime('%Y-%m-%d', event_time) AS d, count(DISTINCT user_id) AS u FROM ${E} GROUP BY 1 ORDER BY 1`,
        `SELECT strftime(event_time, '%Y-%m-%d') AS d, count(DISTINCT user_id) AS u FROM ${E} GROUP BY 1 ORDER BY 1`],
    ['date_bucket', `SELECT date(event_time) AS d, event_type, count(*) AS n FROM ${E} GROUP BY d, event_type ORDER BY d, event_type`,
        `SELECT strftime(event_time, '%Y-%m-%d') AS d, event_type, count(*) AS n FROM ${E} GROUP BY d, event_type ORDER BY d, event_type`],
    ['media_device', `SELECT media, device, round(sum(cost), 6) AS c FROM ${E} WHERE dt = '2024-05-01' GROUP BY media, device ORDER BY media, device`],
    ['empty_partition', `SELECT count(*) AS n, sum(cost) AS s, min(country) AS m, avg(cost) AS a FROM ${E} WHERE dt = '2030-01-01'`],
    ['empty_partition_grouped', `SELECT country, count(*) AS n FROM ${E} WHERE dt = '2030-01-01' GROUP BY country ORDER BY country`],
    ['empty_by_filter', `SELECT count(*) AS n, count(DISTINCT country) AS c, max(cost) AS m FROM ${E} WHERE cost > 1000000`],
    ['lake_qualified', `SELECT count(*) AS n FROM lake.${E} WHERE dt = '2024-05-01'`, `SELECT count(*) AS n FROM ${E} WHERE dt = '2024-05-01'`],
    ['widened_sum', `SELECT k, count(v) AS c, sum(v) AS s, min(v) AS a, max(v) AS b, avg(v) AS m FROM ${M} GROUP BY k ORDER BY k`],
    ['widened_where', `SELECT count(*) AS n, sum(v) AS s FROM ${M} WHERE v > 3 AND v < 5000000`],
    ['widened_distinct', `SELECT dt, count(DISTINCT v) AS d FROM ${M} GROUP BY dt ORDER BY dt`,
        // by construction 11 integers + 7 doubles per day; DuckDB's union_by_name answer over
        // files where v is BIGINT in some and DOUBLE in others varied from run to run (19, 24, 30)
        `SELECT * FROM (VALUES ('2024-05-01', 18), ('2024-05-02', 18), ('2024-05-03', 18)) t(dt, d)`],
    ['null_heavy', `SELECT k, count(n) AS c, sum(n) AS s, min(n) AS a, max(n) AS b, avg(n) AS m FROM ${M} GROUP BY k ORDER BY k`],
    ['null_heavy_where', `SELECT count(*) AS n FROM ${M} WHERE n IS NOT NULL AND v IS NULL`],
    ['null_group', `SELECT n, count(*) AS c FROM ${M} WHERE n < 100 OR n IS NULL GROUP BY n ORDER BY n NULLS FIRST LIMIT 5`, null, 'refused'],
    ['utf8_substr', `SELECT substr(k, 1, 1) AS p, count(*) AS c FROM ${M} GROUP BY p ORDER BY p`],
];

function isTsText(s) { return typeof s === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(s); }
function tsMicros(s) {
    const ms = Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10), +s.slice(11, 13), +s.slice(14, 16), +s.slice(17, 19));
    return String(BigInt(ms) * 1000n + BigInt(s.slice(20, 26)));
}
const normOurs = (v) => (v === null || v === undefined ? null : isTsText(v) ? 'ts:' + tsMicros(v) : v);
function normDuck(v) {
    if (v === null || v === undefined) return null;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'object' && (v.micros !== undefined || v.millis !== undefined || v.nanos !== undefined))
        return 'ts:' + duckMicros(v).toString();
    if (typeof v === 'object' && v.width !== undefined && v.value !== undefined) return Number(v.value) / 10 ** v.scale;
    if (typeof v === 'object' && v.hi !== undefined) return Number(v.toString());
    if (typeof v === 'object') return Number(String(v)); // HUGEINT sums
    return v;
}
function same(a, b) {
    if (typeof a === 'number' && typeof b === 'number')
        return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
    return a === b;
}
function diff(tag, a, b, names) {
    const probs = [];
    if (a.length !== b.length) probs.push(`${tag} rows: ${a.length} vs ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length) && probs.length < 5; i++) {
        if (a[i].length !== b[i].length) { probs.push(`${tag} row ${i}: ${a[i].length} vs ${b[i].length} columns`); continue; }
        for (let k = 0; k < a[i].length; k++)
            if (!same(a[i][k], b[i][k])) probs.push(`${tag} row ${i} col ${names[k]}: ${JSON.stringify(a[i][k])} vs ${JSON.stringify(b[i][k])}`);
    }
    return probs;
}

async function ours(sql, p) {
    const args = ['sql', '-d', DATA, '--path', p, '--explain', '--format', 'ndjson', sql];
    const res = await sluice(args);
    const c = crashed(res);
    if (c || res.status !== 0) throw new Error(c || describe(res, args));
    const lines = res.stdout.toString('utf8').split('\n').filter(Boolean);
    const note = /-- path (\w+)[^\n]*/.exec(res.stderr.toString('utf8'));
    return { rows: lines.map(l => Object.values(JSON.parse(l)).map(normOurs)), keys: lines.map(l => Object.keys(JSON.parse(l)).join(',')), path: note ? note[1] : '', note: note ? note[0] : '' };
}

async function main() {
    await buildLake();
    const db = await openDuck();
    for (const t of ['t1_events', 't1_metrics']) {
        const glob = path.join(LAKE, t, '**', '*.parquet');
        await db.run(`CREATE VIEW ${t} AS SELECT * FROM read_parquet('${glob}', hive_partitioning = true, union_by_name = true, hive_types = {'dt': VARCHAR, 'hr': VARCHAR})`);
    }
    let matched = 0;
    // DuckDB's answers first (one connection, in turn), then both of our paths
    // for four queries at a time (each sluice process is mostly ASan start-up)
    const duck = [];
    for (const [, sql, duckSql] of Q) duck.push(await db.all(duckSql ?? sql));
    const got = await pool(4, Q.map(([, sql]) => () => Promise.all([ours(sql, 'fast'), ours(sql, 'sqlite')]).catch((e) => e)));
    Q.forEach(([name, , , expect], i) => {
        if (got[i] instanceof Error) return R.fail('agg_' + name, 'exception: ' + got[i].message);
        const [f, s] = got[i], d = duck[i];
        const probs = [];
        if (f.path !== (expect === 'refused' ? 'sqlite' : 'fast')) probs.push('path: ' + f.note);
        if (s.path !== 'sqlite') probs.push('forced sqlite path: ' + s.note);
        if (f.keys.join(';') !== s.keys.join(';')) probs.push(`column names: ${f.keys[0]} vs ${s.keys[0]}`);
        probs.push(...diff('fast vs sqlite', f.rows, s.rows, d.names));
        probs.push(...diff('fast vs duckdb', f.rows, d.rows.map(r => r.map(normDuck)), d.names));
        if (!probs.length) matched++;
        R.check('agg_' + name, probs);
    });
    if (Q.length < 40) R.fail('enough_queries', `${Q.length} < 40`);
    else R.check('agg_summary', matched === Q.length ? [] : [`${matched} of ${Q.length} matched`]);

    await R.guard('agg_widened_metrics_table', async () => {
        const r = await ours(`SELECT count(*) AS n FROM ${M}`, 'fast');
        R.check('agg_widened_metrics_table', r.rows.length === 1 && r.rows[0][0] === 800 ? [] : [JSON.stringify(r.rows)]);
    });
    await R.guard('agg_refusals_explained', async () => {
        const probs = [];
        for (const q of [`SELECT count(*) FROM ${E} a JOIN (SELECT 1 AS one) b ON b.one = 1`, // (a join; a self-join of the table would rescan it per row)
            `SELECT lower(country), count(*) FROM ${E} GROUP BY 1`, `SELECT count(*) FROM ${E} WHERE cost > 0 OR cost IS NULL`]) {
            const r = await ours(q, 'fast');
            if (r.path !== 'sqlite' || !/refused/.test(r.note)) probs.push(q + ': ' + r.note);
        }
        R.check('agg_refusals_explained', probs);
    });
    db.close();
}

await R.guard('sql_agg_duckdb', main);
process.exit(R.failed ? 1 : 0);
