// The console in real Chromium (Debian's chromium, driven by playwright-core):
// a wrong token is refused and asked for again; Tables lists the lake table
// and its detail shows the catalog's columns, partitions, sample rows and
// DDL; Query runs SQL into the virtualised grid (200k rows, only a window of
// them in the DOM), Cancel stops a running query on the server too, and
// Download CSV (Parquet) of the 200k-row result is byte for byte `sluice sql
// --format csv` (`--format parquet`).  Labelled controls, keyboard use of the grid, no console errors.
// Screenshots in tests/out/console-*.png.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync, execFileSync } from 'node:child_process';
import { BIN, ROOT, Reporter, Server, makeTmp, sleep } from '../node/lib/common.mjs';
import { CHROMIUM, launchBrowser } from '../node/lib/browser.mjs';

const R = new Reporter();
const B = await launchBrowser();
if (!B) {
    R.fail('console_setup', `needs ${CHROMIUM} and playwright-core (scripts/deps.sh --test)`);
    process.exit(1);
}
const { browser, page, errors: consoleErrors } = B;
const OUT = path.join(ROOT, 'tests/out');
fs.mkdirSync(OUT, { recursive: true });
const T = makeTmp('console');
const DATA = path.join(T, 'data');
fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${DATA}\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\n` +
    `query:\n  tokens: [read-token-1]\n  write_tokens: [write-token-1]\nstreams:\n  events:\n    sink:\n      roll_age: 200ms\n`);
const srv = new Server(T);
await srv.start();
const ev = path.join(T, 'ev.ndjson');
execFileSync(BIN, ['gen', '--count', '20000', '--seed', '7', '--spacing-ms', '20000'], { stdio: ['ignore', fs.openSync(ev, 'w'), 'inherit'] });
execFileSync(BIN, ['ingest', '-q', '--url', srv.url, 'events', ev]);
await srv.landed('events');
const ctl = async (p) => (await fetch(srv.url + p, { headers: { Authorization: 'Bearer read-token-1' } })).json();
const cliCsv = (sql) => spawnSync(BIN, ['sql', '--data', DATA, '--format', 'csv', sql], { maxBuffer: 1 << 30 });

const shot = (name) => page.screenshot({ path: path.join(OUT, `console-${name}.png`), fullPage: true });
const dialogOpen = () => page.evaluate(() => document.getElementById('token-dialog').open);

await R.guard('console_token', async () => {
    const p = [];
    await page.goto(srv.url + '/');
    await page.waitForSelector('#token-dialog[open]', { timeout: 10000 });
    await page.fill('#token-input', 'not-a-token');
    await page.press('#token-input', 'Enter');
    await page.waitForFunction(() => /refused/.test(document.getElementById('token-msg').textContent), null, { timeout: 10000 });
    if (!(await dialogOpen())) p.push('a refused token did not bring the prompt back');
    if (await page.$('tr[data-table]')) p.push('tables shown with a refused token');
    await shot('token');
    await page.fill('#token-input', 'read-token-1');
    await page.click('#token-submit');
    await page.waitForSelector('tr[data-table="t1_events"]', { timeout: 10000 });
    if (await dialogOpen()) p.push('prompt still open after a good token');
    const stored = await page.evaluate(() => sessionStorage.getItem('sluice.token'));
    if (stored !== 'read-token-1') p.push(`sessionStorage holds ${stored}`);
    R.check('console_token', p);
});

await R.guard('console_tables', async () => {
    const p = [];
    const list = await ctl('/v1/tables');
    const row = await page.textContent('tr[data-table="t1_events"]');
    const t = list.find((x) => x.name === 't1_events');
    if (!t || !row.includes(t.rows.toLocaleString('en-US'))) p.push(`list row "${row}" lacks the row count ${t && t.rows}`);
    await shot('tables');
    await page.click('tr[data-table="t1_events"] a');
    await page.waitForSelector('tr[data-column]');
    const desc = await ctl('/v1/tables/t1_events');
    const cols = await page.$$eval('tr[data-column]', (rs) => rs.map((r) => `${r.dataset.column}:${r.dataset.type}`));
    const want = desc.columns.map((c) => `${c.name}:${c.type}`);
    if (cols.join() !== want.join()) p.push(`columns ${cols.join()} != catalog ${want.join()}`);
    if (!want.includes('event_id:string')) p.push(`catalog columns ${want.join()}`);
    const parts = await page.$$eval('tr[data-partition]', (rs) => rs.map((r) => r.dataset.partition));
    if (parts.join() !== desc.partitions.map((x) => x.partition).join()) p.push(`partitions ${parts.join()}`);
    await page.waitForSelector('section[aria-labelledby="sec-sample-rows"] table', { timeout: 10000 });
    const sampleRows = await page.$$eval('section[aria-labelledby="sec-sample-rows"] tbody tr', (r) => r.length);
    if (sampleRows !== 20) p.push(`${sampleRows} sample rows, want 20`);
    await page.click('#ddl-tab-duckdb');
    const ddl = await page.textContent('pre[data-dialect="duckdb"]');
    if (!/read_parquet/.test(ddl)) p.push(`duckdb DDL: ${ddl}`);
    await page.focus('#ddl-tab-duckdb');
    await page.keyboard.press('ArrowRight'); // wraps to trino
    if (!(await page.$('pre[data-dialect="trino"]'))) p.push('ArrowRight on the tabs did not select trino');
    await shot('table');
    R.check('console_tables', p);
});

const BIG = "SELECT e.event_id, e.event_type, e.cost, k.x FROM t1_events e, " +
    "(WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < 10) SELECT x FROM k) k ORDER BY e.event_id, k.x";
async function runSql(sql) {
    await page.fill('#sql', sql);
    await page.click('#run');
    await page.waitForFunction(() => document.querySelector('main').dataset.state === 'idle' && document.getElementById('status').dataset.rows,
        null, { timeout: 30000 });
    return Number(await page.getAttribute('#status', 'data-rows'));
}

await R.guard('console_query', async () => {
    const p = [];
    await page.click('nav a[data-nav="query"]');
    await page.waitForSelector('#sql');
    const sql = 'SELECT event_type, count(*) AS n FROM t1_events GROUP BY event_type ORDER BY event_type';
    const n = await runSql(sql);
    const cells = await page.$$eval('.grid-rows .grid-row', (rs) => rs.map((r) => [...r.children].map((c) => c.textContent).join(',')));
    const want = cliCsv(sql).stdout.toString().trim().split('\n').slice(1);
    if (n !== want.length || cells.join('\n') !== want.join('\n')) p.push(`grid ${JSON.stringify(cells)} != sluice sql ${JSON.stringify(want)}`);
    const rd = await page.$eval('#read-stats', (e) => ({ ...e.dataset, text: e.textContent }));
    const parts = (await ctl('/v1/tables/t1_events?files=0')).partitions.length;
    if (Number(rd.partitionsTotal) !== parts || Number(rd.partitionsRead) !== parts || !/Query plan/.test(rd.text))
        p.push(`read stats ${JSON.stringify(rd)} (table has ${parts} partitions)`);
    const one = (await ctl('/v1/tables/t1_events?files=0')).partitions[0].partition.match(/dt=([^/]+)/)[1];
    await runSql(`SELECT count(*) AS n FROM t1_events WHERE dt = '${one}'`);
    const rd1 = await page.$eval('#read-stats', (e) => ({ ...e.dataset }));
    if (Number(rd1.partitionsRead) >= Number(rd1.partitionsTotal)) p.push(`a dt = filter read ${JSON.stringify(rd1)}`);
    await runSql(sql);
    const hl = await page.$$eval('.editor-hl .tok-keyword', (s) => s.map((x) => x.textContent));
    if (!hl.includes('SELECT') || !hl.includes('GROUP')) p.push(`highlighted keywords: ${hl.join()}`);
    await shot('query');
    R.check('console_query', p);
});

await R.guard('console_complete', async () => {
    const p = [];
    await page.fill('#sql', 'SELECT * FROM t1_ev');
    await page.press('#sql', 'End');
    await page.press('#sql', 'Control+Space');
    await page.waitForSelector('#sql-complete li[data-value="t1_events"]', { timeout: 5000 });
    await page.press('#sql', 'Enter');
    let v = await page.inputValue('#sql');
    if (v !== 'SELECT * FROM t1_events') p.push(`after a table completion: ${JSON.stringify(v)}`);
    await page.fill('#sql', 'SELECT * FROM t1_events WHERE event_ty');
    await page.press('#sql', 'End');
    let found = false;
    for (let i = 0; i < 30 && !found; i++) { // the columns load on first use
        await page.press('#sql', 'Control+Space');
        found = !!(await page.$('#sql-complete li[data-value="event_type"]'));
        if (!found) await sleep(100);
    }
    if (!found) p.push('no completion of the column event_type');
    else {
        await page.press('#sql', 'Tab');
        v = await page.inputValue('#sql');
        if (v !== 'SELECT * FROM t1_events WHERE event_type') p.push(`after a column completion: ${JSON.stringify(v)}`);
    }
    if (await page.getAttribute('#sql', 'aria-expanded') !== 'false') p.push('list still open after accepting');
    R.check('console_complete', p);
});

await R.guard('console_big_result', async () => {
    const p = [];
    const t0 = Date.now();
    const n = await runSql(BIG);
    const ms = Date.now() - t0;
    if (n !== 200000) p.push(`${n} rows in the grid, want 200000`);
    const inDom = await page.$$eval('.grid-rows .grid-row', (r) => r.length);
    if (inDom > 200) p.push(`${inDom} rows in the DOM: not virtualised`);
    await page.$eval('.grid-body', (b) => { b.scrollTop = b.scrollHeight; });
    await page.waitForSelector('.grid-row[data-row="199999"]', { timeout: 5000 });
    // keyboard: Home goes to the first row, End to the last
    await page.focus('.grid');
    await page.keyboard.press('Home');
    await page.waitForSelector('.grid-row.active[data-row="0"]', { timeout: 5000 });
    await page.keyboard.press('End');
    await page.waitForSelector('.grid-row.active[data-row="199999"]', { timeout: 5000 });
    await shot('query-big');
    console.log(`# 200000 rows into the grid in ${ms} ms`);
    R.check('console_big_result', p);
});

await R.guard('console_download_csv', async () => {
    const p = [];
    const t0 = Date.now();
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }), page.click('#download-csv')]);
    const file = await dl.path();
    const got = fs.readFileSync(file);
    const want = cliCsv(BIG);
    if (want.status !== 0) p.push(`sluice sql failed: ${want.stderr}`);
    if (Buffer.compare(got, want.stdout) !== 0)
        p.push(`download (${got.length} bytes) differs from sluice sql --format csv (${want.stdout.length} bytes)`);
    if (got.toString().split('\n').length !== 200002) p.push(`${got.toString().split('\n').length - 2} data lines`);
    console.log(`# 200000-row CSV download, ${got.length} bytes, in ${Date.now() - t0} ms`);
    R.check('console_download_csv', p);
});

await R.guard('console_download_parquet', async () => {
    const p = [];
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }), page.click('#download-parquet')]);
    if (dl.suggestedFilename() !== 'result.parquet') p.push(`file name ${dl.suggestedFilename()}`);
    const got = fs.readFileSync(await dl.path());
    const want = spawnSync(BIN, ['sql', '--data', DATA, '--format', 'parquet', BIG], { maxBuffer: 1 << 30 });
    if (want.status !== 0) p.push(`sluice sql failed: ${want.stderr}`);
    else if (Buffer.compare(got, want.stdout) !== 0)
        p.push(`download (${got.length} bytes) differs from sluice sql --format parquet (${want.stdout.length} bytes)`);
    R.check('console_download_parquet', p);
});

await R.guard('console_cancel', async () => {
    const p = [];
    await page.fill('#sql', 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT count(*) FROM c');
    await page.click('#run');
    await page.waitForFunction(() => /Running/.test(document.getElementById('status').textContent));
    await sleep(500);
    await page.click('#cancel');
    await page.waitForFunction(() => /Cancelled/.test(document.getElementById('status').textContent), null, { timeout: 5000 });
    let running = -1;
    for (let i = 0; i < 100 && running !== 0; i++) {
        const m = /^sluice_query_running (\d+)/m.exec(await (await fetch(srv.url + '/metrics')).text());
        running = m ? Number(m[1]) : -1;
        if (running) await sleep(50);
    }
    if (running !== 0) p.push(`${running} queries still running on the server after Cancel`);
    R.check('console_cancel', p);
});

await R.guard('console_a11y', async () => {
    const p = [];
    for (const route of ['/tables', '/tables/t1_events', '/query']) {
        await page.goto(srv.url + route);
        await page.waitForLoadState('networkidle');
        const bad = await page.$$eval('input, textarea, select, button', (els) => els.filter((e) => {
            if (e.closest('dialog:not([open])') || e.type === 'hidden') return false;
            const label = e.getAttribute('aria-label') || (e.id && document.querySelector(`label[for="${e.id}"]`)) || e.textContent.trim();
            return !label;
        }).map((e) => e.outerHTML.slice(0, 80)));
        if (bad.length) p.push(`${route}: unlabelled ${bad.join(' ')}`);
    }
    // Tab from the page start reaches the navigation
    await page.goto(srv.url + '/tables');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => document.activeElement && document.activeElement.textContent);
    if (!/Home|Tables|Query/.test(f || '')) p.push(`third Tab focused "${f}"`);
    R.check('console_a11y', p);
});

await R.guard('console_assets', async () => {
    const p = [];
    const r = await fetch(srv.url + '/js/main.js', { headers: { 'Accept-Encoding': 'gzip' } });
    if (r.headers.get('content-type') !== 'text/javascript; charset=utf-8') p.push(`content-type ${r.headers.get('content-type')}`);
    const etag = r.headers.get('etag');
    const again = await fetch(srv.url + '/js/main.js', { headers: { 'If-None-Match': etag, 'Accept-Encoding': 'gzip' } });
    if (again.status !== 304) p.push(`If-None-Match: ${again.status}`);
    const route = await fetch(srv.url + '/tables/t1_events');
    if (!(await route.text()).includes('<script type="module"')) p.push('a client route is not index.html');
    if ((await fetch(srv.url + '/nope.js')).status !== 404) p.push('a missing file is not 404');
    let weight = 0;
    for (const f of ['/', '/app.css', '/js/main.js', '/js/api.js', '/js/tables.js', '/js/query.js', '/js/grid.js', '/js/sqlhl.js', '/js/complete.js', '/js/chart.js', '/js/saved.js', '/js/dash.js', '/js/jobs.js', '/js/home.js', '/js/alerts.js', '/favicon.svg']) {
        const x = await fetch(srv.url + f, { headers: { 'Accept-Encoding': 'gzip' } });
        weight += Number(x.headers.get('content-length'));
    }
    console.log(`# page weight (gzip, all of the console's files): ${weight} bytes`);
    R.check('console_assets', p);
});

R.check('console_no_errors', consoleErrors);
await browser.close();
const code = await srv.stop();
R.check('console_server_exit', code === 0 ? [] : [`exit ${code}: ${srv.log().slice(-1500)}`]);
process.exit(R.failed ? 1 : 0);
