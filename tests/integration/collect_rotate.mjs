// kind collect, OAuth2 refresh tokens that the token endpoint rotates (each
// grant answers a new refresh_token and revokes the one sent; Xero,
// Salesforce rotation, OAuth 2.1).  The mock's acc03 rotates; the configured
// secret is its first refresh token, which works once.
//
// Checks: a first run succeeds and the rotated token is saved under
// <data>/jobs/oauth (mode 0600, no file name holding it); after a restart of
// the server (an empty in-memory cache) runs of other days still succeed, each
// grant sending the newest token (the mock counts no invalid_grant); a
// `sluice worker` process, beside the server, uses the same saved token; no
// refresh token, old or new, appears in any log or run error; a configured
// token that changed (the account authorized again) is sent instead of a
// saved one.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { gadsJobYaml, startAdMedia } from '../mock/admedia.mjs';
import { BIN, Reporter, Server, makeTmp } from '../node/lib/common.mjs';
import { runsOf, latest } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('collect-rotate');
const DATA = path.join(T, 'data');
const CFG = path.join(T, 'sluice.yaml');
const ACC = 'acc03';
const m = await startAdMedia({ port: 0, seed: 5, accounts: 4, polls: 1, rotateRefresh: [ACC], expireAfterUses: 0 });
const acc = m.accounts.find((a) => a.id === ACC);
const first = acc.gads_refresh_token;
fs.mkdirSync(path.join(T, 'secrets'));
const secret = (n, v) => fs.writeFileSync(path.join(T, 'secrets', n), v + '\n');
secret('rt', first);
secret('cid', acc.gads_client_id);
secret('cs', acc.gads_client_secret);

const config = (workers) => fs.writeFileSync(CFG, `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: ${workers}
secrets_dir: ${T}/secrets
scheduler: {tick: 100ms, task_timeout: 3s, heartbeat: 300ms}
jobs:
  gads:
${gadsJobYaml({ acc: ACC, base: m.url, table: 't1_gads_report_timeseries_daily', poll: '50ms' })}`);

const stats = async () => m.stats().media.gads;
const current = async () => m.accounts.find((a) => a.id === ACC).gads_refresh_token;
const oauthDir = path.join(DATA, 'jobs', 'oauth');
/* Trigger day d and wait for its run: the run. */
async function runDay(d, n) {
    const t = await fetch(`${server.url}/v1/jobs/gads/runs`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ window: d }) });
    if (t.status !== 201) throw new Error(`trigger: ${t.status} ${await t.text()}`);
    return latest(await runsOf(CFG, 'gads', n, 30000), ACC);
}
const everyLog = () => [path.join(T, 'server.log'), path.join(T, 'worker.log')]
    .filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8')).join('\n');

let server = new Server(T);
const tokensSeen = [first];
try {
    config(1);
    await server.start();
    await R.guard('first_run_saves_the_rotated_token', async () => {
        const p = [];
        const run = await runDay('2022-09-01', 1);
        if (run?.state !== 'succeeded') p.push(`run: ${JSON.stringify(run)}`);
        const now = await current();
        tokensSeen.push(now);
        if (now === first) p.push('the mock did not rotate');
        const files = fs.existsSync(oauthDir) ? fs.readdirSync(oauthDir) : [];
        const rt = files.filter((f) => f.endsWith('.rt'));
        if (rt.length !== 1) p.push(`saved token files: ${files.join(', ')}`);
        else {
            const f = path.join(oauthDir, rt[0]);
            if (fs.readFileSync(f, 'utf8').trim() !== now) p.push('the saved token is not the newest');
            if ((fs.statSync(f).mode & 0o777) !== 0o600) p.push(`mode ${(fs.statSync(f).mode & 0o777).toString(8)}`);
            if ((fs.statSync(oauthDir).mode & 0o777) !== 0o700) p.push(`dir mode ${(fs.statSync(oauthDir).mode & 0o777).toString(8)}`);
        }
        if (files.some((f) => f.includes(first) || f.includes(now))) p.push('a file name holds a token');
        R.check('first_run_saves_the_rotated_token', p);
    });
    await server.stop();
    server = new Server(T);
    await server.start();
    await R.guard('after_a_restart_the_newest_token_is_sent', async () => {
        const p = [];
        const before = await stats();
        const run = await runDay('2022-09-02', 2);
        if (run?.state !== 'succeeded') p.push(`run: ${run?.state} ${run?.error ?? ''}`);
        const after = await stats();
        if (after.refreshes <= before.refreshes) p.push('no grant after the restart');
        if ((after.status?.['400'] ?? 0) !== (before.status?.['400'] ?? 0)) p.push('a grant was refused (invalid_grant)');
        tokensSeen.push(await current());
        R.check('after_a_restart_the_newest_token_is_sent', p);
    });
    await server.stop();
    // the server without workers, a `sluice worker` process doing the run
    config(0);
    server = new Server(T);
    await server.start();
    const lf = fs.openSync(path.join(T, 'worker.log'), 'a');
    const w = spawn(BIN, ['worker', '-c', CFG, '--server', server.url, '--threads', '1'], { stdio: ['ignore', 'ignore', lf] });
    fs.closeSync(lf);
    await R.guard('a_worker_process_uses_the_saved_token', async () => {
        const p = [];
        const run = await runDay('2022-09-03', 3);
        if (run?.state !== 'succeeded') p.push(`run: ${run?.state} ${run?.error ?? ''}`);
        tokensSeen.push(await current());
        R.check('a_worker_process_uses_the_saved_token', p);
    });
    w.kill('SIGTERM');
    await new Promise((r) => w.exitCode !== null ? r() : w.once('exit', r));
    await R.guard('no_refresh_token_in_any_log', async () => {
        const logs = everyLog();
        const leaked = tokensSeen.filter((t) => t && logs.includes(t));
        R.check('no_refresh_token_in_any_log', leaked.length ? [`${leaked.length} tokens in the logs`] : []);
    });
    await server.stop();
    // the account authorized again: a new configured token, unknown to the
    // saved state; the mock's newest is what a new authorization gives
    config(1);
    const newest = await current();
    secret('rt', newest);
    server = new Server(T);
    await server.start();
    await R.guard('a_changed_configured_token_is_sent', async () => {
        const p = [];
        const run = await runDay('2022-09-04', 4);
        if (run?.state !== 'succeeded') p.push(`run: ${run?.state} ${run?.error ?? ''}`);
        const rt = fs.readdirSync(oauthDir).filter((f) => f.endsWith('.rt'));
        if (rt.length !== 2) p.push(`expected a second saved token file, have ${rt.length}`);
        R.check('a_changed_configured_token_is_sent', p);
    });
} finally {
    await server.stop();
    await m.close();
}
process.exitCode = R.failed ? 1 : 0;
