// Console benchmark in real Chromium against the SQL benchmark's 10M-row lake:
//   - a dashboard of 8 chart widgets (the dashboard shapes of bench/sql.sh):
//     time from navigation to every widget drawn, the time its 8 queries
//     took (the last /v1/query response's end), and what drawing added
//     after them (target < 1 s);
//   - a 1M-row CSV download (POST /v1/downloads, then GET): time to first
//     byte, the whole download and MB/s, next to DuckDB writing the same
//     rows to CSV (COPY ... TO, all threads) in the same run;
//   - page weight: every console file, gzip, as the server sends it.
// Usage: node bench/console.mjs SECTION_FILE   (env SLUICE_REL; BENCH_SQL_DIR: a lake
// built by bench/sql.sh to reuse; BENCH_CONSOLE_ROWS, default 10M, when building one)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { launchBrowser } from '../tests/node/lib/browser.mjs';

const require = createRequire(path.resolve('tests/node/package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');
const BIN = process.env.SLUICE_REL ?? 'build/sluice';
const ROWS = Number(process.env.BENCH_CONSOLE_ROWS ?? 10000000);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const OUTF = process.argv[2] ?? 'bench/out/console-section.md';
fs.mkdirSync('bench/out', { recursive: true });
const T = process.env.BENCH_SQL_DIR ?? fs.mkdtempSync(path.resolve('bench/out/console-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function serve(cfg) {
    const pf = path.join(T, 'port');
    fs.rmSync(pf, { force: true });
    const p = spawn(BIN, ['serve', '-c', cfg, '--port-file', pf], { stdio: ['ignore', 'ignore', fs.openSync(path.join(T, 'console-server.log'), 'a')] });
    process.on('exit', () => { try { p.kill('SIGKILL'); } catch { } }); /* never left running */
    for (let i = 0; i < 400 && !(fs.existsSync(pf) && fs.readFileSync(pf, 'utf8').trim()); i++) await sleep(25);
    if (!fs.existsSync(pf)) throw new Error(`sluice serve did not start: see ${T}/console-server.log`);
    return { p, url: `http://127.0.0.1:${fs.readFileSync(pf, 'utf8').trim()}` };
}
const stop = (s) => new Promise((r) => { s.p.once('exit', r); s.p.kill('SIGTERM'); });

/* The lake: bench/sql.sh's if BENCH_SQL_DIR has one, else built the same way. */
async function buildLake() {
    if (fs.existsSync(path.join(T, 'built'))) return;
    console.log(`== console: building a ${ROWS}-row lake through sluice serve`);
    const cfg = path.join(T, 'cfg.yaml');
    fs.writeFileSync(cfg, `data_dir: ${T}/data\nlisten: 127.0.0.1:0\nlimits:\n  max_body_bytes: 16MB\n  min_free_disk: 0\n` +
        `streams:\n  events:\n    retention_bytes: 0\n    sink:\n      roll_age: 5s\n      max_buffer_bytes: 1GiB\n      roll_bytes: 1GiB\n      maintenance_interval: 0\n`);
    const s = await serve(cfg);
    execSync(`"${BIN}" gen --count ${ROWS} --seed 4 --spacing-ms 260 | "${BIN}" ingest -q --parallel 4 --url "${s.url}" events`, { stdio: 'inherit', shell: '/bin/bash' });
    for (;;) {
        const st = await (await fetch(`${s.url}/v1/streams/events`)).json();
        if (st.sink && st.sink.position >= ROWS) break;
        await sleep(500);
    }
    await stop(s);
    fs.writeFileSync(path.join(T, 'built'), '');
}

const WIDGETS = [
    ['events per hour, one week', "SELECT substr(event_time, 1, 13) AS h, count(*) AS n FROM t1_events WHERE dt BETWEEN '2024-05-08' AND '2024-05-14' GROUP BY h ORDER BY h", { type: 'line', x: 'h', y: ['n'] }],
    ['top campaigns by cost', "SELECT campaign_id, round(sum(cost), 4) AS c FROM t1_events WHERE dt = '2024-05-15' GROUP BY campaign_id ORDER BY c DESC, campaign_id LIMIT 10", { type: 'bar', x: 'campaign_id', y: ['c'] }],
    ['distinct users per day', 'SELECT dt, count(DISTINCT user_id) AS u FROM t1_events GROUP BY dt ORDER BY dt', { type: 'line', x: 'dt', y: ['u'] }],
    ['cost by media', 'SELECT media, round(sum(cost), 2) AS c FROM t1_events GROUP BY media ORDER BY media', { type: 'bar', x: 'media', y: ['c'] }],
    ['events per day', 'SELECT dt, count(*) AS n FROM t1_events GROUP BY dt ORDER BY dt', { type: 'area', x: 'dt', y: ['n'] }],
    ['top countries by clicks', "SELECT country, count(*) AS n FROM t1_events WHERE dt >= '2024-05-08' AND dt < '2024-05-15' AND event_type = 'click' GROUP BY country ORDER BY n DESC, country LIMIT 10", { type: 'bar', x: 'country', y: ['n'] }],
    ['spend per day', "SELECT strftime('%Y-%m-%d', event_time) AS d, round(sum(cost), 2) AS c FROM t1_events WHERE dt BETWEEN '2024-05-08' AND '2024-05-14' GROUP BY d ORDER BY d", { type: 'line', x: 'd', y: ['c'] }],
    ['cost range per hour', "SELECT hr, min(cost) AS lo, max(cost) AS hi FROM t1_events WHERE dt = '2024-05-15' GROUP BY hr ORDER BY hr", { type: 'line', x: 'hr', y: ['lo', 'hi'] }],
];
const BIG = 'SELECT event_id, event_type, country, cost, event_time FROM t1_events LIMIT 1000000';

async function dashboard(s) {
    const call = async (p, body) => (await fetch(s.url + p, { method: 'POST', headers: { Authorization: 'Bearer wtok' }, body: JSON.stringify(body) })).json();
    const ids = [];
    for (const [name, sql, chart] of WIDGETS) ids.push((await call('/v1/saved-queries', { spec: { name, sql, chart } })).id);
    const d = await call('/v1/dashboards', { spec: { name: 'bench', params: [], refresh_s: 0, widgets: ids.map((query) => ({ query, width: 2 })) } });
    return d.id;
}

async function drawOnce(page, url) {
    await page.goto(url + '/');
    await page.evaluate(() => sessionStorage.setItem('sluice.token', 'rtok'));
    await page.goto(url);
    await page.waitForSelector('#dash-refreshed[data-count="1"]', { timeout: 120000 });
    return page.evaluate(() => {
        const q = performance.getEntriesByType('resource').filter((e) => e.name.includes('/v1/query'));
        return { drawn: window.__drawn ?? performance.now(), queriesEnd: Math.max(...q.map((e) => e.responseEnd)),
            queriesStart: Math.min(...q.map((e) => e.startTime)), n: q.length,
            points: document.querySelectorAll('.widget svg .point, .widget svg rect').length };
    });
}

async function csvDownload(s) {
    const t = await (await fetch(`${s.url}/v1/downloads`, { method: 'POST', headers: { Authorization: 'Bearer rtok' }, body: JSON.stringify({ sql: BIG, format: 'csv' }) })).json();
    const t0 = performance.now();
    const r = await fetch(s.url + t.url);
    const rd = r.body.getReader();
    let first = -1, bytes = 0;
    for (;;) {
        const { done, value } = await rd.read();
        if (done) break;
        if (first < 0) first = performance.now() - t0;
        bytes += value.length;
    }
    return { ttfb: first, ms: performance.now() - t0, bytes };
}

async function duckCsv() {
    const inst = await DuckDBInstance.create(':memory:', { threads: String(os.cpus().length) });
    const con = await inst.connect();
    const out = path.join(T, 'duck.csv');
    const scan = `read_parquet('${T}/data/lake/t1_events/**/*.parquet', hive_partitioning=true, union_by_name=true)`;
    const t0 = performance.now();
    await con.run(`COPY (SELECT event_id, event_type, country, cost, event_time FROM ${scan} LIMIT 1000000) TO '${out}' (HEADER)`);
    const ms = performance.now() - t0;
    const bytes = fs.statSync(out).size;
    fs.rmSync(out);
    return { ms, bytes };
}

async function weight(s) {
    const files = new Set(['/', '/app.css', '/favicon.svg']);
    for (const f of fs.readdirSync('ui/js')) files.add(`/js/${f}`);
    let gz = 0;
    for (const f of files) {
        const r = await fetch(s.url + f, { headers: { 'Accept-Encoding': 'gzip' } });
        gz += Number(r.headers.get('content-length') || (await r.arrayBuffer()).byteLength);
    }
    return { files: files.size, gz };
}

await buildLake();
const cfg = path.join(T, 'console-cfg.yaml');
fs.writeFileSync(cfg, `data_dir: ${T}/data\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\nquery:\n  tokens: [rtok]\n  write_tokens: [wtok]\n`);
const s = await serve(cfg);
const B = await launchBrowser();
if (!B) { console.error('bench console: needs chromium and playwright-core (scripts/deps.sh --test)'); process.exit(1); }
await B.context.addInitScript(() => {
    new MutationObserver(() => {
        const i = document.getElementById('dash-refreshed');
        if (i && i.dataset.count === '1' && !window.__drawn) window.__drawn = performance.now();
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-count'] });
});
const id = await dashboard(s);
const draws = [];
for (let i = 0; i < REPS; i++) draws.push(await drawOnce(B.page, `${s.url}/dashboards/${id}`));
const dls = [];
for (let i = 0; i < REPS; i++) dls.push(await csvDownload(s));
const ducks = [];
for (let i = 0; i < REPS; i++) ducks.push(await duckCsv());
const w = await weight(s);
await B.browser.close();
await stop(s);

const best = (a, k) => a.reduce((m, x) => (x[k] < m[k] ? x : m));
const d = best(draws, 'drawn'), dl = best(dls, 'ms'), du = best(ducks, 'ms');
const mbs = (b, ms) => (b / 1e6 / (ms / 1000)).toFixed(1);
const cpu = os.cpus()[0].model.replace(/\s+/g, ' ');
const lines = [
    `- machine: ${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; Chromium (Debian) headless through playwright-core; best of ${REPS}; lake: ${ROWS.toLocaleString('en-US')} rows`,
    '',
    '| measure | sluice console | peer | ratio |',
    '| --- | --- | --- | --- |',
    `| dashboard of 8 charts: navigation to all drawn | ${(d.drawn / 1000).toFixed(2)} s (${d.n} queries, ${d.points} marks) | | |`,
    `| ... of which the 8 queries (first start to last response) | ${((d.queriesEnd - d.queriesStart) / 1000).toFixed(2)} s | | |`,
    `| ... drawing after the last query returned (target < 1 s) | ${((d.drawn - d.queriesEnd) / 1000).toFixed(3)} s | | |`,
    `| 1M-row CSV download: time to first byte | ${dl.ttfb.toFixed(0)} ms | | |`,
    `| 1M-row CSV download: whole (${(dl.bytes / 1e6).toFixed(1)} MB) | ${(dl.ms / 1000).toFixed(2)} s, ${mbs(dl.bytes, dl.ms)} MB/s | DuckDB COPY TO csv, ${os.cpus().length} threads: ${(du.ms / 1000).toFixed(2)} s, ${mbs(du.bytes, du.ms)} MB/s | ${(dl.ms / du.ms).toFixed(2)}x DuckDB's time |`,
    `| page weight: ${w.files} files, gzip | ${(w.gz / 1024).toFixed(1)} KiB | | |`,
    '',
];
fs.writeFileSync(OUTF, lines.join('\n'));
console.log(lines.join('\n'));
process.exit(0);
