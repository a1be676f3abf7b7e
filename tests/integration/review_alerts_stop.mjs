// A webhook that takes connections and never answers (a dead peer behind a
// load balancer) must not hold up sluice serve's stop: the built-in alerts'
// thread is joined first thing at a stop (rt_stop -> jb_stop), and each
// notice's POST waited out its 10 s timeout (several notices in one check:
// 10 s each) before the sinks and sources even began to stop.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Reporter, Server, makeTmp, sleep, sluice } from '../node/lib/common.mjs';
import { runsOf } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('review-alerts-stop');
const socks = [];
let conns = 0;
const hung = net.createServer((s) => { conns++; socks.push(s); s.on('error', () => {}); });
await new Promise((r) => hung.listen(0, '127.0.0.1', r));
const CFG = path.join(T, 'sluice.yaml');
fs.writeFileSync(CFG, `data_dir: ${path.join(T, 'data')}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
scheduler: {tick: 20ms}
alerts:
  webhook: "http://127.0.0.1:${hung.address().port}/hook"
  every: 100ms
jobs:
  boom:
    kind: command
    schedule: "0 0 1 1 *"
    retries: 0
    command: [sh, -c, "exit 3"]
`);
const srv = new Server(T);
await srv.start();
await R.guard('stop_with_a_hung_webhook', async () => {
    const p = [];
    await sluice(['run', 'boom', '-c', CFG, '-w', '2024-05-01']);
    const [run] = await runsOf(CFG, 'boom', 1, 30000);
    if (run?.state !== 'failed') p.push(`run: ${JSON.stringify(run)}`);
    for (let i = 0; i < 100 && !conns; i++) await sleep(50);
    if (!conns) p.push('the webhook was never called');
    await sleep(300); // the POST is in flight
    const t0 = Date.now();
    const code = await srv.stop();
    const ms = Date.now() - t0;
    console.log(`# stop took ${ms} ms (exit ${code})`);
    if (ms > 3000) p.push(`sluice serve took ${ms} ms to stop with the webhook's POST in flight`);
    if (code !== 0) p.push(`exit ${code}`);
    R.check('stop_with_a_hung_webhook', p);
});
await srv.stop();
for (const s of socks) s.destroy();
hung.close();
process.exit(R.failed ? 1 : 0);
