// Issue 9's scenario, end to end through `sluice serve` on a test clock:
//
//   `sluice gen` events ──► stream `events` ──► t1_events (dt/hr by event time)
//   ──► job t2_events_aggr_1h_hourly (window hour, lookback 3, sql over t1)
//   ──► job t3_events_aggr_1d_daily  (window day, delay 1h, lookback 1, over t2)
//   ──► job t3_eventsdelay_aggr_1d_daily (window day, delay 3h, no lookback)
//
// The jobs runtime reads "now" from SLUICE_JOBS_CLOCK_FILE; ingest and the
// sink keep the real clock, so the events carry their own event_time
// (2024-05-01..03 UTC).  The test walks the clock hour by hour over the 3
// days: each hour's arrivals are ingested and landed BEFORE the clock moves
// past that hour (the runtime's gate on stream tables only waits for what
// was acknowledged when a run was first looked at, so the events must be in
// by then), then it waits for the runs of that fire.  gen's own late
// events (~2%, up to 2 h) arrive in the hour they were "sent"; on top:
//   - events for 2024-05-02 23:00 arriving 2 hours after that hour closed:
//     the next fire's lookback (3) re-runs the hour; the delay-3h daily,
//     firing in the same tick, waits for that re-run; the delay-1h daily
//     is stale until its own lookback re-runs the day a day later;
//   - events for 2024-05-03 05:00 arriving after its last lookback re-run:
//     not folded in until a forced re-run (POST .../runs force: true).
// At the end t2, t3 and the delay-3h t3 equal DuckDB computing the same
// aggregates from t1_events' Parquet files, with one t2 row per (dt, hr,
// event_type) after every re-run.
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, Server, makeTmp, openDuck, parseNdjson, sanitizerReport, sleep, sluice } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('jobscen');
const DATA = path.join(T, 'data');
const LAKE = path.join(DATA, 'lake');
const CFG = path.join(T, 'sluice.yaml');
const CLOCK = path.join(T, 'clock');
const HOUR = 3600000000n;                       // µs
const BASE = 1714521600000000n;                 // 2024-05-01T00:00:00Z, µs
const PER_HOUR = 120;                           // generated events per hour
const DAYS = 3;
const LATE_H = 47;                              // 2024-05-02T23: late but within lookback
const LATE_AT = LATE_H + 1 + 2;                 // arrives when the clock is 2 h past it
const TOO_LATE_H = 53;                          // 2024-05-03T05: beyond lookback
const TOO_LATE_AT = TOO_LATE_H + 1 + 3;         // arrives after its last lookback re-run
const WALK_TO = 74;                             // hour by hour up to 2024-05-04T02:00
const END = 99;                                 // then one jump to 2024-05-05T03:00 (both dailies of 05-04)
const t0 = Date.now();

const agg = () => `count(*) AS n, count(cost) AS n_cost,
      sum(CAST(round(cost * 1000000) AS INTEGER)) AS cost_micros,
      sum(CASE WHEN viewable THEN 1 ELSE 0 END) AS viewable`;
const dailyFromT2 = `SELECT event_type, sum(n) AS n, sum(n_cost) AS n_cost,
      sum(cost_micros) AS cost_micros, sum(viewable) AS viewable
      FROM t2_events_aggr_1h_hourly WHERE dt = '{{ds}}' GROUP BY event_type`;
const indent = (s) => s.split('\n').map((l) => '      ' + l.trim()).join('\n');
fs.writeFileSync(CFG, `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 2
scheduler: {tick: 100ms, task_timeout: 30s, heartbeat: 1s}
streams:
  events:
    sink:
      event_time_field: event_time
      partition: dt/hr
      roll_age: 50ms
      maintenance_interval: 0      # no compaction: DuckDB globs the files
jobs:
  t2_events_aggr_1h_hourly:
    kind: sql
    window: hour
    lookback: 3
    start: 2024-05-01
    retries: 0
    table: t2_events_aggr_1h_hourly
    sql: |
${indent(`SELECT event_type, ${agg()}
FROM t1_events WHERE dt = '{{ds}}' AND hr = '{{hr}}' GROUP BY event_type`)}
  t3_events_aggr_1d_daily:
    kind: sql
    window: day
    delay: 1h
    lookback: 1
    start: 2024-05-01
    retries: 0
    depends_on: [t2_events_aggr_1h_hourly]
    table: t3_events_aggr_1d_daily
    sql: |
${indent(dailyFromT2)}
  t3_eventsdelay_aggr_1d_daily:
    kind: sql
    window: day
    delay: 3h
    start: 2024-05-01
    retries: 0
    depends_on: [t2_events_aggr_1h_hourly]
    table: t3_eventsdelay_aggr_1d_daily
    sql: |
${indent(dailyFromT2)}
`);
const JOBS = ['t2_events_aggr_1h_hourly', 't3_events_aggr_1d_daily', 't3_eventsdelay_aggr_1d_daily'];
const DELAY_H = { t3_events_aggr_1d_daily: 1, t3_eventsdelay_aggr_1d_daily: 3 };

/* ---- helpers ------------------------------------------------------------------ */

const iso = (us) => new Date(Number(BigInt(us) / 1000n)).toISOString().replace('.000Z', 'Z');
const hourIso = (h) => iso(BASE + BigInt(h) * HOUR);
const dsOf = (h) => hourIso(h).slice(0, 10);
const hrOf = (h) => hourIso(h).slice(11, 13);
let clockH = 0;
function setClock(h) { // atomic: the server must never read a half-written file
    fs.writeFileSync(CLOCK + '.tmp', String(BASE + BigInt(h) * HOUR));
    fs.renameSync(CLOCK + '.tmp', CLOCK);
    clockH = h;
}

const srv = new Server(T);
const deadline = setTimeout(async () => {
    R.fail('bounded', `still running after 115 s (clock at ${hourIso(clockH)})`);
    await srv.stop('SIGKILL');
    process.exit(1);
}, 115000);

async function jget(p) {
    const r = await srv.request('GET', p);
    if (r.code !== 200) throw new Error(`GET ${p}: ${r.code} ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body);
}

/* The newest window each job must have a run for once the clock is at hour h. */
function expectedWindows(h) {
    const out = [];
    if (h >= 1) out.push([JOBS[0], hourIso(h - 1)]);
    for (const j of JOBS.slice(1)) {
        const d = Math.floor((h - DELAY_H[j]) / 24) - 1; // the latest day closed `delay` ago
        if (d >= 0) out.push([j, hourIso(d * 24)]);
    }
    return out;
}

/* Wait until the scheduler handled the fires up to the clock and every run is finished. */
async function settle(what, timeoutMs = 20000) {
    const t = Date.now();
    for (const [job, w] of expectedWindows(clockH)) {
        for (;;) {
            const runs = await jget(`/v1/jobs/${job}/runs?window=${w}&limit=10`);
            if (runs.length) break;
            if (Date.now() - t > timeoutMs) throw new Error(`${what}: no run of ${job} for ${w} at clock ${hourIso(clockH)}`);
            await sleep(20);
        }
    }
    let jobs;
    for (;;) {
        jobs = await jget('/v1/jobs');
        const open = jobs.filter((j) => j.runs.waiting + j.runs.queued + j.runs.running + j.runs.retrying > 0);
        if (!open.length) break;
        if (Date.now() - t > timeoutMs)
            throw new Error(`${what}: runs still open at clock ${hourIso(clockH)}: ${JSON.stringify(open.map((j) => [j.name, j.runs]))}`);
        await sleep(20);
    }
    const bad = jobs.filter((j) => j.runs.failed + j.runs.dead > 0);
    if (bad.length) {
        const why = [];
        for (const j of bad) for (const st of ['failed', 'dead']) for (const r of await jget(`/v1/jobs/${j.name}/runs?state=${st}&limit=3`)) why.push(`${j.name} ${r.window_start}: ${r.error}`);
        throw new Error(`${what}: failed runs: ${why.join('; ')}`);
    }
}

async function post(lines) {
    for (let i = 0; i < lines.length; i += 500) {
        const body = lines.slice(i, i + 500).join('\n') + '\n';
        const r = await srv.request('POST', '/v1/streams/events/records', body);
        if (r.code !== 200) throw new Error(`ingest: ${r.code} ${r.body.slice(0, 300)}`);
    }
    await srv.landed('events');
}

/* Key "dt|hr|event_type" (or "dt|event_type") → "n,n_cost,cost_micros,viewable" as numbers. */
const MEASURES = ['n', 'n_cost', 'cost_micros', 'viewable'];
const numOrNull = (v) => (v === null || v === undefined ? 'null' : String(Number(v)));
function keyed(rows, keys) {
    const m = new Map();
    for (const r of rows) {
        const k = keys.map((c) => String(r[c])).join('|');
        if (m.has(k)) m.set(k + '|DUPLICATE' + m.size, '');
        m.set(k, MEASURES.map((c) => numOrNull(r[c])).join(','));
    }
    return m;
}
/* Differences of two keyed maps; a and b name where the rows came from. */
function diff(want, got, a = 'DuckDB', b = 'sluice') {
    const probs = [];
    for (const [k, v] of want) if (got.get(k) !== v) probs.push(`${k}: ${a} ${v}, ${b} ${got.get(k) ?? 'missing'}`);
    for (const [k, v] of got) if (!want.has(k)) probs.push(`${k}: ${b} ${v}, not in ${a}`);
    return probs.slice(0, 20);
}

async function ssql(q) {
    const args = ['sql', '-c', CFG, '-F', 'ndjson', q];
    const r = await sluice(args);
    if (r.status !== 0) throw new Error(`sluice sql ${q}: exit ${r.status}: ${r.stderr.slice(0, 500)}`);
    return parseNdjson(r.stdout);
}

const duck = await openDuck();
const T1 = `read_parquet('${LAKE}/t1_events/**/*.parquet', hive_partitioning = true,
    hive_types_autocast = false, union_by_name = true)`;
/* DuckDB's hourly (per = ['dt','hr']) or daily (['dt']) aggregates of t1's files. */
async function duckAgg(per, where = "dt >= '2024-05-01'") {
    const cols = [...per, 'event_type'].join(', ');
    return duck.objs(`SELECT ${cols}, ${agg()} FROM ${T1} WHERE ${where} GROUP BY ${cols}`);
}
const t2Rows = (where = 'true') => ssql(`SELECT dt, hr, event_type, ${MEASURES.join(', ')} FROM t2_events_aggr_1h_hourly WHERE ${where}`);
const t3Rows = (table, where = 'true') => ssql(`SELECT dt, event_type, ${MEASURES.join(', ')} FROM ${table} WHERE ${where}`);
const hourWhere = (h) => `dt = '${dsOf(h)}' AND hr = '${hrOf(h)}'`;
const total = (rows) => rows.reduce((a, r) => a + Number(r.n), 0);

/* Events of hour h, n of them, spread over it: gen's records with their event_time set. */
async function lateEvents(h, n, seed) {
    const r = await sluice(['gen', '-n', String(n), '-s', String(seed)]);
    if (r.status !== 0) throw new Error('gen: ' + r.stderr);
    return r.stdout.toString().trim().split('\n').map((l, i) => {
        const o = JSON.parse(l);
        o.event_time = iso(BASE + BigInt(h) * HOUR + BigInt(i) * (HOUR / BigInt(n)));
        o.event_id = `late-${h}-${i}`;
        return JSON.stringify(o);
    });
}

/* ---- the scenario ------------------------------------------------------------------ */

await R.guard('scenario', async () => {
    const chk = await sluice(['config', '--check', CFG]);
    if (chk.status !== 0) throw new Error('config --check: ' + chk.stderr);
    R.check('config_check_tier_names', /naming rule/.test(chk.stderr) ? [chk.stderr.trim()] : []);

    // gen: 3 days of events; each is "sent" in the hour of the newest event time so far
    // (gen's late events, up to 2 h behind, arrive with the hour they were sent in).
    const g = await sluice(['gen', '-n', String(PER_HOUR * 24 * DAYS), '-s', '7', '--start', '2024-05-01T00:00:00Z',
        '--spacing-ms', String(3600000 / PER_HOUR)]);
    if (g.status !== 0) throw new Error('gen: ' + g.stderr);
    const batches = [];
    let newest = 0, lateN = 0;
    for (const line of g.stdout.toString().trim().split('\n')) {
        const ms = Date.parse(JSON.parse(line).event_time);
        if (ms < newest) lateN++;
        newest = Math.max(newest, ms);
        const h = Math.floor((newest - Number(BASE / 1000n)) / 3600000);
        (batches[h] ??= []).push(line);
    }
    if (batches.length > WALK_TO) throw new Error(`gen's events reach hour ${batches.length}`);
    console.log(`# ${PER_HOUR * 24 * DAYS} events over ${batches.length} hours, ${lateN} of them late`);

    setClock(0);
    await srv.start({ SLUICE_JOBS_CLOCK_FILE: CLOCK });
    R.ok('server_started');

    let lateRows = null, tooLateRows = null, beforeLate = null, beforeTooLate = null;
    for (let h = 0; h < WALK_TO; h++) {
        if (h === LATE_AT) { // t2 for LATE_H as of now, then its late events arrive
            const want = keyed(await duckAgg(['dt', 'hr'], hourWhere(LATE_H)), ['dt', 'hr', 'event_type']);
            beforeLate = await t2Rows(hourWhere(LATE_H));
            R.check('t2_hour_equals_landed_data_before_late_events', diff(want, keyed(beforeLate, ['dt', 'hr', 'event_type'])));
            lateRows = await lateEvents(LATE_H, 40, 11);
            await post(lateRows);
        }
        if (h === TOO_LATE_AT) {
            beforeTooLate = await t2Rows(hourWhere(TOO_LATE_H));
            tooLateRows = await lateEvents(TOO_LATE_H, 25, 12);
            await post(tooLateRows);
        }
        await post(batches[h] ?? []);
        setClock(h + 1);
        await settle(`clock ${hourIso(h + 1)}`);

        if (h + 1 === LATE_AT + 1) { // the fire at LATE_H + 3 h: lookback's last re-run of LATE_H
            const want = keyed(await duckAgg(['dt', 'hr'], hourWhere(LATE_H)), ['dt', 'hr', 'event_type']);
            const got = await t2Rows(hourWhere(LATE_H));
            const p = diff(want, keyed(got, ['dt', 'hr', 'event_type']));
            if (total(got) !== total(beforeLate) + lateRows.length) p.push(`t2 ${hourIso(LATE_H)}: ${total(got)} events, want ${total(beforeLate)} + ${lateRows.length} late`);
            R.check('lookback_folds_late_events_into_t2', p);
            // the delay-3h daily fired in the same tick and waited for that re-run
            const day = keyed(await duckAgg(['dt'], `dt = '${dsOf(LATE_H)}'`), ['dt', 'event_type']);
            R.check('daily_with_delay_3h_waits_for_the_hourly_lookback',
                diff(day, keyed(await t3Rows('t3_eventsdelay_aggr_1d_daily', `dt = '${dsOf(LATE_H)}'`), ['dt', 'event_type'])));
            // the delay-1h daily ran at 01:00, before the late events
            const t3 = total(await t3Rows('t3_events_aggr_1d_daily', `dt = '${dsOf(LATE_H)}'`));
            const dayTotal = [...day.values()].reduce((a, v) => a + Number(v.split(',')[0]), 0);
            R.check('daily_with_delay_1h_is_stale_until_its_lookback', t3 === dayTotal - lateRows.length ? [] :
                [`t3 ${dsOf(LATE_H)}: ${t3} events, want ${dayTotal} - ${lateRows.length} late`]);
        }
        if (h + 1 === TOO_LATE_AT + 1) { // too late for lookback: unchanged until forced
            const got = await t2Rows(hourWhere(TOO_LATE_H));
            R.check('events_beyond_lookback_not_folded', diff(keyed(beforeTooLate, ['dt', 'hr', 'event_type']), keyed(got, ['dt', 'hr', 'event_type']), 't2 before', 't2 after'));
            const r = await srv.request('POST', `/v1/jobs/${JOBS[0]}/runs`, JSON.stringify({ window: hourIso(TOO_LATE_H), force: true }));
            if (r.code !== 201) throw new Error(`forced re-run: ${r.code} ${r.body}`);
            const id = JSON.parse(r.body).run;
            for (let i = 0; ; i++) {
                const runs = await jget(`/v1/jobs/${JOBS[0]}/runs?window=${hourIso(TOO_LATE_H)}&limit=20`);
                const run = runs.find((x) => x.id === id);
                if (run && run.state === 'succeeded') break;
                if (run && ['failed', 'dead'].includes(run.state)) throw new Error(`forced re-run ${run.state}: ${run.error}`);
                if (i > 1000) throw new Error('forced re-run did not finish');
                await sleep(20);
            }
            const want = keyed(await duckAgg(['dt', 'hr'], hourWhere(TOO_LATE_H)), ['dt', 'hr', 'event_type']);
            const now = await t2Rows(hourWhere(TOO_LATE_H));
            const p = diff(want, keyed(now, ['dt', 'hr', 'event_type']));
            if (total(now) !== total(beforeTooLate) + tooLateRows.length) p.push(`${total(now)} events, want ${total(beforeTooLate)} + ${tooLateRows.length}`);
            R.check('forced_rerun_folds_events_beyond_lookback', p);
        }
    }
    console.log(`# walked ${WALK_TO} hours in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    setClock(END); // a day in one step: catch-up, then the dailies' lookback of 2024-05-03
    await settle(`clock ${hourIso(END)}`, 40000);
    R.ok('walked_the_clock_to_' + hourIso(END));

    // ---- the tables against DuckDB over t1's Parquet files ----
    const t2 = await t2Rows();
    const t2k = keyed(t2, ['dt', 'hr', 'event_type']);
    R.check('t2_equals_duckdb_hourly', diff(keyed(await duckAgg(['dt', 'hr']), ['dt', 'hr', 'event_type']), t2k));
    const dup = await ssql(`SELECT dt, hr, event_type, count(*) AS c FROM t2_events_aggr_1h_hourly GROUP BY 1, 2, 3 HAVING count(*) > 1`);
    R.check('t2_one_row_per_hour_and_kind', dup.map((r) => `${r.dt} ${r.hr} ${r.event_type}: ${r.c} rows`));
    const daily = keyed(await duckAgg(['dt']), ['dt', 'event_type']);
    R.check('t3_equals_duckdb_daily', diff(daily, keyed(await t3Rows('t3_events_aggr_1d_daily'), ['dt', 'event_type'])));
    R.check('t3_delay_3h_equals_duckdb_daily', diff(daily, keyed(await t3Rows('t3_eventsdelay_aggr_1d_daily'), ['dt', 'event_type'])));
    // the jobs' Parquet files as DuckDB reads them: the same rows (no replaced file left behind)
    const files = (t, cols) => duck.objs(`SELECT ${cols}, ${MEASURES.join(', ')} FROM read_parquet('${LAKE}/${t}/**/*.parquet',
        hive_partitioning = true, hive_types_autocast = false)`);
    R.check('t2_parquet_files_read_by_duckdb', diff(t2k, keyed(await files('t2_events_aggr_1h_hourly', 'dt, hr, event_type'), ['dt', 'hr', 'event_type']), 'sluice sql', 'DuckDB'));
    R.check('t3_parquet_files_read_by_duckdb', diff(daily, keyed(await files('t3_events_aggr_1d_daily', 'dt, event_type'), ['dt', 'event_type'])));
    const dups3 = await ssql(`SELECT dt, event_type FROM t3_events_aggr_1d_daily GROUP BY 1, 2 HAVING count(*) > 1`);
    R.check('t3_one_row_per_day_and_kind', dups3.map((r) => `${r.dt} ${r.event_type}`));

    // the data covered what it should: 3 days, every hour, the late events, all three kinds
    const p = [];
    const hours = new Set(t2.map((r) => `${r.dt}T${r.hr}`));
    for (let h = 0; h < 24 * DAYS; h++) if (!hours.has(hourIso(h).slice(0, 13))) p.push(`no t2 rows for ${hourIso(h)}`);
    const kinds = new Set(t2.map((r) => r.event_type));
    if (kinds.size !== 3) p.push(`event kinds ${[...kinds]}`);
    const n1 = Number((await duck.objs(`SELECT count(*) AS n FROM ${T1} WHERE dt >= '2024-05-01'`))[0].n);
    if (total(t2) !== n1 || n1 < PER_HOUR * 24 * DAYS - 10) p.push(`t2 counts ${total(t2)} events, t1 holds ${n1}`);
    R.check('t2_covers_every_hour_and_event', p);

    // runs: every hour once by schedule and 3 times by lookback (walked hour by hour)
    const runs = await jget(`/v1/jobs/${JOBS[0]}/runs?limit=100000`);
    const per = new Map();
    for (const r of runs) {
        if (r.state !== 'succeeded') continue;
        const k = per.get(r.window_start) ?? { schedule: 0, lookback: 0, manual: 0 };
        k[r.trigger] = (k[r.trigger] ?? 0) + 1;
        per.set(r.window_start, k);
    }
    const rp = [];
    for (let h = 0; h < END; h++) {
        const k = per.get(hourIso(h));
        const want = h + 4 <= WALK_TO ? `1,3,${h === TOO_LATE_H ? 1 : 0}` : null;
        if (!k || k.schedule !== 1) rp.push(`${hourIso(h)}: ${JSON.stringify(k)}`);
        else if (want && `${k.schedule},${k.lookback},${k.manual}` !== want) rp.push(`${hourIso(h)}: ${JSON.stringify(k)}, want schedule,lookback,manual ${want}`);
    }
    if (runs.some((r) => r.state !== 'succeeded')) rp.push(`runs not succeeded: ${runs.filter((r) => r.state !== 'succeeded').length}`);
    R.check('t2_runs_schedule_once_lookback_three_times', rp);
});

clearTimeout(deadline);
const code = await srv.stop();
R.check('server_stops_cleanly', code === 0 ? [] : [`exit ${code}: ${srv.log().slice(-1500)}`]);
const san = sanitizerReport(srv.log());
R.check('sanitizer_clean', san ? [san] : []);
duck.close();
console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s; ${R.passed} ok, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
