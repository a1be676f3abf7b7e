// Run logs: each attempt of a run keeps what its task logged and what a
// command printed (GET /v1/jobs/{job}/runs/{id}/log):
//   - a command that fails its first attempt and succeeds on the retry has
//     two logs, each with that attempt's stdout and stderr lines and the
//     failure's reason on the first;
//   - a secret the command prints is replaced by "[secret NAME]";
//   - output over 64 KiB keeps its end (the last line is there, the first
//     is not) and the log stays under the cap;
//   - a sql job's log has the runtime's lines for it; a run of another job,
//     an unknown run and no token are refused.
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, Server, makeTmp, sluice } from '../node/lib/common.mjs';
import { runsOf } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('jobs-logs');
const DATA = path.join(T, 'data');
const MARK = path.join(T, 'tried');
process.env.SLUICE_SECRET_API_KEY = 'sk-live-7f3a9c21';
const CFG = path.join(T, 'sluice.yaml');
fs.writeFileSync(CFG, `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
scheduler: {tick: 20ms}
query: {tokens: [rtok], write_tokens: [wtok]}
streams:
  events: {sink: {roll_age: 100ms}}
jobs:
  flaky:
    kind: command
    schedule: "0 0 1 1 *"
    retries: 1
    retry_delay: 100ms
    env: {KEY: "{{ secret.api_key }}"}
    command: [sh, -c, "echo fetching report for $SLUICE_DS with key $KEY; if [ -f ${MARK} ]; then echo got 42 rows; else touch ${MARK}; echo 'HTTP 503 from upstream' >&2; exit 7; fi"]
  chatty:
    kind: command
    schedule: "0 0 1 1 *"
    retries: 0
    command: [sh, -c, "i=0; while [ $i -lt 3000 ]; do echo line $i of a long report padded to be long enough; i=$((i+1)); done; echo THE-LAST-LINE"]
  daily:
    kind: sql
    schedule: "0 0 1 1 *"
    window: day
    table: t2_events_aggr_1d_daily
    sql: "SELECT 1 AS n, '{{ ds }}' AS dt"
`);
const server = new Server(T);
const log = async (job, id, tok = 'rtok') => {
    const r = await fetch(`${server.url}/v1/jobs/${job}/runs/${id}/log`, { headers: tok ? { Authorization: `Bearer ${tok}` } : {} });
    return { code: r.status, body: r.status === 200 ? await r.json() : await r.text() };
};

try {
    await server.start();
    await R.guard('run_log_per_attempt', async () => {
        const p = [];
        await sluice(['run', 'flaky', '-c', CFG, '-w', '2024-05-01']);
        const [run] = await runsOf(CFG, 'flaky', 1, 30000);
        if (run?.state !== 'succeeded' || run.attempt !== 2) p.push(`run: ${JSON.stringify(run)}`);
        const l = await log('flaky', run.id);
        if (l.code !== 200) { R.fail('run_log_per_attempt', `${l.code} ${l.body}`); return; }
        const a = l.body.attempts;
        if (a.length !== 2 || a[0].attempt !== 1 || a[1].attempt !== 2) p.push(`attempts: ${JSON.stringify(a).slice(0, 300)}`);
        else {
            if (!/fetching report for 2024-05-01/.test(a[0].text) || !/HTTP 503 from upstream/.test(a[0].text) ||
                !/attempt 1 failed: .*exited with status 7/.test(a[0].text)) p.push(`attempt 1: ${a[0].text}`);
            if (!/got 42 rows/.test(a[1].text) || /HTTP 503/.test(a[1].text)) p.push(`attempt 2: ${a[1].text}`);
            const all = a.map((x) => x.text).join('\n');
            if (all.includes('sk-live-7f3a9c21') || !all.includes('[secret api_key]')) p.push(`secret: ${all.slice(0, 300)}`);
        }
        R.check('run_log_per_attempt', p);
    });

    await R.guard('run_log_keeps_the_end', async () => {
        const p = [];
        await sluice(['run', 'chatty', '-c', CFG, '-w', '2024-05-01']);
        const [run] = await runsOf(CFG, 'chatty', 1, 30000);
        const l = await log('chatty', run.id);
        const t = l.body.attempts?.[0]?.text ?? '';
        if (!t.includes('THE-LAST-LINE')) p.push('the last line is missing');
        if (t.includes('line 0 of a long report')) p.push('the first line is still there: nothing was cut');
        if (Buffer.byteLength(t) > 64 * 1024) p.push(`${Buffer.byteLength(t)} bytes kept, over 64 KiB`);
        R.check('run_log_keeps_the_end', p);
    });

    await R.guard('run_log_sql_job_and_refusals', async () => {
        const p = [];
        await sluice(['run', 'daily', '-c', CFG, '-w', '2024-05-01']);
        const [run] = await runsOf(CFG, 'daily', 1, 30000);
        if (run?.state !== 'succeeded') p.push(`sql run: ${JSON.stringify(run)}`);
        const l = await log('daily', run.id);
        if (l.code !== 200 || !/job daily run \d+ succeeded \(1 rows\)/.test(l.body.attempts?.[0]?.text ?? ''))
            p.push(`sql job log: ${l.code} ${JSON.stringify(l.body).slice(0, 300)}`);
        const [flaky] = await runsOf(CFG, 'flaky', 1, 1000);
        const other = await log('chatty', flaky.id);
        if (other.code !== 404) p.push(`another job's run: ${other.code}`);
        if ((await log('flaky', 999999)).code !== 404) p.push('an unknown run is not 404');
        if ((await log('flaky', flaky.id, null)).code !== 401) p.push('no token is not 401');
        const bad = await fetch(`${server.url}/v1/jobs/flaky/runs/x/log`, { headers: { Authorization: 'Bearer rtok' } });
        if (bad.status !== 404) p.push(`a bad id: ${bad.status}`);
        R.check('run_log_sql_job_and_refusals', p);
    });
} finally {
    await server.stop();
}
process.exitCode = R.failed ? 1 : 0;
