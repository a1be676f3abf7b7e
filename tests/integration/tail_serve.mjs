// `sources:` inside sluice serve: the server ships the config's log files
// into its own journals (beside HTTP ingest into the same stream) and its
// sink lands them:
//   - nginx lines written while the server runs reach the lake table, with
//     HTTP-ingested records beside them in the same stream;
//   - kill -9 of the server while lines are being written, several times,
//     then a clean stop: every line is in the journal exactly once;
//   - sluice tail on the same config is refused (the server holds the
//     source's checkpoint lock);
//   - /metrics counts what the shipper sent; a source whose stream cannot
//     be created stops the server at start with the source named.
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, Server, makeTmp, sleep, sluice } from '../node/lib/common.mjs';
import { countSeqs, exactlyOnce, nginxLine, readStream, tailConfig, waitRecords } from '../node/lib/tail.mjs';

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

    await R.guard('serve_source_bad_stream_named', async () => {
        const bad = path.join(T, 'bad.yaml');
        fs.writeFileSync(bad, tailConfig(T, { paths: [LOG], stream: 'web' }).replace('streams:\n  web:\n    sink: { roll_age: 200ms }\n', '') +
            'auto_create_streams: false\nlimits: {min_free_disk: 0}\n');
        const s2 = new Server(T, bad);
        let msg = '';
        try { await s2.start(); msg = 'started'; await s2.stop(); } catch (e) { msg = String(e.message); }
        R.check('serve_source_bad_stream_named', /source logs/.test(msg) && /web/.test(msg) ? [] : [msg.slice(-400)]);
    });
} finally {
    await srv.stop();
}
process.exitCode = R.failed ? 1 : 0;
