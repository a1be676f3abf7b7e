// s3rver (npm) on 127.0.0.1 for tests: startS3rver(dir, bucket) -> {port, proc, endpoint}.
//
// s3rver generates ListObjectsV2 continuation tokens with DES, which OpenSSL 3
// builds of node only have in the legacy provider; the launcher maps that
// cipher to AES-CTR (same token round trip, no legacy provider).
// s3rver keeps each object at <dir>/<bucket>/<key>._S3rver_object.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT } from './common.mjs';

const NODE_DIR = path.join(ROOT, 'tests/node');
export const S3RVER_CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_SESSION_TOKEN: '', AWS_PROFILE: '' };

export function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
}

const LAUNCHER = `
const crypto = require('crypto');
const map = (a, k, i) => a === 'des'
  ? ['aes-128-ctr', Buffer.concat([Buffer.from(k), Buffer.alloc(8)]), Buffer.concat([Buffer.from(i), Buffer.alloc(8)])]
  : [a, k, i];
const c = crypto.createCipheriv, d = crypto.createDecipheriv;
crypto.createCipheriv = (a, k, i, o) => { const m = map(a, k, i); return c(m[0], m[1], m[2], o); };
crypto.createDecipheriv = (a, k, i, o) => { const m = map(a, k, i); return d(m[0], m[1], m[2], o); };
const S3rver = require('s3rver');
const [port, dir, bucket] = process.argv.slice(1);
new S3rver({ port: +port, address: '127.0.0.1', directory: dir, silent: true,
             configureBuckets: [{ name: bucket }] }).run().then(
  () => console.log('READY'), (e) => { console.error(e); process.exit(1); });
`;

export async function startS3rver(dir, bucket) {
    const port = await freePort();
    fs.mkdirSync(dir, { recursive: true });
    const p = spawn(process.execPath, ['-e', LAUNCHER, String(port), dir, bucket], {
        cwd: NODE_DIR, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let errText = '';
    p.stderr.on('data', (d) => { errText += d; });
    process.on('exit', () => { try { p.kill('SIGKILL'); } catch { } });
    await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('s3rver did not start in 20 s: ' + errText)), 20000);
        p.stdout.on('data', (d) => { if (String(d).includes('READY')) { clearTimeout(t); resolve(); } });
        p.on('exit', (code) => { clearTimeout(t); reject(new Error(`s3rver exited ${code}: ${errText}`)); });
    });
    return { port, proc: p, endpoint: `http://127.0.0.1:${port}` };
}
