// Issue 9's pools acceptance: 8 workers sharing `rate: 5/s, burst: 2`
// against a test HTTP server; the server sees at most the burst plus the
// rate, and one 429 with `Retry-After: 2` pauses every worker of the pool
// for 2 s.
//
//   sluice serve (workers: 4) ─┐                      ┌─► test API on 127.0.0.1
//   sluice worker --threads 4 ─┴─ pool api (5/s, 2) ──┤   (records every arrival;
//       one data directory, one pool file             │    the 12th gets 429 +
//                                                     │    Retry-After: 2)
//   backfill --parallel 8 of 40 hourly windows of a `command` job: sh + curl,
//   one request per task; on 429 it writes `SLUICE_PAUSE <Retry-After>` on
//   stderr and exits 75 (retries: 1 runs the window again).
//
// What each worker did is read from its process's debug log: the jobs
// runtime logs every token a task took with the pool's own time of the
// grant (pl_slot.granted_ms, the ms its bucket was computed at) and how long
// it waited; the pool logs the pause with its end and its length.  So the
// bucket is checked on the exact times it granted at (no slack at all), the
// server's view on the arrival times, and every request is matched to the
// token its task took.
//
// The jobs clock (SLUICE_JOBS_CLOCK_FILE) stands still on 2024-06-01 00:30:
// the job has a window but no run of its own falls due during the test, so
// the backfill's 40 runs are the only requests.  Pools keep the real clock.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { BIN, Reporter, Server, makeTmp, parseTs, sanitizerReport, sleep, sluice } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('jobpools');
const CFG = path.join(T, 'sluice.yaml');
const CLOCK = path.join(T, 'clock');
const DATA = path.join(T, 'data');
const WLOG = path.join(T, 'worker.log');
const RATE = 5, BURST = 2;                      // tokens per second, bucket size
const WINDOWS = 40;                             // hourly windows from 2024-05-01T00
const FROM = '2024-05-01', TO = '2024-05-02T16:00:00Z';
const VICTIM = 12;                              // the n-th request the API answers 429
const RETRY_AFTER = 2;                          // seconds
const t0 = Date.now();

/* ---- the test API ------------------------------------------------------------------ */

// Every arrival: `at` in ms of the real-time clock (Date.now, the clock the
// pool uses, both truncated to the ms) for comparisons with the pool's times,
// `mono` in ms of a monotonic clock (fractions kept) for interval lengths.
const reqs = [];
const api = http.createServer((req, res) => {
    const at = Date.now(), mono = Number(process.hrtime.bigint()) / 1e6;
    const u = new URL(req.url, 'http://x');
    const r = { at, mono, w: u.searchParams.get('w'), run: Number(u.searchParams.get('run')),
        attempt: Number(u.searchParams.get('attempt')), code: 200 };
    reqs.push(r);
    if (reqs.length === VICTIM) {
        r.code = 429;
        res.writeHead(429, { 'Retry-After': String(RETRY_AFTER), 'Content-Type': 'text/plain' });
        res.end('slow down\n');
        return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok\n');
});
api.keepAliveTimeout = 0;
await new Promise((r) => api.listen(0, '127.0.0.1', r));
const API = `http://127.0.0.1:${api.address().port}`;

/* ---- the setup ------------------------------------------------------------------- */

fs.writeFileSync(CLOCK, String(Date.parse('2024-06-01T00:30:00Z') * 1000));
fs.writeFileSync(CFG, `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 4
scheduler: {tick: 100ms, task_timeout: 10s, heartbeat: 500ms}
pools:
  api: {rate: ${RATE}/s, burst: ${BURST}}
jobs:
  t1_api_snapshot_hourly:
    kind: command
    window: hour
    pool: api
    retries: 1
    retry_delay: 0s
    timeout: 30s
    env: {API: "${API}"}
    command:
      - sh
      - -c
      - |
        set -- $(curl -sS --noproxy '*' -o /dev/null -w '%{http_code} %header{retry-after}' \\
            "$API/call?w=$SLUICE_WINDOW_START&run=$SLUICE_RUN_ID&attempt=$SLUICE_ATTEMPT")
        case "$1" in
        200) exit 0;;
        429) echo "SLUICE_PAUSE $2" >&2; echo "the API said 429 (Retry-After: $2)" >&2; exit 75;;
        *) echo "the API said $1" >&2; exit 1;;
        esac
`);
const JOB = 't1_api_snapshot_hourly';
const ENV = { SLUICE_JOBS_CLOCK_FILE: CLOCK, SLUICE_LOG_LEVEL: 'debug' };

const srv = new Server(T);
let wp = null, wpExit = null;
function killAll() {
    if (wp && wp.exitCode === null) try { wp.kill('SIGKILL'); } catch { }
    if (srv.proc) try { srv.proc.kill('SIGKILL'); } catch { }
}
process.on('exit', killAll);
const deadline = setTimeout(() => {
    R.fail('bounded', `still running after 90 s (${reqs.length} requests so far)`);
    killAll();
    process.exit(1);
}, 90000);

const wlog = () => (fs.existsSync(WLOG) ? fs.readFileSync(WLOG, 'utf8') : '');
const iso = (ms) => new Date(ms).toISOString();
const winMs = (s) => { const us = parseTs(String(s)); if (us === null) throw new Error(`not a time: ${s}`); return Number(us / 1000n); };
const expectWindows = Array.from({ length: WINDOWS }, (_, i) => Date.parse(FROM + 'T00:00:00Z') + i * 3600000);

async function jget(p) {
    const r = await srv.request('GET', p);
    if (r.code !== 200) throw new Error(`GET ${p}: ${r.code} ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body);
}

/* Tokens the tasks took, from the debug logs: {run, attempt, g (ms, the pool's
 * time of the grant), waited (ms), proc}, and the pause {until, at}. */
function readLogs() {
    const grants = [], pauses = [];
    const tok = /debug jobs: job \S+ run (\d+) attempt (\d+): pool api: token taken at (\S+) \(waited (\d+) ms\)/;
    const pau = /debug pool: pool 'api': paused until (\S+) \(for (\d+) ms\)/;
    for (const [proc, text] of [['serve', srv.log()], ['worker', wlog()]]) {
        for (const l of text.split('\n')) {
            let m = tok.exec(l);
            if (m) grants.push({ run: +m[1], attempt: +m[2], g: Number(parseTs(m[3]) / 1000n), waited: +m[4], proc });
            m = pau.exec(l);
            if (m) { const until = Number(parseTs(m[1]) / 1000n); pauses.push({ until, at: until - +m[2], proc }); }
        }
    }
    grants.sort((a, b) => a.g - b.g);
    return { grants, pauses };
}

/* The most requests/tokens in any interval measured against burst + rate × (its
 * length + allowMs): [] or the worst offender.  times: sorted ms. */
function bucketProblems(times, allowMs, what, when = (t) => iso(t)) {
    const p = [];
    let worst = null;
    for (let i = 0; i < times.length; i++) {
        for (let j = i + 1; j < times.length; j++) {
            const n = j - i + 1, t = times[j] - times[i];
            const bound = BURST + RATE * (t + allowMs) / 1000;
            // 1e-6: the pool's own slack for sums of fractions (PL__EPS, 1e-9 a grant)
            if (n > bound + 1e-6 && (!worst || n - bound > worst.over)) worst = { n, t, bound, over: n - bound, from: times[i] };
        }
    }
    if (worst) p.push(`${worst.n} ${what} within ${worst.t.toFixed(1)} ms from ${when(worst.from)}: more than ${BURST} + ${RATE}/s × ${((worst.t + allowMs) / 1000).toFixed(4)} s = ${worst.bound.toFixed(3)}`);
    return p;
}

/* ---- the run ------------------------------------------------------------------------ */

await R.guard('scenario', async () => {
    const chk = await sluice(['config', '--check', CFG]);
    if (chk.status !== 0) throw new Error('config --check: ' + chk.stderr);
    await srv.start(ENV);
    R.ok('server_started');
    const log = fs.openSync(WLOG, 'a');
    wp = spawn(BIN, ['worker', '-c', CFG, '--server', srv.url, '--threads', '4'],
        { stdio: ['ignore', 'ignore', log], env: { ...process.env, ...ENV } });
    fs.closeSync(log);
    wpExit = new Promise((r) => wp.once('exit', (code, sig) => r(code ?? sig)));
    // its threads are taking tasks once it logged them (before the backfill: all 8 compete from the start)
    for (let i = 0; i < 800 && !/jobs: 1 jobs, 4 workers, tasks from/.test(wlog()); i++) {
        if (wp.exitCode !== null) break;
        await sleep(25);
    }
    if (!/4 workers, tasks from/.test(wlog())) throw new Error('sluice worker did not start: ' + wlog().slice(-1500));
    R.ok('worker_process_started');

    const bf = await sluice(['backfill', JOB, '-c', CFG, '--from', FROM, '--to', TO, '--parallel', '8', '--name', 'pools']);
    R.check('backfill_queued', bf.status === 0 && (bf.stdout.toString() + bf.stderr).includes(`${WINDOWS} windows queued`) ? [] :
        [`exit ${bf.status}: ${bf.stderr.trim()}`]);

    // wait until every run finished
    let runs = [];
    for (let i = 0; ; i++) {
        runs = await jget(`/v1/jobs/${JOB}/runs?limit=1000`);
        const open = runs.filter((r) => !['succeeded', 'failed', 'dead'].includes(r.state));
        if (runs.length >= WINDOWS && !open.length) break;
        if (Date.now() - t0 > 60000) throw new Error(`runs still open after 60 s: ${open.map((r) => `${r.window_start} ${r.state}`).join(', ')}`);
        await sleep(100);
    }
    console.log(`# ${reqs.length} requests in ${((reqs.at(-1).at - reqs[0].at) / 1000).toFixed(2)} s`);

    /* 3. every window's run ends succeeded, none twice (as `sluice runs` says) */
    const rr = await sluice(['runs', JOB, '-c', CFG, '-f', 'json', '-n', '1000']);
    if (rr.status !== 0) throw new Error('sluice runs: ' + rr.stderr);
    const list = JSON.parse(rr.stdout.toString());
    const rp = [];
    const byWin = new Map();
    for (const r of list) {
        const k = winMs(r.window_start);
        if (byWin.has(k)) rp.push(`${r.window_start}: runs ${byWin.get(k).id} and ${r.id}`);
        byWin.set(k, r);
        if (r.state !== 'succeeded') rp.push(`${r.window_start}: run ${r.id} ${r.state} ${r.error}`);
        if (r.backfill !== 'pools') rp.push(`${r.window_start}: run ${r.id} not of the backfill (${r.trigger})`);
    }
    for (const w of expectWindows) if (!byWin.has(w)) rp.push(`no run for ${iso(w)}`);
    if (list.length !== WINDOWS) rp.push(`${list.length} runs, want ${WINDOWS}`);
    R.check('every_window_succeeded_once', rp);

    const victim = reqs[VICTIM - 1];
    const p3 = [];
    const oks = new Map();
    for (const q of reqs) if (q.code === 200) oks.set(winMs(q.w), (oks.get(winMs(q.w)) ?? 0) + 1);
    for (const w of expectWindows) if (oks.get(w) !== 1) p3.push(`${iso(w)}: answered 200 ${oks.get(w) ?? 0} times`);
    if (reqs.length !== WINDOWS + 1) p3.push(`${reqs.length} requests, want ${WINDOWS} + the one answered 429`);
    const vr = byWin.get(winMs(victim.w));
    if (!vr || vr.attempt !== 2) p3.push(`the window answered 429 (${victim.w}): ${JSON.stringify(vr)}, want attempt 2`);
    const others = list.filter((r) => r !== vr && r.attempt !== 1);
    if (others.length) p3.push(`runs with more than one attempt: ${others.map((r) => r.window_start).join(', ')}`);
    R.check('server_answered_each_window_once', p3);

    /* every request was made by a task holding a token of the pool */
    const { grants, pauses } = readLogs();
    const gk = new Map();
    const p4 = [];
    for (const g of grants) {
        const k = `${g.run}.${g.attempt}`;
        if (gk.has(k)) p4.push(`run ${g.run} attempt ${g.attempt} took two tokens`);
        gk.set(k, g);
    }
    for (const q of reqs) {
        const g = gk.get(`${q.run}.${q.attempt}`);
        if (!g) p4.push(`request of run ${q.run} attempt ${q.attempt} (${q.w}) without a token`);
        else if (g.g > q.at) p4.push(`request of run ${q.run} attempt ${q.attempt} at ${iso(q.at)}, before its token (${iso(g.g)})`);
        else q.g = g.g;
    }
    if (grants.length !== reqs.length) p4.push(`${grants.length} tokens taken, ${reqs.length} requests`);
    R.check('every_request_had_a_token', p4);

    /* 1. the bucket: in any t seconds at most burst + rate × t tokens, exactly as
     * docs/pools.md promises, over both processes (the pool's own grant times) */
    const gt = grants.map((g) => g.g);
    R.check('tokens_within_burst_plus_rate', bucketProblems(gt, 0, 'tokens'));

    // The server's view.  A request reaches the server l ms after its task took
    // the token: a fork of the worker, sh, curl, a connection (l is measured
    // per request: arrival − grant).  The pool bounds the grants; requests
    // that arrive within [x, x + t] were granted within [x − lmax, x + t − lmin],
    // so the server sees at most burst + rate × (t + lmax − lmin) — the spread
    // of that latency is the only allowance (+2 ms: both ends of each l are
    // readings truncated to the ms).  The first two requests use the burst
    // with the coldest start, so a strict bound on arrivals could fail by the
    // few ms the first fork took longer than the third: that is not the pool.
    const lat = reqs.filter((q) => q.g !== undefined).map((q) => q.at - q.g);
    const spread = Math.max(...lat) - Math.min(...lat) + 2;
    const mono = reqs.map((q) => q.mono).sort((a, b) => a - b);
    console.log(`# token -> request latency ${Math.min(...lat)}..${Math.max(...lat)} ms: allowance ${spread} ms`);
    const when = (m) => `${((m - mono[0]) / 1000).toFixed(3)} s after the first request`;
    const strict = bucketProblems(mono, 0, 'requests', when);
    if (strict.length) console.log(`# without the allowance: ${strict[0]}`);
    R.check('server_sees_at_most_burst_plus_rate', bucketProblems(mono, spread, 'requests', when));

    /* the 8 workers competed: several tasks waiting at once, in both processes,
     * and the pool's rate was used (not met by running slowly) */
    const pc = [];
    const per = { serve: 0, worker: 0 };
    for (const g of grants) per[g.proc]++;
    if (per.serve < 5 || per.worker < 5) pc.push(`tokens taken per process: ${JSON.stringify(per)}`);
    const ev = [];
    for (const g of grants) { ev.push([g.g - g.waited, 1]); ev.push([g.g, -1]); }
    ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let cur = 0, most = 0;
    for (const [, d] of ev) { cur += d; most = Math.max(most, cur); }
    if (most < 6) pc.push(`at most ${most} tasks waited for a token at once (8 workers)`);
    const pause = pauses[0];
    const span = gt.at(-1) - gt[0], paused = pause ? pause.until - pause.at : 0;
    const possible = BURST + RATE * (span - paused) / 1000;
    const ratio = grants.length / possible;
    if (ratio < 0.9) pc.push(`${grants.length} tokens in ${span} ms (${paused} ms paused): ${(100 * ratio).toFixed(0)}% of the ${possible.toFixed(1)} the pool allows`);
    console.log(`# tokens per process ${JSON.stringify(per)}; up to ${most} tasks waiting at once; ${grants.length} tokens = ${(100 * ratio).toFixed(1)}% of what the pool allows in ${span} ms`);
    R.check('workers_competed_for_the_rate', pc);

    /* 2. the 429 pauses every worker of the pool for Retry-After */
    const pp = [];
    if (victim.code !== 429) pp.push('no 429 was answered');
    if (pauses.length !== 1) pp.push(`${pauses.length} pauses logged: ${JSON.stringify(pauses)}`);
    const file = fs.readFileSync(path.join(DATA, 'jobs/pools/api.pool'));
    const fileUntil = file.subarray(0, 8).toString() === 'SLPOOL01' ? Number(file.readBigInt64LE(64)) : -1;
    if (pause) {
        if (fileUntil !== pause.until) pp.push(`the pool file says paused until ${fileUntil}, the log ${pause.until}`);
        if (pause.at < victim.at) pp.push(`paused at ${iso(pause.at)}, before the 429 (${iso(victim.at)})`);
        if (pause.until - victim.at < RETRY_AFTER * 1000) pp.push(`paused until ${iso(pause.until)}, less than ${RETRY_AFTER} s after the 429 (${iso(victim.at)})`);
        if (pause.until - pause.at > RETRY_AFTER * 1000) pp.push(`paused for ${pause.until - pause.at} ms`);
        if (pause.at - victim.at > 1000) pp.push(`the pause came ${pause.at - victim.at} ms after the 429`);
        console.log(`# 429 at ${iso(victim.at)}; pool paused by the ${pause.proc} process ${pause.at - victim.at} ms later, until ${iso(pause.until)}`);
    }
    R.check('pause_set_by_retry_after', pp);

    const pw = [];
    if (pause) {
        // no token at all while the pause is in force, in either process (a grant
        // at pause.at itself came before it: the pool's decisions are serialised
        // by its file lock, and both read the same ms clock)
        for (const g of grants) if (g.g > pause.at && g.g < pause.until) pw.push(`run ${g.run} (${g.proc}) took a token at ${iso(g.g)}, during the pause`);
        // and tasks of both processes were waiting through it
        for (const proc of ['serve', 'worker']) {
            const n = grants.filter((g) => g.proc === proc && g.g >= pause.until && g.g - g.waited <= pause.at).length;
            if (n < 1) pw.push(`no task of the ${proc} process waited through the pause`);
            else console.log(`# ${n} tasks of the ${proc} process waited through the pause`);
        }
    }
    R.check('pause_stops_every_worker_of_both_processes', pw);

    const pq = [];
    if (pause) {
        // The server side: after the 429, nothing reaches it for 2 s but requests
        // whose tasks took their token before the pause (in flight when the
        // 429 was answered: a pause cannot call them back).  No tolerance is
        // needed: a token taken after the pause is taken at pause.until or later,
        // and pause.until ≥ the 429 + 2 s on the same ms clock.
        const inFlight = [];
        for (const q of reqs) {
            if (q === victim || q.at < victim.at || q.at >= victim.at + RETRY_AFTER * 1000) continue;
            if (q.g !== undefined && q.g <= pause.at) inFlight.push(q);
            else pq.push(`request of run ${q.run} at ${iso(q.at)}, ${q.at - victim.at} ms after the 429 (token at ${q.g === undefined ? '?' : iso(q.g)})`);
        }
        console.log(`# ${inFlight.length} request(s) in flight when the 429 was answered`);
        const after = reqs.filter((q) => q.at >= pause.until);
        if (after.length < 20) pq.push(`only ${after.length} requests after the pause`);
        const first = grants.find((g) => g.g >= pause.until);
        // the bucket holds at most one token when the pause ends: the next one
        // is due within 1/rate; waiters look again at most every 100 ms
        if (!first || first.g > pause.until + 1000 / RATE + 500) pq.push(`the first token after the pause at ${first ? iso(first.g) : 'never'}, pause until ${iso(pause.until)}`);
        else console.log(`# first token after the pause ${first.g - pause.until} ms after its end`);
    }
    R.check('server_quiet_for_retry_after_then_resumes', pq);
});

clearTimeout(deadline);
if (wp) {
    if (wp.exitCode === null) wp.kill('SIGTERM');
    const code = await wpExit;
    R.check('worker_stops_cleanly', code === 0 ? [] : [`exit ${code}: ${wlog().slice(-1500)}`]);
}
const code = await srv.stop();
R.check('server_stops_cleanly', code === 0 ? [] : [`exit ${code}: ${srv.log().slice(-1500)}`]);
const san = sanitizerReport(srv.log() + '\n' + wlog());
R.check('sanitizer_clean', san ? [san] : []);
await new Promise((r) => api.close(r));
console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s; ${R.passed} ok, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
