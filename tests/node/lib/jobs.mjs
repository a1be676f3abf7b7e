/* Jobs from the tests' side: the run history of a job through `sluice runs`,
 * waited on until every run has ended. */
import { sluice, sleep } from './common.mjs';

/* The runs of job (newest first, as `sluice runs --format json` gives them)
 * once there are at least `want` and every one has ended (succeeded, failed,
 * dead), or whatever there is after timeoutMs. */
export async function runsOf(cfgPath, job, want, timeoutMs = 60000) {
    const t0 = Date.now();
    let runs = [];
    while (Date.now() - t0 < timeoutMs) {
        const r = await sluice(['runs', job, '-c', cfgPath, '--format', 'json']);
        try { runs = JSON.parse(r.stdout.toString() || '[]'); } catch { runs = []; }
        if (runs.length >= want && runs.every((x) => ['succeeded', 'failed', 'dead'].includes(x.state))) return runs;
        await sleep(150);
    }
    return runs;
}

/* `sluice run job -w day [--force]`. */
export const trigger = (cfgPath, job, day, force) =>
    sluice(['run', job, '-c', cfgPath, '-w', day, ...(force ? ['--force'] : [])]);

/* The newest run of part (a snapshot's table, an account) among runs. */
export const latest = (runs, part) => runs.filter((r) => r.account === part).sort((a, b) => b.id - a.id)[0];
