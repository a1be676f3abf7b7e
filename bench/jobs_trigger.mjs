// Trigger N runs of a job at a steady rate through POST /v1/jobs/{job}/runs,
// one hourly window each from FIRST on.  Prints {"sent":N,"rate":R,"errors":E}.
// Usage: node bench/jobs_trigger.mjs URL JOB TOKEN N RATE FIRST-DATE
import http from 'node:http';

const [url, job, token, nArg, rateArg, first] = process.argv.slice(2);
const n = Number(nArg), rate = Number(rateArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const t0 = Date.parse(first + 'T00:00:00Z');

function post(i) {
    const body = JSON.stringify({ window: new Date(t0 + i * 3600e3).toISOString().replace('.000', '') });
    return new Promise((resolve) => {
        const req = http.request(`${url}/v1/jobs/${job}/runs`, {
            method: 'POST', agent,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
        req.on('error', () => resolve(0));
        req.end(body);
    });
}

const start = performance.now();
let errors = 0, inflight = [];
for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(post(i).then((s) => { if (s < 200 || s >= 300) errors++; }));
    if (inflight.length >= 256) { await Promise.all(inflight); inflight = []; }
}
await Promise.all(inflight);
const secs = (performance.now() - start) / 1000;
agent.destroy();
console.log(JSON.stringify({ sent: n, rate: Math.round(n / secs), errors }));
if (errors) process.exit(1);
