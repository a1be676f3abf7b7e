// The report-API fetch engine (src/collect, cl_fetch) against the mock
// ad-media server (tests/mock/admedia.mjs), driven through the test program
// build/san/collect_probe (tests/unit/driver/collect_probe.c) while no job
// kind runs it: fb paginated JSON, gads OAuth2 + async CSV, yt gzip TSV,
// acc07's expiring token, acc13's 500s, forced 429s, a shared token bucket
// against the mock's limit, a 200 MB report in bounded memory, cut
// downloads resumed with Range, timeouts, resets, cancel, failed reports,
// client errors -- and no secret in any message or log line.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ROOT, Reporter, makeTmp, run, crashed } from '../node/lib/common.mjs';
import { startAdMedia } from '../mock/admedia.mjs';

const R = new Reporter();
setTimeout(() => { R.fail('watchdog', 'collect_engine did not finish in 170 s'); process.exit(1); }, 170000).unref();
const PROBE = process.env.COLLECT_PROBE ?? path.join(ROOT, 'build/san/collect_probe');
const BIG_MB = Number(process.env.COLLECT_BIG_MB ?? 200);
const DAY = '2022-09-10';
const tmp = makeTmp('collect');

if (!process.env.COLLECT_PROBE) { // up to date (a no-op after make test)
    const mk = await run('make', ['--no-print-directory', '-s', 'build/san/collect_probe']);
    if (mk.status !== 0) { R.fail('build_probe', mk.stderr.slice(-2000)); process.exit(1); }
}

const HIGH = { fb: { rate: 1e5, burst: 1e5 }, gads: { rate: 1e5, burst: 1e5 }, yt: { rate: 1e5, burst: 1e5 } };
const m = await startAdMedia({ port: 0, seed: 11, limits: HIGH, polls: 2, bigMb: BIG_MB, bigAccount: 'acc20', bigDay: DAY });
const acc = Object.fromEntries(m.accounts.map((a) => [a.id, a]));
const SECRETS = m.accounts.flatMap((a) => [a.fb_token, a.yt_key, a.gads_refresh_token, a.gads_client_secret]);
const leaks = [];
let nrun = 0;

/* Run the probe on {specs, ...}; {results, events, done, records, out, err}. */
async function probe(runSpec, { records = true, rawDir = false } = {}) {
    const n = ++nrun, file = path.join(tmp, `run${n}.json`);
    const spec = { ...runSpec };
    if (records) spec.records = path.join(tmp, `rec${n}.ndjson`);
    if (rawDir) fs.mkdirSync((spec.raw_dir = path.join(tmp, `raw${n}`)), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(spec));
    const res = await run(PROBE, [file], { env: { SLUICE_LOG_LEVEL: 'debug' } });
    const out = res.stdout.toString('utf8'), err = res.stderr;
    const bad = crashed(res);
    if (bad || res.status !== 0) throw new Error(`probe run ${n}: ${bad ?? 'exit ' + res.status}\n${err.slice(-3000)}`);
    const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    for (const s of SECRETS) if (out.includes(s) || err.includes(s)) leaks.push(`run ${n}: a secret (${s.slice(0, 6)}...) in the output`);
    if (/ya29\./.test(out + err)) leaks.push(`run ${n}: an access token (ya29...) in the output`);
    const recs = records ? fs.readFileSync(spec.records, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : null;
    return {
        results: lines.filter((l) => l.result).map((l) => l.result), events: lines.filter((l) => l.event),
        done: lines.find((l) => l.done), records: recs, out, err, rawDir: spec.raw_dir,
    };
}

const fbSpec = (a, extra = {}) => ({
    name: 'fb_insights', account: a,
    request: { url: `${m.url}/fb/v1/act_${a}/insights`, params: { since: DAY, until: DAY, limit: '10' } },
    auth: { type: 'bearer', token: acc[a].fb_token }, page: { type: 'next_url', path: 'paging.next' },
    format: 'json', records: 'data', backoff_ms: 20, ...extra,
});
const gadsSpec = (a, extra = {}) => ({
    name: 'gads_report', account: a,
    async: {
        create: { method: 'POST', url: `${m.url}/gads/v2/accounts/${a}/reports`, body: JSON.stringify({ date_from: DAY, date_to: DAY }) },
        id_path: 'report_id', status: { url: `${m.url}/gads/v2/reports/{{report.id}}` }, status_path: 'status',
        ready: 'DONE', failed: 'FAILED', reason_path: 'reason', file_url_path: 'file_url', poll_ms: 20,
    },
    auth: { type: 'oauth2', token_url: `${m.url}/gads/oauth/token`, refresh_token: acc[a].gads_refresh_token,
            client_id: acc[a].gads_client_id, client_secret: acc[a].gads_client_secret },
    format: 'csv', backoff_ms: 20, ...extra,
});
const ytSpec = (a, extra = {}) => ({
    name: 'yt_report', account: a, request: { url: `${m.url}/yt/reports/${a}/${DAY}.tsv.gz` },
    auth: { type: 'header', name: 'X-Api-Key', token: acc[a].yt_key }, format: 'tsv', gzip: 1, backoff_ms: 20, ...extra,
});

const truthRows = (medium, a) => m.truth(medium, a).rows.filter((r) => (r.date_start ?? r.date) === DAY);
const num = (v) => (v === null || v === undefined ? null : Number(v));
/* Compare records (strings from CSV/TSV, typed from JSON) with truth rows on the given keys. */
function compare(recs, truth, key, fields) {
    const p = [];
    if (recs.length !== truth.length) p.push(`${recs.length} records, the mock served ${truth.length}`);
    const byKey = new Map(truth.map((t) => [String(t[key]), t]));
    for (const r of recs) {
        const t = byKey.get(String(r[key]));
        if (!t) { p.push(`record ${r[key]} is not in the truth`); continue; }
        for (const [f, kind] of fields) {
            const a = kind === 'num' ? num(r[f]) : r[f], b = kind === 'num' ? num(t[f]) : t[f];
            if (a !== b) p.push(`${r[key]}.${f}: ${JSON.stringify(r[f])} vs ${JSON.stringify(t[f])}`);
        }
        byKey.delete(String(r[key]));
    }
    return p;
}
const one = (x, name) => { if (x.results.length !== 1) throw new Error(`${name}: ${x.results.length} results`); return x.results[0]; };
const okRes = (r) => (r.rc === 0 && r.kind === 'ok' ? [] : [`kind ${r.kind} rc ${r.rc}: ${r.error}`]);

/* ---- synchronous sources ------------------------------------------------ */

await R.guard('fb_all_pages', async () => {
    const x = await probe({ specs: [fbSpec('acc01')] }, { rawDir: true });
    const r = one(x, 'fb'), truth = truthRows('fb', 'acc01');
    const p = [...okRes(r), ...compare(x.records, truth, 'campaign_id',
        [['campaign_name', 'str'], ['impressions', 'num'], ['clicks', 'num'], ['spend', 'str'], ['install', 'num']])];
    const pages = Math.ceil(truth.length / 10);
    if (r.pages !== pages) p.push(`${r.pages} pages, expected ${pages}`);
    const parts = x.events.filter((e) => e.event === 'part');
    if (parts.length !== pages) p.push(`${parts.length} raw parts for ${pages} pages`);
    // the raw parts are the pages byte for byte: their data arrays are the records
    const fromRaw = parts.flatMap((e) => JSON.parse(fs.readFileSync(path.join(x.rawDir, `0-${e.part}.json`), 'utf8')).data);
    if (JSON.stringify(fromRaw) !== JSON.stringify(x.records)) p.push('the raw parts do not hold the records handed over');
    const rawBytes = parts.reduce((s, e) => s + fs.statSync(path.join(x.rawDir, `0-${e.part}.json`)).size, 0);
    if (rawBytes !== r.raw_bytes) p.push(`raw files ${rawBytes} bytes, result ${r.raw_bytes}`);
    if (!parts.every((e, i) => e.part === i + 1 && e.ext === 'json')) p.push('parts not numbered 1.. with ext json');
    R.check('fb_all_pages', p);
});

await R.guard('fb_max_pages_and_parse_error', async () => {
    const x = await probe({ specs: [fbSpec('acc02', { page: { type: 'next_url', path: 'paging.next', max_pages: 2 } }),
                                    fbSpec('acc02', { records: 'paging', page: { type: 'none' } })] }, { rawDir: true });
    const [a, b] = x.results.sort((u, v) => u.spec - v.spec);
    const p = [];
    if (a.kind !== 'ok' || a.pages !== 2 || a.truncated !== 1 || a.records !== 20) p.push(`max_pages: ${JSON.stringify(a)}`);
    if (b.kind !== 'parse' || !/not an array/.test(b.error) || !b.error.includes('/fb/v1/act_acc02/insights')) p.push(`records at an object: ${b.kind} ${b.error}`);
    const part = x.events.find((e) => e.event === 'part' && e.spec === 1);
    const body = part && fs.readFileSync(path.join(x.rawDir, `1-${part.part}.json`), 'utf8');
    if (!body || Buffer.byteLength(body) !== b.raw_bytes || !JSON.parse(body).data) p.push(`the unparsable part was not handed over whole: ${body?.length} bytes, raw_bytes ${b.raw_bytes}`);
    R.check('fb_max_pages_and_parse_error', p);
});

await R.guard('yt_gzip_tsv', async () => {
    const x = await probe({ specs: [ytSpec('acc01'), ytSpec('acc02', { auth: { type: 'query', name: 'key', token: acc.acc02.yt_key } })] }, { rawDir: true });
    const p = [];
    for (const r of x.results) {
        const a = r.spec === 0 ? 'acc01' : 'acc02';
        p.push(...okRes(r));
        const recs = x.records.filter((t) => t.account_id === a);
        p.push(...compare(recs, truthRows('yt', a), 'campaign_id',
            [['video_id', 'str'], ['impressions', 'num'], ['views', 'num'], ['clicks', 'num'], ['install', 'num']]));
        const part = x.events.find((e) => e.event === 'part' && e.spec === r.spec);
        const raw = fs.readFileSync(path.join(x.rawDir, `${r.spec}-1.tsv`));
        if (raw[0] !== 0x1f || raw[1] !== 0x8b) p.push(`${a}: the raw part is not the gzip file as received`);
        else if (zlib.gunzipSync(raw).toString('utf8').split('\n').filter(Boolean).length !== recs.length + 1) p.push(`${a}: raw TSV lines`);
        if (part.ext !== 'tsv') p.push(`${a}: ext ${part.ext}`);
        if (r.spec === 1 && !part.url.includes('key=[redacted]')) p.push(`the part URL keeps the query key: ${part.url}`);
    }
    /* unquoted numbers become JSON numbers (typed columns in the lake), text stays text */
    if (typeof x.records[0]?.impressions !== 'number' || typeof x.records[0]?.video_id !== 'string')
        p.push(`TSV values: ${JSON.stringify(x.records[0])}`);
    R.check('yt_gzip_tsv', p);
});

/* ---- pagination styles, redirects, encodings: a small API of the test's own */

const seen = []; // [path, headers] of every request to api / other
const items = (from, to) => Array.from({ length: Math.max(0, to - from) }, (_, i) => ({ id: from + i, name: `item, "${from + i}"` }));
function apiHandler(req, res) {
    const u = new URL(req.url, 'http://x'), q = u.searchParams;
    seen.push([u.pathname + u.search, req.headers]);
    const json = (code, body, h = {}) => { res.writeHead(code, { 'Content-Type': 'application/json', ...h }); res.end(typeof body === 'string' ? body : JSON.stringify(body)); };
    const TOTAL = 23;
    switch (u.pathname) {
    case '/link': { // body = the array; Link rel=next, relative
        const pg = Number(q.get('page') ?? 1), per = Number(q.get('per_page') ?? 5);
        const h = pg * per < TOTAL ? { Link: `<https://other.example/x>; rel="prev", </link?page=${pg + 1}&per_page=${per}>; rel="next"` } : {};
        return json(200, items((pg - 1) * per, Math.min(pg * per, TOTAL)), h);
    }
    case '/num': { // NDJSON, page number; the last page is short
        const pg = Number(q.get('p')), size = Number(q.get('size'));
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
        return res.end(items((pg - 1) * size, Math.min(pg * size, TOTAL)).map((x) => JSON.stringify(x) + '\r\n').join(''));
    }
    case '/off': { // CSV, offset; 20 rows: the fifth page is empty
        const off = Number(q.get('offset')), lim = Number(q.get('limit'));
        res.writeHead(200, { 'Content-Type': 'text/csv' });
        return res.end('id,name\r\n' + items(off, Math.min(off + lim, 20)).map((x) => `${x.id},"${x.name.replace(/"/g, '""')}"`).join('\r\n'));
    }
    case '/cur': { // cursor in meta.next, gzip Content-Encoding
        const c = Number(q.get('cursor') ?? 0);
        const body = JSON.stringify({ meta: c < 2 ? { next: String(c + 1) } : {}, items: items(c * 4, c * 4 + 4) });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
        return res.end(zlib.gzipSync(body));
    }
    case '/loop': return json(200, { meta: { next: 'same' }, items: items(0, 1) });
    case '/date429': {
        if (!apiHandler.d429) { apiHandler.d429 = 1; return json(429, { e: 1 }, { 'Retry-After': new Date(Date.now() + 2000).toUTCString() }); }
        return json(200, { items: items(0, 2) });
    }
    case '/r503': {
        if (!apiHandler.r503) { apiHandler.r503 = 1; return json(503, 'busy', { 'Retry-After': '1' }); }
        return json(200, { items: items(0, 1) });
    }
    case '/redir': return json(302, '', { Location: q.get('to') });
    case '/html': res.writeHead(200, { 'Content-Type': 'text/html' }); return res.end('<html><body>maintenance</body></html>');
    case '/br': res.writeHead(200, { 'Content-Encoding': 'br' }); return res.end('xxxx');
    case '/basic':
        if (req.headers.authorization !== 'Basic ' + Buffer.from('u1:p@ss w0rd').toString('base64')) return json(401, { e: 'who' });
        return json(200, { items: items(0, 3) });
    case '/sink': return json(200, { items: items(0, 1) });
    case '/cutfile': case '/cutweak': { // cut once after 400 bytes; the Range answer depends on the ETag
        const weak = u.pathname === '/cutweak';
        const body = Buffer.from(items(0, 40).map((x) => JSON.stringify(x)).join('\n') + '\n');
        const etag = weak ? 'W/"v1"' : apiHandler.cutDone ? '"v2"' : '"v1"';
        const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        if (range && (weak || req.headers['if-range'] === etag)) {
            const from = Number(range[1]);
            res.writeHead(206, { 'Content-Range': `bytes ${from}-${body.length - 1}/${body.length}`, 'Content-Length': body.length - from, 'Accept-Ranges': 'bytes', ETag: etag });
            return res.end(body.subarray(from));
        }
        res.writeHead(200, { 'Content-Length': body.length, 'Accept-Ranges': 'bytes', ETag: etag });
        if (range || (apiHandler.cut ?? {})[u.pathname]) return res.end(body);
        (apiHandler.cut ??= {})[u.pathname] = 1;
        apiHandler.cutDone = !weak;
        res.write(body.subarray(0, 400));
        return setTimeout(() => res.destroy(), 20);
    }
    case '/rep/create': { // an async report whose control answers are gzip'ed
        res.writeHead(201, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
        return res.end(zlib.gzipSync(JSON.stringify({ job: { id: 'r 1/x' }, state: 'QUEUED' })));
    }
    case '/rep/status/r%201%2Fx': {
        apiHandler.polls = (apiHandler.polls ?? 0) + 1;
        const done = apiHandler.polls >= 2;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
        return res.end(zlib.gzipSync(JSON.stringify({ state: done ? 'ready' : 'running', file: done ? '../../files/r1.ndjson' : null })));
    }
    case '/files/r1.ndjson': res.writeHead(200); return res.end(items(0, 7).map((x) => JSON.stringify(x)).join('\n'));
    default: return json(404, { e: 'no' });
    }
}
const http = await import('node:http');
const listen = (h) => new Promise((ok) => { const sv = http.createServer(h); sv.listen(0, '127.0.0.1', () => ok(sv)); });
const api = await listen(apiHandler), other = await listen(apiHandler);
const API = `http://127.0.0.1:${api.address().port}`, OTHER = `http://localhost:${other.address().port}`;
const apiSpec = (p, extra = {}) => ({ name: 'api', account: 'a1', request: { url: API + p }, backoff_ms: 20,
    auth: { type: 'bearer', token: 'api-secret-token-123' }, redact: ['api-secret-token-123'], ...extra });

await R.guard('pagination_styles', async () => {
    seen.length = 0;
    const x = await probe({ specs: [
        apiSpec('/link', { request: { url: API + '/link', params: { per_page: '5' } }, page: { type: 'link' }, format: 'json', records: '' }),
        apiSpec('/num', { page: { type: 'number', param: 'p', size_param: 'size', size: 5 }, format: 'ndjson' }),
        apiSpec('/off', { page: { type: 'offset', param: 'offset', size_param: 'limit', size: 5 }, format: 'csv' }),
        apiSpec('/cur', { page: { type: 'cursor', param: 'cursor', path: 'meta.next' }, format: 'json', records: 'items' }),
        apiSpec('/loop', { page: { type: 'cursor', param: 'cursor', path: 'meta.next' }, format: 'json', records: 'items' }),
    ] });
    const byName = Object.fromEntries(x.results.map((r) => [r.spec, r]));
    const p = [];
    const want = { 0: [23, 5], 1: [23, 5], 2: [20, 5], 3: [12, 3] };
    for (const [i, [recs, pages]] of Object.entries(want)) {
        const r = byName[i];
        if (r.kind !== 'ok' || r.records !== recs || r.pages !== pages) p.push(`spec ${i}: ${r.kind} ${r.records} records ${r.pages} pages: ${r.error}`);
    }
    if (byName[4].kind !== 'parse' || !/would loop/.test(byName[4].error)) p.push(`cursor loop: ${JSON.stringify(byName[4])}`);
    const csv = x.records.filter((r) => r.name?.startsWith('item'));
    if (!csv.some((r) => r.name === 'item, "7"')) p.push('a CSV value with a comma and quotes was not kept');
    const nums = seen.filter(([u]) => u.startsWith('/num')).map(([u]) => new URL(u, API).searchParams.get('p'));
    if (nums.join() !== '1,2,3,4,5') p.push(`page numbers asked: ${nums}`);
    const offs = seen.filter(([u]) => u.startsWith('/off')).map(([u]) => new URL(u, API).searchParams.get('offset'));
    if (offs.join() !== '0,5,10,15,20') p.push(`offsets asked: ${offs}`);
    const curs = seen.filter(([u]) => u.startsWith('/cur')).map(([u]) => new URL(u, API).searchParams.get('cursor'));
    if (curs.join() !== ',1,2') p.push(`cursors asked: ${curs}`);
    if (!seen.filter(([u]) => u.startsWith('/cur')).every(([, h]) => h['accept-encoding'] === 'gzip')) p.push('Accept-Encoding: gzip not sent');
    if (!seen.every(([, h]) => h.authorization === 'Bearer api-secret-token-123')) p.push('a request without the bearer token');
    R.check('pagination_styles', p);
});

await R.guard('redirects_retry_after_encodings', async () => {
    seen.length = 0;
    const x = await probe({ specs: [
        apiSpec('/redir', { request: { url: API + '/redir', params: { to: `${OTHER}/sink` }, headers: { 'X-Api-Key': 'api-secret-token-123' } }, format: 'json', records: 'items' }),
        apiSpec('/redir', { request: { url: API + '/redir', params: { to: '/sink?same=1' } }, format: 'json', records: 'items' }),
        apiSpec('/date429', { format: 'json', records: 'items' }),
        apiSpec('/r503', { format: 'json', records: 'items' }),
        apiSpec('/html', { format: 'json', records: 'items' }),
        apiSpec('/br', { format: 'json', records: 'items' }),
        apiSpec('/basic', { auth: { type: 'basic', username: 'u1', password: 'p@ss w0rd' }, redact: ['p@ss w0rd'], format: 'json', records: 'items' }),
        { ...apiSpec('/rep'), request: undefined, format: 'ndjson', async: {
            create: { method: 'POST', url: API + '/rep/create' }, id_path: 'job.id', status: { url: API + '/rep/status/{{report.id}}' },
            status_path: 'state', ready: 'READY', failed: 'FAILED', file_url_path: 'file', poll_ms: 10 } },
        apiSpec('/cutfile', { format: 'ndjson' }),
        apiSpec('/cutweak', { format: 'ndjson' }),
    ] }, { rawDir: true });
    const r = Object.fromEntries(x.results.map((v) => [v.spec, v]));
    const p = [];
    const cross = seen.find(([u, h]) => u === '/sink' && h.host.startsWith('localhost'));
    if (r[0].kind !== 'ok' || !cross) p.push(`cross-origin redirect: ${JSON.stringify(r[0])}`);
    else if (cross[1].authorization || cross[1]['x-api-key']) p.push('credentials were sent to another origin');
    const same = seen.find(([u]) => u === '/sink?same=1');
    if (r[1].kind !== 'ok' || !same || same[1].authorization !== 'Bearer api-secret-token-123') p.push('a same-origin redirect lost its credentials');
    const pause = x.events.find((e) => e.event === 'pause' && e.spec === 2);
    if (r[2].kind !== 'ok' || !pause || pause.ms < 900 || pause.ms > 2100) p.push(`HTTP-date Retry-After: ${JSON.stringify(pause)} ${r[2].kind}`);
    if (r[3].kind !== 'ok' || r[3].retries !== 1 || r[3].ms < 900) p.push(`503 + Retry-After: ${JSON.stringify(r[3])}`);
    const html = x.events.find((e) => e.event === 'part' && e.spec === 4);
    if (r[4].kind !== 'parse' || !html || fs.readFileSync(path.join(x.rawDir, `4-${html.part}.json`), 'utf8') !== '<html><body>maintenance</body></html>')
        p.push(`an HTML body: ${r[4].kind} ${r[4].error}`);
    if (r[5].kind !== 'parse' || !/Content-Encoding 'br'/.test(r[5].error)) p.push(`br: ${r[5].error}`);
    if (r[6].kind !== 'ok' || r[6].records !== 3) p.push(`basic auth: ${JSON.stringify(r[6])}`);
    if (r[8].kind !== 'server' || !/the file changed while it was downloaded/.test(r[8].error)) p.push(`a file changed under a resume: ${r[8].kind} ${r[8].error}`);
    if (r[9].kind !== 'ok' || r[9].records !== 40 || r[9].resumes !== 1 || !seen.some(([u, h]) => u === '/cutweak' && h.range && !h['if-range']))
        p.push(`a weak ETag resumed without If-Range: ${JSON.stringify(r[9])}`);
    if (r[7].kind !== 'ok' || r[7].records !== 7 || !seen.some(([u, h]) => u === '/files/r1.ndjson' && h.authorization))
        p.push(`async with gzip control answers and a relative file URL: ${JSON.stringify(r[7])}`);
    if (/api-secret-token-123|p@ss w0rd/.test(x.out + x.err)) p.push('a secret of the redact list is in the output');
    R.check('redirects_retry_after_encodings', p);
});
await new Promise((ok) => api.close(ok));
await new Promise((ok) => other.close(ok));

/* ---- asynchronous reports ------------------------------------------------ */

await R.guard('gads_oauth2_async_csv', async () => {
    const before = m.stats().media.gads;
    const x = await probe({ specs: [gadsSpec('acc01')] }, { rawDir: true });
    const r = one(x, 'gads'), truth = truthRows('gads', 'acc01');
    const p = [...okRes(r), ...compare(x.records, truth, 'campaign_id',
        [['campaign_name', 'str'], ['impressions', 'num'], ['clicks', 'num'], ['cost', 'num'], ['install', 'num']])];
    if (!x.records.some((t) => /[",]/.test(t.campaign_name))) p.push('no campaign name with a comma or quote was checked');
    const after = m.stats().media.gads;
    if (r.refreshes !== 1 || after.refreshes - before.refreshes !== 1) p.push(`refreshes ${r.refreshes} (mock ${after.refreshes - before.refreshes})`);
    // the raw part is the file byte for byte
    const part = x.events.find((e) => e.event === 'part');
    const file = await fetch(part.url).then((q) => q.arrayBuffer()).then((b) => Buffer.from(b));
    const raw = fs.readFileSync(path.join(x.rawDir, '0-1.csv'));
    if (!raw.equals(file)) p.push(`raw part ${raw.length} bytes differs from the file (${file.length})`);
    if (part.ext !== 'csv') p.push(`ext ${part.ext}`);
    R.check('gads_oauth2_async_csv', p);
});

await R.guard('acc07_refresh_once_per_401', async () => {
    const s0 = m.stats().media.gads;
    const x = await probe({ specs: [gadsSpec('acc07')] });
    const r = one(x, 'acc07'), s1 = m.stats().media.gads;
    const u = s1.unauthorized - s0.unauthorized, refr = (s1.refreshes_by_account.acc07 ?? 0) - (s0.refreshes_by_account?.acc07 ?? 0);
    const p = [...okRes(r), ...compare(x.records, truthRows('gads', 'acc07'), 'campaign_id', [['install', 'num']])];
    if (u < 1) p.push('acc07 never got a 401 (the mock did not expire its token)');
    if (r.refreshes !== u + 1 || refr !== r.refreshes) p.push(`${u} 401s, ${r.refreshes} refreshes (mock ${refr}): one per 401 plus the first`);
    R.check('acc07_refresh_once_per_401', p);
    // a refresh token the endpoint refuses: CL_AUTH, no loop, no secret in the message
    const y = await probe({ specs: [gadsSpec('acc03', { auth: { ...gadsSpec('acc03').auth, refresh_token: 'wrong-refresh-token-xyz' } })] });
    const q = one(y, 'bad refresh');
    R.check('oauth2_refused_refresh_is_auth', q.kind === 'auth' && q.calls === 1 && /invalid_grant/.test(q.error) &&
        !q.error.includes('wrong-refresh-token-xyz') ? [] : [JSON.stringify(q)]);
});

// Several collections of acc07 at once (a job's lookback days run in
// parallel): each token the mock gives acc07 dies after one use, so a token
// one collection got must not be used first by another one through the
// cache -- its own retry would then fail "after a new token".
await R.guard('acc07_concurrent_collections_refresh_each_their_own', async () => {
    const s0 = m.stats().media.gads;
    const x = await probe({ specs: Array.from({ length: 6 }, () => gadsSpec('acc07')), threads: 6 });
    const s1 = m.stats().media.gads, p = [];
    for (const r of x.results) p.push(...okRes(r));
    if (s1.unauthorized - s0.unauthorized < 1) p.push('acc07 never got a 401');
    R.check('acc07_concurrent_collections_refresh_each_their_own', p);
});

await R.guard('oauth2_cache_shared_across_collections', async () => {
    const s0 = m.stats().media.gads;
    const x = await probe({ specs: [gadsSpec('acc09'), gadsSpec('acc09'), gadsSpec('acc10'), gadsSpec('acc11'), gadsSpec('acc12')], threads: 4 });
    const s1 = m.stats().media.gads, p = [];
    for (const r of x.results) p.push(...okRes(r));
    const by = (a) => (s1.refreshes_by_account[a] ?? 0) - (s0.refreshes_by_account?.[a] ?? 0);
    if (by('acc10') !== 1 || by('acc11') !== 1 || by('acc12') !== 1 || by('acc09') < 1 || by('acc09') > 2)
        p.push(`token grants per account: ${['acc09', 'acc10', 'acc11', 'acc12'].map((a) => `${a} ${by(a)}`).join(', ')}`);
    const y = await probe({ specs: [gadsSpec('acc09'), gadsSpec('acc09')], threads: 1 });
    const refr = y.results.reduce((t, r) => t + r.refreshes, 0);
    if (refr !== 1 || y.results.some((r) => r.kind !== 'ok')) p.push(`two collections of acc09 one after the other got ${refr} tokens (want 1: cached)`);
    R.check('oauth2_cache_shared_across_collections', p);
});

await R.guard('oauth2_token_refreshed_on_expiry', async () => {
    m.configure({ token_ttl: 1 });
    try {
        const s0 = m.stats().media.gads;
        const r = one(await probe({ specs: [gadsSpec('acc06', { async: { ...gadsSpec('acc06').async, poll_ms: 700 } })] }), 'ttl');
        const s1 = m.stats().media.gads;
        // create + 3 polls + download span > 2 s: the 1 s token is renewed before it runs out
        R.check('oauth2_token_refreshed_on_expiry', r.kind === 'ok' && r.refreshes >= 2 && s1.unauthorized === s0.unauthorized
            ? [] : [`${r.kind} ${r.refreshes} refreshes, ${s1.unauthorized - s0.unauthorized} 401s: ${r.error}`]);
    } finally { m.configure({ token_ttl: 3600 }); }
});

await R.guard('gads_failed_report', async () => {
    m.failReports({ count: 1, reason: 'quota exceeded for acc04', account: 'acc04' });
    const r = one(await probe({ specs: [gadsSpec('acc04')] }), 'failed');
    R.check('gads_failed_report', r.kind === 'report' && /failed: quota exceeded for acc04/.test(r.error) ? [] : [JSON.stringify(r)]);
    const w = one(await probe({ specs: [gadsSpec('acc05', { async: { ...gadsSpec('acc05').async, max_wait_ms: 30, poll_ms: 10 } })] }), 'wait');
    R.check('gads_report_max_wait', w.kind === 'report' && /not ready after/.test(w.error) ? [] : [JSON.stringify(w)]);
});

/* ---- errors ------------------------------------------------------------- */

await R.guard('acc13_server_error', async () => {
    const x = await probe({ specs: [fbSpec('acc13', { retries: 2 }),
        fbSpec('acc13', { retries: 1, auth: { type: 'query', name: 'access_token', token: acc.acc13.fb_token } })] });
    const p = [];
    for (const r of x.results) {
        if (r.kind !== 'server' || r.rc !== -1 || r.err_kind !== 'i/o') p.push(`kind ${r.kind} rc ${r.rc} ${r.err_kind}`);
        if (!r.error.includes(`GET ${m.url}/fb/v1/act_acc13/insights?since=${DAY}`)) p.push(`no URL in: ${r.error}`);
        if (!r.error.includes(`HTTP 500 after ${r.spec === 0 ? 3 : 2} attempts`)) p.push(`attempts: ${r.error}`);
        if (r.calls !== (r.spec === 0 ? 3 : 2) || r.status !== 500) p.push(`calls ${r.calls} status ${r.status}`);
        if (!r.error.includes('internal error for account acc13') || !r.body.includes('internal error')) p.push(`no body excerpt: ${r.error}`);
        if (!r.error.includes('fb_insights') || !r.error.includes('account acc13')) p.push(`source/account not named: ${r.error}`);
        if (r.error.includes(acc.acc13.fb_token) || r.url.includes(acc.acc13.fb_token)) p.push('the token is in the message');
        if (r.spec === 1 && !/access_token=\[redacted\]/.test(r.error + r.url)) p.push(`query token not cut: ${r.url}`);
    }
    R.check('acc13_server_error', p);
});

await R.guard('client_errors', async () => {
    const x = await probe({ specs: [fbSpec('acc01', { request: { url: `${m.url}/fb/v1/act_acc01/insights`, params: { since: 'yesterday', until: DAY } } }),
                                    fbSpec('acc01', { auth: { type: 'bearer', token: acc.acc02.fb_token } })] });
    const [c, a] = x.results.sort((u, v) => u.spec - v.spec);
    const p = [];
    if (c.kind !== 'client' || c.status !== 400 || !/HTTP 400: \{"error"/.test(c.error) || !c.body.includes('"code":100')) p.push(`400: ${JSON.stringify(c)}`);
    if (a.kind !== 'auth' || a.status !== 401 || a.calls !== 1 || a.err_kind !== 'denied') p.push(`401: ${JSON.stringify(a)}`);
    R.check('client_errors', p);
});

await R.guard('forced_429_pauses_and_retries_the_call', async () => {
    m.force429('fb', 2, 1);
    const x = await probe({ specs: [fbSpec('acc03')] });
    const r = one(x, '429'), pauses = x.events.filter((e) => e.event === 'pause');
    const p = [...okRes(r), ...compare(x.records, truthRows('fb', 'acc03'), 'campaign_id', [['install', 'num']])];
    if (pauses.length !== 2 || pauses.some((e) => e.ms !== 1000)) p.push(`pauses ${JSON.stringify(pauses)} (want 2 x 1000 ms)`);
    if (r.throttled !== 2 || r.calls !== r.pages + 2) p.push(`throttled ${r.throttled}, calls ${r.calls} for ${r.pages} pages`);
    if (x.events.filter((e) => e.event === 'part').length !== r.pages) p.push('a throttled call restarted the collection');
    if (r.ms < 1900) p.push(`the retries did not wait Retry-After (${r.ms} ms)`);
    R.check('forced_429_pauses_and_retries_the_call', p);
});

await R.guard('timeouts_resets_cancel', async () => {
    m.fault({ medium: 'yt', action: 'hang', count: 1, path: '/yt/reports/acc06' });
    m.fault({ medium: 'yt', action: 'reset', count: 1, path: '/yt/reports/acc08' });
    const x = await probe({ specs: [ytSpec('acc06', { timeout_ms: 400 }), ytSpec('acc08')], threads: 2 });
    const p = [];
    for (const r of x.results) {
        p.push(...okRes(r));
        if (r.retries !== 1 || r.calls !== 2) p.push(`spec ${r.spec}: ${r.retries} retries, ${r.calls} calls`);
    }
    const hang = x.results.find((r) => r.spec === 0);
    if (hang && (hang.ms < 400 || hang.ms > 5000)) p.push(`the hang took ${hang.ms} ms for a 400 ms timeout`);
    R.check('timeout_and_reset_retried', p);
    m.fault({ medium: 'yt', action: 'hang', count: 1, path: '/yt/reports/acc09' });
    const c = await probe({ specs: [ytSpec('acc09', { timeout_ms: 60000 })], cancel_after_ms: 300 });
    const r = one(c, 'cancel');
    R.check('cancel_stops_a_hung_call', r.kind === 'canceled' && r.ms < 2500 ? [] : [JSON.stringify(r)]);
});

/* ---- the pool: a shared token bucket against the mock's limit ------------ */

await R.guard('token_bucket_keeps_the_limit', async () => {
    const lim = { fb: { rate: 40, burst: 4 }, gads: { rate: 1e5, burst: 1e5 }, yt: { rate: 1e5, burst: 1e5 } };
    const m2 = await startAdMedia({ port: 0, seed: 12, limits: lim });
    try {
        const a2 = Object.fromEntries(m2.accounts.map((a) => [a.id, a]));
        const specs = m2.accounts.filter((a) => !a.fails).map((a) => ({
            ...fbSpec(a.id), request: { url: `${m2.url}/fb/v1/act_${a.id}/insights`, params: { since: DAY, until: DAY, limit: '25' } },
            auth: { type: 'bearer', token: a2[a.id].fb_token } }));
        const x = await probe({ specs, threads: 4, bucket: { rate: 30, burst: 2 } }, { records: false });
        const st = m2.stats().media.fb, p = [];
        for (const r of x.results) p.push(...okRes(r).map((e) => `spec ${r.spec}: ${e}`));
        if (st.violations !== 0 || st.sent_429 !== 0) p.push(`the mock counted ${st.violations} violations (${st.sent_429} 429s)`);
        if (x.done.takes !== st.requests) p.push(`${x.done.takes} tokens taken for ${st.requests} requests`);
        const rows = m2.truth('fb').slices.reduce((s, v) => s + v.rows, 0), got = x.results.reduce((s, r) => s + r.records, 0);
        if (rows !== got) p.push(`${got} records, the mock served ${rows}`);
        console.log(`# bucket: ${st.requests} calls of ${specs.length} accounts in ${x.done.ms} ms on 4 threads at 30/s, 0 violations`);
        R.check('token_bucket_keeps_the_limit', p);
    } finally { await m2.close(); }
});

/* ---- big reports and Range ---------------------------------------------- */

await R.guard('cut_download_resumes_with_range', async () => {
    const s0 = m.stats().media.gads;
    m.fault({ medium: 'gads', action: 'cut', count: 1, path: '/gads/files/', after_bytes: 1000 });
    const x = await probe({ specs: [gadsSpec('acc02')] }, { rawDir: true });
    const r = one(x, 'cut'), s1 = m.stats().media.gads;
    const p = [...okRes(r), ...compare(x.records, truthRows('gads', 'acc02'), 'campaign_id', [['campaign_name', 'str'], ['install', 'num']])];
    const part = x.events.filter((e) => e.event === 'part');
    const file = await fetch(part[0].url).then((q) => q.arrayBuffer()).then((b) => Buffer.from(b));
    if (!fs.readFileSync(path.join(x.rawDir, '0-1.csv')).equals(file)) p.push('the resumed raw part is not the file');
    if (part.length !== 1 || r.resumes !== 1 || s1.range_requests - s0.range_requests !== 1) p.push(`${part.length} parts, ${r.resumes} resumes, ${s1.range_requests - s0.range_requests} Range requests`);
    R.check('cut_download_resumes_with_range', p);
    // a body cut where the server takes no Range (an fb page): fails, not retried
    m.fault({ medium: 'fb', action: 'cut', count: 1, path: '/fb/v1/act_acc04/', after_bytes: 300 });
    const y = one(await probe({ specs: [fbSpec('acc04')] }), 'cut fb');
    R.check('cut_without_range_fails', y.kind === 'server' && /cut after \d+ bytes .*takes no Range/.test(y.error) && y.calls === 1 ? [] : [JSON.stringify(y)]);
});

await R.guard('big_report_bounded_memory', async () => {
    m.fault({ medium: 'gads', action: 'cut', count: 1, path: '/gads/files/', after_bytes: Math.floor(BIG_MB * 1e6 / 3) });
    const s0 = m.stats().media.gads;
    const x = await probe({ specs: [gadsSpec('acc20')], sum: ['install', 'clicks'] }, { records: false });
    const r = one(x, 'big'), s1 = m.stats().media.gads;
    const t = m.truth('gads', 'acc20').slices.find((s) => s.day === DAY && s.big);
    const p = okRes(r);
    if (!t) p.push('the mock has no big slice');
    else {
        if (r.records !== t.rows || r.sums.install !== t.install || r.sums.clicks !== t.clicks) p.push(`records ${r.records}/${t.rows}, install ${r.sums.install}/${t.install}, clicks ${r.sums.clicks}/${t.clicks}`);
        if (r.raw_bytes < t.bytes || r.raw_bytes > t.bytes + 200) p.push(`raw ${r.raw_bytes} bytes for a ${t.bytes}-byte body`);
    }
    if (r.resumes !== 1 || s1.range_requests - s0.range_requests !== 1) p.push(`${r.resumes} resumes`);
    const part = x.events.find((e) => e.event === 'part');
    const mbs = r.raw_bytes / 1e6 / ((r.t - part.t) / 1000);
    const rssMb = x.done.rss_kb / 1024;
    console.log(`# big report: ${(r.raw_bytes / 1e6).toFixed(0)} MB, ${r.records} records through cl_fetch (ASan build) in ${r.t - part.t} ms = ${mbs.toFixed(0)} MB/s, peak RSS ${rssMb.toFixed(1)} MB, 1 Range resume`);
    if (rssMb > 60) p.push(`peak RSS ${rssMb.toFixed(1)} MB (limit 60)`);
    R.check('big_report_bounded_memory', p);
    const c = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{speed_download} %{size_download}', part.url]);
    const [speed, size] = c.stdout.toString().split(' ').map(Number);
    if (c.status === 0) console.log(`# curl -o /dev/null on the same URL: ${(speed / 1e6).toFixed(0)} MB/s (${(size / 1e6).toFixed(0)} MB)`);
});

R.check('no_secret_in_any_output', leaks);
await m.close();
console.log(`# ${R.passed} passed, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
