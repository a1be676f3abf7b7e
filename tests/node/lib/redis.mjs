/* A private Redis server for a test: redis-server on 127.0.0.1 and a free
 * port, nothing persisted (--save "" --appendonly no), its files in <dir>,
 * a password (requirepass) when one is given.  Ready when it answers PING;
 * killed by PID at exit.  null when redis-server is not installed
 * (scripts/deps.sh --test installs it).
 *
 * The client is a small RESP2 one over one socket: cmd(...args) sends one
 * command and resolves to its reply (strings as Buffers turned to text,
 * errors as Error objects, not thrown); pipeline(list) sends many at once. */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';

const SERVER = '/usr/bin/redis-server';

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
}

/* One RESP2 reply from buf at i: [value, next index] or null when incomplete. */
function parse(buf, i) {
    const eol = buf.indexOf('\r\n', i);
    if (eol < 0) return null;
    const kind = String.fromCharCode(buf[i]), line = buf.toString('utf8', i + 1, eol);
    if (kind === '+') return [line, eol + 2];
    if (kind === '-') return [new Error(line), eol + 2];
    if (kind === ':') return [Number(line), eol + 2];
    if (kind === '$') {
        const n = Number(line);
        if (n < 0) return [null, eol + 2];
        if (buf.length < eol + 2 + n + 2) return null;
        return [buf.toString('utf8', eol + 2, eol + 2 + n), eol + 2 + n + 2];
    }
    if (kind === '*') {
        const n = Number(line);
        if (n < 0) return [null, eol + 2];
        const out = [];
        let j = eol + 2;
        for (let k = 0; k < n; k++) {
            const r = parse(buf, j);
            if (!r) return null;
            out.push(r[0]);
            j = r[1];
        }
        return [out, j];
    }
    throw new Error('bad RESP reply: ' + JSON.stringify(line));
}

function encode(args) {
    const parts = [Buffer.from(`*${args.length}\r\n`)];
    for (const a of args) {
        const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
        parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
    }
    return Buffer.concat(parts);
}

export async function connect(port, password) {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
    let buf = Buffer.alloc(0);
    const waiting = [];
    sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
            const r = waiting.length ? parse(buf, 0) : null;
            if (!r) break;
            buf = buf.subarray(r[1]);
            waiting.shift()(r[0]);
        }
    });
    const cmd = (...args) => new Promise((res) => { waiting.push(res); sock.write(encode(args)); });
    const pipeline = (list) => {
        const ps = list.map(() => new Promise((res) => waiting.push(res)));
        sock.write(Buffer.concat(list.map(encode)));
        return Promise.all(ps);
    };
    if (password) {
        const r = await cmd('AUTH', password);
        if (r instanceof Error) throw r;
    }
    return { cmd, pipeline, close: () => sock.destroy() };
}

export async function startRedis(dir, password) {
    if (!fs.existsSync(SERVER)) return null;
    fs.mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--dir', dir, '--logfile', path.join(dir, 'redis.log'), '--daemonize', 'no'];
    if (password) args.push('--requirepass', password);
    const child = spawn(SERVER, args, { stdio: 'ignore' });
    const stop = () => { try { process.kill(child.pid, 'SIGKILL'); } catch { } };
    process.on('exit', stop);
    let client = null;
    for (let i = 0; i < 100 && !client && child.exitCode === null; i++) {
        try { client = await connect(port, password); } catch { await new Promise((r) => setTimeout(r, 100)); }
    }
    if (!client) {
        stop();
        const log = path.join(dir, 'redis.log');
        throw new Error('redis-server did not start: ' + (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''));
    }
    return { port, pid: child.pid, stop, ...client };
}
