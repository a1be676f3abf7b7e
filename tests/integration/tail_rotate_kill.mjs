/* sluice tail under load: a writer appends nginx-format lines and rotates
 * every ROT lines, alternately by rename (every third one then gzipped, the
 * plain file deleted) and by copytruncate; the shipper is killed with -9 at
 * random points and restarted.  At the end every line must have landed
 * exactly once: in the local journal (then landed by `sluice serve` and
 * counted with `sluice sql`), and through a remote `sluice serve`'s HTTP
 * ingest API. */
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, Server, makeTmp, rng, sleep, sluice } from '../node/lib/common.mjs';
import { Shipper, countSeqs, exactlyOnce, nginxLine, readStream, rotateCopyTruncate, rotateRename, tailConfig, waitRecords } from '../node/lib/tail.mjs';

const rep = new Reporter();
const N = Number(process.env.TAIL_LINES || 12000), ROT = 1500;

async function writeWithKills(dir, ship, seed) {
    const rand = rng(seed);
    const file = path.join(dir, 'logs', 'access.log');
    let seq = 0, k = 0, kills = 0, nextKill = Date.now() + 100 + rand() * 300;
    ship.start();
    while (seq < N) {
        let chunk = '';
        const n = 1 + Math.floor(rand() * 60);
        for (let i = 0; i < n && seq < N; i++) {
            chunk += nginxLine(++seq);
            if (seq % ROT === 0) {
                fs.appendFileSync(file, chunk); chunk = '';
                k++;
                if (k % 2) rotateRename(file, k, k % 3 === 0); else rotateCopyTruncate(file, k);
            }
        }
        if (chunk) fs.appendFileSync(file, chunk);
        if (Date.now() >= nextKill) {
            await ship.kill('SIGKILL'); kills++;
            ship.start();
            nextKill = Date.now() + 50 + rand() * 250;
        }
        await sleep(2);
    }
    return kills;
}

async function sqlCount(dataDir) {
    const r = await sluice(['sql', '-d', dataDir, '--format', 'ndjson',
        "SELECT count(*) AS n, count(DISTINCT path) AS d FROM t1_web"]);
    return r.status === 0 ? JSON.parse(r.stdout.toString().trim().split('\n')[0]) : { err: r.stderr };
}

await rep.guard('tail_rotate_kill_local', async () => {
    const dir = makeTmp('tail-kill');
    fs.mkdirSync(path.join(dir, 'logs'));
    const cfg = path.join(dir, 'sluice.yaml');
    fs.writeFileSync(cfg, tailConfig(dir, { paths: [`${dir}/logs/access.log*`] }));
    const ship = new Shipper(dir, cfg);
    const kills = await writeWithKills(dir, ship, 15);
    const recs = await waitRecords(path.join(dir, 'data'), N, 30000);
    await ship.kill('SIGTERM');
    const { problems } = exactlyOnce(countSeqs(recs), N);
    if (recs.length !== N) problems.push(`${recs.length} records for ${N} lines`);
    if (kills < 3) problems.push(`only ${kills} kills`);
    if (problems.length) problems.push('shipper log: ' + ship.text().slice(-1500));
    rep.check(`tail_rotate_kill_local: ${N} lines, rotation every ${ROT} (rename, gzip, copytruncate), ${kills} kill -9 restarts: each line once in the journal`, problems);
    // the server lands the journal the shipper wrote; sluice sql counts it
    const srv = new Server(dir, cfg);
    await srv.start();
    await srv.landed('web', 30000);
    const c = await sqlCount(path.join(dir, 'data'));
    await srv.stop();
    rep.check('tail_rotate_kill_local: sluice sql over the lake counts every line once',
        c.n === N && c.d === N ? [] : [`sql: ${JSON.stringify(c)}`]);
});

await rep.guard('tail_rotate_kill_remote', async () => {
    const dir = makeTmp('tail-killr');
    fs.mkdirSync(path.join(dir, 'logs'));
    const scfg = path.join(dir, 'server.yaml');
    fs.writeFileSync(scfg, tailConfig(dir, { paths: ['/nonexistent'] }));
    const srv = new Server(dir, scfg);
    await srv.start();
    const cfg = path.join(dir, 'sluice.yaml');
    fs.writeFileSync(cfg, tailConfig(path.join(dir, 'shipper'), { paths: [`${dir}/logs/access.log*`], url: srv.url }));
    const ship = new Shipper(dir, cfg);
    const kills = await writeWithKills(dir, ship, 16);
    const recs = await waitRecords(path.join(dir, 'data'), N, 30000);
    await sleep(300);
    await ship.kill('SIGTERM');
    const all = await readStream(path.join(dir, 'data'));
    const { problems } = exactlyOnce(countSeqs(all), N);
    if (kills < 3) problems.push(`only ${kills} kills`);
    if (problems.length) problems.push('shipper log: ' + ship.text().slice(-1500));
    rep.check(`tail_rotate_kill_remote: ${N} lines through sluice serve's HTTP API, ${kills} kill -9 restarts (a batch in flight at a kill is looked up with POST /v1/query): each line once`, problems);
    await srv.landed('web', 30000);
    const c = await sqlCount(path.join(dir, 'data'));
    await srv.stop();
    rep.check('tail_rotate_kill_remote: sluice sql sees every line', c.d === N ? [] : [`sql: ${JSON.stringify(c)}`]);
    void recs;
});

process.exit(rep.failed ? 1 : 0);
