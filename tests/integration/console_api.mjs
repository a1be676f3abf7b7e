// The console's /v1 endpoints with plain HTTP: GET /v1/tables[/T[/sample]]
// agree with `sluice tables/describe --json` and need a query token (read
// tokens may read); POST /v1/downloads tickets are single use and stream the
// whole result as an attachment (with bound {{parameters}}; a browser's needs
// the CSRF header); the files under / have types, ETags, gzip.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync, execFileSync } from 'node:child_process';
import { BIN, Reporter, Server, makeTmp } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('console-api');
const DATA = path.join(T, 'data');
fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${DATA}\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\n` +
    `query:\n  tokens: [rtok]\n  write_tokens: [wtok]\nstreams:\n  events:\n    sink:\n      roll_age: 200ms\n`);
const srv = new Server(T);
await srv.start();
const get = (p, tok = 'rtok', headers = {}) =>
    fetch(srv.url + p, { headers: { ...(tok ? { Authorization: `Bearer ${tok}` } : {}), ...headers } });

await R.guard('tables_empty', async () => {
    const r = await get('/v1/tables');
    const b = await r.text();
    const ok = r.status === 200 && JSON.parse(b).every((t) => t.files === 0 && t.last_commit === null);
    R.check('tables_empty', ok ? [] : [`${r.status} ${b}`]);
});

const ev = path.join(T, 'ev.ndjson');
execFileSync(BIN, ['gen', '--count', '3000', '--seed', '3', '--spacing-ms', '20000'], { stdio: ['ignore', fs.openSync(ev, 'w'), 'inherit'] });
execFileSync(BIN, ['ingest', '-q', '--url', srv.url, 'events', ev]);
await srv.landed('events');
const cli = (...a) => JSON.parse(spawnSync(BIN, [...a, '--data', DATA], { encoding: 'utf8' }).stdout);

await R.guard('tables_auth', async () => {
    const p = [];
    for (const [u, tok, want] of [['/v1/tables', null, 401], ['/v1/tables', 'bad', 401], ['/v1/tables', 'rtok', 200],
        ['/v1/tables', 'wtok', 200], ['/v1/tables/t1_events', null, 401], ['/v1/tables/t1_events/sample', 'bad', 401],
        ['/v1/tables/nope', 'rtok', 404], ['/v1/tables/nope/sample', 'rtok', 404], ['/v1/tables/t1_events/x', 'rtok', 404],
        ['/v1/tables//x', 'rtok', 404], ['/v1/nothing', 'rtok', 404]]) {
        const r = await get(u, tok);
        if (r.status !== want) p.push(`${u} with ${tok}: ${r.status}, want ${want}`);
    }
    R.check('tables_auth', p);
});

await R.guard('tables_match_cli', async () => {
    const p = [];
    const list = await (await get('/v1/tables')).json();
    if (JSON.stringify(list) !== JSON.stringify(cli('tables', '--format', 'json'))) p.push('GET /v1/tables != sluice tables --format json');
    if (!list[0] || !/^\d{4}-\d\d-\d\dT/.test(list.find((t) => t.name === 't1_events').last_commit || '')) p.push(`last_commit: ${JSON.stringify(list[0])}`);
    const d = await (await get('/v1/tables/t1_events')).json();
    const c = cli('describe', 't1_events', '--json', '--files');
    for (const k of ['name', 'columns', 'history', 'partitions', 'files', 'producer'])
        if (JSON.stringify(d[k]) !== JSON.stringify(c[k])) p.push(`${k} differs from sluice describe --json --files`);
    const ddl = Object.fromEntries(d.ddl.map((x) => [x.dialect, x]));
    for (const dia of ['trino', 'spark', 'duckdb']) {
        const out = spawnSync(BIN, ['ddl', 't1_events', '--dialect', dia, '--data', DATA], { encoding: 'utf8' }).stdout;
        if (ddl[dia].sql !== out) p.push(`${dia} DDL differs from sluice ddl`);
    }
    if (!ddl.athena.error || !/s3:\/\//.test(ddl.athena.error)) p.push(`athena on a local table: ${JSON.stringify(ddl.athena)}`);
    const s = await (await get('/v1/tables/t1_events/sample?limit=7')).json();
    if (s.length !== 7 || !('event_id' in s[0])) p.push(`sample: ${s.length} rows`);
    const big = await (await get('/v1/tables/t1_events/sample?limit=999999')).json();
    if (big.length !== 1000) p.push(`sample limit 999999 gave ${big.length} rows, want the cap 1000`);
    R.check('tables_match_cli', p);
});

await R.guard('downloads', async () => {
    const p = [];
    const sql = 'SELECT event_id, cost FROM t1_events ORDER BY event_id';
    const mk = (body, tok = 'rtok') => fetch(srv.url + '/v1/downloads', { method: 'POST', body: JSON.stringify(body),
        headers: tok ? { Authorization: `Bearer ${tok}` } : {} });
    let r = await mk({ sql, format: 'csv' }, null);
    if (r.status !== 401) p.push(`no token: ${r.status}`);
    r = await mk({ sql, format: 'xlsx' });
    if (r.status !== 400) p.push(`format xlsx: ${r.status}`);
    r = await mk({ sql, format: 'csv', limit: 10 });
    const t = await r.json();
    if (r.status !== 201 || !/^\/v1\/downloads\/[0-9a-f]{32}$/.test(t.url)) p.push(`create: ${r.status} ${JSON.stringify(t)}`);
    const d = await fetch(srv.url + t.url);
    const body = await d.text();
    if (d.status !== 200 || d.headers.get('content-disposition') !== 'attachment; filename="result.csv"')
        p.push(`download: ${d.status} ${d.headers.get('content-disposition')}`);
    const want = spawnSync(BIN, ['sql', '--data', DATA, '--format', 'csv', sql + ' LIMIT 10'], { encoding: 'utf8' }).stdout;
    if (body !== want) p.push(`body ${JSON.stringify(body.slice(0, 200))} != sluice sql`);
    const again = await fetch(srv.url + t.url);
    if (again.status !== 404) p.push(`second use: ${again.status}`);
    if ((await fetch(srv.url + '/v1/downloads/00000000000000000000000000000000')).status !== 404) p.push('made-up id not 404');
    // a write is refused for a read token's ticket as for /v1/query
    const w = await (await mk({ sql: "CREATE TABLE t2_x AS SELECT 1 AS a", format: 'csv' })).json();
    if ((await fetch(srv.url + w.url)).status !== 403) p.push('a read token ticket could write');
    R.check('downloads', p);
});

await R.guard('downloads_params_csrf', async () => {
    const p = [];
    const sql = 'SELECT event_id, cost FROM t1_events WHERE cost > {{min}} ORDER BY event_id';
    const mk = (body, headers = {}) => fetch(srv.url + '/v1/downloads', { method: 'POST', body: JSON.stringify(body),
        headers: { Authorization: 'Bearer rtok', ...headers } });
    const body = { sql, format: 'csv', params: [{ name: 'min', type: 'number', value: '0.001' }] };
    let r = await mk(body, { Origin: 'http://elsewhere.example', 'Sec-Fetch-Site': 'cross-site' });
    if (r.status !== 403) p.push(`cross-site download: ${r.status}`);
    const s = await fetch(srv.url + '/v1/session');
    const csrf = (await s.json()).csrf, cookie = s.headers.get('set-cookie').split(';')[0];
    r = await mk(body, { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin' });
    if (r.status !== 403) p.push(`browser download without X-Sluice-CSRF: ${r.status}`);
    r = await mk(body, { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin', 'X-Sluice-CSRF': csrf });
    const t = await r.json();
    const got = await (await fetch(srv.url + t.url)).text();
    const want = spawnSync(BIN, ['sql', '--data', DATA, '--format', 'csv', sql.replace('{{min}}', '0.001')], { encoding: 'utf8' }).stdout;
    if (r.status !== 201 || got !== want) p.push(`parameterised download: ${r.status}, ${got.length} bytes vs ${want.length}`);
    R.check('downloads_params_csrf', p);
});

await R.guard('query_stats', async () => {
    const p = [];
    const q = (body) => fetch(srv.url + '/v1/query', { method: 'POST', body: JSON.stringify(body), headers: { Authorization: 'Bearer rtok' } });
    let r = await q({ sql: 'SELECT 1', format: 'csv', stats: true });
    if (r.status !== 400) p.push(`stats with csv: ${r.status}`);
    r = await q({ sql: 'SELECT event_id FROM t1_events', format: 'ndjson', stats: true, limit: 5 });
    const lines = (await r.text()).trim().split('\n').map((l) => JSON.parse(l));
    const st = lines.at(-1)._sluice_stats;
    if (lines.length !== 6 || !st || st.rows !== 5 || st.scans < 1 || !st.files_total || !Array.isArray(st.plan) || !/t1_events/.test(st.plan.join()))
        p.push(`stats: ${JSON.stringify(lines.at(-1))} after ${lines.length - 1} rows`);
    r = await q({ sql: 'SELECT event_id FROM t1_events LIMIT 2', format: 'ndjson' });
    if ((await r.text()).includes('_sluice_stats')) p.push('stats without asking');
    R.check('query_stats', p);
});

await R.guard('assets', async () => {
    const p = [];
    const r = await fetch(srv.url + '/app.css', { headers: { 'Accept-Encoding': 'gzip' } });
    const raw = Buffer.from(await r.arrayBuffer());
    if (r.headers.get('content-type') !== 'text/css; charset=utf-8') p.push(`css type ${r.headers.get('content-type')}`);
    // node's fetch decodes gzip itself: ask again with plain http for the raw bytes
    const plain = await fetch(srv.url + '/app.css', { headers: { 'Accept-Encoding': 'identity' } });
    const text = await plain.text();
    if (raw.toString() !== text) p.push('gzip and identity bodies differ');
    if (plain.headers.get('content-encoding')) p.push('identity answered with an encoding');
    if (!/default-src 'self'/.test(plain.headers.get('content-security-policy') || '')) p.push('no CSP');
    const gz = await new Promise((res) => {
        import('node:http').then(({ default: http }) => http.get(srv.url + '/app.css', { headers: { 'Accept-Encoding': 'gzip' } }, (x) => {
            const parts = []; x.on('data', (c) => parts.push(c)); x.on('end', () => res({ h: x.headers, b: Buffer.concat(parts) }));
        }));
    });
    if (gz.h['content-encoding'] !== 'gzip' || zlib.gunzipSync(gz.b).toString() !== text) p.push('gzip body wrong');
    if (gz.h.etag === plain.headers.get('etag')) p.push('same ETag for gzip and identity');
    const nm = await fetch(srv.url + '/app.css', { headers: { 'If-None-Match': plain.headers.get('etag'), 'Accept-Encoding': 'identity' } });
    if (nm.status !== 304) p.push(`If-None-Match: ${nm.status}`);
    for (const [u, want] of [['/', 200], ['/query', 200], ['/tables/t1_events', 200], ['/x.js', 404], ['/js/nope.js', 404]]) {
        const x = await fetch(srv.url + u);
        if (x.status !== want) p.push(`${u}: ${x.status}`);
    }
    R.check('assets', p);
});

const code = await srv.stop();
R.check('server_exit', code === 0 ? [] : [`exit ${code}: ${srv.log().slice(-1500)}`]);
process.exit(R.failed ? 1 : 0);
