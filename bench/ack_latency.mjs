// Fixed-rate load with ack latencies: RATE events/s in requests of BATCH
// events over CONNS keep-alive connections for SECONDS; prints JSON with the
// achieved rate and p50/p90/p99/max latency (ms) of the acknowledgements.
import fs from 'node:fs';
import http from 'node:http';

const [port, file, rate, batch, conns, seconds] = process.argv.slice(2).map((v, i) => i === 1 ? v : Number(v));
const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
const lat = [];
const T0 = process.hrtime.bigint();
let next = 0, sent = 0, errors = 0, inflight = 0;
const perReqMs = 1000 / (rate / batch);

function send() {
    const body = [];
    for (let i = 0; i < batch; i++) body.push(lines[(next++) % lines.length]);
    const data = body.join('\n') + '\n';
    const t0 = process.hrtime.bigint();
    inflight++;
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/streams/bench/records',
        agent, headers: { 'Content-Type': 'application/x-ndjson', 'Content-Length': Buffer.byteLength(data) } }, res => {
        res.resume();
        res.on('end', () => {
            inflight--;
            if (res.statusCode === 200) lat.push([Number(t0 - T0) / 1e6, Number(process.hrtime.bigint() - t0) / 1e6]); else errors++;
        });
    });
    req.on('error', () => { inflight--; errors++; });
    req.end(data);
    sent += batch;
}

const start = Date.now();
let due = 0;
await new Promise(resolve => {
    const tick = () => {
        const elapsed = Date.now() - start;
        if (elapsed >= seconds * 1000) return resolve();
        while (due <= elapsed) { send(); due += perReqMs; }
        setTimeout(tick, 1);
    };
    tick();
});
while (inflight > 0) await new Promise(r => setTimeout(r, 5));
// the first second (connections and server threads being set up) is reported
// apart from the steady state
const warm = lat.filter(x => x[0] < 1000).map(x => x[1]).sort((a, b) => a - b);
const steady = lat.filter(x => x[0] >= 1000).map(x => x[1]).sort((a, b) => a - b);
const q = (a, p) => a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN;
const slow = lat.filter(x => x[1] > 10).map(x => Math.round(x[0]));
console.log(JSON.stringify({ events_per_s: Math.round(sent / seconds), requests: lat.length, errors,
    p50: q(steady, 0.50), p90: q(steady, 0.90), p99: q(steady, 0.99), max: steady[steady.length - 1],
    first_second: { requests: warm.length, p50: q(warm, 0.5), p99: q(warm, 0.99), max: warm[warm.length - 1] },
    slow_at_ms: slow.slice(0, 40) }));
agent.destroy();
