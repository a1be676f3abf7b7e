// The store's streaming writer (st_writer) against s3rver, through
// `sluice store put URI -` (standard input streamed, never held whole):
//   - a small (and an empty) object is one PUT; a 23 MB one a multipart upload of 5 MiB
//     parts (s3rver's request log); both read back byte for byte;
//   - a part that keeps failing: the upload is aborted (no orphan left in
//     s3rver's upload directory), the key never appears;
//   - a writer killed -9 in the middle leaves an unfinished upload: `store
//     uploads` lists it (ListMultipartUploads, paged) with its key, `store
//     abort` removes it; s3rver's directory is empty again;
//   - s3rver itself implements neither call: `store uploads` fails naming
//     NotImplemented (so tests check s3rver's directory, s3uploads.mjs).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, Reporter, crashed, describe, makeTmp, sleep, sluice } from '../node/lib/common.mjs';
import { startS3rver, S3RVER_CREDS } from '../node/lib/s3rver.mjs';
import { s3rverUploads, startUploadsProxy } from '../node/lib/s3uploads.mjs';

const R = new Reporter();
const T = makeTmp('s3w');
const BUCKET = 'wbucket';
const DIR = path.join(T, 's3rver');
const objFile = (key) => path.join(DIR, BUCKET, key + '._S3rver_object');

const store = (endpoint, args, opts = {}) =>
    sluice(['store', ...args, '--endpoint', endpoint, '--region', 'us-east-1', '--part-bytes', String(5 << 20), '--retries', '1'],
        { ...opts, env: { ...S3RVER_CREDS, ...(opts.env ?? {}) } });

const s3 = await startS3rver(DIR, BUCKET);
const proxy = await startUploadsProxy(s3.port, DIR, BUCKET, { pageSize: 2 });
// a second proxy in front that fails every UploadPart after the first
let failParts = false;
const http = await import('node:http');
const flaky = http.createServer((req, res) => {
    if (failParts && req.method === 'PUT' && /[?&]partNumber=([2-9]|\d\d)/.test(req.url)) {
        req.resume();
        req.on('end', () => { res.writeHead(500, { 'Content-Type': 'application/xml' }); res.end('<Error><Code>InternalError</Code><Message>test</Message></Error>'); });
        return;
    }
    const u = new URL(proxy.endpoint);
    const up = http.request({ host: u.hostname, port: u.port, method: req.method, path: req.url, headers: req.headers }, (ur) => { res.writeHead(ur.statusCode, ur.headers); ur.pipe(res); });
    up.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
    req.pipe(up);
});
await new Promise((r) => flaky.listen(0, '127.0.0.1', r));
const FLAKY = `http://127.0.0.1:${flaky.address().port}`;

const big = crypto.randomBytes(23 * 1000 * 1000);
await R.guard('writer_put_single_and_multipart', async () => {
    const probs = [];
    const small = Buffer.from('hello, raw\n');
    proxy.log.length = 0;
    let r = await store(proxy.endpoint, ['put', `s3://${BUCKET}/raw/a/small.txt`, '-'], { input: small });
    if (r.status !== 0 || crashed(r)) probs.push(describe(r, ['put small']));
    if (proxy.log.length !== 1 || !/^PUT \/wbucket\/raw\/a\/small\.txt$/.test(proxy.log[0])) probs.push('small: not one PUT: ' + proxy.log.join(', '));
    proxy.log.length = 0;
    r = await store(proxy.endpoint, ['put', `s3://${BUCKET}/raw/a/big.bin`, '-'], { input: big });
    if (r.status !== 0 || crashed(r)) probs.push(describe(r, ['put big']));
    const parts = proxy.log.filter((l) => /^PUT .*partNumber=\d+/.test(l)).length;
    if (parts !== 5 || !proxy.log.some((l) => /^POST .*\?uploads/.test(l)) || !proxy.log.some((l) => /^POST .*\?uploadId=/.test(l)))
        probs.push(`big: want create, 5 parts of 5 MiB, complete: ${proxy.log.join(', ')}`);
    r = await store(proxy.endpoint, ['put', `s3://${BUCKET}/raw/a/empty`, '-'], { input: Buffer.alloc(0) });
    if (r.status !== 0 || !fs.existsSync(objFile('raw/a/empty')) || fs.statSync(objFile('raw/a/empty')).size !== 0) probs.push('empty object: ' + describe(r, ['put empty']));
    if (fs.existsSync(objFile('raw/a/small.txt')) && !fs.readFileSync(objFile('raw/a/small.txt')).equals(small)) probs.push('small object differs');
    if (!fs.existsSync(objFile('raw/a/big.bin')) || !fs.readFileSync(objFile('raw/a/big.bin')).equals(big)) probs.push('big object missing or different');
    if (s3rverUploads(DIR, BUCKET).length) probs.push('an upload is left: ' + JSON.stringify(s3rverUploads(DIR, BUCKET)));
    R.check('writer_put_single_and_multipart', probs);
});

await R.guard('writer_failed_part_aborts', async () => {
    const probs = [];
    failParts = true;
    const r = await store(FLAKY, ['put', `s3://${BUCKET}/raw/a/failing.bin`, '-'], { input: big });
    failParts = false;
    if (r.status === 0) probs.push('a put whose parts fail succeeded');
    if (!/part 2/.test(r.stderr) || !/HTTP 500/.test(r.stderr)) probs.push('error does not name the part and status: ' + r.stderr);
    if (crashed(r)) probs.push(crashed(r));
    if (fs.existsSync(objFile('raw/a/failing.bin'))) probs.push('the key appeared');
    if (s3rverUploads(DIR, BUCKET).length) probs.push('orphan upload left: ' + JSON.stringify(s3rverUploads(DIR, BUCKET)));
    if (!proxy.log.some((l) => l.startsWith('ABORT raw/a/failing.bin'))) probs.push('no AbortMultipartUpload sent: ' + proxy.log.join(', '));
    R.check('writer_failed_part_aborts', probs);
});

await R.guard('writer_killed_leaves_upload_listed_and_aborted', async () => {
    const probs = [];
    const kids = [];
    for (const name of ['k1.bin', 'k2.bin', 'k3.bin']) {
        const p = spawn(BIN, ['store', 'put', `s3://${BUCKET}/raw/b/${name}`, '-', '--endpoint', proxy.endpoint, '--part-bytes', String(5 << 20)],
            { env: { ...process.env, ...S3RVER_CREDS }, stdio: ['pipe', 'ignore', 'pipe'] });
        p.stdin.on('error', () => { });
        p.stdin.write(big.subarray(0, 12 << 20)); // two parts' worth: one uploaded, one buffered
        kids.push(p);
    }
    const t0 = Date.now();
    while (Date.now() - t0 < 30000 && s3rverUploads(DIR, BUCKET).filter((u) => u.parts >= 1).length < 3) await sleep(50);
    await sleep(300); // (the part's file complete)
    for (const p of kids) p.kill('SIGKILL');
    await Promise.all(kids.map((p) => new Promise((r) => (p.exitCode !== null || p.signalCode ? r() : p.on('close', r)))));
    const left = s3rverUploads(DIR, BUCKET);
    if (left.length !== 3) probs.push(`want 3 unfinished uploads in s3rver's directory, found ${JSON.stringify(left)}`);
    let r = await store(proxy.endpoint, ['uploads', `s3://${BUCKET}/raw/b/`]);
    const rows = r.stdout.toString().trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
    if (r.status !== 0) probs.push(describe(r, ['uploads']));
    const keys = rows.map((x) => x[3]).sort();
    if (JSON.stringify(keys) !== JSON.stringify(['raw/b/k1.bin', 'raw/b/k2.bin', 'raw/b/k3.bin'])) probs.push('listed: ' + r.stdout);
    if (!rows.every((x) => x[2] === '-1')) probs.push('held should be -1 (cannot tell) on S3: ' + r.stdout);
    if (proxy.log.filter((l) => l.startsWith('LIST')).length < 2) probs.push('pages not followed (page size 2): ' + proxy.log.join(', '));
    r = await store(proxy.endpoint, ['uploads', `s3://${BUCKET}/raw/c/`]);
    if (r.status !== 0 || r.stdout.length) probs.push('another prefix lists: ' + r.stdout);
    for (const x of rows) {
        r = await store(proxy.endpoint, ['abort', `s3://${BUCKET}/${x[3]}`, x[0]]);
        if (r.status !== 0) probs.push(describe(r, ['abort', x[3], x[0]]));
    }
    r = await store(proxy.endpoint, ['abort', `s3://${BUCKET}/raw/b/k1.bin`, rows[0]?.[0] ?? 'x']);
    if (r.status !== 0) probs.push('aborting a gone upload fails: ' + r.stderr);
    if (s3rverUploads(DIR, BUCKET).length) probs.push('uploads left after abort: ' + JSON.stringify(s3rverUploads(DIR, BUCKET)));
    for (const k of ['k1', 'k2', 'k3']) if (fs.existsSync(objFile(`raw/b/${k}.bin`))) probs.push(`${k} appeared`);
    R.check('writer_killed_leaves_upload_listed_and_aborted', probs);
});

// Part 1's UploadPart held by a proxy until released: the writer goes on
// filling part 2 meanwhile (each part is uploaded by a thread of its own), so
// `store put` keeps reading standard input well past one part; before, it
// stopped reading at one part's worth until S3 answered.
await R.guard('writer_fills_the_next_part_while_one_uploads', async () => {
    const probs = [];
    let release, held = false;
    const gate = new Promise((r) => { release = r; });
    const hold = http.createServer((req, res) => {
        const first = req.method === 'PUT' && /[?&]partNumber=1(&|$)/.test(req.url);
        const body = [];
        req.on('data', (d) => body.push(d));
        req.on('end', async () => {
            if (first) { held = true; await gate; }
            const u = new URL(proxy.endpoint);
            const up = http.request({ host: u.hostname, port: u.port, method: req.method, path: req.url, headers: req.headers }, (ur) => { res.writeHead(ur.statusCode, ur.headers); ur.pipe(res); });
            up.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
            up.end(Buffer.concat(body));
        });
    });
    await new Promise((r) => hold.listen(0, '127.0.0.1', r));
    const data = big.subarray(0, 16 << 20);
    const p = spawn(BIN, ['store', 'put', `s3://${BUCKET}/raw/d/bg.bin`, '-', '--endpoint', `http://127.0.0.1:${hold.address().port}`,
        '--region', 'us-east-1', '--part-bytes', String(5 << 20)], { env: { ...process.env, ...S3RVER_CREDS }, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => stderr += d);
    p.stdin.on('error', () => { });
    const exited = new Promise((r) => p.on('close', (code) => r(code)));
    // write until the process stops reading for 2 s while part 1 is held
    let off = 0;
    while (off < data.length) {
        const chunk = data.subarray(off, off + 65536);
        off += chunk.length;
        if (!p.stdin.write(chunk)) {
            const drained = await Promise.race([new Promise((r) => p.stdin.once('drain', () => r(true))), sleep(2000).then(() => false)]);
            if (!drained && held) break;
        }
    }
    const accepted = off;
    if (!held) probs.push('part 1 was never sent');
    if (accepted < 9.5 * (1 << 20)) probs.push(`only ${(accepted / 1048576).toFixed(1)} MiB read while part 1 uploaded (want > 9.5: one part uploading, the next filling)`);
    release();
    if (!p.stdin.write(data.subarray(off))) await new Promise((r) => p.stdin.once('drain', r));
    p.stdin.end();
    const code = await exited;
    if (code !== 0) probs.push(`put exited ${code}: ${stderr}`);
    if (!fs.existsSync(objFile('raw/d/bg.bin')) || !fs.readFileSync(objFile('raw/d/bg.bin')).equals(data)) probs.push('the object is missing or differs');
    if (s3rverUploads(DIR, BUCKET).length) probs.push('an upload is left: ' + JSON.stringify(s3rverUploads(DIR, BUCKET)));
    hold.close();
    hold.closeAllConnections?.();
    R.check('writer_fills_the_next_part_while_one_uploads', probs);
});

await R.guard('s3rver_lacks_list_uploads', async () => {
    const r = await store(s3.endpoint, ['uploads', `s3://${BUCKET}/raw/`]);
    R.check('s3rver_lacks_list_uploads', r.status === 1 && /NotImplemented/.test(r.stderr) && !crashed(r) ? [] : [describe(r, ['uploads'])]);
});

proxy.close();
flaky.close();
flaky.closeAllConnections?.();
s3.proc.kill('SIGKILL');
console.log(`${R.passed} passed, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
