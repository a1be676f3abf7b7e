// The console's saved queries, charts, dashboards, Jobs and Home pages in
// real Chromium: a saved query with a date-range parameter ({{ r.start }},
// {{ r.end }}) is made in
// the page and charted (its SVG points are what `sluice sql` gives for the
// same query), a stale save is refused, an injection through the parameter
// is refused as no date, the query goes on a dashboard whose shared
// parameter changes the chart's points, the read-only link shows the same
// without editing, a browser request without the CSRF header is refused,
// and the Jobs and Home pages show a job's failed run; Home shows the
// streams' records/s and sink lag, the disk, and a schema change.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync, execFileSync } from 'node:child_process';
import { BIN, ROOT, Reporter, Server, makeTmp, sleep } from '../node/lib/common.mjs';
import { CHROMIUM, launchBrowser } from '../node/lib/browser.mjs';

const R = new Reporter();
const B = await launchBrowser();
if (!B) {
    R.fail('dash_setup', `needs ${CHROMIUM} and playwright-core (scripts/deps.sh --test)`);
    process.exit(1);
}
const { browser, page, errors: consoleErrors } = B;
const OUT = path.join(ROOT, 'tests/out');
fs.mkdirSync(OUT, { recursive: true });
const T = makeTmp('console-dash');
const DATA = path.join(T, 'data');
const CFG = path.join(T, 'sluice.yaml');
fs.writeFileSync(CFG, `data_dir: ${DATA}\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\n` +
    `query:\n  tokens: [rtok]\n  write_tokens: [wtok]\nstreams:\n  events:\n    sink:\n      roll_age: 200ms\n` +
    `jobs:\n  boom:\n    kind: command\n    window: day\n    retries: 0\n    command: [sh, -c, "echo the upstream API is down >&2; exit 3"]\n`);
const srv = new Server(T);
await srv.start();
const deadline = setTimeout(() => { console.log('FAIL dash_bounded: still running after 55 s'); process.exit(1); }, 55000);
const ev = path.join(T, 'ev.ndjson');
execFileSync(BIN, ['gen', '--count', '3000', '--seed', '9', '--spacing-ms', '120000'], { stdio: ['ignore', fs.openSync(ev, 'w'), 'inherit'] });
execFileSync(BIN, ['ingest', '-q', '--url', srv.url, 'events', ev]);
await srv.landed('events');
const shot = (name) => page.screenshot({ path: path.join(OUT, `console-${name}.png`), fullPage: true });
// a date-range parameter: {{ r.start }} and {{ r.end }}, a value 'A..B'
const SQL = 'SELECT dt, count(*) AS n, sum(cost) AS cost FROM t1_events WHERE dt BETWEEN {{ r.start }} AND {{ r.end }} GROUP BY dt ORDER BY dt';
const cli = (range) => JSON.parse(spawnSync(BIN, ['sql', '--data', DATA, '--format', 'json',
    SQL.replace('{{ r.start }}', `'${range.split('..')[0]}'`).replace('{{ r.end }}', `'${range.split('..')[1]}'`)], { encoding: 'utf8' }).stdout);
/* The points of the SVG chart under sel: [{x, y, series}] */
const points = (sel) => page.$$eval(`${sel} svg .point`, (els) => els.map((e) => ({ x: e.dataset.x, y: Number(e.dataset.y), series: e.dataset.series })));
const same = (pts, rows) => {
    const want = rows.flatMap((r) => [{ x: r.dt, y: r.n, series: 'n' }]);
    const got = pts.filter((p) => p.series === 'n');
    return JSON.stringify(got) === JSON.stringify(want) ? null : `chart ${JSON.stringify(got)} != sluice sql ${JSON.stringify(want)}`;
};

await page.goto(srv.url + '/saved/new');
await page.evaluate(() => sessionStorage.setItem('sluice.token', 'wtok'));
let savedId = 0;

await R.guard('dash_saved_chart', async () => {
    const p = [];
    await page.goto(srv.url + '/saved/new');
    await page.fill('#sq-name', 'Events per day');
    await page.fill('#sql', SQL);
    await page.waitForSelector('#p-type-r', { timeout: 5000 });
    await page.selectOption('#p-type-r', 'daterange');
    await page.fill('#p-default-r', '2024-05-01..2024-05-31');
    await page.selectOption('#chart-type', 'line');
    await page.fill('#chart-x', 'dt');
    await page.fill('#chart-y', 'n');
    await page.click('#sq-save');
    await page.waitForSelector('#sq-version[data-version="1"]', { timeout: 5000 });
    savedId = Number((await page.evaluate(() => location.pathname)).split('/').pop());
    await page.fill('#p-value-r', '2024-05-02..2024-05-31');
    await page.click('#sq-run');
    await page.waitForSelector('#sq-result svg .point', { timeout: 10000 });
    const bad = same(await points('#sq-result'), cli('2024-05-02..2024-05-31'));
    if (bad) p.push(bad);
    if (cli('2024-05-02..2024-05-31').length < 2) p.push('the test data spans too few days');
    const saved = await (await fetch(`${srv.url}/v1/saved-queries/${savedId}`, { headers: { Authorization: 'Bearer rtok' } })).json();
    if (saved.spec.sql !== SQL || saved.spec.params[0].type !== 'daterange' || saved.spec.chart.type !== 'line') p.push(`stored ${JSON.stringify(saved.spec)}`);
    await shot('saved');
    R.check('dash_saved_chart', p);
});

await R.guard('dash_injection_inert', async () => {
    const p = [];
    await page.fill('#p-value-r', "2024-05-01..2024-05-31' OR '1'='1");
    await page.click('#sq-run');
    await page.waitForSelector('#sq-result .error', { timeout: 5000 });
    const msg = await page.textContent('#sq-result .error');
    if (!/parameter r: .*not a date range/.test(msg)) p.push(`error: ${msg}`);
    // and as text: bound, so it matches no dt at all (spliced, it would match every row)
    const r = await page.evaluate(async (id) => {
        const csrf = (await (await fetch('/v1/session')).json()).csrf;
        const res = await fetch('/v1/query', { method: 'POST', headers: { Authorization: 'Bearer rtok', 'X-Sluice-CSRF': csrf },
            body: JSON.stringify({ sql: 'SELECT count(*) AS n FROM t1_events WHERE dt = {{d}}', params: [{ name: 'd', type: 'text', value: "x' OR '1'='1" }] }) });
        return res.json();
    }, savedId);
    if (JSON.stringify(r) !== '[{"n":0}]') p.push(`text injection: ${JSON.stringify(r)}`);
    R.check('dash_injection_inert', p);
});

await R.guard('dash_stale_save', async () => {
    const p = [];
    const cur = await (await fetch(`${srv.url}/v1/saved-queries/${savedId}`, { headers: { Authorization: 'Bearer wtok' } })).json();
    const r = await fetch(`${srv.url}/v1/saved-queries/${savedId}`, { method: 'PUT', headers: { Authorization: 'Bearer wtok' },
        body: JSON.stringify({ version: cur.version, spec: { ...cur.spec, name: 'Changed elsewhere' } }) });
    if (r.status !== 200) p.push(`PUT from elsewhere: ${r.status}`);
    await page.fill('#sq-name', 'My edit');
    await page.click('#sq-save');
    await page.waitForSelector('.error:has-text("changed meanwhile")', { timeout: 5000 });
    const now = await (await fetch(`${srv.url}/v1/saved-queries/${savedId}`, { headers: { Authorization: 'Bearer wtok' } })).json();
    if (now.spec.name !== 'Changed elsewhere' || now.version !== 2) p.push(`after the stale save: ${now.version} ${now.spec.name}`);
    R.check('dash_stale_save', p);
});

let dashUrl = '';
await R.guard('dash_shared_param', async () => {
    const p = [];
    await page.goto(srv.url + '/dashboards');
    await page.fill('#dash-name', 'Traffic');
    await page.click('#dash-create');
    await page.waitForSelector('#dash-edit #add-param', { timeout: 5000 });
    await page.fill('#new-param-name', 'r');
    await page.selectOption('#new-param-type', 'daterange');
    await page.fill('#new-param-default', '2024-05-01..2024-05-31');
    await page.click('#add-param');
    await page.waitForSelector('#dp-r', { timeout: 5000 });
    await page.selectOption('#add-query', String(savedId));
    await page.click('#add-widget');
    await page.waitForSelector(`#dash-grid .widget[data-query="${savedId}"] svg .point`, { timeout: 10000 });
    let bad = same(await points('#dash-grid .widget'), cli('2024-05-01..2024-05-31'));
    if (bad) p.push(`default: ${bad}`);
    const before = await points('#dash-grid .widget');
    await page.fill('#dp-r', '2024-05-03..2024-05-04');
    await page.click('#dash-apply');
    await page.waitForFunction((n) => document.querySelectorAll('#dash-grid .widget svg .point').length !== n, before.length, { timeout: 10000 });
    const after = await points('#dash-grid .widget');
    bad = same(after, cli('2024-05-03..2024-05-04'));
    if (bad) p.push(`after the change: ${bad}`);
    if (JSON.stringify(after) === JSON.stringify(before)) p.push('the chart did not change');
    // auto-refresh: every 5 s the widgets are drawn again
    await page.fill('#dash-refresh', '5');
    await page.click('#dash-save-refresh');
    await page.waitForSelector('#dash-version[data-version="4"]', { timeout: 5000 });
    const n0 = Number(await page.getAttribute('#dash-refreshed', 'data-count'));
    await page.waitForFunction((n) => Number(document.getElementById('dash-refreshed').dataset.count) >= n + 1, n0, { timeout: 9000 });
    if (!/every 5 s/.test(await page.textContent('#dash-refreshed'))) p.push('no refresh interval shown');
    dashUrl = await page.getAttribute('#share-link', 'href');
    if (!/view=1/.test(dashUrl) || !/p\.r=2024-05-03\.\.2024-05-04/.test(decodeURIComponent(dashUrl))) p.push(`share link ${dashUrl}`);
    await shot('dashboard');
    R.check('dash_shared_param', p);
});

await R.guard('dash_read_only_link', async () => {
    const p = [];
    await page.evaluate(() => sessionStorage.setItem('sluice.token', 'rtok'));
    await page.goto(srv.url + dashUrl);
    await page.waitForSelector('#dash-grid .widget svg .point', { timeout: 10000 });
    if (await page.$('#dash-edit')) p.push('edit controls on the read-only view');
    const bad = same(await points('#dash-grid .widget'), cli('2024-05-03..2024-05-04'));
    if (bad) p.push(bad);
    // a read token cannot change the dashboard through the API either
    const id = dashUrl.split('/').pop().split('?')[0];
    const r = await fetch(`${srv.url}/v1/dashboards/${id}`, { method: 'PUT', headers: { Authorization: 'Bearer rtok' },
        body: JSON.stringify({ version: 1, spec: { name: 'x' } }) });
    if (r.status !== 403) p.push(`read token PUT: ${r.status}`);
    await page.evaluate(() => sessionStorage.setItem('sluice.token', 'wtok'));
    R.check('dash_read_only_link', p);
});

await R.guard('dash_csrf', async () => {
    const p = [];
    const r = await page.evaluate(async () => {
        const body = JSON.stringify({ spec: { name: 'forged', sql: 'SELECT 1' } });
        const without = await fetch('/v1/saved-queries', { method: 'POST', headers: { Authorization: 'Bearer wtok' }, body });
        const csrf = (await (await fetch('/v1/session')).json()).csrf;
        const withTok = await fetch('/v1/saved-queries', { method: 'POST', headers: { Authorization: 'Bearer wtok', 'X-Sluice-CSRF': csrf }, body });
        return [without.status, (await without.json()).error, withTok.status];
    });
    if (r[0] !== 403 || !/X-Sluice-CSRF/.test(r[1]) || r[2] !== 201) p.push(`without the header ${r[0]} (${r[1]}), with it ${r[2]}`);
    R.check('dash_csrf', p);
});

await R.guard('dash_jobs_failed_run', async () => {
    const p = [];
    const t = await fetch(`${srv.url}/v1/jobs/boom/runs`, { method: 'POST', headers: { Authorization: 'Bearer wtok' }, body: JSON.stringify({ window: '2024-05-01' }) });
    if (t.status >= 300) p.push(`trigger: ${t.status} ${await t.text()}`);
    let runs = [];
    for (let i = 0; i < 200 && !runs.some((r) => r.state === 'failed'); i++) {
        runs = await (await fetch(`${srv.url}/v1/jobs/boom/runs`, { headers: { Authorization: 'Bearer rtok' } })).json();
        if (!runs.some((r) => r.state === 'failed')) await sleep(100);
    }
    if (!runs.some((r) => r.state === 'failed')) p.push(`no failed run: ${JSON.stringify(runs)}`);
    await page.goto(srv.url + '/jobs');
    await page.waitForSelector('tr[data-job="boom"][data-state="failed"]', { timeout: 10000 });
    if (!/upstream API is down/.test(await page.textContent('tr[data-job="boom"]'))) p.push('the Jobs page shows no error text');
    await shot('jobs');
    await page.click('a[href="/jobs/boom"]');
    await page.waitForSelector('#job-runs tr[data-state="failed"]', { timeout: 10000 });
    if (!/upstream API is down/.test(await page.textContent('#job-runs'))) p.push('the run history shows no error');
    // the run's log: what the command printed, per attempt
    await page.click('#job-runs tr[data-state="failed"] button[id^="log-"]');
    await page.waitForSelector('#run-log [data-attempt="1"] pre', { timeout: 10000 }).catch(() => p.push('no run log shown'));
    if (!/the upstream API is down/.test(await page.textContent('#run-log').catch(() => ''))) p.push('the run log lacks the output');
    // the Run button queues another window; it shows up in the history
    await page.fill('#run-window', '2024-05-02');
    await page.click('#run-trigger');
    await page.waitForFunction(() => document.querySelectorAll('#job-runs tr[data-state]').length >= 2, null, { timeout: 10000 });
    await page.goto(srv.url + '/');
    await page.waitForSelector('#home-failures tr[data-state="failed"]', { timeout: 10000 });
    await page.waitForSelector('#home-tables tr[data-table="t1_events"]', { timeout: 10000 });
    await shot('home');
    R.check('dash_jobs_failed_run', p);
});

await R.guard('dash_home_streams_disk_schema', async () => {
    // Home shows each stream's records/s and sink lag (as GET /v1/streams has them), the
    // journals' disk, and the schema change a new field makes
    const p = [];
    await page.goto(srv.url + '/');
    await page.waitForSelector('#home-streams tr[data-stream="events"]', { timeout: 10000 });
    const api = await (await fetch(`${srv.url}/v1/streams`)).json();
    const ev = api.streams.find((x) => x.name === 'events');
    const lag = await page.getAttribute('#home-streams tr[data-stream="events"]', 'data-lag');
    if (lag !== String(ev.sink.lag)) p.push(`Home lag ${lag}, API ${ev.sink.lag}`);
    if (!api.disk || !(api.disk.free_bytes > 0) || !(api.disk.total_bytes >= api.disk.free_bytes) || !(api.disk.journal_bytes > 0))
        p.push(`GET /v1/streams disk: ${JSON.stringify(api.disk)}`);
    const free = Number(await page.getAttribute('#home-disk-figures', 'data-free'));
    if (!(free > 0) || Math.abs(free - api.disk.free_bytes) > 1e9) p.push(`Home disk free ${free}, API ${api.disk.free_bytes}`);
    const m = /^sluice_disk_free_bytes (\d+)$/m.exec(await (await fetch(`${srv.url}/metrics`)).text());
    if (!m) p.push('no sluice_disk_free_bytes in /metrics');
    // records between two refreshes give a rate; a new field is a schema change
    const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ event_id: `home-${i}`, event_type: 'view', ts: '2024-05-03T10:00:00Z', home_new_field: i }));
    const r = await srv.post('events', lines);
    if (r.code !== 200) p.push(`ingest ${r.code} ${r.body}`);
    await page.waitForFunction(() => Number(document.querySelector('#home-streams tr[data-stream="events"]')?.dataset.rate) > 0,
        null, { timeout: 15000 }).catch(() => p.push('no records/s after 500 records'));
    await srv.landed('events');
    await page.goto(srv.url + '/');
    await page.waitForSelector('#home-schema tr[data-table="t1_events"]', { timeout: 10000 })
        .catch(() => p.push('no schema change listed for t1_events'));
    const ch = await (await fetch(`${srv.url}/v1/schema-changes?limit=5`, { headers: { Authorization: 'Bearer rtok' } })).json();
    if (!ch.changes?.some((c) => c.table === 't1_events' && /home_new_field/.test(c.change))) p.push(`schema-changes: ${JSON.stringify(ch)}`);
    const anon = await fetch(`${srv.url}/v1/schema-changes`);
    if (anon.status !== 401) p.push(`schema-changes without a token: ${anon.status}`);
    await shot('home-streams');
    R.check('dash_home_streams_disk_schema', p);
});

await R.guard('dash_a11y', async () => {
    const p = [];
    for (const route of ['/', '/saved', `/saved/${savedId}`, '/dashboards', dashUrl.replace('view=1', 'view=0'), '/jobs', '/jobs/boom']) {
        await page.goto(srv.url + route);
        await page.waitForLoadState('networkidle');
        const bad = await page.$$eval('input, textarea, select, button', (els) => els.filter((e) => {
            if (e.closest('dialog:not([open])') || e.type === 'hidden') return false;
            const label = e.getAttribute('aria-label') || (e.id && document.querySelector(`label[for="${e.id}"]`)) || e.closest('label') || e.textContent.trim();
            return !label;
        }).map((e) => e.outerHTML.slice(0, 80)));
        if (bad.length) p.push(`${route}: unlabelled ${bad.join(' ')}`);
    }
    R.check('dash_a11y', p);
});

R.check('dash_no_errors', consoleErrors.filter((e) => !/status of (403|409|400)/.test(e)));
await browser.close();
clearTimeout(deadline);
const code = await srv.stop();
R.check('dash_server_exit', code === 0 ? [] : [`exit ${code}: ${srv.log().slice(-1500)}`]);
process.exit(R.failed ? 1 : 0);
