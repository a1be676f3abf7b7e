// The console's Alerts page in real Chromium: an alert job is listed ok;
// data that makes its condition hold and "Check now" fire it to a local
// webhook receiver with the expected Slack-compatible JSON, and the page
// shows it triggered; a failed job run shows up as a built-in notice; a
// read-only token's "Check now" is refused (in the page and by the API) and
// starts no run; labelled controls, no console errors, a screenshot.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, Reporter, Server, makeTmp, sluice } from '../node/lib/common.mjs';
import { CHROMIUM, launchBrowser } from '../node/lib/browser.mjs';
import { runsOf } from '../node/lib/jobs.mjs';
import { startWebhook } from '../node/lib/webhook.mjs';

const R = new Reporter();
const B = await launchBrowser();
if (!B) {
    R.fail('alerts_setup', `needs ${CHROMIUM} and playwright-core (scripts/deps.sh --test)`);
    process.exit(1);
}
const { browser, page, errors: consoleErrors } = B;
const OUT = path.join(ROOT, 'tests/out');
fs.mkdirSync(OUT, { recursive: true });
const T = makeTmp('console-alerts');
const DATA = path.join(T, 'data');
const hook = await startWebhook();
const got = hook.got;
const HOOK = hook.url;
const CFG = path.join(T, 'sluice.yaml');
fs.writeFileSync(CFG, `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
scheduler: {tick: 20ms}
query: {tokens: [rtok], write_tokens: [wtok]}
alerts: {webhook: "${HOOK}/builtin", every: 200ms}
streams:
  events: {sink: {roll_age: 100ms}}
jobs:
  big_spend:
    kind: alert
    schedule: "0 0 1 1 *"
    query: "SELECT coalesce(sum(cost), 0) AS cost FROM t1_events"
    condition: "cost > 100"
    cooldown: 1h
    alert_webhook: ${HOOK}/spend
  boom:
    kind: command
    schedule: "0 0 1 1 *"
    retries: 0
    command: [sh, -c, "echo the report API is down >&2; exit 3"]
`);
const srv = new Server(T);
await srv.start();
const deadline = setTimeout(() => { console.log('FAIL alerts_bounded: still running after 55 s'); process.exit(1); }, 55000);
const shot = (name) => page.screenshot({ path: path.join(OUT, `console-${name}.png`), fullPage: true });
const row = '#alert-jobs tr[data-alert="big_spend"]';

await page.goto(srv.url + '/alerts');
await page.evaluate(() => sessionStorage.setItem('sluice.token', 'wtok'));

await R.guard('alerts_page_fires_to_webhook', async () => {
    const p = [];
    await page.goto(srv.url + '/alerts');
    await page.waitForSelector(`${row}[data-state="ok"]`, { timeout: 10000 });
    if (!/cost > 100/.test(await page.textContent(row))) p.push('the condition is not shown');
    if ((await page.content()).includes(String(hook.port))) p.push('a webhook URL is in the page');
    await srv.post('events', [{ id: 1, cost: 70 }, { id: 2, cost: 45 }]);
    await srv.landed('events');
    await page.click('#check-big_spend');
    await page.waitForSelector(`${row}[data-state="triggered"]`, { timeout: 15000 }).catch(() => p.push('not shown triggered'));
    const spend = got.filter((g) => g.path === '/spend');
    if (spend.length !== 1 || spend[0].type !== 'application/json' ||
        JSON.stringify(Object.keys(spend[0].body)) !== '["text"]' ||
        spend[0].body.text !== 'sluice alert big_spend: triggered: cost > 100 ({"cost":115,"_rows":1})')
        p.push(`webhook got ${JSON.stringify(spend)}`);
    R.check('alerts_page_fires_to_webhook', p);
});

await R.guard('alerts_page_builtin_notice', async () => {
    const p = [];
    await sluice(['run', 'boom', '-c', CFG, '-w', '2024-05-01']);
    const runs = await runsOf(CFG, 'boom', 1, 20000);
    if (runs[0]?.state !== 'failed') p.push(`boom: ${JSON.stringify(runs[0])}`);
    await page.waitForSelector('#alert-notices tr[data-notice="job_failures"][data-delivered="true"]', { timeout: 15000 })
        .catch(() => p.push('no job_failures notice on the page'));
    await page.waitForSelector('#alert-builtin tr[data-check="job_failures"][data-state="triggered"]', { timeout: 10000 })
        .catch(() => p.push('job_failures not shown triggered'));
    if (!/the report API is down/.test(await page.textContent('#alert-notices').catch(() => ''))) p.push('the notice text is not shown');
    if (!got.some((g) => g.path === '/builtin' && /job_failures: 1 run failed: boom/.test(g.body.text))) p.push(`webhook: ${JSON.stringify(got)}`);
    await shot('alerts');
    R.check('alerts_page_builtin_notice', p);
});

await R.guard('alerts_read_token_cannot_check', async () => {
    const p = [];
    await page.evaluate(() => sessionStorage.setItem('sluice.token', 'rtok'));
    await page.goto(srv.url + '/alerts');
    await page.waitForSelector(row, { timeout: 10000 });
    const before = (await runsOf(CFG, 'big_spend', 1, 5000)).length;
    await page.click('#check-big_spend');
    await page.waitForSelector('#alert-msgs .error', { timeout: 5000 }).catch(() => p.push('no refusal shown'));
    if (!/write token/.test(await page.textContent('#alert-msgs'))) p.push(`message: ${await page.textContent('#alert-msgs')}`);
    const api = await fetch(`${srv.url}/v1/jobs/big_spend/runs`, { method: 'POST', headers: { Authorization: 'Bearer rtok' }, body: '{"window":"2024-05-01"}' });
    if (api.status !== 403) p.push(`API with a read token: ${api.status}`);
    const after = (await runsOf(CFG, 'big_spend', 1, 5000)).length;
    if (after !== before) p.push(`${after - before} runs started with a read token`);
    R.check('alerts_read_token_cannot_check', p);
});

await R.guard('alerts_a11y', async () => {
    const bad = await page.$$eval('input, textarea, select, button', (els) => els.filter((e) => {
        if (e.closest('dialog:not([open])') || e.type === 'hidden') return false;
        return !(e.getAttribute('aria-label') || (e.id && document.querySelector(`label[for="${e.id}"]`)) || e.closest('label') || e.textContent.trim());
    }).map((e) => e.outerHTML.slice(0, 80)));
    const nav = await page.getAttribute('nav a[data-nav="alerts"]', 'aria-current');
    R.check('alerts_a11y', [...bad.map((b) => `unlabelled ${b}`), ...(nav === 'page' ? [] : ['the nav does not mark Alerts current'])]);
});

R.check('alerts_no_errors', consoleErrors.filter((e) => !/status of 403/.test(e)));
await browser.close();
clearTimeout(deadline);
await srv.stop();
hook.close();
process.exit(R.failed ? 1 : 0);
