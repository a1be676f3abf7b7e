// kind: alert — a saved SELECT checked on a schedule, notifying a local
// Slack-compatible webhook receiver:
//   - ok while the condition does not hold (no notice), triggered when it
//     does (one notice with the row), no second notice within the cooldown,
//     "resolved" when it stops holding, "triggered" again after that;
//   - `_rows` (how many rows the query returned) in a condition;
//   - a webhook that refuses fails the run and the state does not advance:
//     the retried run notifies;
//   - an alert on a console saved query (by name), its date parameter at
//     its relative default;
//   - a condition comparing a text column with a number fails the run with
//     the reason; bad alert configs are refused naming the key.
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, Server, makeTmp, sluice } from '../node/lib/common.mjs';
import { runsOf } from '../node/lib/jobs.mjs';
import { startWebhook } from '../node/lib/webhook.mjs';

const R = new Reporter();
const T = makeTmp('jobs-alert');
const DATA = path.join(T, 'data');
const hook = await startWebhook();
const got = hook.got;
const HOOK = hook.url;
const CFG = path.join(T, 'sluice.yaml');
fs.writeFileSync(CFG, `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
scheduler: {tick: 20ms}
streams:
  events: {sink: {roll_age: 100ms}}
jobs:
  cost_spike:
    kind: alert
    schedule: "0 0 1 1 *"
    query: "SELECT count(*) AS n, sum(cost) AS cost FROM t1_events"
    condition: "cost > 100"
    cooldown: 1h
    alert_webhook: ${HOOK}/cost
    retries: 2
    retry_delay: 1s
  any_errors:
    kind: alert
    schedule: "0 0 1 1 *"
    query: "SELECT id FROM t1_events WHERE kind = 'error'"
    condition: "_rows > 0"
    cooldown: 0s
    alert_webhook: ${HOOK}/errors
  from_saved:
    kind: alert
    schedule: "0 0 1 1 *"
    saved_query: Costs Since
    condition: "cost > 100"
    cooldown: 0s
    alert_webhook: ${HOOK}/saved
  typed:
    kind: alert
    schedule: "0 0 1 1 *"
    query: "SELECT 'abc' AS v"
    condition: "v > 5"
    retries: 0
    alert_webhook: ${HOOK}/typed
`);
const server = new Server(T);
let runsSeen = {};
async function check(job) { // one run, waited for; its state
    runsSeen[job] = (runsSeen[job] ?? 0) + 1;
    await sluice(['run', job, '-c', CFG, '-w', '2024-05-01', '--force']);
    const runs = await runsOf(CFG, job, runsSeen[job], 30000);
    return runs[0];
}
const texts = (p) => got.filter((g) => g.path === p).map((g) => g.body.text);
try {
    await server.start();
    await R.guard('alert_state_machine', async () => {
        const p = [];
        await server.post('events', [{ id: 0, cost: 0, kind: 'ok' }]);
        await server.landed('events');
        let r = await check('cost_spike'); // cost 0, not > 100
        if (r?.state !== 'succeeded' || texts('/cost').length) p.push(`empty: ${r?.state} ${JSON.stringify(got)}`);
        await server.post('events', [{ id: 1, cost: 60, kind: 'ok' }, { id: 2, cost: 50, kind: 'ok' }]);
        await server.landed('events');
        r = await check('cost_spike');
        const t1 = texts('/cost');
        if (r?.state !== 'succeeded' || t1.length !== 1 || !/^sluice alert cost_spike: triggered: cost > 100 \(\{"n":3,"cost":110,"_rows":1\}\)$/.test(t1[0] ?? ''))
            p.push(`trigger: ${r?.state} ${JSON.stringify(t1)}`);
        if (got[0]?.type !== 'application/json') p.push(`content-type ${got[0]?.type}`);
        r = await check('cost_spike'); // still holds, within the cooldown: quiet
        if (texts('/cost').length !== 1) p.push(`cooldown: ${JSON.stringify(texts('/cost'))}`);
        await server.post('events', [{ id: 3, cost: -20, kind: 'ok' }]);
        await server.landed('events');
        r = await check('cost_spike');
        const t2 = texts('/cost');
        if (t2.length !== 2 || !/^sluice alert cost_spike: resolved: /.test(t2[1] ?? '')) p.push(`resolve: ${JSON.stringify(t2)}`);
        // the webhook refuses: the run fails (and retries), the state stays ok; once it
        // answers again a retry notifies
        await server.post('events', [{ id: 4, cost: 500, kind: 'ok' }]);
        await server.landed('events');
        hook.refuse(500);
        runsSeen.cost_spike++;
        await sluice(['run', 'cost_spike', '-c', CFG, '-w', '2024-05-01', '--force']);
        await new Promise((res) => setTimeout(res, 600));
        hook.refuse(0);
        const runs = await runsOf(CFG, 'cost_spike', runsSeen.cost_spike, 30000);
        const t3 = texts('/cost');
        if (runs[0]?.state !== 'succeeded' || !(runs[0]?.attempt > 1) || t3.length !== 3 || !/: triggered: /.test(t3[2] ?? ''))
            p.push(`webhook down then up: ${JSON.stringify(runs[0])} ${JSON.stringify(t3)}`);
        const st = JSON.parse(fs.readFileSync(path.join(DATA, 'jobs/alerts/cost_spike.json'), 'utf8'));
        if (st.state !== 'triggered') p.push(`state file: ${JSON.stringify(st)}`);
        R.check('alert_state_machine', p);
    });

    await R.guard('rows_condition_and_zero_cooldown', async () => {
        const p = [];
        await check('any_errors');
        if (texts('/errors').length) p.push(`no error rows yet: ${JSON.stringify(texts('/errors'))}`);
        await server.post('events', [{ id: 9, cost: 0, kind: 'error' }]);
        await server.landed('events');
        await check('any_errors');
        await check('any_errors'); // cooldown 0: every check while triggered notifies
        const t = texts('/errors');
        if (t.length !== 2 || !/triggered: _rows > 0 \(\{"id":9,"_rows":1\}\)/.test(t[0] ?? '') || !/still triggered/.test(t[1] ?? ''))
            p.push(JSON.stringify(t));
        R.check('rows_condition_and_zero_cooldown', p);
    });

    await R.guard('alert_on_a_saved_query', async () => {
        // a console saved query (found by name, any case) with a relative date parameter at its
        // default: the alert checks what the saved query returns today
        const p = [];
        const spec = { name: 'costs since', sql: 'SELECT sum(cost) AS cost, count(*) AS n FROM t1_events WHERE {{ since }} <= date(\'now\')',
            params: [{ name: 'since', type: 'date', default: 'today-7' }] };
        const r = await fetch(`${server.url}/v1/saved-queries`, { method: 'POST', body: JSON.stringify({ spec }) });
        if (r.status !== 201) p.push(`saved query: ${r.status} ${await r.text()}`);
        const run = await check('from_saved');
        const t = texts('/saved');
        if (run?.state !== 'succeeded' || t.length !== 1 || !/^sluice alert from_saved: triggered: cost > 100 \(\{"cost":\d+(\.\d+)?,"n":\d+,"_rows":1\}\)$/.test(t[0] ?? ''))
            p.push(`run ${JSON.stringify(run)} notices ${JSON.stringify(t)}`);
        R.check('alert_on_a_saved_query', p);
    });

    await R.guard('condition_type_mismatch_fails_the_run', async () => {
        const r = await check('typed');
        const ok = r?.state === 'failed' && /condition 'v > 5': key 'v' is a string, compared with a number/.test(r.error ?? '');
        R.check('condition_type_mismatch_fails_the_run', ok && !texts('/typed').length ? [] : [JSON.stringify(r)]);
    });

    await R.guard('bad_alert_configs', async () => {
        const p = [];
        const cases = [
            ['query: "SELECT 1"\n    alert_webhook: http://x', /an alert job needs query .*condition/],
            ['query: "SELECT 1"\n    saved_query: x\n    condition: "a > 1"\n    alert_webhook: http://x', /query \(a SELECT\) or saved_query/],
            ['query: "SELECT 1"\n    condition: "a >"\n    alert_webhook: http://x', /condition.*expected a number/],
            ['query: "SELECT 1"\n    condition: "a > 1"', /alert_webhook/],
            ['query: "SELECT 1"\n    condition: "a > 1"\n    alert_webhook: http://x\n    table: t2_x', /writes nothing/],
        ];
        for (const [y, re] of cases) {
            const f = path.join(T, 'bad.yaml');
            fs.writeFileSync(f, `data_dir: ${DATA}\njobs:\n  a1:\n    kind: alert\n    ${y}\n`);
            const c = await sluice(['config', '--check', f]);
            const out = c.stdout.toString() + c.stderr;
            if (c.status === 0 || !re.test(out)) p.push(`${y.replace(/\n/g, ' ')}: ${c.status} ${out.slice(0, 200)}`);
        }
        R.check('bad_alert_configs', p);
    });
} finally {
    await server.stop();
    hook.close();
}
process.exitCode = R.failed ? 1 : 0;
