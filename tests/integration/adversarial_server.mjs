// Adversarial load on the HTTP server (loopback only, bounded):
//  - 1,024 declared streams under a soft open-files limit of 1,024, then 300
//    concurrent connections all answered (the server raises the limit and
//    waits in poll(), not select());
//  - a start-up failure names its cause (address in use);
//  - 300 slow clients trickling header bytes: /healthz and ingest stay
//    responsive (per-client cap), and the server cuts them after the header
//    timeout;
//  - query API abuse: temp-table storage capped, read tokens write nothing,
//    concurrent queries capped with 429 + Retry-After.
// Slow clients bind source addresses 127.0.0.2 and 127.0.1.x (all loopback).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { BIN, Reporter, makeTmp } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('adv-server');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function start(name, yaml, { softNofile, nofile } = {}) {
    const cfg = path.join(T, `${name}.yaml`), pf = path.join(T, `${name}.port`);
    const logf = path.join(T, `${name}.log`);
    fs.writeFileSync(cfg, yaml);
    const limit = softNofile ? `ulimit -Sn ${softNofile} && ` : nofile ? `ulimit -n ${nofile} && ` : '';
    const cmd = `${limit}exec "$0" serve -c "$1" --port-file "$2"`;
    const proc = spawn('bash', ['-c', cmd, BIN, cfg, pf], { stdio: ['ignore', 'ignore', fs.openSync(logf, 'a')] });
    let exited = null;
    proc.on('exit', (code) => { exited = code; });
    for (let i = 0; i < 1200 && exited === null; i++) {
        if (fs.existsSync(pf) && fs.readFileSync(pf, 'utf8').trim())
            return { proc, port: Number(fs.readFileSync(pf, 'utf8').trim()), log: logf };
        await sleep(50);
    }
    if (exited === null) proc.kill('SIGKILL');
    return { proc: null, port: 0, log: logf, error: fs.readFileSync(logf, 'utf8') };
}

async function stop(srv, ms = 30000) {
    if (!srv.proc) return true;
    const done = new Promise((r) => srv.proc.on('exit', () => r(true)));
    srv.proc.kill('SIGTERM');
    const ok = await Promise.race([done, sleep(ms).then(() => false)]);
    if (!ok) srv.proc.kill('SIGKILL');
    return ok;
}

/* One HTTP request; resolves {code, body, headers, ms} (code 0 on error/timeout). */
function request(port, method, p, body, { headers = {}, localAddress, timeout = 5000 } = {}) {
    return new Promise((resolve) => {
        const t0 = Date.now();
        const req = http.request({ host: '127.0.0.1', port, method, path: p, agent: false, localAddress,
            headers: { ...headers, ...(body != null ? { 'Content-Length': Buffer.byteLength(body) } : {}) } }, (res) => {
            let data = '';
            res.on('data', (d) => { data += d; });
            res.on('end', () => resolve({ code: res.statusCode, body: data, headers: res.headers, ms: Date.now() - t0 }));
            res.on('error', () => resolve({ code: 0, ms: Date.now() - t0 }));
        });
        req.on('error', (e) => resolve({ code: 0, error: e.code, ms: Date.now() - t0 }));
        req.setTimeout(timeout, () => req.destroy());
        req.end(body ?? undefined);
    });
}

function sanitizerClean(name, log) {
    const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
    const m = text.match(/(AddressSanitizer|runtime error)[\s\S]{0,1500}/);
    if (m) R.fail(name, m[0]); else R.ok(name);
}

/* ---- 1,024 streams, soft limit 1,024 open files, 300 connections ---------- */
async function manyStreams() {
    const hard = Number(spawnSync('bash', ['-c', 'ulimit -Hn']).stdout.toString().trim());
    if (hard !== hard || hard < 8192) { R.skip('streams_1024_start', `hard open-files limit ${hard} < 8192`); return; }
    let yaml = `data_dir: ${T}/many\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\nstreams:\n`;
    for (let i = 0; i < 1024; i++) yaml += `  s${i}: {}\n`;
    const srv = await start('many', yaml, { softNofile: 1024 });
    if (!srv.proc) { R.fail('streams_1024_start', srv.error); return; }
    R.ok('streams_1024_start');
    // 300 connections open at once (100 per source address, under the per-client cap)
    const N = 300, sends = [];
    // each connection holds its request until all are open and the server
    // holds them all (its open files grew by one each), then all send
    const fds = () => { try { return fs.readdirSync(`/proc/${srv.proc.pid}/fd`).length; } catch { return -1; } };
    const fd0 = fds();
    let settled = 0;
    const settle = async (send) => {
        if (send) sends.push(send);
        if (++settled < N) return;
        for (const t0 = Date.now(); fds() < fd0 + sends.length && Date.now() - t0 < 10000;) await sleep(20);
        for (const f of sends) f();
    };
    const results = await Promise.all(Array.from({ length: N }, (_, i) => {
        const localAddress = `127.0.0.${1 + (i % 3)}`;
        const body = JSON.stringify({ i }) + '\n';
        return new Promise((resolve) => {
            let counted = false;
            const once = (send) => { if (!counted) { counted = true; settle(send); } };
            const s = net.connect({ host: '127.0.0.1', port: srv.port, localAddress }, () => {
                once(() => s.write(`POST /v1/streams/s${i % 1024}/records HTTP/1.1\r\nHost: x\r\n` +
                    `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`));
            });
            let data = '';
            s.on('data', (d) => { data += d; });
            s.on('close', () => { once(null); resolve(data.split('\r\n')[0]); });
            s.on('error', () => { once(null); resolve('error'); });
            s.setTimeout(20000, () => s.destroy());
        });
    }));
    const bad = results.filter((r) => !r.startsWith('HTTP/1.1 200'));
    R.check('connections_300_concurrent_all_answered', bad.slice(0, 5).map((r) => `got '${r}'`).concat(
        bad.length ? [`${bad.length} of ${N} not answered 200`] : []));
    const h = await request(srv.port, 'GET', '/healthz');
    R.check('streams_1024_healthz', h.code === 200 ? [] : [`healthz ${h.code}`]);
    // a second server on the same port: the error names the cause
    const port = srv.port;
    const second = spawnSync(BIN, ['serve', '--listen', `127.0.0.1:${port}`, '--data', `${T}/other`],
        { encoding: 'utf8', timeout: 20000 });
    R.check('port_in_use_error_names_cause',
        second.status !== 0 && /address already in use/.test(second.stderr) ? [] : [`exit ${second.status}: ${second.stderr}`]);
    const t0 = Date.now();
    const clean = await stop(srv);
    R.check('streams_1024_stop_bounded', clean ? [] : [`no clean exit in ${Date.now() - t0} ms`]);
    sanitizerClean('streams_1024_sanitizer_clean', srv.log);
}

/* Start `sluice serve -c cfg --port-file pf` under `ulimit -n n`: resolves
 * {started: true} once it listens (the port file has the port, or it said it
 * cannot write one), then stopped with SIGTERM; else {started: false, status,
 * stderr} once it exits (or {stuck: true} after 30 s). */
function serveWithLimit(n, cfg, pf) {
    return new Promise((resolve) => {
        fs.rmSync(pf, { force: true });
        const proc = spawn('bash', ['-c', `ulimit -n ${n} && exec "$0" serve -c "$1" --port-file "$2"`, BIN, cfg, pf],
            { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '', outcome = null, timer = null;
        proc.stderr.setEncoding('utf8');
        proc.stderr.on('data', (d) => { stderr += d; });
        proc.on('close', (status) => {
            clearTimeout(timer);
            resolve(outcome ?? { started: false, status, stderr });
        });
        const t0 = Date.now();
        const poll = () => {
            const port = fs.existsSync(pf) ? fs.readFileSync(pf, 'utf8').trim() : '';
            if (port || /cannot write the port/.test(stderr)) {
                outcome = { started: true };
                proc.kill('SIGTERM'); // its pid: bash exec'd sluice
                timer = setTimeout(() => proc.kill('SIGKILL'), 30000);
            } else if (Date.now() - t0 > 30000) {
                outcome = { started: false, stuck: true, stderr };
                proc.kill('SIGKILL');
            } else timer = setTimeout(poll, 20);
        };
        poll();
    });
}

/* ---- too few file descriptors: the error says so, at every limit ---------- */
async function fewFiles() {
    const cfg = path.join(T, 'few.yaml');
    fs.writeFileSync(cfg, `data_dir: ${T}/few\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\n` +
        `streams:\n  a: {}\n  b: {}\n`);
    const problems = [];
    let n = 8, started = false;
    for (; n < 40 && !started; n++) {
        fs.rmSync(`${T}/few`, { recursive: true, force: true });
        // started = it listens (then stopped by SIGTERM)
        const r = await serveWithLimit(n, cfg, path.join(T, 'few.port'));
        if (r.started) { started = true; break; }
        if (r.stuck) { problems.push(`limit ${n}: neither listening nor exited in 30 s: ${r.stderr}`); continue; }
        // never the old guess "in use"; a failure of the HTTP server names EMFILE
        const last = r.stderr.trim().split('\n').pop() ?? '';
        if (r.status === 0 || /in use/.test(r.stderr) ||
            (/HTTP server|listen/.test(last) && !/Too many open files/.test(last)))
            problems.push(`limit ${n}: exit ${r.status}: ${last}`);
    }
    if (!started) problems.push('never started');
    R.check('too_few_files_error_names_cause', problems);
}

/* ---- slow clients ------------------------------------------------------------- */
function slowClients(port, addrs) {
    const st = { socks: [], closed: 0, refused: 0, openAt: [], closedAt: [] };
    addrs.forEach((localAddress, i) => {
        const s = net.connect({ host: '127.0.0.1', port, localAddress });
        s.on('connect', () => { st.openAt[i] = Date.now(); s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: '); });
        s.on('error', () => {});
        s.on('close', () => { st.closed++; st.closedAt[i] = Date.now(); });
        st.socks.push(s);
    });
    st.timer = setInterval(() => { for (const s of st.socks) if (!s.destroyed && s.writable) s.write('a'); }, 1000);
    st.end = () => { clearInterval(st.timer); for (const s of st.socks) s.destroy(); };
    return st;
}

async function slowloris() {
    const srv = await start('slow', `data_dir: ${T}/slow\nlisten: 127.0.0.1:0\nhttp:\n  max_connections: 200\n` +
        `  max_connections_per_client: 50\n  header_timeout: 2s\n  connection_timeout: 30s\nlimits:\n  min_free_disk: 0\n` +
        `streams:\n  ev: {}\n`);
    if (!srv.proc) { R.fail('slowloris_server_start', srv.error); return; }
    // 200 from one address, 100 from addresses of their own
    const addrs = [...Array(200).fill('127.0.0.2'), ...Array.from({ length: 100 }, (_, i) => `127.0.1.${i + 1}`)];
    const st = slowClients(srv.port, addrs);
    // every slow client connected (or already refused) before the probes
    for (const t = Date.now(); Date.now() - t < 5000 && !addrs.every((_, i) => st.openAt[i] || st.closedAt[i]);)
        await sleep(20);
    const problems = [];
    const t0 = Date.now();
    // probe while the slow clients hold on: until the server cut them all (once at
    // least, 4 s at most)
    for (let round = 0; Date.now() - t0 < 4000 && (round === 0 || st.closed < addrs.length); round++) {
        const [h, p] = await Promise.all([
            request(srv.port, 'GET', '/healthz', null, { timeout: 1500 }),
            request(srv.port, 'POST', '/v1/streams/ev/records', '{"a":1}\n', { timeout: 1500 }),
        ]);
        if (h.code !== 200 || h.ms > 1000) problems.push(`healthz ${h.code} in ${h.ms} ms at +${Date.now() - t0} ms`);
        if (p.code !== 200 || p.ms > 1000) problems.push(`ingest ${p.code} in ${p.ms} ms at +${Date.now() - t0} ms`);
        await sleep(300);
    }
    R.check('slowloris_health_and_ingest_responsive', problems);
    // every slow connection is closed by the server: refused over the cap, or cut
    for (let i = 0; i < 40 && st.closed < addrs.length; i++) await sleep(100);
    const open = addrs.length - st.closed;
    const late = st.closedAt.filter((t, i) => t && st.openAt[i] && t - st.openAt[i] > 5000).length;
    R.check('slowloris_clients_cut_after_header_timeout', open === 0 && late === 0 ? [] :
        [`${open} of ${addrs.length} still open, ${late} closed later than 5 s`]);
    st.end();
    const m = await request(srv.port, 'GET', '/metrics');
    R.check('slowloris_metric', /sluice_http_slow_clients_cut_total \d*[1-9]/.test(m.body ?? '') ? [] :
        ['no sluice_http_slow_clients_cut_total > 0 in /metrics']);
    await stop(srv);
    sanitizerClean('slowloris_sanitizer_clean', srv.log);
}

/* ---- query API abuse ------------------------------------------------------------ */
async function queryAbuse() {
    const srv = await start('query', `data_dir: ${T}/q\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\n` +
        `query:\n  tokens: [reader]\n  write_tokens: [writer]\n  memory_limit: 64MiB\n`);
    if (!srv.proc) { R.fail('query_server_start', srv.error); return; }
    const q = (tok, obj, opt = {}) => request(srv.port, 'POST', '/v1/query', JSON.stringify(obj),
        { headers: { Authorization: `Bearer ${tok}` }, timeout: 20000, ...opt });
    const fill = 'CREATE TEMP TABLE junk AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n ' +
        'WHERE i < 200) SELECT randomblob(1000000) AS b FROM n';
    let r = await q('reader', { sql: fill });
    R.check('temp_table_refused_for_read_token', r.code === 403 ? [] : [`${r.code} ${r.body}`]);
    r = await q('reader', { sql: "CREATE TEMP VIEW v AS SELECT 1" });
    R.check('temp_view_refused_for_read_token', r.code === 403 ? [] : [`${r.code} ${r.body}`]);
    r = await q('writer', { sql: fill });
    R.check('temp_storage_capped_for_write_token', r.code === 413 ? [] : [`${r.code} ${r.body}`]);
    r = await q('writer', { sql: "CREATE TEMP TABLE small AS SELECT 1 AS x" });
    R.check('small_temp_table_for_write_token', r.code === 200 ? [] : [`${r.code} ${r.body}`]);
    // concurrent queries: at most 8 run, the rest get 429 + Retry-After
    const slow = { sql: 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n',
        timeout_ms: 2500 };
    const all = await Promise.all(Array.from({ length: 14 }, () => q('reader', slow)));
    const busy = all.filter((x) => x.code === 429);
    const ran = all.filter((x) => x.code === 408);
    R.check('concurrent_queries_429_retry_after', busy.length >= 6 && ran.length >= 1 && ran.length <= 8 &&
        busy.every((x) => x.headers['retry-after']) ? [] :
        [`codes ${all.map((x) => x.code).join(',')}`]);
    const h = await request(srv.port, 'GET', '/healthz');
    R.check('query_abuse_still_serving', h.code === 200 ? [] : [`healthz ${h.code}`]);
    await stop(srv);
    sanitizerClean('query_sanitizer_clean', srv.log);
}

await R.guard('many_streams', manyStreams);
await R.guard('few_files', fewFiles);
await R.guard('slowloris', slowloris);
await R.guard('query_abuse', queryAbuse);
process.exit(R.failed ? 1 : 0);
