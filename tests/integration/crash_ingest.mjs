// Crash test for the journal and HTTP ingest: clients send at a high rate while
// the server is kill -9'ed several times.  After the last restart, every record
// that got a 2xx must be in the journal exactly once, in order per connection;
// records that got no reply may be missing, but never corrupt or doubled.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { BIN, Reporter, makeTmp } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('crash');
const DATA = path.join(T, 'data');
const CLIENTS = 6, BATCH = 40, KILLS = 5;

let server = null, port = 0;

async function startServer() {
    const pf = path.join(T, 'port');
    fs.rmSync(pf, { force: true });
    const log = fs.openSync(path.join(T, 'server.log'), 'a');
    server = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data', DATA, '--port-file', pf],
        { stdio: ['ignore', 'ignore', log] });
    for (let i = 0; i < 200; i++) {
        if (fs.existsSync(pf) && fs.readFileSync(pf, 'utf8').trim()) {
            port = Number(fs.readFileSync(pf, 'utf8').trim());
            return;
        }
        await new Promise(r => setTimeout(r, 25));
    }
    throw new Error('server did not start: ' + fs.readFileSync(path.join(T, 'server.log'), 'utf8'));
}

function post(body) {
    return new Promise(resolve => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/streams/events/records',
            headers: { 'Content-Type': 'application/x-ndjson', 'Content-Length': Buffer.byteLength(body) },
            agent: false }, res => {
            let data = '';
            res.on('data', d => data += d);
            res.on('end', () => resolve({ code: res.statusCode, body: data }));
            res.on('error', () => resolve({ code: 0 }));
        });
        req.on('error', () => resolve({ code: 0 }));
        req.setTimeout(5000, () => req.destroy());
        req.end(body);
    });
}

const acked = Array.from({ length: CLIENTS }, () => new Set());
const sent = Array.from({ length: CLIENTS }, () => 0);
let stop = false;

async function client(c) {
    let seq = 0;
    while (!stop) {
        const lines = [];
        const first = seq;
        for (let i = 0; i < BATCH; i++, seq++)
            lines.push(JSON.stringify({ c, seq, pad: 'x'.repeat(100 + (seq % 50)) }));
        sent[c] = seq;
        const r = await post(lines.join('\n') + '\n');
        if (r.code === 200 && JSON.parse(r.body).accepted === BATCH)
            for (let s = first; s < seq; s++) acked[c].add(s);
        else if (r.code === 0) await new Promise(res => setTimeout(res, 20)); // server down
    }
}

await R.guard('crash_ingest', async () => {
    await startServer();
    const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
    for (let k = 0; k < KILLS; k++) {
        await new Promise(r => setTimeout(r, 700 + 150 * k));
        server.kill('SIGKILL');
        await new Promise(r => server.once('exit', r));
        await startServer();
    }
    await new Promise(r => setTimeout(r, 700));
    stop = true;
    await Promise.all(clients);
    server.kill('SIGTERM');
    const code = await new Promise(r => server.once('exit', r));
    if (code !== 0) R.fail('clean_shutdown_after_crashes', `exit ${code}`); else R.ok('clean_shutdown_after_crashes');

    const out = execFileSync(BIN, ['read', 'events', '--data', DATA], { maxBuffer: 1 << 30 }).toString();
    const lines = out.split('\n').filter(l => l.length);
    const problems = [];
    const seen = Array.from({ length: CLIENTS }, () => new Map());
    const lastSeq = Array(CLIENTS).fill(-1);
    for (const [i, l] of lines.entries()) {
        let o;
        try { o = JSON.parse(l); } catch { problems.push(`record ${i} is not JSON: ${l.slice(0, 80)}`); continue; }
        if (!(o.c >= 0 && o.c < CLIENTS) || typeof o.seq !== 'number') { problems.push(`record ${i} malformed`); continue; }
        seen[o.c].set(o.seq, (seen[o.c].get(o.seq) || 0) + 1);
        if (o.seq <= lastSeq[o.c]) problems.push(`client ${o.c}: seq ${o.seq} after ${lastSeq[o.c]} (out of order)`);
        lastSeq[o.c] = o.seq;
    }
    let nAcked = 0, nLost = 0, nDup = 0, nUnackedPresent = 0;
    for (let c = 0; c < CLIENTS; c++) {
        for (const s of acked[c]) { nAcked++; if (!seen[c].has(s)) { nLost++; if (nLost < 10) problems.push(`client ${c}: acked seq ${s} missing`); } }
        for (const [s, n] of seen[c]) {
            if (n > 1) { nDup++; if (nDup < 10) problems.push(`client ${c}: seq ${s} stored ${n} times`); }
            if (!acked[c].has(s)) nUnackedPresent++;
        }
    }
    const log = fs.readFileSync(path.join(T, 'server.log'), 'utf8');
    if (/AddressSanitizer|runtime error/.test(log)) problems.push('sanitizer report in server log');
    if (nAcked < 1000) problems.push(`only ${nAcked} records acknowledged: the test did not exercise enough`);
    console.log(`# ${KILLS} kill -9s, ${CLIENTS} clients: ${nAcked} acked, ${lines.length} in journal, ` +
        `${nUnackedPresent} unacked-but-durable, ${nLost} lost, ${nDup} duplicated`);
    R.check('acked_records_exactly_once_in_order', problems);
});
process.exit(R.failed ? 1 : 0);
