// kind collect, raw files never hold the run's secrets: the mock's fb
// insights take the token as an `access_token` query parameter and echo it
// into every page's paging.next URL (as the Graph API does).  The raw files
// of the run keep the pages byte for byte except each secret value
// (as sent, URL-encoded, JSON-escaped), which is "[redacted]"; the lake slice
// still equals the mock's truth (the records are not touched).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { startAdMedia } from '../mock/admedia.mjs';
import { Reporter, Server, makeTmp, sluice } from '../node/lib/common.mjs';
import { runsOf, latest } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('collect-raw-secrets');
const DATA = path.join(T, 'data');
const CFG = path.join(T, 'sluice.yaml');
const DAY = '2022-09-10';
const m = await startAdMedia({ port: 0, seed: 9, accounts: 3, rows: { fb: [40, 60], gads: [20, 30], yt: [10, 20] } });
const acc = m.accounts.find((a) => a.id === 'acc02');
fs.mkdirSync(path.join(T, 'secrets'));
fs.writeFileSync(path.join(T, 'secrets', 'fb'), acc.fb_token + '\n');
fs.writeFileSync(CFG, `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 1
secrets_dir: ${T}/secrets
scheduler: {tick: 100ms, task_timeout: 5s, heartbeat: 500ms}
jobs:
  fb_q:
    kind: collect
    window: day
    retries: 0
    accounts:
      sql: "SELECT 'acc02' AS id, 'fb' AS token_ref"
    request:
      url: "{{params.base}}/fb/v1/act_{{account}}/insights"
      params: {since: "{{ds}}", until: "{{ds}}", limit: "10"}
    auth: {type: query, name: access_token, token: "{{account_secret.token_ref}}"}
    pagination: {type: next_url, path: paging.next, max_pages: 50}
    report: {format: json, records: data}
    table: t1_fb_q_timeseries_daily
    params: {base: "${m.url}"}
`);
const server = new Server(T);
try {
    await server.start();
    const t = await fetch(`${server.url}/v1/jobs/fb_q/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ window: DAY }) });
    if (t.status !== 201) throw new Error(`trigger: ${t.status} ${await t.text()}`);
    const run = latest(await runsOf(CFG, 'fb_q', 1, 30000), 'acc02');
    await R.guard('raw_pages_hold_no_token', async () => {
        const p = [];
        if (run?.state !== 'succeeded') p.push(`run: ${JSON.stringify(run)}`);
        const dir = path.join(DATA, 'lake', 'raw', 'fb_q', 'acc02', DAY);
        const parts = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json.gz')) : [];
        if (parts.length < 3) p.push(`want several pages, have ${parts.length}: ${parts.join(' ')}`);
        let redacted = 0;
        for (const f of parts) {
            const body = zlib.gunzipSync(fs.readFileSync(path.join(dir, f))).toString();
            if (body.includes(acc.fb_token) || body.includes(encodeURIComponent(acc.fb_token))) p.push(`${f} holds the token`);
            if (/access_token=\[redacted\]/.test(body)) redacted++;
            try { JSON.parse(body); } catch (e) { p.push(`${f} is no longer JSON: ${e.message}`); }
        }
        if (redacted !== parts.length - 1) p.push(`${redacted} of ${parts.length} pages show access_token=[redacted] (every page but the last has a next URL)`);
        R.check('raw_pages_hold_no_token', p);
    });
    await R.guard('lake_slice_untouched', async () => {
        const truth = m.truth('fb', 'acc02').slices.find((s) => s.day === DAY);
        const q = await sluice(['sql', '-c', CFG, '-F', 'json', `SELECT count(*) AS n, sum(install) AS i FROM t1_fb_q_timeseries_daily WHERE dt = '${DAY}'`]);
        const v = q.status === 0 ? JSON.parse(q.stdout.toString())[0] : null;
        R.check('lake_slice_untouched', v && Number(v.n) === truth.rows && Number(v.i) === truth.install ? [] : [`lake ${JSON.stringify(v)} ${q.stderr} vs truth ${JSON.stringify(truth)}`]);
    });
} finally {
    await server.stop();
    await m.close();
}
process.exitCode = R.failed ? 1 : 0;
