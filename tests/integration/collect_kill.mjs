// kind collect, workers killed -9 in the middle of a big report's download
// (issue 10's acceptance): `sluice serve` (no worker threads) with the lake
// on s3rver, two `sluice worker` processes restarted when they die, the mock
// ad media (tests/mock/admedia.mjs) serving the gads asynchronous CSV report
// of its big slice (acc20, 2022-09-10; SLUICE_KILL_MB MB, default 60) with
// OAuth2 refresh.  The file download goes through a throttling proxy
// (SLUICE_KILL_RATE MB/s, default 20) so that it can be cut at chosen
// points: the worker holding the task is killed -9 at 15%, 50% and 85% of
// the file (SLUICE_KILL_POINTS), each time the task is taken over by the
// other worker, which starts again; the last delivery finishes.
//
// s3rver implements neither ListMultipartUploads nor AbortMultipartUpload:
// the lake's endpoint is tests/node/lib/s3uploads.mjs's proxy, which answers
// them on s3rver's upload directory, and that directory is where orphans are
// looked for.
//
// Checks: the run succeeded (deliveries > kills); the slice's rows and
// install sum in the lake equal the mock's truth summary; a reader polling
// the slice's count throughout saw 0 (or no table) or the whole slice, never
// a part; at least one kill left an unfinished multipart upload with parts,
// and none is left in s3rver at the end; under raw/ exactly the run's one
// raw file and its manifest (content_length = the object's size; the file
// gunzips to the mock's bytes); no staging file left in the data directory.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { gadsJobYaml, startAdMedia } from '../mock/admedia.mjs';
import { BIN, Reporter, Server, makeTmp, sleep, sluice } from '../node/lib/common.mjs';
import { freePort, startS3rver, S3RVER_CREDS } from '../node/lib/s3rver.mjs';
import { s3rverUploads, startUploadsProxy } from '../node/lib/s3uploads.mjs';

const R = new Reporter();
const T = makeTmp('collect-kill');
const DATA = path.join(T, 'data');
const CFG = path.join(T, 'sluice.yaml');
const BUCKET = 'lake';
const S3DIR = path.join(T, 's3rver');
const MB = Number(process.env.SLUICE_KILL_MB ?? 60);
const RATE = Number(process.env.SLUICE_KILL_RATE ?? 20) * 1e6; // bytes/s of the file download
const POINTS = (process.env.SLUICE_KILL_POINTS ?? '0.15,0.5,0.85').split(',').map(Number);
const DAY = '2022-09-10';
const t0 = Date.now();
const log = (s) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)}s ${s}`);

/* A proxy in front of the mock that passes every request on (Host kept: the
 * mock's file_url then points here too) and sends the bodies of report file
 * downloads at RATE; progress of the current download in `dl`. */
async function startThrottle(target) {
    const dl = { n: 0, sent: 0, size: 0 };
    const srv = http.createServer((req, res) => {
        const file = req.url.startsWith('/gads/files/') && req.method === 'GET';
        const up = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (ur) => {
            res.writeHead(ur.statusCode, ur.headers);
            if (!file || ur.statusCode !== 200) { ur.pipe(res); return; }
            dl.n++;
            dl.sent = 0;
            dl.size = Number(ur.headers['content-length'] ?? 0);
            const start = Date.now();
            let wait = 0; // what holds the source: 1 the rate, 2 the client (backpressure)
            const go = (why) => { wait &= ~why; if (!wait) ur.resume(); };
            ur.on('data', (d) => {
                dl.sent += d.length;
                if (!res.write(d)) { wait |= 2; ur.pause(); res.once('drain', () => go(2)); }
                const ahead = dl.sent / RATE * 1000 - (Date.now() - start);
                if (ahead > 5) { wait |= 1; ur.pause(); setTimeout(() => go(1), ahead); }
            });
            ur.on('end', () => res.end());
            res.on('close', () => ur.destroy());
        });
        up.on('error', () => { try { res.destroy(); } catch { } });
        req.pipe(up);
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${srv.address().port}`, dl, close() { srv.close(); srv.closeAllConnections?.(); } };
}

const m = await startAdMedia({ port: 0, seed: 11, accounts: 20, bigMb: MB, polls: 1 });
const throttle = await startThrottle(m.port);
const s3 = await startS3rver(S3DIR, BUCKET);
const s3p = await startUploadsProxy(s3.port, S3DIR, BUCKET);
const PORT = await freePort();
const acc = m.accounts.find((a) => a.id === 'acc20');
fs.mkdirSync(path.join(T, 'secrets'));
fs.writeFileSync(path.join(T, 'secrets', 'rt'), acc.gads_refresh_token + '\n');
fs.writeFileSync(path.join(T, 'secrets', 'cid'), acc.gads_client_id + '\n');
fs.writeFileSync(path.join(T, 'secrets', 'cs'), acc.gads_client_secret + '\n');
fs.writeFileSync(CFG, `data_dir: ${DATA}
listen: 127.0.0.1:${PORT}
limits: {min_free_disk: 0}
workers: 0
secrets_dir: ${T}/secrets
query: {write_tokens: [wtok]}
scheduler: {tick: 100ms, task_timeout: 3s, heartbeat: 300ms, max_deliveries: 12}
lake:
  store: s3
  s3: {endpoint: "${s3p.endpoint}", bucket: ${BUCKET}, prefix: wh/, part_bytes: 5MiB}
pools:
  gads: {rate: 4/s, burst: 2}
jobs:
  gads_big:
${gadsJobYaml({ acc: 'acc20', base: throttle.url, table: 't1_gads_big_timeseries_daily', extra: '    pool: gads\n    timeout: 30m\n' })}`);

const server = new Server(T);
const env = { ...S3RVER_CREDS };
const workers = [null, null];
let stopping = false;
/* Worker slot i: a `sluice worker` restarted whenever it exits. */
function supervise(i) {
    if (stopping) return;
    const lf = fs.openSync(path.join(T, `worker${i}.log`), 'a');
    const p = spawn(BIN, ['worker', '-c', CFG, '--threads', '1'], { stdio: ['ignore', 'ignore', lf], env: { ...process.env, ...env } });
    fs.closeSync(lf);
    workers[i] = p;
    p.on('exit', () => { if (workers[i] === p) { workers[i] = null; setTimeout(() => supervise(i), 100); } });
}
/* The peak RSS of process pid (VmHWM), MB, or null. */
const hwm = (pid) => {
    try { return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024; } catch { return null; }
};
const runs = async () => {
    const r = await sluice(['runs', 'gads_big', '-c', CFG, '--format', 'json', '--limit', '10'], { env });
    try { return JSON.parse(r.stdout.toString() || '[]'); } catch { return []; }
};
const count = async () => {
    const r = await sluice(['sql', '-c', CFG, '-F', 'json', `SELECT count(*) AS n, sum(install) AS install FROM t1_gads_big_timeseries_daily WHERE account = 'acc20' AND dt = '${DAY}'`], { env });
    if (r.status !== 0) return /not found|no such table|does not exist|unknown table/i.test(r.stderr) ? { n: 0, missing: true } : { err: r.stderr.trim().split('\n').pop() };
    const v = JSON.parse(r.stdout.toString());
    return { n: Number(v[0].n), install: Number(v[0].install) };
};

const probs = [];
const seen = [];          // lake counts the reader saw
const killsAt = [];       // {frac, uploads with parts at the time}
let reading = true;
try {
    await server.start(env);
    supervise(0);
    supervise(1);
    const trig = await fetch(`${server.url}/v1/jobs/gads_big/runs`, {
        method: 'POST', headers: { authorization: 'Bearer wtok', 'content-type': 'application/json' },
        body: JSON.stringify({ window: DAY }) });
    if (trig.status !== 201) throw new Error(`trigger: ${trig.status} ${await trig.text()}`);
    const reader = (async () => {
        while (reading) {
            const c = await count();
            seen.push(c);
            await sleep(200);
        }
    })();
    for (const frac of POINTS) {
        const n0 = throttle.dl.n;
        for (const end = Date.now() + 120000; Date.now() < end && throttle.dl.n === n0;) await sleep(20);
        if (throttle.dl.n === n0) { probs.push(`no new download started before the kill at ${frac}`); break; }
        for (const end = Date.now() + 300000; Date.now() < end && throttle.dl.n === n0 + 1 && throttle.dl.sent < frac * throttle.dl.size;) await sleep(10);
        const v = await runs();
        const w = v[0] && /-(\d+)-w\d+$/.exec(v[0].worker || '');
        const pid = w ? Number(w[1]) : 0;
        const holder = workers.find((p) => p && p.pid === pid);
        if (!holder) { probs.push(`kill at ${frac}: no worker process ${pid} holds the run (${JSON.stringify(v[0])})`); break; }
        const ups = s3rverUploads(S3DIR, BUCKET);
        const rss = hwm(pid);
        holder.kill('SIGKILL');
        killsAt.push({ frac, sent: throttle.dl.sent, size: throttle.dl.size, uploads: ups.length, parts: ups.reduce((a, u) => a + u.parts, 0) });
        log(`killed worker ${pid} at ${(100 * throttle.dl.sent / throttle.dl.size).toFixed(0)}% of download ${throttle.dl.n} (${ups.length} unfinished upload(s), ${killsAt.at(-1).parts} part(s); its peak RSS ${rss?.toFixed(0)} MB)`);
    }
    let v = [];
    for (const end = Date.now() + 600000; Date.now() < end; await sleep(300)) {
        v = await runs();
        if (v[0] && ['succeeded', 'failed', 'dead'].includes(v[0].state)) break;
    }
    const fw = v[0] && /-(\d+)-w\d+$/.exec(v[0].worker || '');
    log(`run ${v[0]?.id} ${v[0]?.state} after ${v[0]?.deliveries} deliveries; the last worker's peak RSS ${fw ? hwm(Number(fw[1]))?.toFixed(0) : '?'} MB`);
    reading = false;
    await reader;
    seen.push(await count());
    const run = v[0] || {};
    R.check('run_succeeded_after_takeovers', run.state === 'succeeded' && run.deliveries >= POINTS.length + 1 && killsAt.length === POINTS.length
        ? [] : [`run ${JSON.stringify(run).slice(0, 600)}; kills ${JSON.stringify(killsAt)}`, ...probs]);

    const truth = m.truth('gads').slices.find((s) => s.account === 'acc20' && s.day === DAY);
    const last = seen.at(-1);
    R.check('lake_slice_equals_mock_truth', truth && last.n === truth.rows && last.install === truth.install
        ? [] : [`lake ${JSON.stringify(last)} truth ${JSON.stringify(truth)}`]);
    const partial = seen.filter((c) => c.err || (c.n !== 0 && c.n !== truth?.rows));
    R.check('no_partial_rows_visible', partial.length === 0 && seen.length >= 5
        ? [] : [`${seen.length} reads; odd: ${JSON.stringify(partial.slice(0, 5))}`]);
    log(`reader: ${seen.length} reads, ${seen.filter((c) => c.n === 0).length} empty, ${seen.filter((c) => c.n === truth?.rows).length} whole`);

    const left = s3rverUploads(S3DIR, BUCKET);
    R.check('no_orphan_multipart_uploads', left.length === 0 && killsAt.some((k) => k.parts > 0) && s3p.log.some((l) => l.startsWith('ABORT '))
        ? [] : [`left in s3rver: ${JSON.stringify(left)}; at the kills: ${JSON.stringify(killsAt)}; aborts: ${s3p.log.filter((l) => l.startsWith('ABORT')).length}`]);

    const rawDir = path.join(S3DIR, BUCKET, 'wh', 'raw');
    const objs = fs.existsSync(rawDir) ? fs.readdirSync(rawDir, { recursive: true }).map(String).filter((f) => f.endsWith('._S3rver_object')).map((f) => f.replace(/\._S3rver_object$/, '')).sort() : [];
    const pre = `gads_big/acc20/${DAY}/run${run.id}`;
    const rp = [];
    if (JSON.stringify(objs) !== JSON.stringify([`${pre}-0000.csv.gz`, `${pre}.manifest.json`].sort())) rp.push(`objects under raw/: ${JSON.stringify(objs)}`);
    else {
        const man = JSON.parse(fs.readFileSync(path.join(rawDir, `${pre}.manifest.json._S3rver_object`), 'utf8'));
        const gz = fs.readFileSync(path.join(rawDir, `${pre}-0000.csv.gz._S3rver_object`));
        if (man.entries.length !== 1 || man.entries[0].url !== `s3://${BUCKET}/wh/raw/${pre}-0000.csv.gz` || man.entries[0].meta.content_length !== gz.length || !man.entries[0].mandatory)
            rp.push(`manifest ${JSON.stringify(man)} (object ${gz.length} bytes)`);
        const csvBytes = zlib.gunzipSync(gz).length;
        if (csvBytes !== throttle.dl.size) rp.push(`raw file gunzips to ${csvBytes} bytes, the mock's file has ${throttle.dl.size}`);
        log(`raw file ${gz.length} bytes gzip'ed (${(csvBytes / 1e6).toFixed(1)} MB of CSV)`);
    }
    const tmpDir = path.join(DATA, 'jobs', 'tmp');
    const staged = fs.existsSync(tmpDir) ? fs.readdirSync(tmpDir) : [];
    if (staged.length) rp.push(`staging files left: ${staged.join(' ')}`);
    R.check('raw_file_stored_once_with_manifest', rp);
} catch (e) {
    R.fail('collect_kill', e.stack || e);
} finally {
    reading = false;
    stopping = true;
    await Promise.all(workers.filter(Boolean).map((p) => new Promise((r) => { p.once('exit', r); p.kill('SIGTERM'); })));
    await server.stop('SIGTERM');
    throttle.close();
    s3p.close();
    s3.proc.kill('SIGKILL');
    await m.close();
}
const logs = ['server.log', 'worker0.log', 'worker1.log'].map((f) => path.join(T, f)).filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
const san = logs.split('\n').filter((l) => /AddressSanitizer|runtime error:|LeakSanitizer/.test(l));
R.check('no_sanitizer_reports', san.slice(0, 10));
for (const l of logs.split('\n').filter((x) => /took over|records, |succeeded|raw sweep/.test(x))) console.log('# ' + l);
if (R.failed) console.log(logs.split('\n').filter((l) => /error|warn|took over|sweep/i.test(l)).slice(-40).join('\n'));
log(`done: ${MB} MB report, ${killsAt.length} kills`);
console.log(`${R.passed} passed, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
