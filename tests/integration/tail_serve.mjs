// `sources:` inside sluice serve: the server ships the config's log files
// into its own journals (beside HTTP ingest into the same stream) and its
// sink lands them:
//   - nginx lines written while the server runs reach the lake table, with
//     HTTP-ingested records beside them in the same stream;
//   - kill -9 of the server while lines are being written, several times,
//     then a clean stop: every line is in the journal exactly once;
//   - sluice tail on the same config is refused (the server holds the
//     source's checkpoint lock);
//   - sluice tail to a remote server whose stream has a custom sink.table,
//     killed after the server took a batch but before the 200 arrived,
//     finds the batch there at its restart: every line once;
//   - /metrics counts what the shipper sent; a source whose stream cannot
//     be created stops the server at start with the source named.
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, Server, makeTmp, sleep, sluice } from '../node/lib/common.mjs';
import http from 'node:http';
import net from 'node:net';
import { Shipper, countSeqs, exactlyOnce, nginxLine, readStream, tailConfig, waitRecords } from '../node/lib/tail.mjs';

const R = new Reporter();
const T = makeTmp('tail-serve');
const DATA = path.join(T, 'data');
const LOG = path.join(T, 'access.log');
fs.writeFileSync(LOG, '');
fs.writeFileSync(path.join(T, 'sluice.yaml'), tailConfig(T, { paths: [LOG] }) + 'limits: {min_free_disk: 0}\n');
const srv = new Server(T);
let seq = 0;
const write = (n) => { let s = ''; for (let i = 0; i < n; i++) s += nginxLine(++seq); fs.appendFileSync(LOG, s); };

try {
    await srv.start();
    await R.guard('serve_ships_sources_into_its_journal', async () => {
        const p = [];
        write(300);
        const r = await srv.post('web', [{ path: '/from-http', status: 201 }]);
        if (r.code !== 200) p.push(`HTTP ingest into the same stream: ${r.code} ${r.body}`);
        const recs = await waitRecords(DATA, 301, 20000);
        if (recs.length !== 301) p.push(`${recs.length} records in the journal, want 301`);
        const { problems } = exactlyOnce(countSeqs(recs), 300);
        p.push(...problems);
        const one = recs.find((x) => /seq=1$/.test(x.path || ''));
        if (!one || one.status !== 200 || one.file !== LOG || !one.host) p.push(`record: ${JSON.stringify(one)}`);
        await srv.landed('web');
        const q = await sluice(['sql', '--data', DATA, '--format', 'csv', "SELECT count(*) FROM t1_web WHERE path LIKE '/a?seq=%'"]);
        if (q.stdout.toString().trim().split('\n')[1] !== '300') p.push(`lake: ${q.stdout} ${q.stderr}`);
        const m = await (await fetch(`${srv.url}/metrics`)).text();
        await sleep(1100); // the shipper's figures are a second old at most
        const m2 = await (await fetch(`${srv.url}/metrics`)).text();
        if (!/^sluice_tail_records_total 300$/m.test(m2)) p.push(`metrics: ${(/^sluice_tail_records_total.*$/m.exec(m2) || [m])[0]}`);
        R.check('serve_ships_sources_into_its_journal', p);
    });

    await R.guard('second_shipper_refused', async () => {
        // sluice tail on the config the server ships: the checkpoints are the server's
        const t = await sluice(['tail', '-c', path.join(T, 'sluice.yaml'), '--once']);
        const out = t.stderr.toString();
        R.check('second_shipper_refused', t.status === 1 && /sources\.logs: .* is locked: another shipper/.test(out) ? [] : [`${t.status} ${out.slice(0, 300)}`]);
    });

    await R.guard('serve_sources_kill9_exactly_once', async () => {
        const p = [];
        for (let k = 0; k < 4; k++) {
            const writer = (async () => { for (let i = 0; i < 10; i++) { write(40); await sleep(15); } })();
            await sleep(60 + 40 * k);
            await srv.stop('SIGKILL');
            await writer;
            await srv.start();
        }
        write(50);
        await waitRecords(DATA, seq + 1, 30000);
        await srv.stop('SIGTERM');
        const recs = await readStream(DATA);
        const { problems } = exactlyOnce(countSeqs(recs), seq);
        p.push(...problems);
        console.log(`# ${seq} lines, ${recs.length - 1} shipped through 4 kill -9`);
        R.check('serve_sources_kill9_exactly_once', p);
    });

    await R.guard('remote_recovery_custom_sink_table', async () => {
        // sluice tail to a remote server whose stream lands a custom sink.table; a proxy
        // kills the shipper (-9) after the server took a batch, before the 200 reaches it:
        // at its restart the batch is found in the table the server names, not sent again
        const p = [];
        const D2 = path.join(T, 'remote');
        fs.mkdirSync(D2, { recursive: true });
        fs.writeFileSync(path.join(D2, 'sluice.yaml'), `data_dir: ${D2}/data\nlisten: 127.0.0.1:0\nlimits: {min_free_disk: 0}\n` +
            'streams:\n  web:\n    sink: {roll_age: 100ms, table: t1_weblogs_custom}\n');
        const remote = new Server(D2);
        await remote.start();
        let ship = null, killed = false;
        const proxy = http.createServer((req, res) => {
            const chunks = [];
            req.on('data', (d) => chunks.push(d));
            req.on('end', () => {
                const up = http.request({ host: '127.0.0.1', port: remote.port, method: req.method, path: req.url, headers: req.headers }, (ur) => {
                    const body = [];
                    ur.on('data', (d) => body.push(d));
                    ur.on('end', async () => {
                        if (!killed && req.method === 'POST' && req.url.endsWith('/records') && ur.statusCode === 200) {
                            killed = true;
                            await ship.kill('SIGKILL'); // the server has the batch; the shipper never hears so
                            res.destroy();
                            return;
                        }
                        res.writeHead(ur.statusCode, ur.headers);
                        res.end(Buffer.concat(body));
                    });
                });
                up.end(Buffer.concat(chunks));
            });
        });
        await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
        const RLOG = path.join(D2, 'access.log');
        let s = '';
        for (let i = 1; i <= 200; i++) s += nginxLine(i, 'r');
        fs.writeFileSync(RLOG, s);
        const cfg = path.join(D2, 'tail.yaml');
        fs.writeFileSync(cfg, tailConfig(path.join(D2, 'shipper'), { paths: [RLOG], url: `http://127.0.0.1:${proxy.address().port}` }));
        ship = new Shipper(D2, cfg).start();
        const t0 = Date.now();
        while (!killed && Date.now() - t0 < 20000) await sleep(50);
        if (!killed) p.push('the proxy never saw a batch');
        // a server shipping this source while its remote answers nothing starts at once: the
        // lookup of the batch in flight waits in the shipper's thread, not in the start
        const hole = net.createServer(() => {}); /* accepts, never answers */
        await new Promise((r) => hole.listen(0, '127.0.0.1', r));
        const holeCfg = path.join(D2, 'hole.yaml');
        fs.writeFileSync(holeCfg, fs.readFileSync(cfg, 'utf8').replace(/url: "[^"]*"/, `url: "http://127.0.0.1:${hole.address().port}"`) +
            'limits: {min_free_disk: 0}\n');
        const held = new Server(path.join(D2, 'shipper'), holeCfg);
        const t1 = Date.now();
        await held.start();
        if (Date.now() - t1 > 5000) p.push(`serve took ${Date.now() - t1} ms to start with a dead remote`);
        const t2 = Date.now();
        await held.stop();
        if (Date.now() - t2 > 25000) p.push(`its stop took ${Date.now() - t2} ms`);
        hole.close();
        if (!fs.existsSync(path.join(D2, 'shipper/data/tail/logs/state.next'))) p.push('the batch in flight was forgotten');
        await new Shipper(D2, cfg).once();
        await remote.landed('web');
        const recs = await readStream(path.join(D2, 'data'), 'web');
        const m = new Map();
        for (const r of recs) { const q = /seq=(\d+)/.exec(r.path || ''); if (q) m.set(+q[1], (m.get(+q[1]) || 0) + 1); }
        p.push(...exactlyOnce(m, 200).problems);
        const q = await sluice(['sql', '--data', path.join(D2, 'data'), '--format', 'csv', 'SELECT count(*) FROM t1_weblogs_custom']);
        if (q.stdout.toString().trim().split('\n')[1] !== '200') p.push(`t1_weblogs_custom: ${q.stdout} ${q.stderr}`);
        await remote.stop();
        proxy.close();
        R.check('remote_recovery_custom_sink_table', p);
    });

    await R.guard('serve_source_bad_stream_named', async () => {
        const bad = path.join(T, 'bad.yaml');
        fs.writeFileSync(bad, tailConfig(T, { paths: [LOG], stream: 'web' }).replace('streams:\n  web:\n    sink: { roll_age: 200ms }\n', '') +
            'auto_create_streams: false\nlimits: {min_free_disk: 0}\n');
        const s2 = new Server(T, bad);
        let msg = '';
        try { await s2.start(); msg = 'started'; await s2.stop(); } catch (e) { msg = String(e.message); }
        // Server.stop of a server that already exited returns (it used to wait for ever)
        const stopped = await Promise.race([s2.stop(), sleep(3000).then(() => 'hung')]);
        R.check('serve_source_bad_stream_named', /source logs/.test(msg) && /web/.test(msg) && stopped !== 'hung'
            ? [] : [`${msg.slice(-400)} stop: ${stopped}`]);
    });
} finally {
    await srv.stop();
}
process.exitCode = R.failed ? 1 : 0;
