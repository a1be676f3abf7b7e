// Run logs (GET /v1/jobs/{job}/runs/{id}/log) never show a secret's value:
//   - a command given 17 secrets (jb_redact remembered 16: the 17th was
//     printed as it is into the run's log, which any read token may GET,
//     and into the failed run's error);
//   - a command given 65 (over JB_REDACT_MAX, 64) fails naming the limit,
//     with no value anywhere.
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, Server, makeTmp, sluice } from '../node/lib/common.mjs';
import { runsOf } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('review-runlog');
const DATA = path.join(T, 'data');
const names = Array.from({ length: 65 }, (_, i) => `key${String(i + 1).padStart(2, '0')}`);
const value = (i) => `sv-${i + 1}-${'q'.repeat(6)}-${(1e6 + i * 7919).toString(36)}`;
names.forEach((n, i) => { process.env[`SLUICE_SECRET_${n.toUpperCase()}`] = value(i); });
const job = (n) => {
    const env = `ALL: "${names.slice(0, n).map((x) => `{{ secret.${x} }}`).join(' ')}"`;
    const echo = '$ALL';
    return `    kind: command
    schedule: "0 0 1 1 *"
    retries: 0
    env: {${env}}
    command: [sh, -c, "echo keys ${echo}; echo keys ${echo} >&2; exit 3"]
`;
};
const CFG = path.join(T, 'sluice.yaml');
fs.writeFileSync(CFG, `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
scheduler: {tick: 20ms}
query: {tokens: [rtok], write_tokens: [wtok]}
jobs:
  many:
${job(17)}  toomany:
${job(65)}`);
const server = new Server(T);
try {
    await server.start();
    await R.guard('run_log_17_secrets_redacted', async () => {
        const p = [];
        await sluice(['run', 'many', '-c', CFG, '-w', '2024-05-01']);
        const [run] = await runsOf(CFG, 'many', 1, 30000);
        if (run?.state !== 'failed') p.push(`run: ${JSON.stringify(run)}`);
        const r = await fetch(`${server.url}/v1/jobs/many/runs/${run.id}/log`, { headers: { Authorization: 'Bearer rtok' } });
        const text = r.status === 200 ? JSON.stringify(await r.json()) : '';
        if (!text.includes('[secret key01]')) p.push(`log: ${r.status} ${text.slice(0, 200)}`);
        names.forEach((n, i) => { if (text.includes(value(i))) p.push(`the log shows secret ${n}'s value`); });
        const err = run?.error ?? '';
        names.forEach((n, i) => { if (err.includes(value(i))) p.push(`the run's error shows secret ${n}'s value`); });
        R.check('run_log_17_secrets_redacted', p);
    });
    await R.guard('run_65_secrets_refused', async () => {
        const p = [];
        await sluice(['run', 'toomany', '-c', CFG, '-w', '2024-05-01']);
        const [run] = await runsOf(CFG, 'toomany', 1, 30000);
        if (run?.state !== 'failed' || !/at most 64 secrets/.test(run.error)) p.push(`run: ${JSON.stringify(run).slice(0, 300)}`);
        const r = await fetch(`${server.url}/v1/jobs/toomany/runs/${run.id}/log`, { headers: { Authorization: 'Bearer rtok' } });
        const text = (r.status === 200 ? JSON.stringify(await r.json()) : '') + (run?.error ?? '');
        names.forEach((n, i) => { if (text.includes(value(i))) p.push(`secret ${n}'s value is shown`); });
        R.check('run_65_secrets_refused', p);
    });
} finally {
    await server.stop();
}
process.exitCode = R.failed ? 1 : 0;
