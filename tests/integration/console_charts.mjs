// Chart types and server-side aggregation in real Chromium, on a dashboard
// of five saved queries over 3000 events (4 days):
//   - pie: one slice per event type, sizes and shares as `sluice sql` counts;
//   - stacked bars: per day, each series' value as sluice sql has it;
//   - scatter: one point per row;
//   - counter with "compare": the change vs the previous day;
//   - a line over the 3000 raw rows (more than the 500 a chart draws) is
//     fetched again with "bucket" and drawn from hourly sums the server
//     computed: fewer than 501 points whose sum is 3000;
//   - a date-range parameter shared by a dashboard: changing the range
//     changes the line's points (as sluice sql has them); bad ranges refused;
//   - a dashboard dropdown filled by another saved query changes the chart;
//     a value it does not offer is refused;
//   - POST /v1/query "bucket" refuses bad requests and quotes names.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync, execFileSync } from 'node:child_process';
import { BIN, ROOT, Reporter, Server, makeTmp } from '../node/lib/common.mjs';
import { CHROMIUM, launchBrowser } from '../node/lib/browser.mjs';

const R = new Reporter();
const B = await launchBrowser();
if (!B) {
    R.fail('charts_setup', `needs ${CHROMIUM} and playwright-core (scripts/deps.sh --test)`);
    process.exit(1);
}
const { browser, page, errors: consoleErrors } = B;
const OUT = path.join(ROOT, 'tests/out');
fs.mkdirSync(OUT, { recursive: true });
const T = makeTmp('console-charts');
const DATA = path.join(T, 'data');
fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${DATA}\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\n` +
    `query:\n  tokens: [rtok]\n  write_tokens: [wtok]\nstreams:\n  events:\n    sink:\n      roll_age: 200ms\n`);
const srv = new Server(T);
await srv.start();
const deadline = setTimeout(() => { console.log('FAIL charts_bounded: still running after 55 s'); process.exit(1); }, 55000);
const ev = path.join(T, 'ev.ndjson');
execFileSync(BIN, ['gen', '--count', '3000', '--seed', '11', '--spacing-ms', '120000'], { stdio: ['ignore', fs.openSync(ev, 'w'), 'inherit'] });
execFileSync(BIN, ['ingest', '-q', '--url', srv.url, 'events', ev]);
await srv.landed('events');
const cli = (sql) => JSON.parse(spawnSync(BIN, ['sql', '--data', DATA, '--format', 'json', sql], { encoding: 'utf8' }).stdout);
const post = async (p, body, tok = 'wtok') => {
    const r = await fetch(srv.url + p, { method: 'POST', headers: { Authorization: `Bearer ${tok}` }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json().catch(() => null) };
};
const Q = {
    pie: ['SELECT event_type, count(*) AS n FROM t1_events GROUP BY 1 ORDER BY 1', { type: 'pie', x: 'event_type', y: ['n'] }],
    stacked: ["SELECT dt, sum(event_type = 'click') AS clicks, sum(event_type = 'impression') AS imps FROM t1_events GROUP BY dt ORDER BY dt",
        { type: 'stacked', x: 'dt', y: ['clicks', 'imps'] }],
    scatter: ['SELECT round(cost, 3) AS c, length(event_id) AS l FROM t1_events ORDER BY event_id LIMIT 200', { type: 'scatter', x: 'c', y: ['l'] }],
    counter: ["SELECT (SELECT count(*) FROM t1_events WHERE dt = '2024-05-02') AS today, (SELECT count(*) FROM t1_events WHERE dt = '2024-05-01') AS yesterday",
        { type: 'counter', y: ['today'], compare: 'yesterday' }],
    line: ['SELECT event_time AS t, 1 AS n FROM t1_events', { type: 'line', x: 't', y: ['n'] }],
};
const ids = {};
for (const [k, [sql, chart]] of Object.entries(Q)) ids[k] = (await post('/v1/saved-queries', { spec: { name: k, sql, chart } })).body.id;
const dash = (await post('/v1/dashboards', { spec: { name: 'charts', params: [], refresh_s: 0,
    widgets: Object.values(ids).map((query) => ({ query, width: 2 })) } })).body;
await page.goto(srv.url + '/');
await page.evaluate(() => sessionStorage.setItem('sluice.token', 'rtok'));
await page.goto(`${srv.url}/dashboards/${dash.id}`);
await page.waitForSelector('#dash-refreshed[data-count="1"]', { timeout: 20000 });
const marks = (q) => page.$$eval(`.widget[data-query="${ids[q]}"] .point`, (els) => els.map((e) => ({ x: e.dataset.x, y: Number(e.dataset.y), s: e.dataset.series, share: e.dataset.share })));

await R.guard('chart_pie', async () => {
    const p = [], got = await marks('pie'), want = cli(Q.pie[0]);
    const total = want.reduce((a, r) => a + r.n, 0);
    if (JSON.stringify(got.map((m) => [m.x, m.y])) !== JSON.stringify(want.map((r) => [r.event_type, r.n]))) p.push(`slices ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
    for (const m of got) if (Math.abs(Number(m.share) - m.y / total) > 1e-3) p.push(`share of ${m.x}: ${m.share}`);
    R.check('chart_pie', p);
});
await R.guard('chart_stacked', async () => {
    const p = [], got = await marks('stacked'), want = cli(Q.stacked[0]);
    const exp = ['clicks', 'imps'].flatMap((s) => want.map((r) => ({ x: r.dt, y: r[s], s })));
    if (JSON.stringify(got.map((m) => ({ x: m.x, y: m.y, s: m.s }))) !== JSON.stringify(exp)) p.push(`bars ${JSON.stringify(got).slice(0, 300)}`);
    R.check('chart_stacked', p);
});
await R.guard('chart_scatter_counter', async () => {
    const p = [];
    const sc = await marks('scatter');
    if (sc.length !== 200) p.push(`${sc.length} scatter points, want 200`);
    const w = cli(Q.counter[0])[0];
    const el = await page.$(`.widget[data-query="${ids.counter}"] .counter`);
    const v = await el.getAttribute('data-value'), ch = await el.getAttribute('data-change');
    if (Number(v) !== w.today || Math.abs(Number(ch) - (w.today - w.yesterday) / w.yesterday) > 1e-4) p.push(`counter ${v} ${ch}, want ${JSON.stringify(w)}`);
    if (!/vs yesterday/.test(await el.textContent())) p.push('no change shown');
    R.check('chart_scatter_counter', p);
});
await R.guard('chart_bucketed_on_the_server', async () => {
    const p = [], got = await marks('line');
    const box = `.widget[data-query="${ids.line}"]`;
    if (await page.getAttribute(box, 'data-bucketed') !== '1') p.push('not bucketed');
    if (got.length > 500 || got.length < 50) p.push(`${got.length} points`);
    const sum = got.reduce((a, m) => a + m.y, 0);
    if (sum !== 3000) p.push(`points sum to ${sum}, want 3000`);
    if (!got.every((m) => /^\d{4}-\d\d-\d\dT\d\d$/.test(m.x))) p.push(`x not hourly: ${got.slice(0, 3).map((m) => m.x)}`);
    const hourly = cli("SELECT substr(event_time, 1, 13) AS h, count(*) AS n FROM t1_events GROUP BY 1 ORDER BY 1");
    if (JSON.stringify(got.map((m) => [m.x, m.y])) !== JSON.stringify(hourly.map((r) => [r.h, r.n]))) p.push('the points are not the hourly counts');
    if (!/aggregated on the server/.test(await page.textContent(box))) p.push('no note says so');
    await page.screenshot({ path: path.join(OUT, 'console-charts.png'), fullPage: true });
    R.check('chart_bucketed_on_the_server', p);
});
await R.guard('daterange_on_the_dashboard', async () => {
    // a saved query with a date-range parameter, charted as a line on a dashboard whose
    // shared range changes the chart's points (checked against sluice sql)
    const p = [];
    const SQL = 'SELECT dt, count(*) AS n FROM t1_events WHERE dt BETWEEN {{ r.start }} AND {{ r.end }} GROUP BY dt ORDER BY dt';
    const q = await post('/v1/saved-queries', { spec: { name: 'per day in range', sql: SQL, chart: { type: 'line', x: 'dt', y: ['n'] },
        params: [{ name: 'r', type: 'daterange', default: '2024-05-01..2024-05-02' }] } });
    if (q.status !== 201) { R.fail('daterange_on_the_dashboard', JSON.stringify(q.body)); return; }
    const d = (await post('/v1/dashboards', { spec: { name: 'range', refresh_s: 0, params: [{ name: 'r', type: 'daterange', default: '2024-05-01..2024-05-02' }],
        widgets: [{ query: q.body.id, width: 4 }] } })).body;
    const want = (a, b) => cli(`SELECT dt, count(*) AS n FROM t1_events WHERE dt BETWEEN '${a}' AND '${b}' GROUP BY dt ORDER BY dt`).map((r) => [r.dt, r.n]);
    const pts = () => page.$$eval('.widget .point', (els) => els.map((e) => [e.dataset.x, Number(e.dataset.y)]));
    await page.goto(`${srv.url}/dashboards/${d.id}`);
    await page.waitForSelector('#dash-refreshed[data-count="1"]', { timeout: 15000 });
    if (JSON.stringify(await pts()) !== JSON.stringify(want('2024-05-01', '2024-05-02'))) p.push(`default range: ${JSON.stringify(await pts())}`);
    await page.fill('#dp-r', '2024-05-02..2024-05-04');
    await page.click('#dash-apply');
    await page.waitForSelector('#dash-refreshed[data-count="2"]', { timeout: 15000 });
    const got = await pts();
    if (JSON.stringify(got) !== JSON.stringify(want('2024-05-02', '2024-05-04')) || got.length !== 3) p.push(`changed range: ${JSON.stringify(got)}`);
    if (!/p\.r=2024-05-02\.\.2024-05-04/.test(decodeURIComponent(page.url()))) p.push(`url ${page.url()}`);
    // the API refuses bad ranges, and {{ r }} without .start / .end
    const run = (value, sql = SQL) => post('/v1/query', { sql, params: [{ name: 'r', type: 'daterange', value }] }, 'rtok');
    for (const [v, re] of [['2024-05-04..2024-05-02', /ends before it starts/], ['2024-05-01', /not a date range/],
        ["2024-05-01..2024-05-02' OR '1'='1", /not a date range/], ['2024-02-30..2024-03-01', /not a date range/]]) {
        const r = await run(v);
        if (r.status !== 400 || !re.test(r.body?.error)) p.push(`${v}: ${r.status} ${r.body?.error}`);
    }
    const whole = await run('2024-05-01..2024-05-02', 'SELECT {{ r }} AS x');
    if (whole.status !== 400 || !/write \{\{r\.start\}\}/.test(whole.body?.error)) p.push(`{{ r }}: ${whole.status} ${whole.body?.error}`);
    const last = await run('last_3_days');
    if (last.status !== 200) p.push(`last_3_days: ${last.status} ${JSON.stringify(last.body)}`);
    R.check('daterange_on_the_dashboard', p);
});

await R.guard('enum_options_from_a_query', async () => {
    // a dashboard dropdown filled by another saved query; its choice changes the chart;
    // a value that query does not return is refused
    const p = [];
    const types = (await post('/v1/saved-queries', { spec: { name: 'event types', sql: 'SELECT DISTINCT event_type FROM t1_events ORDER BY 1' } })).body.id;
    const SQL = 'SELECT dt, count(*) AS n FROM t1_events WHERE event_type = {{ kind }} GROUP BY dt ORDER BY dt';
    const def = { name: 'kind', type: 'enum', options_query: types, default: 'click' };
    const q = (await post('/v1/saved-queries', { spec: { name: 'per day of a kind', sql: SQL, chart: { type: 'bar', x: 'dt', y: ['n'] }, params: [def] } })).body;
    const d = (await post('/v1/dashboards', { spec: { name: 'kinds', refresh_s: 0, params: [def], widgets: [{ query: q.id, width: 4 }] } })).body;
    await page.goto(`${srv.url}/dashboards/${d.id}`);
    await page.waitForSelector('#dp-kind[data-loaded]', { timeout: 15000 });
    const opts = await page.$$eval('#dp-kind option', (els) => els.map((e) => e.value));
    const want = cli('SELECT DISTINCT event_type FROM t1_events ORDER BY 1').map((r) => r.event_type);
    if (JSON.stringify(opts) !== JSON.stringify(want)) p.push(`options ${JSON.stringify(opts)}, want ${JSON.stringify(want)}`);
    await page.waitForSelector('#dash-refreshed[data-count="1"]', { timeout: 15000 });
    await page.selectOption('#dp-kind', 'install');
    await page.click('#dash-apply');
    await page.waitForSelector('#dash-refreshed[data-count="2"]', { timeout: 15000 });
    const pts = await page.$$eval('.widget .point', (els) => els.map((e) => [e.dataset.x, Number(e.dataset.y)]));
    const exp = cli("SELECT dt, count(*) AS n FROM t1_events WHERE event_type = 'install' GROUP BY dt ORDER BY dt").map((r) => [r.dt, r.n]);
    if (JSON.stringify(pts) !== JSON.stringify(exp)) p.push(`install: ${JSON.stringify(pts)} != ${JSON.stringify(exp)}`);
    const bad = await post('/v1/query', { saved_query: q.id, params: { kind: 'purchase' } }, 'rtok');
    if (bad.status !== 400 || !/not one of its options/.test(bad.body?.error)) p.push(`a value not in the options: ${bad.status} ${bad.body?.error}`);
    const both = await post('/v1/saved-queries', { spec: { name: 'x', sql: 'SELECT {{k}}', params: [{ ...def, name: 'k', options: ['a'] }] } });
    if (both.status !== 400 || !/not both/.test(both.body?.error)) p.push(`options and options_query: ${both.status} ${both.body?.error}`);
    const withParams = (await post('/v1/saved-queries', { spec: { name: 'p', sql: 'SELECT {{z}} AS v', params: [{ name: 'z', type: 'text', default: 'a' }] } })).body.id;
    const rec = await post('/v1/query', { sql: 'SELECT {{k}} AS v', params: [{ name: 'k', type: 'enum', options_query: withParams, value: 'a' }] }, 'rtok');
    if (rec.status !== 400 || !/parameters of its own/.test(rec.body?.error)) p.push(`an options query with parameters: ${rec.status} ${rec.body?.error}`);
    R.check('enum_options_from_a_query', p);
});

await R.guard('text_widget', async () => {
    // a text widget added in the page: shown as text (markup in it stays text), saved in the spec
    const p = [];
    await page.evaluate(() => sessionStorage.setItem('sluice.token', 'wtok'));
    await page.goto(`${srv.url}/dashboards/${dash.id}`);
    await page.waitForSelector('#add-text', { timeout: 10000 });
    await page.fill('#add-text', '# About\n\nThese charts count <b>events</b> from t1_events.');
    await page.click('#add-text-widget');
    await page.waitForSelector('.widget[data-text="1"] p.widget-text', { timeout: 10000 });
    const t = await page.textContent('.widget[data-text="1"]');
    if (!/About/.test(t) || !/These charts count <b>events<\/b> from t1_events\./.test(t)) p.push(`text widget: ${t}`);
    if (await page.$('.widget[data-text="1"] b')) p.push('markup in a text widget became markup');
    const got = await (await fetch(`${srv.url}/v1/dashboards/${dash.id}`, { headers: { Authorization: 'Bearer rtok' } })).json();
    if (!got.spec.widgets.some((w) => w.text && w.text.includes('<b>events</b>'))) p.push(`spec: ${JSON.stringify(got.spec.widgets)}`);
    const bad = await fetch(`${srv.url}/v1/dashboards`, { method: 'POST', headers: { Authorization: 'Bearer wtok' },
        body: JSON.stringify({ spec: { name: 'x', widgets: [{ text: 'a', query: ids.pie, width: 2 }] } }) });
    if (bad.status !== 400) p.push(`text and query in one widget: ${bad.status}`);
    await page.evaluate(() => sessionStorage.setItem('sluice.token', 'rtok'));
    R.check('text_widget', p);
});

await R.guard('bucket_api_checks', async () => {
    const p = [];
    const bad = [[{ x: 'a', y: ['a'], points: 1 }, /points/], [{ x: 'a', y: ['a'], agg: 'median' }, /agg/],
        [{ y: ['a'] }, /needs "x"/], [{ x: 'a', y: 'a' }, /array/], [{ x: 'a', y: ['a'], color: 1 }, /not valid/]];
    for (const [b, re] of bad) {
        const r = await post('/v1/query', { sql: 'SELECT 1 AS a', bucket: b }, 'rtok');
        if (r.status !== 400 || !re.test(r.body?.error)) p.push(`${JSON.stringify(b)}: ${r.status} ${r.body?.error}`);
    }
    const inj = await post('/v1/query', { sql: 'SELECT 1 AS a', bucket: { x: 'a" FROM q; DROP TABLE x; --', y: ['a'] } }, 'rtok');
    if (inj.status !== 400 || !/no such column/.test(inj.body?.error)) p.push(`a quote in a name: ${inj.status} ${inj.body?.error}`);
    const num = await post('/v1/query', { sql: 'SELECT cost AS c, 1 AS n FROM t1_events WHERE cost IS NOT NULL', bucket: { x: 'c', y: ['n'], points: 10, agg: 'count' } }, 'rtok');
    const all = cli('SELECT count(*) AS n FROM t1_events WHERE cost IS NOT NULL')[0].n;
    if (num.status !== 200 || num.body.length > 11 || num.body.reduce((a, r) => a + r.n, 0) !== all) p.push(`numeric buckets: ${JSON.stringify(num.body).slice(0, 200)}`);
    R.check('bucket_api_checks', p);
});

R.check('charts_no_errors', consoleErrors);
await browser.close();
clearTimeout(deadline);
await srv.stop();
process.exit(R.failed ? 1 : 0);
