// Freshness: a record is queryable with `sluice sql` within 1 s of its 2xx,
// repeatedly, while the sink keeps committing files (roll_age 150 ms) under a
// steady background load, and no query ever counts a record twice — not even
// at the moment its file commits (files and position are read consistently).
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { BIN, Reporter, makeTmp } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('fresh');
const DATA = path.join(T, 'data');
fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${DATA}
listen: 127.0.0.1:0
limits:
  min_free_disk: 0
streams:
  fresh:
    sink:
      roll_age: 150ms
      roll_rows: 400
`);
let port = 0;
const pf = path.join(T, 'port');
const server = spawn(BIN, ['serve', '-c', path.join(T, 'sluice.yaml'), '--port-file', pf],
    { stdio: ['ignore', 'ignore', fs.openSync(path.join(T, 'server.log'), 'a')] });
for (let i = 0; i < 400 && !port; i++) {
    if (fs.existsSync(pf)) port = Number(fs.readFileSync(pf, 'utf8')) || 0;
    await new Promise(r => setTimeout(r, 25));
}

function post(lines) {
    const body = lines.map(l => JSON.stringify(l)).join('\n') + '\n';
    return new Promise(resolve => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/streams/fresh/records', agent: false,
            headers: { 'Content-Length': Buffer.byteLength(body) } }, res => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
        req.on('error', () => resolve(0));
        req.end(body);
    });
}
const sql = q => new Promise(resolve => execFile(BIN, ['sql', '--data', DATA, '-F', 'csv', q], (e, out, err) =>
    resolve(e ? { err: String(err || e) } : { rows: out.trim().split('\n').slice(1) })));

await R.guard('freshness', async () => {
    if (!port) throw new Error('server did not start');
    let stop = false, bg = 0;
    const loader = (async () => {
        while (!stop) {
            const batch = [];
            for (let i = 0; i < 25; i++) batch.push({ id: `bg-${bg++}`, v: bg });
            if (await post(batch) !== 200) throw new Error('background post failed');
            await new Promise(r => setTimeout(r, 15));
        }
    })();
    const probs = [], lat = [];
    for (let k = 0; k < 12; k++) {
        if (await post([{ id: `probe-${k}`, v: -k }]) !== 200) { probs.push(`probe ${k}: post failed`); continue; }
        const t0 = Date.now();
        let found = false;
        while (Date.now() - t0 < 1000) {
            const r = await sql(`SELECT count(*) FROM t1_fresh WHERE id = 'probe-${k}'`);
            if (r.err) { probs.push(`probe ${k}: ${r.err.slice(0, 200)}`); break; }
            const n = Number(r.rows[0]);
            if (n > 1) { probs.push(`probe ${k} counted ${n} times`); break; }
            if (n === 1) { found = true; break; }
        }
        if (found) lat.push(Date.now() - t0); else if (!probs.length) probs.push(`probe ${k} not visible within 1 s`);
        // between probes: the whole table never counts a record twice
        const d = await sql('SELECT count(*) - count(DISTINCT id) FROM t1_fresh');
        if (!d.err && Number(d.rows[0]) !== 0) probs.push(`${d.rows[0]} duplicated rows while files commit`);
    }
    stop = true;
    await loader;
    await new Promise(r => setTimeout(r, 600));
    const fin = await sql('SELECT count(*), count(DISTINCT id) FROM t1_fresh');
    const [n, d] = (fin.rows || ['0,0'])[0].split(',').map(Number);
    if (n !== bg + 12 || d !== n) probs.push(`final: ${n} rows, ${d} distinct, want ${bg + 12}`);
    const files = await sql("SELECT count(*) FROM t1_fresh");
    console.log(`# found every probe in ${Math.min(...lat)}..${Math.max(...lat)} ms (sluice sql process included); ${bg} background records`);
    R.check('record_queryable_within_1s_never_twice', probs);
});
server.kill('SIGTERM');
await new Promise(r => server.once('exit', r));
process.exit(R.failed ? 1 : 0);
