// Self-test of the mock ad-media server (tests/mock/admedia.mjs) that the
// collector tests (issue 10) run against: every behaviour they rely on, briefly.
// Starts the mock in-process on a free port (and once as a program), so no
// sluice binary is needed.  A few seconds.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { ROOT, Reporter } from '../node/lib/common.mjs';
import { MEDIA, startAdMedia } from '../mock/admedia.mjs';

const R = new Reporter();
// a hung mock must not hang the suite
setTimeout(() => { R.fail('watchdog', 'the self-test did not finish in 90 s'); process.exit(1); }, 90000).unref();
const t0 = Date.now();
const DAY = '2022-09-10';
const HIGH = { fb: { rate: 1e5, burst: 1e5 }, gads: { rate: 1e5, burst: 1e5 }, yt: { rate: 1e5, burst: 1e5 } };
const m = await startAdMedia({ port: 0, seed: 7, bigMb: 20, bigDay: DAY, limits: HIGH });
const mocks = [m];

/* ------------------------------------------------------------------------ */
/* client helpers                                                            */
/* ------------------------------------------------------------------------ */

/* One request on a fresh connection: {status, headers, body: Buffer, error}. */
function request(url, { method = 'GET', headers = {}, body, timeout = 10000, onData } = {}) {
    return new Promise((resolve) => {
        const b = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
        const h = { ...headers };
        if (b) { h['Content-Length'] = b.length; if (!h['Content-Type']) h['Content-Type'] = 'application/json'; }
        let res = null;
        const chunks = [];
        const done = (error) => resolve({ status: res?.statusCode ?? 0, headers: res?.headers ?? {}, body: Buffer.concat(chunks), error });
        const req = http.request(url, { method, headers: h, agent: false }, (r) => {
            res = r;
            r.on('data', (d) => (onData ? onData(d) : chunks.push(d)));
            r.on('end', () => done(null));
            r.on('error', (e) => done(e));
            r.on('aborted', () => done(new Error('aborted')));
        });
        req.on('error', (e) => done(e));
        req.setTimeout(timeout, () => req.destroy(new Error('timeout')));
        req.end(b);
    });
}

const json = (r) => { try { return JSON.parse(r.body.toString('utf8')); } catch { return null; } };
const ctl = async (p, body) => {
    const r = await request(m.url + p, body === undefined ? {} : { method: 'POST', body });
    if (r.status !== 200) throw new Error(`${p}: ${r.status} ${r.body}`);
    return json(r);
};
const stats = () => ctl('/_mock/stats');
const accounts = (await ctl('/_mock/accounts')).accounts;
const acc = Object.fromEntries(accounts.map((a) => [a.id, a]));

const fbUrl = (a, since, until, extra = '') => `${m.url}/fb/v1/act_${a}/insights?since=${since}&until=${until}${extra}`;
const fbGet = (url, a) => request(url, { headers: a ? { Authorization: `Bearer ${acc[a].fb_token}` } : {} });

/* Walk all pages of an fb query; {rows, pages: [{url, body}], lastPaging}. */
async function fbWalk(a, since, until, extra = '', base = m) {
    let url = `${base.url}/fb/v1/act_${a}/insights?since=${since}&until=${until}${extra}`;
    const rows = [], pages = [];
    for (let i = 0; i < 1000 && url; i++) {
        const r = await request(url, { headers: { Authorization: `Bearer ${acc[a].fb_token}` } });
        if (r.status !== 200) throw new Error(`fb page ${i + 1}: ${r.status} ${r.body}`);
        const j = json(r);
        pages.push({ url, body: r.body.toString('utf8'), j });
        rows.push(...j.data);
        url = j.paging?.next;
    }
    return { rows, pages };
}

async function gadsToken(a) {
    const A = acc[a];
    const r = await request(`${m.url}/gads/oauth/token`, {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: A.gads_refresh_token, client_id: A.gads_client_id, client_secret: A.gads_client_secret }).toString(),
    });
    if (r.status !== 200) throw new Error(`token ${a}: ${r.status} ${r.body}`);
    return json(r).access_token;
}

const bearer = (t) => ({ Authorization: `Bearer ${t}` });
const gadsCreate = (a, tok, from, to) => request(`${m.url}/gads/v2/accounts/${a}/reports`, { method: 'POST', headers: bearer(tok), body: { date_from: from, date_to: to } });
const gadsPoll = (id, tok) => request(`${m.url}/gads/v2/reports/${id}`, { headers: bearer(tok) });

/* Create a report and poll it until DONE/FAILED; {id, statuses, final}. */
async function gadsReport(a, from, to, tok) {
    tok ??= await gadsToken(a);
    const c = await gadsCreate(a, tok, from, to);
    if (c.status !== 202) throw new Error(`create: ${c.status} ${c.body}`);
    const id = json(c).report_id, statuses = [];
    for (let i = 0; i < 20; i++) {
        const p = await gadsPoll(id, tok);
        if (p.status !== 200) throw new Error(`poll: ${p.status} ${p.body}`);
        const j = json(p);
        statuses.push(j.status);
        if (j.status === 'DONE' || j.status === 'FAILED') return { id, statuses, final: j, create: c, tok };
    }
    throw new Error('report never finished');
}

/* RFC 4180 CSV -> array of records (arrays of strings). */
function parseCsv(text) {
    const out = [];
    let rec = [], f = '', i = 0, q = false;
    while (i < text.length) {
        const c = text[i];
        if (q) {
            if (c === '"' && text[i + 1] === '"') { f += '"'; i += 2; continue; }
            if (c === '"') { q = false; i++; continue; }
            f += c; i++; continue;
        }
        if (c === '"') { q = true; i++; continue; }
        if (c === ',') { rec.push(f); f = ''; i++; continue; }
        if (c === '\n') { rec.push(f); out.push(rec); rec = []; f = ''; i++; continue; }
        f += c; i++;
    }
    if (f !== '' || rec.length) { rec.push(f); out.push(rec); }
    return out;
}

/* truth rows of fb as served in phase 1/2 */
const fbAsServed = (r, phase) => {
    if (phase === 1) { const { video_views: _, ...x } = r; return x; }
    return { date_start: r.date_start, date_stop: r.date_stop, account_id: r.account_id, campaign_id: r.campaign_id,
        campaign_name: r.campaign_name, Impressions: r.impressions, CLICKS: r.clicks, Spend: r.spend, install: r.install, video_views: r.video_views };
};

const byId = (rows, k = 'campaign_id') => new Map(rows.map((r) => [String(r[k]), r]));

/* ------------------------------------------------------------------------ */
/* accounts                                                                  */
/* ------------------------------------------------------------------------ */

await R.guard('accounts', async () => {
    const p = [];
    if (accounts.length !== 20) p.push(`${accounts.length} accounts`);
    accounts.forEach((a, i) => { if (a.id !== `acc${String(i + 1).padStart(2, '0')}`) p.push(`account ${i} is ${a.id}`); });
    for (const k of ['fb_token', 'yt_key', 'gads_refresh_token', 'gads_client_id', 'gads_client_secret'])
        if (new Set(accounts.map((a) => a[k])).size !== 20) p.push(`${k} not unique`);
    if (!acc.acc07.token_expires || !acc.acc13.fails || !acc.acc20.big) p.push('acc07/acc13/acc20 flags wrong');
    if (accounts.filter((a) => a.fails || a.token_expires || a.big).length !== 3) p.push('more special accounts than acc07, acc13, acc20');
    const nd = await request(`${m.url}/_mock/accounts?format=ndjson`);
    if (nd.body.toString().trim().split('\n').length !== 20) p.push('ndjson format is not 20 lines');
    const csv = parseCsv((await request(`${m.url}/_mock/accounts?format=csv`)).body.toString());
    if (csv.length !== 21 || csv[0][0] !== 'id' || csv[5][1] !== "O'Reilly Puzzles") p.push(`csv format: ${csv.length} records, ${csv[5]}`);
    R.check('accounts', p);
});

/* ------------------------------------------------------------------------ */
/* fb                                                                        */
/* ------------------------------------------------------------------------ */

let walk1 = null;
await R.guard('fb_pagination_walks_to_the_end', async () => {
    const p = [];
    walk1 = await fbWalk('acc01', DAY, DAY);
    const { rows, pages } = walk1;
    if (pages.length < 2) p.push(`${pages.length} pages`);
    pages.forEach((pg, i) => {
        if (pg.j.data.length > 25) p.push(`page ${i + 1} has ${pg.j.data.length} rows (default limit 25)`);
        if (i < pages.length - 1 && !pg.j.paging?.next?.startsWith(m.url + '/fb/v1/act_acc01/insights?')) p.push(`page ${i + 1} next ${pg.j.paging?.next}`);
    });
    if (pages.at(-1).j.paging?.next) p.push('the last page has a next');
    if (rows.length < 30 || rows.length > 81) p.push(`${rows.length} rows for one day`);
    if (byId(rows).size !== rows.length) p.push('campaign ids repeat');
    const keys = 'date_start,date_stop,account_id,campaign_id,campaign_name,impressions,clicks,spend,install';
    for (const r of rows) {
        if (Object.keys(r).join(',') !== keys) { p.push(`keys ${Object.keys(r)}`); break; }
        if (r.date_start !== DAY || typeof r.spend !== 'string' || !/^\d+\.\d\d$/.test(r.spend) || !Number.isInteger(r.install)) { p.push(`row ${JSON.stringify(r)}`); break; }
    }
    // the cursor of the last page gives an empty page without next
    const end = await fbGet(fbUrl('acc01', DAY, DAY, `&after=${pages.at(-1).j.paging.cursors.after}`), 'acc01');
    if (end.status !== 200 || json(end).data.length !== 0 || json(end).paging) p.push(`after the last cursor: ${end.status} ${end.body.slice(0, 200)}`);
    const multi = await fbWalk('acc02', '2022-09-01', '2022-09-03', '&limit=40');
    const days = multi.rows.map((r) => r.date_start);
    if (days.join() !== [...days].sort().join() || new Set(days).size !== 3) p.push('multi-day rows not in day order or days missing');
    R.check('fb_pagination_walks_to_the_end', p);
});

await R.guard('fb_pages_stable_within_a_version', async () => {
    const p = [];
    for (const pg of walk1.pages.slice(1)) {
        const again = await fbGet(pg.url, 'acc01');
        if (again.body.toString() !== pg.body) p.push(`page ${pg.url.slice(-20)} differs on a second fetch`);
    }
    R.check('fb_pages_stable_within_a_version', p);
});

let walkLast = null;
await R.guard('fb_restated_numbers_grow', async () => {
    const p = [];
    const v = [walk1];
    for (let i = 0; i < 3; i++) v.push(await fbWalk('acc01', DAY, DAY));
    for (let i = 1; i < v.length; i++) {
        const prev = byId(v[i - 1].rows);
        for (const r of v[i].rows) {
            const o = prev.get(r.campaign_id);
            if (o && !(r.install > o.install && r.clicks > o.clicks && r.impressions > o.impressions && Number(r.spend) > Number(o.spend)))
                p.push(`v${i + 1} campaign ${r.campaign_id}: ${JSON.stringify(o)} -> ${JSON.stringify(r)}`);
        }
    }
    const a = byId(v[0].rows), b = byId(v[3].rows);
    if (![...b.keys()].some((k) => !a.has(k))) p.push('no campaign appeared by version 4');
    if (![...a.keys()].some((k) => !b.has(k))) p.push('no campaign disappeared by version 4');
    walkLast = v[3];
    R.check('fb_restated_numbers_grow', p);
});

await R.guard('fb_auth', async () => {
    const p = [];
    const none = await fbGet(fbUrl('acc01', DAY, DAY));
    if (none.status !== 401 || json(none)?.error?.code !== 190 || json(none)?.error?.type !== 'OAuthException') p.push(`no token: ${none.status} ${none.body}`);
    const other = await fbGet(fbUrl('acc01', DAY, DAY), 'acc02');
    if (other.status !== 401) p.push(`acc02's token on acc01: ${other.status}`);
    const qp = await fbGet(fbUrl('acc03', DAY, DAY, `&access_token=${acc.acc03.fb_token}`));
    if (qp.status !== 200) p.push(`access_token parameter: ${qp.status}`);
    const unknown = await fbGet(fbUrl('acc99', DAY, DAY), 'acc01');
    if (unknown.status !== 400 || json(unknown)?.error?.code !== 100) p.push(`unknown account: ${unknown.status} ${unknown.body}`);
    R.check('fb_auth', p);
});

await R.guard('fb_bad_parameters', async () => {
    const p = [];
    const cur = walk1.pages[0].j.paging.cursors.after;
    const bad = {
        'since after until': fbUrl('acc01', '2022-09-11', DAY),
        'not a date': fbUrl('acc01', '2022-02-30', '2022-03-01'),
        'limit 0': fbUrl('acc01', DAY, DAY, '&limit=0'),
        'limit 501': fbUrl('acc01', DAY, DAY, '&limit=501'),
        '94 days': fbUrl('acc01', '2022-01-01', '2022-04-04'),
        'tampered cursor': fbUrl('acc01', DAY, DAY, `&after=${cur.replace(/^./, (c) => (c === 'e' ? 'f' : 'e'))}`),
        'cursor of another range': fbUrl('acc01', DAY, '2022-09-11', `&after=${cur}`),
        'garbage cursor': fbUrl('acc01', DAY, DAY, '&after=%00%ff..'),
    };
    for (const [what, url] of Object.entries(bad)) {
        const r = await fbGet(url, 'acc01');
        if (r.status !== 400 || json(r)?.error?.code !== 100) p.push(`${what}: ${r.status} ${r.body.slice(0, 200)}`);
    }
    R.check('fb_bad_parameters', p);
});

await R.guard('truth_matches_what_was_served', async () => {
    const p = [];
    const t = await ctl('/_mock/truth?medium=fb&account=acc01');
    const s = t.slices.find((x) => x.day === DAY);
    if (!s || s.version !== 4 || s.rows !== walkLast.rows.length) p.push(`slice ${JSON.stringify(s)}`);
    const rows = t.rows.filter((r) => r.date_start === DAY).map((r) => fbAsServed(r, 1));
    if (JSON.stringify(rows) !== JSON.stringify(walkLast.rows)) p.push('truth rows differ from the last walk');
    if (s && s.install !== walkLast.rows.reduce((a, r) => a + r.install, 0)) p.push('install sum differs');
    const nd = (await request(`${m.url}/_mock/truth?medium=fb&account=acc01&format=ndjson`)).body.toString().trim().split('\n');
    if (nd.length !== t.rows.length) p.push(`ndjson has ${nd.length} rows, json ${t.rows.length}`);
    const all = await ctl('/_mock/truth');
    if (!all.fb || !all.gads || !all.yt) p.push('truth without medium lacks a medium');
    R.check('truth_matches_what_was_served', p);
});

/* ------------------------------------------------------------------------ */
/* rate limits                                                               */
/* ------------------------------------------------------------------------ */

await R.guard('rate_limit_429_and_violations', async () => {
    const p = [];
    const before = (await stats()).media.fb;
    await ctl('/_mock/config', { limits: { fb: { rate: 1, burst: 3 } } });
    const t = performance.now();
    const rs = await Promise.all(Array.from({ length: 12 }, () => fbGet(fbUrl('acc03', DAY, DAY, '&limit=500'), 'acc03')));
    const most = 3 + Math.ceil((performance.now() - t) / 1000);     // burst + refill at 1/s meanwhile
    const ok = rs.filter((r) => r.status === 200).length, limited = rs.filter((r) => r.status === 429);
    if (ok < 3 || ok > most || ok + limited.length !== 12) p.push(`${ok} answered 200, ${limited.length} 429 (burst 3, at most ${most})`);
    for (const r of limited) {
        if (!/^[1-9]\d*$/.test(r.headers['retry-after'] ?? '')) p.push(`Retry-After ${r.headers['retry-after']}`);
        if (json(r)?.error?.code !== 4) p.push(`429 body ${r.body}`);
    }
    const after = (await stats()).media.fb;
    if (after.violations - before.violations !== limited.length) p.push(`violations +${after.violations - before.violations}, 429s ${limited.length}`);
    if (after.sent_429 - before.sent_429 !== limited.length) p.push(`sent_429 +${after.sent_429 - before.sent_429}`);
    // gads is independent of fb
    await ctl('/_mock/config', { limits: { gads: { rate: 1, burst: 1 } } });
    const g1 = await request(`${m.url}/gads/v2/reports/nope`), g2 = await request(`${m.url}/gads/v2/reports/nope`);
    if (g1.status !== 401 || g2.status !== 429 || json(g2)?.error?.status !== 'RESOURCE_EXHAUSTED') p.push(`gads burst 1: ${g1.status}, ${g2.status} ${g2.body}`);
    await ctl('/_mock/config', { limits: HIGH });
    R.check('rate_limit_429_and_violations', p);
});

await R.guard('forced_429_not_counted_as_violation', async () => {
    const p = [];
    const before = (await stats()).media.yt;
    await ctl('/_mock/force429', { medium: 'yt', count: 2, retry_after: 3 });
    const url = `${m.url}/yt/reports/acc05/${DAY}.tsv.gz`, h = { headers: { 'X-Api-Key': acc.acc05.yt_key } };
    const rs = [await request(url, h), await request(url, h), await request(url, h)];
    if (rs.map((r) => r.status).join() !== '429,429,200') p.push(`statuses ${rs.map((r) => r.status)}`);
    if (rs[0].headers['retry-after'] !== '3' || rs[1].headers['retry-after'] !== '3') p.push(`Retry-After ${rs[0].headers['retry-after']}`);
    const after = (await stats()).media.yt;
    if (after.violations !== before.violations) p.push(`violations ${before.violations} -> ${after.violations}`);
    if (after.forced_429 - before.forced_429 !== 2 || after.sent_429 - before.sent_429 !== 2) p.push(`forced_429 +${after.forced_429 - before.forced_429}`);
    R.check('forced_429_not_counted_as_violation', p);
});

/* ------------------------------------------------------------------------ */
/* gads                                                                      */
/* ------------------------------------------------------------------------ */

await R.guard('gads_oauth', async () => {
    const p = [];
    const A = acc.acc01;
    const form = (o) => ({ method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(o).toString() });
    const base = { grant_type: 'refresh_token', refresh_token: A.gads_refresh_token, client_id: A.gads_client_id, client_secret: A.gads_client_secret };
    const ok = await request(`${m.url}/gads/oauth/token`, form(base));
    const j = json(ok);
    if (ok.status !== 200 || !j?.access_token || j.expires_in !== 3600 || j.token_type !== 'Bearer') p.push(`token: ${ok.status} ${ok.body}`);
    const cases = [
        ['wrong secret', { ...base, client_secret: 'x' }, 401, 'invalid_client'],
        ['wrong refresh token', { ...base, refresh_token: acc.acc02.gads_refresh_token }, 400, 'invalid_grant'],
        ['other grant', { ...base, grant_type: 'password' }, 400, 'unsupported_grant_type'],
    ];
    for (const [what, body, status, err] of cases) {
        const r = await request(`${m.url}/gads/oauth/token`, form(body));
        if (r.status !== status || json(r)?.error !== err) p.push(`${what}: ${r.status} ${r.body}`);
    }
    const basic = Buffer.from(`${A.gads_client_id}:${A.gads_client_secret}`).toString('base64');
    const rb = await request(`${m.url}/gads/oauth/token`, { ...form({ grant_type: 'refresh_token', refresh_token: A.gads_refresh_token }), headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${basic}` } });
    if (rb.status !== 200) p.push(`basic client auth: ${rb.status} ${rb.body}`);
    const noauth = await gadsCreate('acc01', 'ya29.nope', DAY, DAY);
    if (noauth.status !== 401 || !/invalid_token/.test(noauth.headers['www-authenticate'] ?? '')) p.push(`bad access token: ${noauth.status} ${noauth.headers['www-authenticate']}`);
    const otherAcc = await gadsCreate('acc02', j.access_token, DAY, DAY);
    if (otherAcc.status !== 403) p.push(`acc01's token on acc02: ${otherAcc.status}`);
    R.check('gads_oauth', p);
});

let rep1 = null, file1 = null;
await R.guard('gads_async_report_flow', async () => {
    const p = [];
    rep1 = await gadsReport('acc01', DAY, '2022-09-11');
    const { final, statuses, create } = rep1;
    if (!create.headers.location?.endsWith(`/gads/v2/reports/${rep1.id}`) || json(create).status !== 'PENDING') p.push(`create: ${create.body} Location ${create.headers.location}`);
    if (statuses.join() !== 'PENDING,RUNNING,DONE') p.push(`statuses ${statuses}`);
    const f = await request(final.file_url);
    file1 = f.body;
    if (f.status !== 200 || !/^text\/csv/.test(f.headers['content-type'])) p.push(`file: ${f.status} ${f.headers['content-type']}`);
    if (Number(f.headers['content-length']) !== f.body.length || f.body.length !== final.file_size) p.push(`length ${f.headers['content-length']} / ${f.body.length} / ${final.file_size}`);
    if (f.headers['accept-ranges'] !== 'bytes' || !f.headers.etag) p.push('no Accept-Ranges / ETag');
    const recs = parseCsv(f.body.toString('utf8'));
    if (recs[0].join(',') !== 'date,account_id,campaign_id,campaign_name,impressions,clicks,cost,install') p.push(`header ${recs[0]}`);
    if (recs.length - 1 !== final.row_count) p.push(`${recs.length - 1} rows, row_count ${final.row_count}`);
    if (recs.some((r) => r.length !== 8)) p.push('a record without 8 fields (quoting?)');
    if (!recs.some((r) => /[",]/.test(r[3]))) p.push('no campaign name needing CSV quotes');
    const t = await ctl('/_mock/truth?medium=gads&account=acc01');
    const trows = t.rows.map((r) => [r.date, r.account_id, String(r.campaign_id), r.campaign_name, r.impressions, r.clicks, r.cost.toFixed(2), r.install].join('\x1f'));
    if (trows.join('\n') !== recs.slice(1).map((r) => r.join('\x1f')).join('\n')) p.push('truth rows differ from the CSV');
    const again = await request(final.file_url);
    if (!again.body.equals(f.body)) p.push('a second download differs');
    const bad = await request(final.file_url.replace(/sig=[0-9a-f]+/, 'sig=00'));
    if (bad.status !== 403) p.push(`bad sig: ${bad.status}`);
    R.check('gads_async_report_flow', p);
});

await R.guard('gads_range_requests', async () => {
    const p = [];
    const url = rep1.final.file_url, len = file1.length;
    const r1 = await request(url, { headers: { Range: 'bytes=10-99' } });
    if (r1.status !== 206 || r1.headers['content-range'] !== `bytes 10-99/${len}` || !r1.body.equals(file1.subarray(10, 100))) p.push(`bytes=10-99: ${r1.status} ${r1.headers['content-range']}`);
    const r2 = await request(url, { headers: { Range: 'bytes=-50' } });
    if (r2.status !== 206 || !r2.body.equals(file1.subarray(len - 50))) p.push(`bytes=-50: ${r2.status}`);
    const r3 = await request(url, { headers: { Range: `bytes=${len - 7}-` } });
    if (r3.status !== 206 || !r3.body.equals(file1.subarray(len - 7)) || r3.headers['content-length'] !== '7') p.push(`bytes=${len - 7}-: ${r3.status}`);
    const r4 = await request(url, { headers: { Range: `bytes=${len}-` } });
    if (r4.status !== 416 || r4.headers['content-range'] !== `bytes */${len}`) p.push(`bytes=len-: ${r4.status} ${r4.headers['content-range']}`);
    const r5 = await request(url, { headers: { Range: 'bytes=5-9', 'If-Range': '"other"' } });
    if (r5.status !== 200 || r5.body.length !== len) p.push(`stale If-Range: ${r5.status}`);
    const r6 = await request(url, { headers: { Range: 'bytes=5-9', 'If-Range': r1.headers.etag } });
    if (r6.status !== 206) p.push(`matching If-Range: ${r6.status}`);
    const r7 = await request(url, { headers: { Range: 'bytes=0-1,5-6' } });
    if (r7.status !== 200 || r7.body.length !== len) p.push(`multi-range: ${r7.status}`);
    const h = await request(url, { method: 'HEAD' });
    if (h.status !== 200 || Number(h.headers['content-length']) !== len || h.body.length) p.push(`HEAD: ${h.status} ${h.headers['content-length']}`);
    R.check('gads_range_requests', p);
});

await R.guard('gads_restated_and_failed_reports', async () => {
    const p = [];
    const rep2 = await gadsReport('acc01', DAY, '2022-09-11');
    const f2 = await request(rep2.final.file_url);
    const a = new Map(parseCsv(file1.toString()).slice(1).map((r) => [r[0] + r[2], r]));
    for (const r of parseCsv(f2.body.toString()).slice(1)) {
        const o = a.get(r[0] + r[2]);
        if (o && !(+r[7] > +o[7] && +r[5] > +o[5])) { p.push(`not restated upwards: ${o} -> ${r}`); break; }
    }
    await ctl('/_mock/gads/fail', { count: 1, reason: 'quota exhausted', account: 'acc02' });
    const fr = await gadsReport('acc02', DAY, DAY);
    if (fr.statuses.join() !== 'PENDING,RUNNING,FAILED' || fr.final.reason !== 'quota exhausted') p.push(`failed report: ${fr.statuses} ${JSON.stringify(fr.final)}`);
    const nf = await request(`${m.url}/gads/files/${fr.id}.csv?sig=00`);
    if (nf.status !== 409) p.push(`file of a FAILED report: ${nf.status}`);
    const ok = await gadsReport('acc02', DAY, DAY);
    if (ok.final.status !== 'DONE') p.push('the report after the failed one did not succeed');
    const tok = await gadsToken('acc03');
    const pend = json(await gadsCreate('acc03', tok, DAY, DAY)).report_id;
    const early = await request(`${m.url}/gads/files/${pend}.csv?sig=00`);
    if (early.status !== 409) p.push(`file before DONE: ${early.status}`);
    const bad = await request(`${m.url}/gads/v2/accounts/acc03/reports`, { method: 'POST', headers: bearer(tok), body: '{"date_from":' });
    if (bad.status !== 400) p.push(`malformed JSON body: ${bad.status}`);
    const huge = await request(`${m.url}/gads/v2/accounts/acc03/reports`, { method: 'POST', headers: bearer(tok), body: 'x'.repeat(70000) });
    if (huge.status !== 413) p.push(`70 KB body: ${huge.status}`);
    const st = (await stats()).media.gads;
    if (st.reports_failed !== 1) p.push(`reports_failed ${st.reports_failed}`);
    R.check('gads_restated_and_failed_reports', p);
});

await R.guard('gads_acc07_token_expires_refresh', async () => {
    const p = [];
    const before = (await stats()).media.gads;
    const t1 = await gadsToken('acc07');
    const c = await gadsCreate('acc07', t1, DAY, DAY);
    if (c.status !== 202) p.push(`create with a fresh token: ${c.status}`);
    const id = json(c).report_id;
    const p1 = await gadsPoll(id, t1);
    if (p1.status !== 401 || json(p1)?.error?.status !== 'UNAUTHENTICATED') p.push(`second use of the token: ${p1.status} ${p1.body}`);
    const t2 = await gadsToken('acc07');
    const p2 = await gadsPoll(id, t2);
    if (p2.status !== 200) p.push(`after refresh: ${p2.status} ${p2.body}`);
    const after = (await stats()).media.gads;
    if ((after.refreshes_by_account.acc07 ?? 0) - (before.refreshes_by_account.acc07 ?? 0) !== 2) p.push(`refreshes of acc07: ${JSON.stringify(after.refreshes_by_account)}`);
    if (after.unauthorized - before.unauthorized !== 1) p.push(`unauthorized +${after.unauthorized - before.unauthorized}`);
    // other accounts' tokens keep working
    const t3 = await gadsToken('acc08');
    const u = [await gadsCreate('acc08', t3, DAY, DAY), await gadsCreate('acc08', t3, DAY, DAY)];
    if (u.some((r) => r.status !== 202)) p.push(`acc08 token reused: ${u.map((r) => r.status)}`);
    R.check('gads_acc07_token_expires_refresh', p);
});

/* ------------------------------------------------------------------------ */
/* yt                                                                        */
/* ------------------------------------------------------------------------ */

await R.guard('yt_gzip_tsv', async () => {
    const p = [];
    const url = `${m.url}/yt/reports/acc04/${DAY}.tsv.gz`, h = { headers: { 'X-Api-Key': acc.acc04.yt_key } };
    const r1 = await request(url, h);
    if (r1.status !== 200 || r1.headers['content-type'] !== 'application/gzip' || r1.headers['content-encoding']) p.push(`GET: ${r1.status} ${r1.headers['content-type']} ${r1.headers['content-encoding']}`);
    if (Number(r1.headers['content-length']) !== r1.body.length || r1.body[0] !== 0x1f || r1.body[1] !== 0x8b) p.push('not a .gz body of Content-Length bytes');
    const lines = zlib.gunzipSync(r1.body).toString().trim().split('\n');
    if (lines[0] !== 'date\taccount_id\tcampaign_id\tvideo_id\timpressions\tviews\tclicks\tinstall') p.push(`header ${lines[0]}`);
    if (lines.length - 1 < 10 || lines.length - 1 > 31 || lines.slice(1).some((l) => l.split('\t').length !== 8)) p.push(`${lines.length - 1} rows`);
    const r2 = await request(url.replace('.tsv.gz', '.tsv.gz?key=' + acc.acc04.yt_key));
    const a = new Map(lines.slice(1).map((l) => l.split('\t')).map((f) => [f[2], f]));
    for (const f of zlib.gunzipSync(r2.body).toString().trim().split('\n').slice(1).map((l) => l.split('\t'))) {
        const o = a.get(f[2]);
        if (o && !(+f[7] > +o[7])) { p.push(`install not restated upwards: ${o} -> ${f}`); break; }
    }
    const t = (await ctl('/_mock/truth?medium=yt&account=acc04')).slices[0];
    if (t?.version !== 2) p.push(`truth version ${t?.version}`);
    const w = await request(url, { headers: { 'X-Api-Key': acc.acc05.yt_key } });
    if (w.status !== 401) p.push(`acc05's key on acc04: ${w.status}`);
    const n = await request(url);
    if (n.status !== 401) p.push(`no key: ${n.status}`);
    const bd = await request(`${m.url}/yt/reports/acc04/2022-13-01.tsv.gz`, h);
    if (bd.status !== 400) p.push(`bad date: ${bd.status}`);
    R.check('yt_gzip_tsv', p);
});

/* ------------------------------------------------------------------------ */
/* acc13                                                                     */
/* ------------------------------------------------------------------------ */

await R.guard('acc13_answers_500_everywhere', async () => {
    const p = [];
    const fb = await fbGet(fbUrl('acc13', DAY, DAY), 'acc13');
    if (fb.status !== 500 || !/acc13/.test(json(fb)?.error?.message)) p.push(`fb: ${fb.status} ${fb.body}`);
    const tok = await gadsToken('acc13');
    const g = await gadsCreate('acc13', tok, DAY, DAY);
    if (g.status !== 500 || !/acc13/.test(json(g)?.error?.message)) p.push(`gads: ${g.status} ${g.body}`);
    const y = await request(`${m.url}/yt/reports/acc13/${DAY}.tsv.gz`, { headers: { 'X-Api-Key': acc.acc13.yt_key } });
    if (y.status !== 500 || !/acc13/.test(json(y)?.error?.message)) p.push(`yt: ${y.status} ${y.body}`);
    const s = await stats();
    if (MEDIA.some((x) => s.media[x].errors_500 < 1)) p.push('errors_500 not counted');
    R.check('acc13_answers_500_everywhere', p);
});

/* ------------------------------------------------------------------------ */
/* changing keys                                                             */
/* ------------------------------------------------------------------------ */

await R.guard('phase2_changes_keys', async () => {
    const p = [];
    // an fb walk started in phase 1 keeps its keys after the switch
    const first = await fbGet(fbUrl('acc06', DAY, DAY), 'acc06');
    await ctl('/_mock/phase', { phase: 2 });
    const second = await fbGet(json(first).paging.next, 'acc06');
    if (!('impressions' in json(second).data[0])) p.push(`a phase-1 walk changed keys: ${Object.keys(json(second).data[0])}`);
    const w = await fbWalk('acc04', DAY, DAY);
    const k = Object.keys(w.rows[0]);
    for (const want of ['Impressions', 'CLICKS', 'Spend', 'video_views']) if (!k.includes(want)) p.push(`fb phase 2 lacks ${want}: ${k}`);
    if (k.includes('impressions') || k.includes('clicks')) p.push(`fb phase 2 still has lower-case keys: ${k}`);
    const rep = await gadsReport('acc04', DAY, DAY);
    const head = (await request(rep.final.file_url)).body.toString().split('\n')[0];
    if (head !== 'Date,Account_ID,Campaign_ID,Campaign_Name,IMPRESSIONS,Clicks,Cost,Install,View_Through_Installs') p.push(`gads phase 2 header ${head}`);
    const t = await ctl('/_mock/truth?medium=fb&account=acc04');
    const s = t.slices.find((x) => x.day === DAY);
    if (s?.phase !== 2 || t.rows.some((r) => !Number.isInteger(r.video_views))) p.push(`truth of a phase-2 slice: ${JSON.stringify(s)}`);
    if (JSON.stringify(t.rows.map((r) => fbAsServed(r, 2))) !== JSON.stringify(w.rows)) p.push('phase-2 truth rows differ from what was served');
    const y = await request(`${m.url}/yt/reports/acc04/${DAY}.tsv.gz`, { headers: { 'X-Api-Key': acc.acc04.yt_key } });
    if (!zlib.gunzipSync(y.body).toString().startsWith('date\taccount_id\t')) p.push('yt keys changed');
    await ctl('/_mock/phase', { phase: 1 });
    R.check('phase2_changes_keys', p);
});

/* ------------------------------------------------------------------------ */
/* faults                                                                    */
/* ------------------------------------------------------------------------ */

await R.guard('faults_hang_reset_status_delay', async () => {
    const p = [];
    const url = fbUrl('acc05', DAY, DAY);
    await ctl('/_mock/fault', { medium: 'fb', action: 'hang' });
    const h = await request(url, { headers: { Authorization: `Bearer ${acc.acc05.fb_token}` }, timeout: 300 });
    if (h.error?.message !== 'timeout') p.push(`hang: ${h.status} ${h.error}`);
    await ctl('/_mock/fault', { medium: 'yt', action: 'reset' });
    const r = await request(`${m.url}/yt/reports/acc05/${DAY}.tsv.gz`, { headers: { 'X-Api-Key': acc.acc05.yt_key } });
    if (!r.error || r.status) p.push(`reset: ${r.status} ${r.error}`);
    await ctl('/_mock/fault', { medium: 'gads', action: 'status', status: 503, path: '/oauth/' });
    const s1 = await request(`${m.url}/gads/v2/reports/x`);
    const s2 = await request(`${m.url}/gads/oauth/token`, { method: 'POST', body: 'x' });
    if (s1.status !== 401 || s2.status !== 503) p.push(`status fault with path: ${s1.status}, ${s2.status}`);
    await ctl('/_mock/fault', { medium: 'fb', action: 'delay', ms: 200 });
    let t = Date.now();
    const d = await fbGet(url, 'acc05');
    if (d.status !== 200 || Date.now() - t < 190) p.push(`delay fault: ${d.status} after ${Date.now() - t} ms`);
    await ctl('/_mock/config', { delay_ms: { fb: 120 } });
    t = Date.now();
    const d2 = await fbGet(url, 'acc05');
    if (d2.status !== 200 || Date.now() - t < 110) p.push(`delay_ms config: ${d2.status} after ${Date.now() - t} ms`);
    await ctl('/_mock/config', { delay_ms: 0 });
    const after = await fbGet(url, 'acc05');
    if (after.status !== 200) p.push(`after the faults: ${after.status}`);
    const bad = await request(`${m.url}/_mock/fault`, { method: 'POST', body: { medium: 'fb', action: 'explode' } });
    if (bad.status !== 400) p.push(`unknown fault action: ${bad.status}`);
    R.check('faults_hang_reset_status_delay', p);
});

await R.guard('control_rejects_bad_input', async () => {
    const p = [];
    const post = (q, body) => request(m.url + q, { method: 'POST', body });
    const cases = [
        ['/_mock/config', { polls: -1 }], ['/_mock/config', { bogus: 1 }], ['/_mock/config', { polls: 5, big_day: '2022-02-30' }],
        ['/_mock/config', { limits: { fb: { rate: 0 } } }], ['/_mock/phase', { phase: 3 }],
        ['/_mock/force429', { medium: 'xx', count: 1 }], ['/_mock/force429', { medium: 'fb', count: -2 }],
        ['/_mock/fault', { medium: 'fb', action: 'hang', count: 0 }], ['/_mock/gads/fail', { count: 'many' }],
        ['/_mock/reset', '{not json'],
    ];
    for (const [q, body] of cases) {
        const r = await post(q, body);
        if (r.status !== 400) p.push(`${q} ${JSON.stringify(body)}: ${r.status} ${r.body}`);
    }
    if ((await ctl('/_mock/config')).polls !== 2) p.push('a rejected config was partly applied');
    for (const q of ['/nope', '/_mock/nope', '/fb/v2/whatever', '/gads/files/x.csv']) {
        const r = await request(m.url + q);
        if (r.status !== 404) p.push(`GET ${q}: ${r.status}`);
    }
    const meth = await request(`${m.url}/fb/v1/act_acc01/insights`, { method: 'DELETE' });
    if (meth.status !== 405) p.push(`DELETE insights: ${meth.status}`);
    try { await startAdMedia({ port: 0, bigMB: 1 }); p.push('a misspelt option was accepted'); } catch { }
    R.check('control_rejects_bad_input', p);
});

/* ------------------------------------------------------------------------ */
/* the big report                                                            */
/* ------------------------------------------------------------------------ */

/* Download url streaming: {status, length (header), bytes, sha, lines, install, error, ms}. */
async function bigDownload(url, headers = {}, parse = true) {
    const hash = crypto.createHash('sha256');
    let bytes = 0, lines = 0, install = 0, carry = '', firstIds = [];
    const t = performance.now();
    const r = await request(url, {
        headers, timeout: 60000, onData: (d) => {
            bytes += d.length;
            hash.update(d);
            if (!parse) return;
            const s = carry + d.toString('latin1');
            const parts = s.split('\n');
            carry = parts.pop();
            for (const l of parts) {
                lines++;
                const f = l.split(',');
                if (lines > 1) install += Number(f[f.length - 1]);
                if (lines > 1 && firstIds.length < 3) firstIds.push(Number(f[2]));
            }
        },
    });
    return { status: r.status, headers: r.headers, length: Number(r.headers['content-length']), bytes, sha: hash.digest('hex'),
        lines, install, error: r.error, ms: performance.now() - t, firstIds, carry };
}

let bigMs = Infinity;
await R.guard('big_report_streams_its_length', async () => {
    const p = [];
    const rep = await gadsReport('acc20', DAY, DAY);
    const url = rep.final.file_url;
    if (Math.abs(rep.final.file_size - 20e6) > 1e6) p.push(`file_size ${rep.final.file_size} for big_mb 20`);
    const d = await bigDownload(url);
    bigMs = d.ms;
    if (d.status !== 200 || d.error || d.bytes !== d.length || d.length !== rep.final.file_size) p.push(`download: ${d.status} ${d.error} ${d.bytes}/${d.length}`);
    if (d.carry !== '') p.push('the file does not end with a newline');
    const t = (await ctl('/_mock/truth?medium=gads&account=acc20')).slices.find((s) => s.day === DAY);
    if (!t?.big || t.rows !== d.lines - 1 || t.install !== d.install || t.rows !== rep.final.row_count) p.push(`truth ${JSON.stringify(t)}, file ${d.lines - 1} rows, install ${d.install}`);
    if (!(d.firstIds[1] === d.firstIds[0] + 1 && d.firstIds[2] === d.firstIds[1] + 1)) p.push(`campaign ids ${d.firstIds}`);
    // resume: a cut download plus a Range request for the rest is the same file
    const cutAt = 7654321;
    await ctl('/_mock/fault', { medium: 'gads', action: 'cut', after_bytes: cutAt, path: '/files/' });
    const c = await request(url, { timeout: 30000 });
    if (!c.error || c.body.length !== cutAt) p.push(`cut download: ${c.error} after ${c.body.length} bytes`);
    const hash = crypto.createHash('sha256').update(c.body);
    const rest = await request(url, { headers: { Range: `bytes=${c.body.length}-` }, timeout: 30000 });
    hash.update(rest.body);
    if (rest.status !== 206 || rest.headers['content-range'] !== `bytes ${c.body.length}-${d.length - 1}/${d.length}`) p.push(`resume: ${rest.status} ${rest.headers['content-range']}`);
    if (hash.digest('hex') !== d.sha) p.push('cut + resumed bytes differ from the whole file');
    // a range in the middle of a block equals the same bytes of the whole
    const mid = await request(url, { headers: { Range: 'bytes=12345678-12399999' } });
    const again = await bigDownload(url, {}, false);
    if (again.sha !== d.sha) p.push('a second download differs');
    if (mid.body.length !== 12399999 - 12345678 + 1) p.push(`middle range length ${mid.body.length}`);
    R.check('big_report_streams_its_length', p);
});

if (bigMs < 1000) {
    await R.guard('big_report_throughput_info', async () => {
        await ctl('/_mock/config', { big_mb: 200 });
        const rep = await gadsReport('acc20', DAY, DAY);
        const d = await bigDownload(rep.final.file_url, {}, false);
        await ctl('/_mock/config', { big_mb: 20 });
        console.log(`# mock streamed ${(d.bytes / 1e6).toFixed(0)} MB in ${(d.ms / 1000).toFixed(2)} s: ${(d.bytes / 1e6 / (d.ms / 1000)).toFixed(0)} MB/s (node client on the same 2 cores)`);
        if (d.bytes !== d.length) R.fail('big_report_200mb_length', `${d.bytes} of ${d.length} bytes`);
    });
} else console.log(`# 20 MB took ${bigMs.toFixed(0)} ms; skipping the 200 MB throughput info`);

/* ------------------------------------------------------------------------ */
/* automatic phase switch, stats, reset, determinism                         */
/* ------------------------------------------------------------------------ */

await R.guard('stats_counts', async () => {
    const p = [];
    const s = await stats();
    for (const x of MEDIA) if (!(s.media[x].requests > 0 && s.media[x].bytes_sent > 0)) p.push(`${x}: ${JSON.stringify(s.media[x]).slice(0, 200)}`);
    const g = s.media.gads;
    console.log(`# gads stats: created ${g.reports_created} polled ${g.reports_polled} downloads ${g.downloads} ranges ${g.range_requests} refreshes ${g.refreshes}`);
    // how often a report is polled before it is ready depends on the machine's speed: at
    // least once each (was a fixed >= 20, which a loaded machine missed)
    if (!(g.reports_created >= 9 && g.reports_polled >= g.reports_created && g.downloads >= 8 && g.range_requests >= 6 && g.refreshes >= 10))
        p.push(`gads created ${g.reports_created} polled ${g.reports_polled} downloads ${g.downloads} ranges ${g.range_requests} refreshes ${g.refreshes}`);
    if (!(s.bytes_sent >= 200e6 || bigMs >= 1000) || s.bytes_sent < MEDIA.reduce((a, x) => a + s.media[x].bytes_sent, 0)) p.push(`bytes_sent ${s.bytes_sent}`);
    if (s.accounts?.acc01?.fb !== s.media.fb.by_account.acc01 || !(s.accounts.acc07.gads > 0)) p.push(`accounts ${JSON.stringify(s.accounts?.acc01)}`);
    if (!(s.media.fb.by_account.acc01 > 5) || s.media.fb.unauthorized < 2) p.push(`fb by_account / unauthorized: ${JSON.stringify(s.media.fb)}`);
    R.check('stats_counts', p);
});

await R.guard('reset_and_phase_after', async () => {
    const p = [];
    await ctl('/_mock/reset', {});
    const s = await stats();
    if (MEDIA.some((x) => s.media[x].requests !== 0) || s.slices_served !== 0) p.push('stats not zero after reset');
    const t = await ctl('/_mock/truth');
    if (MEDIA.some((x) => t[x].slices.length)) p.push('truth not empty after reset');
    const w = await fbWalk('acc01', DAY, DAY);
    if (w.pages[0].body !== walk1.pages[0].body) p.push('version 1 after reset differs from version 1 before');
    await ctl('/_mock/reset', {});
    await ctl('/_mock/config', { phase_after: 3 });
    for (const d of ['2022-09-01', '2022-09-02', '2022-09-03']) {
        const y = await request(`${m.url}/yt/reports/acc02/${d}.tsv.gz`, { headers: { 'X-Api-Key': acc.acc02.yt_key } });
        if (y.status !== 200) p.push(`yt ${d}: ${y.status}`);
        const ph = (await ctl('/_mock/phase')).phase;
        if (ph !== 1) p.push(`phase ${ph} after ${d}`);
    }
    const f = json(await fbGet(fbUrl('acc02', DAY, DAY), 'acc02'));
    if (!('CLICKS' in f.data[0])) p.push(`no phase 2 after 3 served slices: ${Object.keys(f.data[0])}`);
    await ctl('/_mock/config', { phase_after: 0 });
    await ctl('/_mock/reset', {});
    R.check('reset_and_phase_after', p);
});

await R.guard('deterministic_by_seed_and_defaults', async () => {
    const p = [];
    const same = await startAdMedia({ port: 0, seed: 7, bigMb: 20, limits: HIGH });
    const other = await startAdMedia({ port: 0, seed: 8 });
    mocks.push(same, other);
    if (JSON.stringify(same.accounts) !== JSON.stringify(m.accounts)) p.push('seed 7 twice: accounts differ');
    if (other.accounts[0].fb_token === m.accounts[0].fb_token) p.push('seed 8 has the tokens of seed 7');
    const w = await fbWalk('acc01', DAY, DAY, '', same);
    if (JSON.stringify(w.pages[0].j.data) !== JSON.stringify(walk1.pages[0].j.data)) p.push('seed 7 twice: the first page differs');
    const c = other.config();
    if (JSON.stringify(c.limits) !== JSON.stringify({ fb: { rate: 10, burst: 5 }, gads: { rate: 5, burst: 2 }, yt: { rate: 3, burst: 2 } }) || c.polls !== 2 || c.big_mb !== 0)
        p.push(`defaults: ${JSON.stringify(c)}`);
    R.check('deterministic_by_seed_and_defaults', p);
});

/* ------------------------------------------------------------------------ */
/* as a program                                                              */
/* ------------------------------------------------------------------------ */

await R.guard('program_listens_and_stops_on_sigterm', async () => {
    const p = [];
    const script = path.join(ROOT, 'tests/mock/admedia.mjs');
    const child = spawn(process.execPath, [script, '--port', '0', '--seed', '3', '--fb-rate', '4', '--big-mb', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
    let out = '';
    const line = await new Promise((resolve) => {
        child.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(out); });
        child.on('exit', () => resolve(out));
    });
    const mm = /^listening (http:\/\/127\.0\.0\.1:(\d+))\n$/.exec(line);
    if (!mm) p.push(`first output ${JSON.stringify(line)}`);
    else {
        const c = await request(`${mm[1]}/_mock/config`);
        const j = json(c);
        if (c.status !== 200 || j.seed !== 3 || j.limits.fb.rate !== 4 || j.big_mb !== 1) p.push(`config: ${c.status} ${c.body}`);
    }
    const code = await new Promise((resolve) => { child.on('exit', (c, s) => resolve(c ?? s)); child.kill('SIGTERM'); });
    clearTimeout(killer);
    if (code !== 0) p.push(`exit on SIGTERM: ${code}`);
    if (out !== line) p.push(`more output: ${JSON.stringify(out)}`);
    const bad = spawn(process.execPath, [script, '--bogus'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const bcode = await new Promise((resolve) => bad.on('exit', (c) => resolve(c)));
    if (bcode !== 2) p.push(`unknown flag: exit ${bcode}`);
    R.check('program_listens_and_stops_on_sigterm', p);
});

for (const x of mocks) await x.close();
console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s; ${R.passed} ok, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
