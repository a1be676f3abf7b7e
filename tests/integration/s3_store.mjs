// The S3 object store against a real (local) S3 implementation: s3rver (npm)
// on 127.0.0.1, which checks SigV4 signatures with its S3RVER/S3RVER keys.
// Everything goes through `sluice store put|get|head|rm|ls`, i.e. the same
// st_* code the lake uses: small and multipart puts, ranged gets, head,
// ListObjectsV2 pagination, delete, error messages, credentials, and retries
// (through a small proxy that answers 503 SlowDown / drops connections
// before passing requests on).  No traffic leaves 127.0.0.1.
//
// s3rver checks only the access key id of SigV4 requests, not the signature,
// so every request goes through a proxy that verifies each signature (and
// the x-amz-content-sha256 of each body) with an independent JavaScript
// SigV4 implementation and the secret S3RVER: a wrong signature is answered
// 403 SignatureDoesNotMatch, as S3 would.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Reporter, makeTmp, sluice, crashed, describe, pool, ROOT } from '../node/lib/common.mjs';
import { freePort, startS3rver as startS3rverAt } from '../node/lib/s3rver.mjs';

const rep = new Reporter();
const tmp = makeTmp('s3');
const BUCKET = 'sluice-test';
const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_SESSION_TOKEN: '', AWS_PROFILE: '' };

async function startS3rver() {
    return startS3rverAt(path.join(tmp, 's3rver'), BUCKET);
}

/* ---- an independent SigV4 check (header signing, service s3) ------------ */
const SECRETS = { S3RVER: 'S3RVER' };
const hmac = (k, d) => crypto.createHmac('sha256', k).update(d).digest();
const awsEncode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
function pctDecode(s) { try { return decodeURIComponent(s); } catch { return s; } }

/* null when the request's Authorization is a valid SigV4 signature over
 * method, path, query, signed headers and body; else the reason. */
function verifySigV4(req, body) {
    const a = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(req.headers.authorization || '');
    if (!a) return `malformed Authorization: ${req.headers.authorization}`;
    const [, ak, day, region, signed, sig] = a;
    if (!(ak in SECRETS)) return `unknown access key ${ak}`;
    const date = req.headers['x-amz-date'];
    if (!date || date.slice(0, 8) !== day) return 'x-amz-date missing or not the credential day';
    const ph = req.headers['x-amz-content-sha256'];
    if (!ph) return 'no x-amz-content-sha256';
    if (ph !== 'UNSIGNED-PAYLOAD' && ph !== crypto.createHash('sha256').update(body).digest('hex')) return 'x-amz-content-sha256 is not the hash of the body';
    const names = signed.split(';');
    for (const need of ['host', 'x-amz-date', 'x-amz-content-sha256']) if (!names.includes(need)) return `${need} not signed`;
    const [p, q = ''] = req.url.split(/\?(.*)/s);
    const query = q.split('&').filter(Boolean).map((kv) => {
        const i = kv.indexOf('=');
        const k = i < 0 ? kv : kv.slice(0, i), v = i < 0 ? '' : kv.slice(i + 1);
        return [awsEncode(pctDecode(k)), awsEncode(pctDecode(v))];
    }).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0))
        .map(([k, v]) => `${k}=${v}`).join('&');
    const hdrs = names.map((n) => {
        const v = req.headers[n];
        if (v === undefined) return null;
        return `${n}:${String(Array.isArray(v) ? v.join(',') : v).trim().replace(/\s+/g, ' ')}\n`;
    });
    if (hdrs.includes(null)) return 'a signed header is missing';
    const creq = [req.method, p, query, hdrs.join(''), signed, ph].join('\n');
    const sts = ['AWS4-HMAC-SHA256', date, `${day}/${region}/s3/aws4_request`, crypto.createHash('sha256').update(creq).digest('hex')].join('\n');
    let k = hmac('AWS4' + SECRETS[ak], day);
    k = hmac(k, region); k = hmac(k, 's3'); k = hmac(k, 'aws4_request');
    const want = hmac(k, sts).toString('hex');
    return want === sig ? null : `signature mismatch for ${req.method} ${req.url}\n${creq}`;
}

// A proxy in front of s3rver that verifies signatures, logs requests and can
// fail some: plan(req) returns null (pass on), 'drop' (close the socket),
// or a status to answer with an S3 error document.
async function startProxy(target) {
    const log = [], badSigs = [];
    let plan = () => null;
    let verified = 0;
    const srv = http.createServer((req, res) => {
        log.push(`${req.method} ${req.url}`);
        const what = plan(req);
        if (what === 'drop') { req.socket.destroy(); return; }
        const chunks = [];
        req.on('data', (d) => chunks.push(d));
        req.on('end', () => {
            const body = Buffer.concat(chunks);
            const xmlErr = (status, code, msg) => {
                res.writeHead(status, { 'Content-Type': 'application/xml' });
                res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${msg}</Message></Error>`);
            };
            if (what) { xmlErr(what, what === 503 ? 'SlowDown' : what === 400 ? 'InvalidPart' : 'InternalError', 'injected by the test proxy'); return; }
            const why = verifySigV4(req, body);
            if (why) {
                badSigs.push(why);
                xmlErr(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
                return;
            }
            verified++;
            const up = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (ur) => {
                res.writeHead(ur.statusCode, ur.headers);
                ur.pipe(res);
            });
            up.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
            up.end(body);
        });
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    return {
        endpoint: `http://127.0.0.1:${srv.address().port}`, log, badSigs,
        get verified() { return verified; },
        setPlan(f) { plan = f; log.length = 0; },
        close() { srv.close(); srv.closeAllConnections?.(); },
    };
}

function store(endpoint, args, opts = {}) {
    return sluice(['store', ...args, '--endpoint', endpoint, '--region', 'us-east-1'],
        { ...opts, env: { ...CREDS, ...(opts.env ?? {}) } });
}

/* run; FAIL on crash or non-zero exit; returns the result or null */
async function must(name, endpoint, args, opts) {
    const r = await store(endpoint, args, opts);
    const c = crashed(r);
    if (c || r.status !== 0) { rep.fail(name, (c ? c + '\n' : '') + describe(r, ['store', ...args])); return null; }
    return r;
}

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

async function main() {
    let s3;
    try { s3 = await startS3rver(); } catch (e) { rep.fail('s3rver_start', e.stack || e); return; }
    const proxy = await startProxy(s3.port);
    const E = proxy.endpoint; /* every request's signature is checked */
    try {
        // ---- small object round trip -------------------------------------
        await rep.guard('small_put_get_head', async () => {
            const f = path.join(tmp, 'small.txt');
            fs.writeFileSync(f, 'hello, lake\n');
            if (!await must('small_put_get_head', E, ['put', `s3://${BUCKET}/t1/dt=2024-05-01/small.txt`, f])) return;
            const g = await must('small_put_get_head', E, ['get', `s3://${BUCKET}/t1/dt=2024-05-01/small.txt`]);
            if (!g) return;
            const h = await must('small_put_get_head', E, ['head', `s3://${BUCKET}/t1/dt=2024-05-01/small.txt`]);
            if (!h) return;
            const problems = [];
            if (g.stdout.toString() !== 'hello, lake\n') problems.push(`get returned ${JSON.stringify(g.stdout.toString())}`);
            if (!/^size\t12\n/.test(h.stdout.toString())) problems.push(`head said ${JSON.stringify(h.stdout.toString())}`);
            const mod = /modified\t(\S+)/.exec(h.stdout.toString());
            if (!mod || Math.abs(Date.parse(mod[1]) - Date.now()) > 600000) problems.push(`bad modified time ${mod && mod[1]}`);
            rep.check('small_put_get_head', problems);
        });

        // ---- odd characters in keys (URI encoding on the wire) --------------
        await rep.guard('key_encoding', async () => {
            const key = 'odd/a b+c=d&e~f(1)!*\'é,;:@$.txt';
            const r = await must('key_encoding', E, ['put', `s3://${BUCKET}/${key}`, '-'], { input: 'odd' });
            if (!r) return;
            const g = await must('key_encoding', E, ['get', `s3://${BUCKET}/${key}`]);
            if (!g) return;
            const l = await must('key_encoding', E, ['ls', `s3://${BUCKET}/odd/`]);
            if (!l) return;
            const keys = l.stdout.toString().trim().split('\n').map((x) => x.split('\t')[2]);
            const problems = [];
            if (g.stdout.toString() !== 'odd') problems.push('content differs');
            if (keys.length !== 1 || keys[0] !== key) problems.push(`ls gave ${JSON.stringify(keys)}`);
            rep.check('key_encoding', problems);
        });

        // ---- multipart (12 MiB in 5 MiB parts), through the logging proxy ----
        const big = crypto.randomBytes(12 * 1024 * 1024 + 12345);
        const bigFile = path.join(tmp, 'big.bin');
        fs.writeFileSync(bigFile, big);
        await rep.guard('multipart_put', async () => {
            proxy.setPlan(() => null);
            if (!await must('multipart_put', proxy.endpoint, ['put', '--part-bytes', String(5 * 1024 * 1024), `s3://${BUCKET}/big/obj.bin`, bigFile])) return;
            const problems = [];
            const creates = proxy.log.filter((l) => /^POST .*\?uploads/.test(l)).length;
            const parts = proxy.log.filter((l) => /^PUT .*partNumber=\d+/.test(l)).length;
            const completes = proxy.log.filter((l) => /^POST .*uploadId=/.test(l)).length;
            if (creates !== 1 || parts !== 3 || completes !== 1) problems.push(`requests: ${creates} create, ${parts} parts, ${completes} complete\n${proxy.log.join('\n')}`);
            const g = await must('multipart_put', E, ['get', `s3://${BUCKET}/big/obj.bin`, path.join(tmp, 'big.out')]);
            if (!g) return;
            const back = fs.readFileSync(path.join(tmp, 'big.out'));
            if (back.length !== big.length || sha(back) !== sha(big)) problems.push(`read back ${back.length} bytes, sha differs`);
            rep.check('multipart_put', problems);
        });

        await rep.guard('single_put_below_part_size', async () => {
            proxy.setPlan(() => null);
            if (!await must('single_put_below_part_size', proxy.endpoint, ['put', `s3://${BUCKET}/big/single.bin`, bigFile])) return;
            const puts = proxy.log.filter((l) => l.startsWith('PUT ')).length;
            rep.check('single_put_below_part_size', puts === 1 && proxy.log.length === 1 ? [] : [`requests:\n${proxy.log.join('\n')}`]);
        });

        // ---- ranged gets -----------------------------------------------------
        await rep.guard('ranged_get', async () => {
            const problems = [];
            for (const [off, len] of [[0, 2], [1, 1], [5000000, 3000000], [big.length - 10, 10], [big.length - 7, 0], [7 * 1024 * 1024, 0]]) {
                const r = await must('ranged_get', E, ['get', '--offset', String(off), '--length', String(len), `s3://${BUCKET}/big/obj.bin`]);
                if (!r) return;
                const want = big.subarray(off, len ? off + len : big.length);
                if (!r.stdout.equals(want)) problems.push(`range ${off}+${len}: got ${r.stdout.length} bytes, want ${want.length}`);
            }
            const r = await store(E, ['get', '--offset', String(big.length - 5), '--length', '10', `s3://${BUCKET}/big/obj.bin`]);
            if (r.status !== 1 || !/beyond/.test(r.stderr)) problems.push('range past the end: ' + describe(r, ['get']));
            const r2 = await store(E, ['get', '--offset', String(big.length + 5), `s3://${BUCKET}/big/obj.bin`]);
            if (r2.status !== 1 || !/beyond/.test(r2.stderr)) problems.push('offset past the end: ' + describe(r2, ['get']));
            const r3 = await must('ranged_get', E, ['get', '--offset', String(big.length), `s3://${BUCKET}/big/obj.bin`]);
            if (r3 && r3.stdout.length !== 0) problems.push('offset == size should give 0 bytes');
            rep.check('ranged_get', problems);
        });

        // ---- listing with pagination ----------------------------------------
        await rep.guard('list_pagination', async () => {
            const keys = Array.from({ length: 23 }, (_, i) => `pg/dt=2024-05-${String(1 + (i % 3)).padStart(2, '0')}/part-${String(i).padStart(4, '0')}.parquet`);
            const puts = await pool(6, keys.map((k, i) => () => store(E, ['put', `s3://${BUCKET}/${k}`, '-'], { input: 'x'.repeat(i) })));
            const bad = puts.findIndex((r) => r.status !== 0);
            if (bad >= 0) { rep.fail('list_pagination', describe(puts[bad], ['put', keys[bad]])); return; }
            proxy.setPlan(() => null);
            const l = await must('list_pagination', proxy.endpoint, ['ls', '--max-keys', '5', `s3://${BUCKET}/pg/`]);
            if (!l) return;
            const rows = l.stdout.toString().trim().split('\n').map((x) => x.split('\t'));
            const problems = [];
            const got = rows.map((r) => r[2]);
            const want = [...keys].sort();
            if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`keys differ: got ${got.length}: ${got.slice(0, 4).join(', ')}...`);
            for (const r of rows) {
                const i = keys.indexOf(r[2]);
                if (i >= 0 && +r[0] !== i) problems.push(`${r[2]}: size ${r[0]}, want ${i}`);
            }
            const pages = proxy.log.filter((x) => x.includes('list-type=2')).length;
            if (pages !== 5) problems.push(`${pages} list requests for 23 keys at 5 per page, want 5`);
            if (proxy.log.filter((x) => x.includes('continuation-token=')).length !== 4) problems.push('continuation tokens not used');
            // a partial-name prefix
            const l2 = await must('list_pagination', E, ['ls', `s3://${BUCKET}/pg/dt=2024-05-02/part-001`]);
            if (!l2) return;
            const n2 = l2.stdout.toString().trim().split('\n').length;
            const want2 = keys.filter((k) => k.startsWith('pg/dt=2024-05-02/part-001')).length;
            if (n2 !== want2) problems.push(`prefix listing gave ${n2}, want ${want2}`);
            rep.check('list_pagination', problems);
        });

        // ---- delete -----------------------------------------------------------
        await rep.guard('delete', async () => {
            const u = `s3://${BUCKET}/t1/dt=2024-05-01/small.txt`;
            if (!await must('delete', E, ['rm', u])) return;
            const problems = [];
            const h = await store(E, ['head', u]);
            if (h.status !== 1 || !/not found/.test(h.stderr)) problems.push('head after rm: ' + describe(h, ['head', u]));
            const again = await store(E, ['rm', u]);
            if (again.status !== 0) problems.push('rm of a missing key: ' + describe(again, ['rm', u]));
            rep.check('delete', problems);
        });

        // ---- errors -------------------------------------------------------------
        await rep.guard('errors', async () => {
            const problems = [];
            const g = await store(E, ['get', `s3://${BUCKET}/no/such/key`]);
            if (g.status !== 1 || !/get s3:\/\/sluice-test\/no\/such\/key: not found/.test(g.stderr)) problems.push('missing key: ' + describe(g, ['get']));
            const nb = await store(E, ['ls', 's3://no-such-bucket/']);
            if (nb.status !== 1 || !/NoSuchBucket/.test(nb.stderr)) problems.push('missing bucket: ' + describe(nb, ['ls']));
            const nbad = proxy.badSigs.length;
            const wrong = await store(E, ['get', '--length', '5', `s3://${BUCKET}/big/obj.bin`], { env: { AWS_SECRET_ACCESS_KEY: 'WRONGSECRETVALUE' } });
            if (wrong.status !== 1 || !/HTTP 403 SignatureDoesNotMatch/.test(wrong.stderr)) problems.push('wrong secret: ' + describe(wrong, ['get']));
            if (/WRONGSECRETVALUE/.test(wrong.stderr)) problems.push('the secret appears in the error message');
            const wrongHead = await store(E, ['head', `s3://${BUCKET}/big/obj.bin`], { env: { AWS_SECRET_ACCESS_KEY: 'WRONGSECRETVALUE' } });
            if (wrongHead.status !== 1 || !/HTTP 403 \(access denied, or a bad signature: check the credentials from environment/.test(wrongHead.stderr)) problems.push('wrong secret, head: ' + describe(wrongHead, ['head']));
            if (/WRONGSECRETVALUE/.test(wrongHead.stderr)) problems.push('the secret appears in the error message');
            proxy.badSigs.length = nbad; /* expected */
            const wrongKey = await store(s3.endpoint, ['get', '--length', '5', `s3://${BUCKET}/big/obj.bin`], { env: { AWS_ACCESS_KEY_ID: 'NOSUCHKEY' } });
            if (wrongKey.status !== 1 || !/HTTP 403 InvalidAccessKeyId/.test(wrongKey.stderr)) problems.push('unknown access key (s3rver itself): ' + describe(wrongKey, ['get']));
            const home = path.join(tmp, 'emptyhome');
            fs.mkdirSync(home, { recursive: true });
            const none = await sluice(['store', 'ls', '--endpoint', E, `s3://${BUCKET}/`], {
                env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_SHARED_CREDENTIALS_FILE: '', AWS_PROFILE: '', HOME: home },
            });
            if (none.status !== 1 || !/no S3 credentials/.test(none.stderr)) problems.push('no credentials: ' + describe(none, ['ls']));
            // credentials from a shared credentials file, named profile
            const cf = path.join(tmp, 'credentials');
            fs.writeFileSync(cf, '[default]\naws_access_key_id = NOPE\naws_secret_access_key = NOPE\n\n[s3rver]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n');
            const viaFile = await sluice(['store', 'head', '--endpoint', E, '--profile', 's3rver', '--credentials-file', cf, `s3://${BUCKET}/big/obj.bin`], {
                env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', HOME: home },
            });
            if (viaFile.status !== 0) problems.push('credentials file profile: ' + describe(viaFile, ['head']));
            const bad = await store(E, ['put', `s3://${BUCKET}/a/../b`, '-'], { input: 'x' });
            if (bad.status !== 1 || !/'\.\.'/.test(bad.stderr)) problems.push('bad key: ' + describe(bad, ['put']));
            rep.check('errors', problems);
        });

        // ---- retries ----------------------------------------------------------------
        await rep.guard('retries', async () => {
            const problems = [];
            let n = 0;
            proxy.setPlan(() => (++n <= 2 ? 503 : null));
            const p = await store(proxy.endpoint, ['put', `s3://${BUCKET}/retry/a.txt`, '-'], { input: 'retried' });
            if (p.status !== 0) problems.push('put after two 503s: ' + describe(p, ['put']));
            if (proxy.log.length !== 3) problems.push(`${proxy.log.length} requests for 2 failures + 1 success`);
            n = 0;
            proxy.setPlan(() => (++n <= 1 ? 'drop' : n <= 2 ? 500 : null));
            const g = await store(proxy.endpoint, ['get', `s3://${BUCKET}/retry/a.txt`]);
            if (g.status !== 0 || g.stdout.toString() !== 'retried') problems.push('get after a dropped connection and a 500: ' + describe(g, ['get']));
            n = 0;
            proxy.setPlan(() => (++n <= 1 ? 503 : null));
            const mp = await store(proxy.endpoint, ['put', '--part-bytes', String(5 * 1024 * 1024), `s3://${BUCKET}/retry/big.bin`, bigFile]);
            if (mp.status !== 0) problems.push('multipart after a 503 on create: ' + describe(mp, ['put']));
            proxy.setPlan(() => 503);
            const t0 = Date.now();
            const f = await store(proxy.endpoint, ['--retries', '2', 'head', `s3://${BUCKET}/retry/a.txt`]);
            if (f.status !== 1 || !/after 3 attempts/.test(f.stderr)) problems.push('persistent 503: ' + describe(f, ['head']));
            if (proxy.log.length !== 3) problems.push(`${proxy.log.length} requests with --retries 2, want 3`);
            if (Date.now() - t0 > 15000) problems.push('backoff too slow');
            // a failing part aborts the multipart upload
            proxy.setPlan((req) => (/partNumber=2/.test(req.url) ? 400 : null));
            const ab = await store(proxy.endpoint, ['put', '--part-bytes', String(5 * 1024 * 1024), `s3://${BUCKET}/retry/aborted.bin`, bigFile]);
            if (ab.status !== 1 || !/part 2 of 3/.test(ab.stderr)) problems.push('failing part: ' + describe(ab, ['put']));
            if (!proxy.log.some((l) => /^DELETE .*uploadId=/.test(l))) problems.push('no AbortMultipartUpload after a failed part');
            const h = await store(E, ['head', `s3://${BUCKET}/retry/aborted.bin`]);
            if (h.status !== 1) problems.push('an aborted upload left an object');
            proxy.setPlan(() => null);
            rep.check('retries', problems);
        });
        rep.check('signatures_verified', [
            ...(proxy.verified < 60 ? [`only ${proxy.verified} requests were verified`] : []),
            ...proxy.badSigs.map((b) => 'bad signature: ' + b),
        ]);
    } finally {
        proxy.close();
        s3.proc.kill('SIGTERM');
    }
}

await main().catch((e) => rep.fail('s3_store', e.stack || String(e)));
console.log(`${rep.passed} passed, ${rep.failed} failed`);
process.exit(rep.failed ? 1 : 0);
