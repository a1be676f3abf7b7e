/* sluice tail against what other shippers lose (their issue trackers):
 * one test per case, named after the report. */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Reporter, Server, makeTmp, sleep } from '../node/lib/common.mjs';
import { Shipper, countSeqs, exactlyOnce, nginxLine, readStream, rotateCopyTruncate, rotateRename, tailConfig, waitRecords } from '../node/lib/tail.mjs';

const rep = new Reporter();
process.setMaxListeners(100);

function setup(name, opts = {}) {
    const dir = makeTmp(`tail-${name}`);
    fs.mkdirSync(path.join(dir, 'logs'));
    const cfg = path.join(dir, 'sluice.yaml');
    fs.writeFileSync(cfg, tailConfig(opts.dataDir ?? dir, { paths: [`${dir}/logs/access.log*`], ...opts }));
    return { dir, file: path.join(dir, 'logs', 'access.log'), ship: new Shipper(dir, cfg), data: path.join(opts.dataDir ?? dir, 'data') };
}
const lines = (a, b, tag) => { let s = ''; for (let i = a; i <= b; i++) s += nginxLine(i, tag); return s; };
async function once(t) {
    const c = await t.ship.once();
    if (c !== 0) throw new Error(`sluice tail --once exited ${c}: ${t.ship.text().slice(-1500)}`);
}
async function expectOnce(name, t, n, extra = []) {
    const recs = await readStream(t.data);
    const { problems } = exactlyOnce(countSeqs(recs), n);
    if (recs.length !== n) problems.push(`${recs.length} records for ${n} lines`);
    problems.push(...extra);
    if (problems.length) problems.push('log: ' + t.ship.text().slice(-1200));
    rep.check(name, problems);
    return recs;
}

await rep.guard('fluent-bit#1330', async () => {
    // Fluent Bit #1330 / #5024: rotated (renamed) while the shipper was down:
    // re-read from the start (duplicates) or skipped.
    const t = setup('fb1330');
    fs.writeFileSync(t.file, lines(1, 100));
    await once(t);
    fs.appendFileSync(t.file, lines(101, 150));
    rotateRename(t.file, 1, false);
    fs.appendFileSync(t.file, lines(151, 200));
    rotateRename(t.file, 2, false);
    fs.appendFileSync(t.file, lines(201, 250));
    await once(t);
    await expectOnce('fluent-bit#1330 rotated twice by rename while stopped: resumed in the renamed file, each line once', t, 250);
});

await rep.guard('fluent-bit#5912', async () => {
    // Fluent Bit #5912: output down, shipper hard-killed: the offset had moved
    // past records never delivered, lost after the restart.
    const t = setup('fb5912', { url: 'http://127.0.0.1:1' });
    const srvDir = makeTmp('tail-fb5912-srv');
    fs.writeFileSync(t.file, lines(1, 300));
    t.ship.start();
    await sleep(700); // retrying against a closed port
    await t.ship.kill('SIGKILL');
    const scfg = path.join(srvDir, 'sluice.yaml');
    fs.writeFileSync(scfg, tailConfig(srvDir, { paths: ['/nonexistent'] }));
    const srv = new Server(srvDir, scfg);
    await srv.start();
    const cfg = fs.readFileSync(t.ship.cfg, 'utf8').replace('http://127.0.0.1:1', srv.url);
    fs.writeFileSync(t.ship.cfg, cfg);
    await once(t);
    const recs = await readStream(path.join(srvDir, 'data'));
    const { problems } = exactlyOnce(countSeqs(recs), 300);
    await srv.stop();
    rep.check('fluent-bit#5912 target down, shipper killed -9, target back: nothing lost, nothing twice', problems);
});

await rep.guard('fluent-bit#3488', async () => {
    // Fluent Bit #3488: skipped long lines made the stored offset wrong:
    // lines shipped again after a restart.
    const t = setup('fb3488', { extra: '    max_line_bytes: 1KiB\n' });
    fs.writeFileSync(t.file, lines(1, 50) + 'x'.repeat(300000) + '\n' + lines(51, 75));
    await once(t);
    await once(t);
    fs.appendFileSync(t.file, lines(76, 80));
    await once(t);
    const recs = await readStream(t.data);
    const cut = recs.filter((r) => r.truncated);
    const extra = [];
    if (cut.length !== 1 || cut[0].message.length !== 1024) extra.push(`cut records: ${cut.length} ${cut[0] && cut[0].message.length}`);
    const { problems } = exactlyOnce(countSeqs(recs), 80);
    if (recs.length !== 81) problems.push(`${recs.length} records, want 81`);
    rep.check('fluent-bit#3488 a 300 KB line is cut at max_line_bytes (1 KiB, counted, truncated: true) and restarts ship nothing twice', [...problems, ...extra]);
});

await rep.guard('vector#18342', async () => {
    // Vector #18342 / #25079: the inode is reused for a new file: the old
    // offset is applied to it and its first lines are skipped.
    const t = setup('v18342');
    fs.writeFileSync(t.file, lines(1, 100, 'old'));
    await once(t);
    const ino = fs.statSync(t.file).ino;
    // same inode, new content longer than the old offset (as if deleted and the inode reused)
    const fd = fs.openSync(t.file, 'r+');
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, lines(101, 400, 'new'), 0);
    fs.closeSync(fd);
    if (fs.statSync(t.file).ino !== ino) throw new Error('inode changed');
    await once(t);
    await expectOnce('vector#18342 same inode, other first bytes: a new file, read from 0 (no line skipped)', t, 400);
});

await rep.guard('fluent-bit#11455', async () => {
    // Fluent Bit #11455: an offset larger than the file after a rotation at
    // midnight: the file ignored.
    const t = setup('fb11455');
    fs.writeFileSync(t.file, lines(1, 200));
    await once(t);
    fs.truncateSync(t.file, 0);
    fs.appendFileSync(t.file, lines(201, 210));
    await once(t);
    await expectOnce('fluent-bit#11455 truncated while stopped, now shorter than the offset: read from 0', t, 210);
});

await rep.guard('kinesis-agent#75', async () => {
    // Kinesis Agent #75 / #17 / #118: copytruncate while lines not yet read are
    // in the file: they are gone from the original (lost).
    const t = setup('ka75', { poll: '1500ms' });
    fs.writeFileSync(t.file, lines(1, 100));
    t.ship.start();
    await waitRecords(t.data, 100, 10000);
    fs.appendFileSync(t.file, lines(101, 200)); // not read yet: poll is 2 s
    rotateCopyTruncate(t.file, 1);
    fs.appendFileSync(t.file, lines(201, 230));
    await waitRecords(t.data, 230, 15000);
    await sleep(300);
    await t.ship.kill('SIGTERM');
    await expectOnce('kinesis-agent#75 copytruncate with unread lines: the copy resumes at the old offset, each line once', t, 230);
});

await rep.guard('vector#13193', async () => {
    // Vector #13193 (gzip fingerprints): a rotated file compressed to .gz is
    // read again as a new file, or skipped.
    const t = setup('v13193');
    fs.writeFileSync(t.file, lines(1, 100));
    await once(t);
    fs.appendFileSync(t.file, lines(101, 150)); // not shipped before compression
    rotateRename(t.file, 1, true);
    fs.appendFileSync(t.file, lines(151, 160));
    fs.writeFileSync(path.join(t.dir, 'logs', 'access.log.9.gz'), zlib.gzipSync(lines(1001, 1010, 'old')));
    await once(t);
    await once(t);
    const recs = await readStream(t.data);
    const m = countSeqs(recs);
    const { problems } = exactlyOnce(new Map([...m].filter(([k]) => k <= 160)), 160);
    for (let i = 1001; i <= 1010; i++) if (m.get(i) !== 1) problems.push(`gz-only seq ${i}: ${m.get(i) || 0}`);
    rep.check('vector#13193 a rotated .gz resumes where its plain file stopped; an unknown .gz is read whole, once', problems);
});

await rep.guard('deleted-open', async () => {
    const t = setup('del');
    fs.writeFileSync(t.file, lines(1, 50));
    t.ship.start();
    await waitRecords(t.data, 50, 10000);
    const fd = fs.openSync(t.file, 'a');
    fs.unlinkSync(t.file);
    fs.writeSync(fd, lines(51, 80)); // the writer still has it open
    fs.closeSync(fd);
    await waitRecords(t.data, 80, 10000);
    await sleep(400);
    await t.ship.kill('SIGTERM');
    await expectOnce('a file deleted while open is read to its end', t, 80);
});

await rep.guard('partial-line', async () => {
    const t = setup('partial');
    fs.writeFileSync(t.file, lines(1, 10) + nginxLine(11).slice(0, 30));
    await once(t);
    const n1 = (await readStream(t.data)).length;
    fs.appendFileSync(t.file, nginxLine(11).slice(30));
    await once(t);
    await expectOnce('a partial last line waits for its newline', t, 11, n1 === 10 ? [] : [`${n1} records before the newline`]);
});

await rep.guard('multiline', async () => {
    const t = setup('ml', { format: 'plain', extra: '    multiline: { start: "^[0-9]{4}-", timeout: 100ms }\n' });
    fs.writeFileSync(t.file, '2026-01-01 boom seq=1\n  at a()\n  at b()\n2026-01-01 ok seq=2\n2026-01-01 boom seq=3\n  at c()\n');
    await once(t);
    const recs = await readStream(t.data);
    const msgs = recs.map((r) => r.message);
    const want = ['2026-01-01 boom seq=1\n  at a()\n  at b()', '2026-01-01 ok seq=2', '2026-01-01 boom seq=3\n  at c()'];
    rep.check('multiline.start joins stack traces into one record each', JSON.stringify(msgs) === JSON.stringify(want) ? [] : [JSON.stringify(msgs)]);
});

await rep.guard('kinesis-agent#100', async () => {
    // Kinesis Agent #100: one record skipped on every stop/start.
    const t = setup('ka100');
    t.ship.start();
    let seq = 0;
    for (let r = 0; r < 6; r++) {
        fs.appendFileSync(t.file, lines(seq + 1, seq + 40)); seq += 40;
        await waitRecords(t.data, seq, 10000);
        await t.ship.kill('SIGTERM');
        t.ship.start();
    }
    await t.ship.kill('SIGTERM');
    await expectOnce('kinesis-agent#100 six SIGTERM stop/starts under writes: no record skipped, none twice', t, seq);
});

await rep.guard('escaped-too-big', async () => {
    // A line under max_line_bytes whose JSON escaping (\u0001 is 6 bytes) is
    // over the stream's max_record_bytes: the batch must not fail for ever.
    const t = setup('esc', { format: 'plain', extra: '    max_line_bytes: 512KiB\n' });
    fs.writeFileSync(t.file, 'seq=1\n' + '\x01'.repeat(400000) + '\nseq=2\n');
    await once(t);
    const recs = await readStream(t.data);
    const big = recs.find((r) => r.truncated);
    const p = [];
    if (recs.length !== 3) p.push(`${recs.length} records, want 3`);
    if (!big || big.message.length >= 400000) p.push('the big record was not cut');
    rep.check('a record whose escaped JSON is over max_record_bytes is cut (truncated: true), not a batch failing for ever', p);
});

process.exit(rep.failed ? 1 : 0);
