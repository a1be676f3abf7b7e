// Issue 10's scenario: the three example collectors (examples/fb_insights.yaml,
// gads_report.yaml, yt_report.yaml) against the mock ad media
// (tests/mock/admedia.mjs), hourly over 3 simulated days on the jobs
// runtime's test clock (SLUICE_JOBS_CLOCK_FILE), moved 4 hours at a time (the
// fires in between are caught up; a window's runs do not pile up).  The test changes only what
// ties an example to this machine: the mock's URL, data_dir, listen,
// secrets_dir, the scheduler tick, `start`, the call retries' backoff, and the pools' rates (the mock
// here allows 10x the defaults so the walk takes a minute; the pools stay
// under it).  Each hour the scheduler fires every job: yesterday and the 2
// days before are re-collected for 4 accounts (acc07's OAuth token expires
// after each use; acc13 always answers 500).  Half-way the media change keys
// (fb: Impressions/CLICKS/Spend + video_views; gads: capitalised header +
// View_Through_Installs).  Then:
//   - each medium's lake table equals the mock's final truth for every
//     (account, day): rows, install and clicks sums, computed by DuckDB over
//     the tables' live Parquet files;
//   - the mock counted no rate-limit violation on any medium;
//   - acc13's runs all failed with its 500 in `sluice runs`; every other
//     account's runs succeeded;
//   - every raw file of a committed run is in the store with its manifest,
//     whose content_length values are the files' sizes;
//   - a reader polling one (account, day) through POST /v1/query while its
//     slice is replaced every hour never saw it missing once it landed, nor
//     any campaign twice.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startAdMedia } from '../mock/admedia.mjs';
import { Reporter, Server, makeTmp, openDuck, sleep, sluice } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('cscen');
const DATA = path.join(T, 'data');
const LAKE = path.join(DATA, 'lake');
const CLOCK = path.join(T, 'clock');
const ROOT = process.env.SLUICE_ROOT || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const ACCOUNTS = ['acc01', 'acc02', 'acc07', 'acc13'];
const START = Date.parse('2022-09-08T00:00:00Z');
const HOURS = 72;                       // walk 2022-09-08 00:30 .. 2022-09-11 00:30
const DAYS = ['2022-09-07', '2022-09-08', '2022-09-09', '2022-09-10']; // the jobs start 09-07
const STEP_H = 4;                       // the clock moves 4 h at a time: 4 hourly fires per step
const PHASE2_AT = 36;
const MEDIA = {
    fb: { example: 'fb_insights.yaml', job: 'fb_insights', table: 't1_fb_insights_timeseries_daily' },
    gads: { example: 'gads_report.yaml', job: 'gads_campaigns', table: 't1_gads_campaigns_timeseries_daily' },
    yt: { example: 'yt_report.yaml', job: 'yt_videos', table: 't1_yt_videos_timeseries_daily' },
};
const t0 = Date.now();
const m = await startAdMedia({
    port: 0, seed: 11, accounts: 13, polls: 1,
    limits: { fb: { rate: 100, burst: 20 }, gads: { rate: 60, burst: 10 }, yt: { rate: 40, burst: 8 } },
    rows: { fb: [20, 40], gads: [15, 30], yt: [8, 16] },
});

// One config from the three examples: their jobs and pools, with this machine's settings.
function section(text, name) { // the lines of a top-level section, without its header
    const lines = text.split('\n'), out = [];
    let on = false;
    for (const l of lines) {
        if (/^\S/.test(l)) on = l.startsWith(name + ':');
        else if (on) out.push(l);
    }
    return out.join('\n');
}
const rates = { fb: '{rate: 80/s, burst: 10, concurrency: 4}', gads: '{rate: 50/s, burst: 5, concurrency: 4}', yt: '{rate: 30/s, burst: 4, concurrency: 2}' };
let pools = '', jobs = '';
for (const [med, x] of Object.entries(MEDIA)) {
    const ex = fs.readFileSync(path.join(ROOT, 'examples', x.example), 'utf8');
    pools += section(ex, 'pools').replace(new RegExp(`^(\\s+${med}:\\s*)\\{[^}]*\\}`, 'm'), `$1${rates[med]}`) + '\n';
    jobs += section(ex, 'jobs').replace(/^(\s+start:\s*).*$/m, '$12022-09-07')
        .replace(/http:\/\/127\.0\.0\.1:9400/g, m.url)
        // acc13's 500s are retried per call 1 s, 2 s, 4 s apart by default: 7 s of each hour's wait
        .replace(/^(\s+report: *)\{/m, '$1{call_backoff: 20ms, ')
        .replace(/^(\s+)report: *\n/m, '$1report:\n$1  call_backoff: 20ms\n') + '\n';
}
const CFG = path.join(T, 'sluice.yaml');
fs.writeFileSync(CFG, `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 6
secrets_dir: ${T}/secrets
scheduler: {tick: 100ms, task_timeout: 20s, heartbeat: 500ms}
pools:
${pools}jobs:
${jobs}`);
fs.mkdirSync(path.join(T, 'secrets'));
for (const id of ACCOUNTS) {
    const a = m.accounts.find((x) => x.id === id);
    const put = (n, v) => fs.writeFileSync(path.join(T, 'secrets', n), v + '\n');
    put(`fb_${id}`, a.fb_token);
    put(`yt_${id}`, a.yt_key);
    put(`gads_rt_${id}`, a.gads_refresh_token);
    put(`gads_cid_${id}`, a.gads_client_id);
    put(`gads_cs_${id}`, a.gads_client_secret);
}
const iso = (ms) => new Date(ms).toISOString();
const setClock = (ms) => { // atomic: a half-written file would read as the real clock
    fs.writeFileSync(CLOCK + '.tmp', String(ms * 1000) + '\n');
    fs.renameSync(CLOCK + '.tmp', CLOCK);
};
setClock(START + 30 * 60000);

const server = new Server(T);
let duck;
try {
    const check = await sluice(['config', '--check', CFG]);
    check.status === 0 ? R.ok('examples_pass_config_check') : R.fail('examples_pass_config_check', check.stderr.toString() + fs.readFileSync(CFG, 'utf8'));
    await server.start({ SLUICE_JOBS_CLOCK_FILE: CLOCK });
    const runs = async (job) => JSON.parse((await sluice(['runs', job, '-c', CFG, '--format', 'json',
        '--limit', '100000'])).stdout.toString() || '[]');
    // retrying runs wait for the (test) clock: they count as settled
    const open = (v) => v.filter((r) => !['succeeded', 'failed', 'dead', 'retrying'].includes(r.state));
    const settled = async (minRuns, ms = 120000) => {
        for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
            let n = 0, busy = 0;
            for (const x of Object.values(MEDIA)) { const v = await runs(x.job); n += v.length; busy += open(v).length; }
            if (n >= minRuns && busy === 0) return true;
        }
        return false;
    };

    // the reader: one (account, day) slice, polled while it is replaced
    const RD = { account: 'acc02', dt: '2022-09-08' };
    const reader = { polls: 0, seen: false, missing: 0, doubled: 0, errors: 0, last: '', stop: false };
    const readLoop = (async () => {
        const sql = `SELECT count(*) AS n, count(DISTINCT campaign_id) AS d FROM ${MEDIA.fb.table} WHERE account = '${RD.account}' AND dt = '${RD.dt}'`;
        while (!reader.stop) {
            try {
                const r = await fetch(`${server.url}/v1/query`, { method: 'POST', body: JSON.stringify({ sql }) });
                const body = await r.text();
                if (r.status === 200) {
                    const [row] = JSON.parse(body);
                    reader.polls++;
                    if (row.n > 0) reader.seen = true;
                    else if (reader.seen) reader.missing++;
                    if (row.n !== row.d) reader.doubled++, reader.last = body;
                } else if (!/no such table/.test(body)) reader.errors++, reader.last = body;
            } catch (e) { reader.errors++; reader.last = String(e); }
            await sleep(20);
        }
    })();

    let walked = 0, seen = 0;
    for (let h = 0; h <= HOURS; h += STEP_H) {
        if (h === PHASE2_AT) m.setPhase(2);
        setClock(START + h * 3600000 + 30 * 60000);
        // every hourly fire creates runs (the trailing days again): wait for them, then for them to end
        if (!(await settled(seen + 1))) { R.fail('hourly_walk_settles', `hour ${h}: no new runs, or runs still open`); break; }
        seen = 0;
        for (const x of Object.values(MEDIA)) seen += (await runs(x.job)).length;
        walked = h;
    }
    reader.stop = true;
    await readLoop;
    walked === HOURS ? R.ok('hourly_walk_over_three_days') : R.fail('hourly_walk_over_three_days', `stopped at hour ${walked}`);
    const stats = m.stats();
    stats.phase === 2 ? R.ok('media_changed_keys_half_way') : R.fail('media_changed_keys_half_way', JSON.stringify(stats.phase));

    // every run of acc13 failed with its 500; every other one succeeded
    let allOk = true, failOk = true, nRuns = 0, nFailed = 0, detail = '';
    const lastRuns = {};
    for (const [med, x] of Object.entries(MEDIA)) {
        const v = await runs(x.job);
        nRuns += v.length;
        for (const r of v) {
            if (r.account === 'acc13') { // failed, or retrying (its last attempt's error shown)
                nFailed += r.state === 'failed';
                if (!['failed', 'retrying'].includes(r.state) || !/HTTP 500/.test(r.error || '')) failOk = false, detail += `${med} acc13 ${r.state} ${r.error}\n`;
            } else if (r.state !== 'succeeded') allOk = false, detail += `${med} ${r.account} ${r.window_start} ${r.state} ${r.error}\n`;
            else {
                const k = `${med}|${r.account}|${r.window_start.slice(0, 10)}`;
                if (!lastRuns[k] || lastRuns[k].id < r.id) lastRuns[k] = r;
            }
        }
    }
    const perHour = nRuns / HOURS;
    allOk ? R.ok('every_other_account_succeeded') : R.fail('every_other_account_succeeded', detail.slice(0, 2000));
    failOk && nFailed > 0 ? R.ok('failing_account_fails_with_its_status_in_runs') : R.fail('failing_account_fails_with_its_status_in_runs', detail.slice(0, 2000));
    // every day re-collected at several hourly fires (restated numbers)
    const fbRuns = (await runs(MEDIA.fb.job)).filter((r) => r.account === 'acc01' && r.window_start.startsWith('2022-09-08'));
    fbRuns.length >= 48 / STEP_H ? R.ok('trailing_days_recollected_every_hour') : R.fail('trailing_days_recollected_every_hour', `${fbRuns.length} runs of acc01 2022-09-08`);

    // the mock counted no violation
    const viol = Object.fromEntries(Object.keys(MEDIA).map((med) => [med, stats.media[med].violations]));
    Object.values(viol).every((v) => v === 0) ? R.ok('no_medium_limit_exceeded') : R.fail('no_medium_limit_exceeded', JSON.stringify(viol));
    const rf = stats.media.gads.refreshes_by_account;
    (rf.acc07 ?? 0) > (rf.acc01 ?? 0) && (rf.acc01 ?? 0) >= 1
        ? R.ok('expired_token_refreshed_per_account') : R.fail('expired_token_refreshed_per_account', JSON.stringify(rf));

    // the lake equals the mock's truth, per (account, day), by DuckDB over the live files
    duck = await openDuck();
    for (const [med, x] of Object.entries(MEDIA)) {
        const truth = m.truth(med).slices.filter((s) => s.account !== 'acc13')
            .map((s) => `${s.account}|${s.day}|${s.rows}|${s.install}|${s.clicks}`).sort();
        const glob = path.join(LAKE, x.table, '**', '*.parquet');
        let lake = [];
        try {
            const rows = await duck.objs(`SELECT account, CAST(dt AS VARCHAR) AS dt, count(*) AS n, sum(CAST(install AS BIGINT)) AS i,
                sum(CAST(clicks AS BIGINT)) AS c FROM read_parquet('${glob}', hive_partitioning = true, union_by_name = true)
                GROUP BY 1, 2 ORDER BY 1, 2`);
            lake = rows.map((r) => `${r.account}|${r.dt}|${r.n}|${r.i}|${r.c}`).sort();
        } catch (e) { lake = [String(e)]; }
        JSON.stringify(lake) === JSON.stringify(truth) && truth.length === DAYS.length * 3
            ? R.ok(`${med}_lake_equals_mock_truth_in_duckdb`)
            : R.fail(`${med}_lake_equals_mock_truth_in_duckdb`, `lake ${lake.length} ${JSON.stringify(lake.slice(0, 4))}\ntruth ${truth.length} ${JSON.stringify(truth.slice(0, 4))}`);
    }
    // the new keys became columns; the case-changed ones stayed one column
    const cols = await duck.objs(`DESCRIBE SELECT * FROM read_parquet('${path.join(LAKE, MEDIA.fb.table, '**', '*.parquet')}', union_by_name = true)`);
    const names = cols.map((c) => c.column_name);
    names.includes('video_views') && names.filter((n) => n.toLowerCase() === 'clicks').length === 1
        ? R.ok('new_keys_add_columns_case_changes_do_not') : R.fail('new_keys_add_columns_case_changes_do_not', names.join(','));

    // CSV / TSV reports land typed columns: counts int64, text stays text (every
    // column of a CSV report used to be a string)
    const typed = [];
    for (const med of ['gads', 'yt']) {
        const d = await duck.objs(`DESCRIBE SELECT * FROM read_parquet('${path.join(LAKE, MEDIA[med].table, '**', '*.parquet')}', union_by_name = true)`);
        const ty = Object.fromEntries(d.map((c) => [c.column_name.toLowerCase(), c.column_type]));
        if (ty.install !== 'BIGINT' || ty.clicks !== 'BIGINT' || !Object.values(ty).includes('VARCHAR')) typed.push(`${med}: ${JSON.stringify(ty)}`);
    }
    typed.length === 0 ? R.ok('csv_and_tsv_reports_land_typed_columns') : R.fail('csv_and_tsv_reports_land_typed_columns', typed.join('\n'));

    // raw files and manifests of the committed runs
    let rawOk = true, rawDetail = '', checked = 0;
    for (const [k, r] of Object.entries(lastRuns)) {
        const [med, account, day] = k.split('|');
        if (!DAYS.includes(day)) continue;
        const dir = path.join(LAKE, 'raw', MEDIA[med].job, account, day);
        const manPath = path.join(dir, `run${r.id}.manifest.json`);
        if (!fs.existsSync(manPath)) { rawOk = false; rawDetail += `no manifest ${manPath}\n`; continue; }
        const man = JSON.parse(fs.readFileSync(manPath, 'utf8'));
        for (const e of man.entries) {
            const f = e.url.startsWith('/') ? e.url : path.join(LAKE, e.url.replace(/^.*\/raw\//, 'raw/'));
            const size = fs.existsSync(f) ? fs.statSync(f).size : -1;
            if (!e.mandatory || size !== e.meta.content_length) rawOk = false, rawDetail += `${e.url} ${size} vs ${e.meta.content_length}\n`;
        }
        if (!man.entries.length) rawOk = false, rawDetail += `empty manifest ${manPath}\n`;
        checked++;
    }
    rawOk && checked === 3 * 3 * DAYS.length ? R.ok('raw_files_and_manifests_match_the_commits') : R.fail('raw_files_and_manifests_match_the_commits', `${checked} slices\n${rawDetail.slice(0, 1500)}`);

    reader.polls > 20 && reader.seen && !reader.missing && !reader.doubled && !reader.errors
        ? R.ok('reader_never_sees_the_day_missing_or_doubled')
        : R.fail('reader_never_sees_the_day_missing_or_doubled', JSON.stringify(reader));
    const code = await server.stop();
    code === 0 ? R.ok('clean_stop') : R.fail('clean_stop', `exit ${code}`);
    /AddressSanitizer|runtime error/.test(server.log()) ? R.fail('no_sanitizer_reports', server.log().slice(-3000)) : R.ok('no_sanitizer_reports');
    console.log(`# ${HOURS} simulated hours, ${nRuns} runs (${perHour.toFixed(1)}/h), reader ${reader.polls} polls, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
} catch (e) {
    R.fail('collect_scenario', e.stack + '\n' + server.log().slice(-3000));
} finally {
    duck?.close();
    await server.stop('SIGKILL');
    await m.close();
}
process.exitCode = R.failed ? 1 : 0;
