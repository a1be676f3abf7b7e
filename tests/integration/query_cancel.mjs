// A client that goes away stops its query: POST /v1/query aborted while the
// query works before its first row (a long aggregate) and while it streams
// rows; sluice_query_running drops back to 0 within seconds, not when the
// query would have ended (a minute later, or its timeout).
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, Server, makeTmp, sleep } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('qcancel');
fs.writeFileSync(path.join(T, 'sluice.yaml'),
    `data_dir: ${path.join(T, 'data')}\nlisten: 127.0.0.1:0\nlimits:\n  min_free_disk: 0\n`);
const srv = new Server(T);
await srv.start();

const running = async () => {
    const r = await srv.request('GET', '/metrics');
    const m = /^sluice_query_running (\d+)/m.exec(r.body);
    return m ? Number(m[1]) : -1;
};
/* Abort the request after ms; then wait (<= 5 s) for no query running. */
async function abandon(name, sql, ms, readSome) {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = fetch(`${srv.url}/v1/query`, { method: 'POST', signal: ac.signal,
        body: JSON.stringify({ sql, format: 'csv', timeout_ms: 120000 }) })
        .then(async (res) => { if (readSome) { const rd = res.body.getReader(); await rd.read(); } })
        .catch(() => {});
    let seen = 0;
    for (let i = 0; i < 100 && !seen; i++) { seen = await running(); if (!seen) await sleep(20); }
    await sleep(ms);
    ac.abort();
    await p;
    let n = -1;
    while (Date.now() - t0 < ms + 5000) {
        n = await running();
        if (n === 0) break;
        await sleep(50);
    }
    R.check(name, [
        ...(seen ? [] : ['the query was never seen running']),
        ...(n === 0 ? [] : [`${n} query(ies) still running ${Date.now() - t0 - ms} ms after the client left`]),
    ]);
}

await R.guard('cancel_before_first_row', () => abandon('cancel_before_first_row',
    'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT count(*) FROM c', 300, false));
await R.guard('cancel_while_streaming', () => abandon('cancel_while_streaming',
    'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT x, x * 2 FROM c', 300, true));
const code = await srv.stop();
R.check('server_exit', code === 0 ? [] : [`exit ${code}: ${srv.log().slice(-1500)}`]);
process.exit(R.failed ? 1 : 0);
