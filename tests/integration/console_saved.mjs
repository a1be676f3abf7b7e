// Saved queries and dashboards over HTTP (/v1/saved-queries, /v1/dashboards):
// create/list/get/update/delete with optimistic versions (a stale update is
// 409), read tokens cannot write, {{name}} parameters are typed, validated
// and bound (an injection attempt through one is inert), and CSRF: a
// browser-like request that changes something needs X-Sluice-CSRF = its
// cookie, while a Bearer-only API client needs nothing more.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync, execFileSync } from 'node:child_process';
import { BIN, Reporter, Server, makeTmp } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('console-saved');
const DATA = path.join(T, 'data');
fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${DATA}\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\n` +
    `query:\n  tokens: [rtok]\n  write_tokens: [wtok]\nstreams:\n  events:\n    sink:\n      roll_age: 200ms\n`);
const srv = new Server(T);
await srv.start();
const ev = path.join(T, 'ev.ndjson');
execFileSync(BIN, ['gen', '--count', '2000', '--seed', '5', '--spacing-ms', '120000'], { stdio: ['ignore', fs.openSync(ev, 'w'), 'inherit'] });
execFileSync(BIN, ['ingest', '-q', '--url', srv.url, 'events', ev]);
await srv.landed('events');
const sqlCli = (q) => spawnSync(BIN, ['sql', '--data', DATA, '--format', 'json', q], { encoding: 'utf8' }).stdout;

const call = (method, p, body, tok = 'wtok', headers = {}) => fetch(srv.url + p, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { ...(tok ? { Authorization: `Bearer ${tok}` } : {}), ...headers } });
const SQL = "SELECT dt, count(*) AS n FROM t1_events WHERE dt >= {{ since }} AND event_type = {{kind}} GROUP BY dt ORDER BY dt";
const spec = { name: 'events per day', sql: SQL, chart: { type: 'line', x: 'dt', y: ['n'] },
    params: [{ name: 'since', type: 'date', default: '2000-01-01' }, { name: 'kind', type: 'text', default: 'impression' }] };

let id = 0;
await R.guard('saved_crud', async () => {
    const p = [];
    let r = await call('POST', '/v1/saved-queries', { spec }, 'rtok');
    if (r.status !== 403) p.push(`read token create: ${r.status}`);
    r = await call('POST', '/v1/saved-queries', { spec });
    const o = await r.json();
    id = o.id;
    if (r.status !== 201 || o.version !== 1 || o.spec.sql !== SQL) p.push(`create: ${r.status} ${JSON.stringify(o)}`);
    const list = await (await call('GET', '/v1/saved-queries', undefined, 'rtok')).json();
    if (list.length !== 1 || list[0].id !== id) p.push(`list: ${JSON.stringify(list)}`);
    r = await call('PUT', `/v1/saved-queries/${id}`, { version: 1, spec: { ...spec, name: 'v2' } });
    const u = await r.json();
    if (r.status !== 200 || u.version !== 2 || u.spec.name !== 'v2') p.push(`update: ${r.status} ${JSON.stringify(u)}`);
    r = await call('PUT', `/v1/saved-queries/${id}`, { version: 1, spec: { ...spec, name: 'stale' } });
    const st = await r.json();
    if (r.status !== 409 || !/version 2, not 1/.test(st.error)) p.push(`stale update: ${r.status} ${JSON.stringify(st)}`);
    const g = await (await call('GET', `/v1/saved-queries/${id}`, undefined, 'rtok')).json();
    if (g.spec.name !== 'v2' || g.version !== 2) p.push(`after the stale update: ${JSON.stringify(g)}`);
    for (const [bad, why] of [[{ ...spec, sql: 'SELECT {{nope}}' }, /not defined/], [{ ...spec, sql: "SELECT '{{since}}'" }, /quoted/],
        [{ ...spec, params: [{ name: 'x', type: 'color' }] }, /type/], [{ ...spec, chart: { type: 'pie3d' } }, /chart/],
        [{ sql: 'SELECT 1' }, /name/], [{ ...spec, params: [{ name: 'k', type: 'enum' }], sql: 'SELECT {{k}}' }, /options/]]) {
        r = await call('POST', '/v1/saved-queries', { spec: bad });
        const b = await r.json();
        if (r.status !== 400 || !why.test(b.error)) p.push(`bad spec ${JSON.stringify(bad).slice(0, 80)}: ${r.status} ${b.error}`);
    }
    if ((await call('GET', '/v1/saved-queries/999', undefined, 'rtok')).status !== 404) p.push('unknown id not 404');
    if ((await call('GET', '/v1/saved-queries/abc', undefined, 'rtok')).status !== 404) p.push('bad id not 404');
    if ((await call('GET', '/v1/saved-queries', undefined, null)).status !== 401) p.push('no token not 401');
    const tmp = await (await call('POST', '/v1/saved-queries', { spec: { name: 'tmp', sql: 'SELECT 1' } })).json();
    if ((await call('DELETE', `/v1/saved-queries/${tmp.id}?version=7`)).status !== 409) p.push('stale delete not 409');
    if ((await call('DELETE', `/v1/saved-queries/${tmp.id}?version=1`)).status !== 204) p.push('delete not 204');
    if ((await call('GET', `/v1/saved-queries/${tmp.id}`)).status !== 404) p.push('deleted still there');
    R.check('saved_crud', p);
});

await R.guard('saved_params', async () => {
    const p = [];
    const run = async (body) => { const r = await call('POST', '/v1/query', body, 'rtok'); return { status: r.status, text: await r.text() }; };
    let r = await run({ saved_query: id, params: { since: '2024-05-02', kind: 'impression' } });
    const want = sqlCli("SELECT dt, count(*) AS n FROM t1_events WHERE dt >= '2024-05-02' AND event_type = 'impression' GROUP BY dt ORDER BY dt");
    if (r.status !== 200 || JSON.stringify(JSON.parse(r.text)) !== JSON.stringify(JSON.parse(want))) p.push(`saved run: ${r.status} ${r.text.slice(0, 200)} want ${want.slice(0, 200)}`);
    if (JSON.parse(r.text).length < 1) p.push('the saved query returned no rows: the test data has none');
    // injection through a text parameter: bound, so it is just a string that matches nothing
    r = await run({ saved_query: id, params: { since: '2000-01-01', kind: "x' OR '1'='1" } });
    if (r.status !== 200 || r.text.trim() !== '[]') p.push(`injection: ${r.status} ${r.text.slice(0, 200)}`);
    r = await run({ saved_query: id, params: { since: "2024-01-01' OR 1=1 --", kind: 'impression' } });
    if (r.status !== 400 || !/since.*not a date/.test(r.text)) p.push(`bad date: ${r.status} ${r.text}`);
    r = await run({ saved_query: id, params: { since: 'today-36500' } });
    if (r.status !== 200) p.push(`relative date: ${r.status} ${r.text}`);
    r = await run({ sql: 'SELECT {{n}} + 1 AS x, {{k}} AS k', params: [{ name: 'n', type: 'number', value: '41' }, { name: 'k', type: 'enum', options: ['a', 'b'], value: 'b' }] });
    if (r.text.replace(/\s/g, '') !== '[{"x":42,"k":"b"}]') p.push(`ad hoc: ${r.status} ${r.text}`);
    r = await run({ sql: 'SELECT {{k}} AS k', params: [{ name: 'k', type: 'enum', options: ['a'], value: 'c' }] });
    if (r.status !== 400 || !/not one of its options/.test(r.text)) p.push(`enum: ${r.status} ${r.text}`);
    r = await run({ sql: 'SELECT {{n}} AS n', params: [{ name: 'n', type: 'number', value: '1; DROP TABLE x' }] });
    if (r.status !== 400) p.push(`number: ${r.status} ${r.text}`);
    r = await run({ saved_query: 12345 });
    if (r.status !== 404) p.push(`unknown saved query: ${r.status}`);
    R.check('saved_params', p);
});

await R.guard('dashboards', async () => {
    const p = [];
    const d = { name: 'Daily', refresh_s: 30, params: [{ name: 'since', type: 'date', default: 'today-30' }], widgets: [{ query: id, width: 2, title: 'per day' }] };
    let r = await call('POST', '/v1/dashboards', { spec: d });
    const o = await r.json();
    if (r.status !== 201 || o.spec.widgets[0].query !== id) p.push(`create: ${r.status} ${JSON.stringify(o)}`);
    r = await call('POST', '/v1/dashboards', { spec: { ...d, refresh_s: 1 } });
    if (r.status !== 400) p.push(`refresh 1 s: ${r.status}`);
    r = await call('POST', '/v1/dashboards', { spec: { ...d, widgets: [{ width: 9 }] } });
    if (r.status !== 400) p.push(`bad widget: ${r.status}`);
    r = await call('PUT', `/v1/dashboards/${o.id}`, { version: 1, spec: { ...d, name: 'Daily 2' } });
    if (r.status !== 200) p.push(`update: ${r.status}`);
    r = await call('PUT', `/v1/dashboards/${o.id}`, { version: 1, spec: d });
    if (r.status !== 409) p.push(`stale: ${r.status}`);
    R.check('dashboards', p);
});

await R.guard('csrf', async () => {
    const p = [];
    const body = { spec: { name: 'c', sql: 'SELECT 1' } };
    const s = await fetch(srv.url + '/v1/session');
    const tok = (await s.json()).csrf;
    const cookie = (s.headers.get('set-cookie') || '').split(';')[0];
    if (!/^sluice_csrf=[0-9a-f]{32}$/.test(cookie) || cookie !== `sluice_csrf=${tok}`) p.push(`session: ${cookie} ${tok}`);
    const cases = [
        ['bearer only (curl)', {}, 201],
        ['cookie without header', { Cookie: cookie }, 403],
        ['wrong header', { Cookie: cookie, 'X-Sluice-CSRF': '0'.repeat(32) }, 403],
        ['header without cookie', { 'X-Sluice-CSRF': tok, 'Sec-Fetch-Site': 'same-origin' }, 403],
        ['cookie and header', { Cookie: cookie, 'X-Sluice-CSRF': tok, 'Sec-Fetch-Site': 'same-origin', Origin: srv.url }, 201],
        ['cross-site', { Cookie: cookie, 'X-Sluice-CSRF': tok, 'Sec-Fetch-Site': 'cross-site' }, 403],
        ['other origin', { Cookie: cookie, 'X-Sluice-CSRF': tok, Origin: 'http://evil.example' }, 403],
    ];
    for (const [what, h, want] of cases) {
        const r = await call('POST', '/v1/saved-queries', body, 'wtok', h);
        if (r.status !== want) p.push(`${what}: ${r.status}, want ${want}`);
    }
    const q = await call('POST', '/v1/query', { sql: 'SELECT 1' }, 'rtok', { Origin: 'http://evil.example' });
    if (q.status !== 403) p.push(`query from another origin: ${q.status}`);
    R.check('csrf', p);
});

await R.guard('console_yaml', async () => {
    const p = [];
    const yml = path.join(T, 'console.yaml');
    const ex = spawnSync(BIN, ['console', 'export', yml, '--url', srv.url, '--token', 'rtok'], { encoding: 'utf8' });
    if (ex.status !== 0) p.push(`export: ${ex.status} ${ex.stderr}`);
    const text = fs.existsSync(yml) ? fs.readFileSync(yml, 'utf8') : '';
    if (!/^saved_queries:$/m.test(text) || !/^dashboards:$/m.test(text) || !/"since"/.test(text)) p.push(`export: ${text.slice(0, 300)}`);
    const before = await (await call('GET', '/v1/saved-queries')).json();
    const dBefore = await (await call('GET', '/v1/dashboards')).json();
    const ro = spawnSync(BIN, ['console', 'import', yml, '--url', srv.url, '--token', 'rtok'], { encoding: 'utf8' });
    if (ro.status !== 1 || !/403/.test(ro.stderr)) p.push(`import with a read token: ${ro.status} ${ro.stderr}`);
    const im = spawnSync(BIN, ['console', 'import', yml, '--url', srv.url, '--token', 'wtok'], { encoding: 'utf8' });
    if (im.status !== 0) p.push(`import: ${im.status} ${im.stderr}`);
    const after = await (await call('GET', '/v1/saved-queries')).json();
    const dAfter = await (await call('GET', '/v1/dashboards')).json();
    if (after.length !== 2 * before.length || dAfter.length !== 2 * dBefore.length) p.push(`counts ${before.length}->${after.length}, ${dBefore.length}->${dAfter.length}`);
    // each spec comes back the same; a dashboard's widgets name the imported copies
    const byId = new Map(after.map((q) => [q.id, q]));
    const newIds = new Set(after.filter((q) => !before.some((b) => b.id === q.id)).map((q) => q.id));
    for (const b of before) {
        const twin = after.find((q) => newIds.has(q.id) && JSON.stringify(q.spec) === JSON.stringify(b.spec));
        if (!twin) p.push(`saved query ${b.id} did not come back the same: ${JSON.stringify(b.spec).slice(0, 120)}`);
    }
    for (const d of dAfter.filter((x) => !dBefore.some((b) => b.id === x.id)))
        for (const w of d.spec.widgets || []) if (!newIds.has(w.query) || !byId.has(w.query)) p.push(`imported dashboard's widget names ${w.query}`);
    R.check('console_yaml', p);
});

const code = await srv.stop();
R.check('server_exit', code === 0 ? [] : [`exit ${code}: ${srv.log().slice(-1500)}`]);
process.exit(R.failed ? 1 : 0);
