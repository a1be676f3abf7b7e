// The peer of bench/jobs.sh: N tasks through a Redis stream and a consumer
// group -- one producer XADDs them one at a time while C consumers each loop
// XREADGROUP COUNT 1 BLOCK + XACK.  Prints {"tasks_per_s":R,"ms":T}.
// A minimal RESP client (no npm package): one connection per actor, one
// command in flight per connection, like a worker.
// Usage: node bench/jobs_redis.mjs PORT N CONSUMERS
import net from 'node:net';

const [port, nArg, cArg] = process.argv.slice(2).map(Number);

function client() {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0), waiting = [];
    sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
            const r = parse(buf, 0);
            if (!r) break;
            buf = buf.subarray(r.end);
            waiting.shift()(r.v);
        }
    });
    const cmd = (...args) => new Promise((resolve) => {
        waiting.push(resolve);
        let s = `*${args.length}\r\n`;
        for (const a of args) s += `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`;
        sock.write(s);
    });
    return { cmd, close: () => sock.end() };
}

function parse(b, i) { // -> {v, end} or null when incomplete
    const nl = b.indexOf('\r\n', i);
    if (nl < 0) return null;
    const t = String.fromCharCode(b[i]), line = b.toString('utf8', i + 1, nl);
    if (t === '+' || t === ':') return { v: line, end: nl + 2 };
    if (t === '-') return { v: new Error(line), end: nl + 2 };
    if (t === '$') {
        const len = Number(line);
        if (len < 0) return { v: null, end: nl + 2 };
        if (b.length < nl + 2 + len + 2) return null;
        return { v: b.toString('utf8', nl + 2, nl + 2 + len), end: nl + 2 + len + 2 };
    }
    if (t === '*') {
        const len = Number(line);
        if (len < 0) return { v: null, end: nl + 2 };
        const v = [];
        let at = nl + 2;
        for (let k = 0; k < len; k++) {
            const r = parse(b, at);
            if (!r) return null;
            v.push(r.v);
            at = r.end;
        }
        return { v, end: at };
    }
    throw new Error('RESP: unexpected ' + t);
}

const admin = client();
await admin.cmd('DEL', 'tasks');
await admin.cmd('XGROUP', 'CREATE', 'tasks', 'workers', '$', 'MKSTREAM');
const start = performance.now();
let acked = 0;
const producer = (async () => {
    const p = client();
    for (let i = 0; i < nArg; i++) await p.cmd('XADD', 'tasks', '*', 'run', i + 1);
    p.close();
})();
const consumers = [...Array(cArg)].map(async (_, k) => {
    const c = client();
    while (acked < nArg) {
        const r = await c.cmd('XREADGROUP', 'GROUP', 'workers', `c${k}`, 'COUNT', 1, 'BLOCK', 100,
                              'STREAMS', 'tasks', '>');
        if (!r) continue;
        for (const [, entries] of r)
            for (const [id] of entries) {
                await c.cmd('XACK', 'tasks', 'workers', id);
                acked++;
            }
    }
    c.close();
});
await producer;
await Promise.all(consumers);
const ms = performance.now() - start;
admin.close();
console.log(JSON.stringify({ tasks_per_s: Math.round((nArg * 1000) / ms), ms: Math.round(ms) }));
