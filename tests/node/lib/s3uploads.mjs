// Multipart-upload bookkeeping for tests on s3rver.
//
// s3rver 3.7.1 keeps an unfinished multipart upload as a directory
// <dir>/<bucket>/._S3rver_uploads/<uploadId>/ (files `key`, `metadata` and
// one per part) until CompleteMultipartUpload, but implements neither
// ListMultipartUploads (GET /<bucket>?uploads answers 501 NotImplemented)
// nor AbortMultipartUpload (DELETE /<bucket>/<key>?uploadId= answers 405):
// an upload whose writer died stays there for ever.
//
//   s3rverUploads(dir, bucket)  the unfinished uploads, read from that
//                               directory: [{id, key, parts, initiated}] --
//                               how a test checks for orphans
//   startUploadsProxy(port, dir, bucket, {pageSize})
//                               an HTTP proxy in front of s3rver that answers
//                               those two calls the way S3 does, from and on
//                               that directory (ListMultipartUploads in
//                               (key, id) order, pageSize per page with
//                               NextKeyMarker/NextUploadIdMarker; Abort
//                               removes the directory, 204, or 404
//                               NoSuchUpload), and passes everything else on.
//                               -> {endpoint, log ("METHOD url" of what
//                               it passed on, LIST/ABORT lines), close()}
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const uploadsDir = (dir, bucket) => path.join(dir, bucket, '._S3rver_uploads');

export function s3rverUploads(dir, bucket) {
    const root = uploadsDir(dir, bucket);
    if (!fs.existsSync(root)) return [];
    const out = [];
    for (const id of fs.readdirSync(root)) {
        const d = path.join(root, id);
        let key = null, initiated = 0;
        try {
            key = fs.readFileSync(path.join(d, 'key'), 'utf8');
            initiated = fs.statSync(path.join(d, 'key')).mtimeMs;
        } catch { /* being created */ }
        const parts = fs.readdirSync(d).filter((f) => /^\d+$/.test(f)).length;
        out.push({ id, key, parts, initiated });
    }
    return out;
}

const xmlEsc = (s) => String(s).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' }[c]));

function listXml(dir, bucket, q, pageSize) {
    const prefix = q.get('prefix') ?? '', km = q.get('key-marker'), im = q.get('upload-id-marker') ?? '';
    const all = s3rverUploads(dir, bucket).filter((u) => u.key !== null && u.key.startsWith(prefix))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const after = km === null ? all : all.filter((u) => u.key > km || (u.key === km && u.id > im));
    const page = after.slice(0, pageSize), truncated = after.length > page.length;
    const last = page[page.length - 1];
    return '<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${xmlEsc(bucket)}</Bucket><KeyMarker>${xmlEsc(km ?? '')}</KeyMarker><UploadIdMarker>${xmlEsc(im)}</UploadIdMarker>` +
        (truncated ? `<NextKeyMarker>${xmlEsc(last.key)}</NextKeyMarker><NextUploadIdMarker>${xmlEsc(last.id)}</NextUploadIdMarker>` : '') +
        `<MaxUploads>${pageSize}</MaxUploads><IsTruncated>${truncated}</IsTruncated>` +
        page.map((u) => `<Upload><Key>${xmlEsc(u.key)}</Key><UploadId>${xmlEsc(u.id)}</UploadId>` +
            `<StorageClass>STANDARD</StorageClass><Initiated>${new Date(u.initiated).toISOString()}</Initiated></Upload>`).join('') +
        '</ListMultipartUploadsResult>';
}

export async function startUploadsProxy(target, dir, bucket, opts = {}) {
    const pageSize = opts.pageSize ?? 1000;
    const log = [];
    const srv = http.createServer((req, res) => {
        const u = new URL(req.url, 'http://x');
        const segs = u.pathname.split('/').filter(Boolean);
        const xml = (status, body) => { res.writeHead(status, { 'Content-Type': 'application/xml' }); res.end(body); };
        if (req.method === 'GET' && segs.length === 1 && segs[0] === bucket && u.searchParams.has('uploads')) {
            log.push(`LIST ${u.searchParams.get('prefix') ?? ''}`);
            req.resume();
            req.on('end', () => xml(200, listXml(dir, bucket, u.searchParams, pageSize)));
            return;
        }
        if (req.method === 'DELETE' && segs.length > 1 && segs[0] === bucket && u.searchParams.has('uploadId')) {
            const id = u.searchParams.get('uploadId'), key = segs.slice(1).map(decodeURIComponent).join('/');
            log.push(`ABORT ${key} ${id}`);
            req.resume();
            req.on('end', () => {
                const d = path.join(uploadsDir(dir, bucket), path.basename(id));
                let have = null;
                try { have = fs.readFileSync(path.join(d, 'key'), 'utf8'); } catch { }
                if (have !== key) {
                    xml(404, '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>');
                    return;
                }
                fs.rmSync(d, { recursive: true, force: true });
                res.writeHead(204);
                res.end();
            });
            return;
        }
        log.push(`${req.method} ${req.url}`);
        const up = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (ur) => {
            res.writeHead(ur.statusCode, ur.headers);
            ur.pipe(res);
        });
        up.on('error', (e) => { if (!res.headersSent) res.writeHead(502); res.end(String(e)); });
        req.pipe(up);
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    return {
        endpoint: `http://127.0.0.1:${srv.address().port}`, log,
        close() { srv.close(); srv.closeAllConnections?.(); },
    };
}
