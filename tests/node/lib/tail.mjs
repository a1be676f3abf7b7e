/* Helpers for the `sluice tail` tests: an nginx-format log writer, the
 * shipper as a child process, and counting what landed. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { BIN, sluice, sleep } from './common.mjs';

/* One combined-log line whose path carries its sequence number. */
export function nginxLine(seq, tag = 'a') {
    const ip = `10.0.${(seq >> 8) & 255}.${seq & 255}`;
    return `${ip} - - [10/Oct/2026:13:55:${String(seq % 60).padStart(2, '0')} +0000] "GET /${tag}?seq=${seq} HTTP/1.1" 200 ${seq % 5000} "-" "tail-test/1.0"\n`;
}

/* Config text for one source. */
export function tailConfig(dir, { paths, url = '', stream = 'web', extra = '', format = 'nginx', poll = '20ms' }) {
    return `data_dir: ${dir}/data
listen: 127.0.0.1:0
streams:
  ${stream}:
    sink: { roll_age: 200ms }
sources:
  logs:
    paths: [${paths.join(', ')}]
    format: ${format}
    stream: ${stream}
    url: "${url}"
    poll_interval: ${poll}
    batch_wait: 20ms
    rotate_wait: 150ms
    batch_bytes: 64KB
${extra}`;
}

export class Shipper {
    constructor(dir, cfg) { this.dir = dir; this.cfg = cfg; this.proc = null; this.log = path.join(dir, 'tail.log'); }
    start(args = []) {
        const fd = fs.openSync(this.log, 'a');
        this.proc = spawn(BIN, ['tail', '-c', this.cfg, ...args], { stdio: ['ignore', 'ignore', fd] });
        fs.closeSync(fd);
        this.exit = new Promise((r) => this.proc.once('exit', (c, s) => r(c ?? s)));
        return this;
    }
    async kill(sig = 'SIGKILL') {
        if (!this.proc) return null;
        this.proc.kill(sig);
        const c = await this.exit;
        this.proc = null;
        return c;
    }
    async once(args = []) { this.start(['--once', ...args]); const c = await this.exit; this.proc = null; return c; }
    text() { return fs.existsSync(this.log) ? fs.readFileSync(this.log, 'utf8') : ''; }
}

/* Records of a stream in the journal under dataDir (safe beside a server). */
export async function readStream(dataDir, stream = 'web') {
    const r = await sluice(['read', '-d', dataDir, stream]);
    if (r.status !== 0) return [];
    return r.stdout.toString().split('\n').filter((l) => l).map((l) => JSON.parse(l));
}

/* seq -> count, from records' paths "/x?seq=N". */
export function countSeqs(recs) {
    const m = new Map();
    for (const r of recs) {
        const s = /seq=(\d+)/.exec(r.path || r.message || '');
        if (s) m.set(Number(s[1]), (m.get(Number(s[1])) || 0) + 1);
    }
    return m;
}

/* Problems with seqs 1..n each landing exactly once. */
export function exactlyOnce(m, n, allowDup = false) {
    const p = [];
    let lost = 0, dup = 0;
    for (let i = 1; i <= n; i++) {
        const c = m.get(i) || 0;
        if (c === 0) { lost++; if (p.length < 10) p.push(`seq ${i} lost`); }
        if (c > 1) { dup += c - 1; if (!allowDup && p.length < 10) p.push(`seq ${i} landed ${c} times`); }
    }
    for (const k of m.keys()) if (k < 1 || k > n) p.push(`unexpected seq ${k}`);
    if (lost) p.push(`${lost} lost in all`);
    if (dup && !allowDup) p.push(`${dup} duplicates in all`);
    return { problems: p, lost, dup };
}

/* Wait until the stream holds at least n records (or timeout). */
export async function waitRecords(dataDir, n, timeoutMs = 30000, stream = 'web') {
    const t0 = Date.now();
    let recs = [];
    while (Date.now() - t0 < timeoutMs) {
        recs = await readStream(dataDir, stream);
        if (recs.length >= n) return recs;
        await sleep(100);
    }
    return recs;
}

/* logrotate-style rotations of file. */
export function rotateRename(file, k, gz) {
    fs.renameSync(file, `${file}.${k}`);
    fs.writeFileSync(file, '');
    if (gz) {
        fs.writeFileSync(`${file}.${k}.gz`, zlib.gzipSync(fs.readFileSync(`${file}.${k}`)));
        fs.unlinkSync(`${file}.${k}`);
    }
}
export function rotateCopyTruncate(file, k) {
    fs.copyFileSync(file, `${file}.c${k}`);
    fs.truncateSync(file, 0);
}
