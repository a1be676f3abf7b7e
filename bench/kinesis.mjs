// Kinesis API benchmark: PutRecords of 500 x 300-byte JSON records, SigV4
// signed (as the SDKs sign: @smithy/signature-v4), over 4 keep-alive
// connections (curl --parallel), next to the native POST /v1/streams/<s>/records of the same
// records as NDJSON, in the same run on the same server (fsync always, one
// group commit per request on both paths).  The client replays a set of
// pre-signed bodies, so what is measured is the server: base64, SigV4, JSON.
// Usage: node bench/kinesis.mjs SECTION_FILE   (env SLUICE_REL, BENCH_KINESIS_REQS)
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { SignatureV4 } from '../tests/node/lib/aws.mjs';

const BIN = process.env.SLUICE_REL ?? 'build/sluice';
const REQS = Number(process.env.BENCH_KINESIS_REQS ?? 400); // per path
const CONNS = Number(process.env.BENCH_KINESIS_CONNS ?? 4), RECS = 500, BODIES = 16;
fs.mkdirSync('bench/out', { recursive: true });
const T = fs.mkdtempSync(path.resolve('bench/out/kinesis-'));
const KEY = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench/secret' };
fs.mkdirSync(path.join(T, 'secrets'));
fs.writeFileSync(path.join(T, 'secrets', KEY.accessKeyId), KEY.secretAccessKey);
fs.writeFileSync(path.join(T, 'cfg.yaml'), `data_dir: ${T}/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0, max_body_bytes: 16MB}
secrets_dir: ${T}/secrets
streams:
  kin: {aws_keys: [${KEY.accessKeyId}], sink: {enabled: false}}
  nat: {sink: {enabled: false}}
`);

class Sha256 {
    constructor(secret) { this.h = secret ? crypto.createHmac('sha256', secret) : crypto.createHash('sha256'); }
    update(d) { this.h.update(d); }
    async digest() { return new Uint8Array(this.h.digest()); }
}

/* A 300-byte JSON record (i-th). */
function record(i) {
    const base = { i, user: `u${i % 1000}`, kind: 'click', ts: '2026-12-03T10:00:00.000000Z', pad: '' };
    base.pad = 'x'.repeat(300 - JSON.stringify(base).length);
    return JSON.stringify(base);
}

const server = spawn(BIN, ['serve', '-c', path.join(T, 'cfg.yaml'), '--port-file', path.join(T, 'port')], { stdio: ['ignore', 'ignore', 'inherit'] });
let port = 0;
for (let i = 0; i < 400 && !port; i++) {
    await new Promise((r) => setTimeout(r, 25));
    try { port = Number(fs.readFileSync(path.join(T, 'port'), 'utf8').trim()); } catch { }
}
if (!port) throw new Error('server did not start');

const signer = new SignatureV4({ credentials: KEY, region: 'us-east-1', service: 'kinesis', sha256: Sha256 });
const kinBodies = [], natBodies = [];
for (let b = 0; b < BODIES; b++) {
    const recs = Array.from({ length: RECS }, (_, k) => record(b * RECS + k));
    natBodies.push({ path: '/v1/streams/nat/records', headers: { 'content-type': 'application/x-ndjson' }, body: recs.join('\n') + '\n' });
    const body = JSON.stringify({ StreamName: 'kin', Records: recs.map((r, k) => ({ PartitionKey: `p${k}`, Data: Buffer.from(r).toString('base64') })) });
    const signed = await signer.sign({
        method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port, path: '/',
        headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.PutRecords' },
        body,
    });
    kinBodies.push({ path: '/', headers: signed.headers, body });
}

/* One run: REQS requests of bodies (cycled) by curl over CONNS parallel
 * keep-alive connections; seconds.  curl, not node, sends: node's client
 * was the bottleneck (the server sat at 30% of a core). */
function run(bodies, okText) {
    const cfg = [];
    for (let i = 0; i < REQS; i++) {
        const b = bodies[i % bodies.length];
        cfg.push(`url = "http://127.0.0.1:${port}${b.path}"`, `data-binary = "@${b.file}"`, ...Object.entries(b.headers).filter(([k]) => k !== 'host').map(([k, v]) => `header = "${k}: ${v}"`), 'next');
    }
    const cf = path.join(T, 'curl.cfg');
    cfg.pop(); /* no empty request after the last */
    fs.writeFileSync(cf, cfg.join('\n') + '\n');
    const t0 = process.hrtime.bigint();
    const r = spawnSync('curl', ['-sS', '--parallel', '--parallel-max', String(CONNS), '-K', cf], { maxBuffer: 1 << 30 });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const ok = (r.stdout.toString().match(new RegExp(okText, 'g')) ?? []).length;
    if (r.status !== 0 || ok !== REQS) throw new Error(`curl: status ${r.status}, ${ok} of ${REQS} answers ${okText}: ${r.stderr.toString().slice(0, 300)} ${r.stdout.toString().slice(0, 300)}`);
    return s;
}
for (const [i, b] of [...natBodies, ...kinBodies].entries()) { b.file = path.join(T, `body${i}`); fs.writeFileSync(b.file, b.body); }
const kinOk = '"FailedRecordCount":0', natOk = `"accepted":${RECS}`;
const best = { nat: Infinity, kin: Infinity };
try { /* the server stopped and the scratch directory removed also when a run fails */
    run(natBodies.slice(0, 2), natOk); // warm up both paths
    for (let rep = 0; rep < 3; rep++) {
        if (!process.env.BENCH_KINESIS_ONLY) best.nat = Math.min(best.nat, run(natBodies, natOk));
        best.kin = Math.min(best.kin, run(kinBodies, kinOk));
    }
} finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    fs.rmSync(T, { recursive: true, force: true });
}
const ev = (s) => Math.round(REQS * RECS / s);
const mb = (s, bodies) => (REQS * bodies.reduce((a, b) => a + b.body.length, 0) / bodies.length / s / 1e6).toFixed(1);
const lines = [
    `${REQS} requests of ${RECS} x 300-byte records per path, ${CONNS} connections, fsync always, best of 3 (${new Date().toISOString().slice(0, 16)}Z, ${process.env.BENCH_MACHINE ?? '2 cores'})`,
    '',
    '| path | seconds | events/s | request MB/s | vs native |',
    '|---|---|---|---|---|',
    `| native POST /v1/streams/nat/records (NDJSON) | ${best.nat.toFixed(2)} | ${ev(best.nat)} | ${mb(best.nat, natBodies)} | 1.00 |`,
    `| Kinesis PutRecords (base64, SigV4) | ${best.kin.toFixed(2)} | ${ev(best.kin)} | ${mb(best.kin, kinBodies)} | ${(best.nat / best.kin).toFixed(2)} |`,
];
console.log(lines.join('\n'));
if (process.argv[2]) fs.writeFileSync(process.argv[2], lines.join('\n') + '\n');
