// Journal retention on a quiet stream: sealed segments older than the
// stream's retention are removed by the server within seconds, with no
// write arriving to roll a segment (retention used to run only on a roll:
// a stream written once and then left alone kept its data for ever).
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, Server, makeTmp, sleep } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('retention-idle');
fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${path.join(T, 'data')}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
streams:
  quiet: {segment_bytes: 1MiB, retention: 1s, sink: {enabled: false}}
  kept: {segment_bytes: 1MiB, sink: {enabled: false}}
`);
const server = new Server(T);
try {
    await server.start();
    await R.guard('quiet_stream_expires_without_writes', async () => {
        const p = [];
        const pad = 'y'.repeat(1000);
        for (const s of ['quiet', 'kept'])
            for (let b = 0; b < 12; b++) {
                const r = await server.post(s, Array.from({ length: 100 }, (_, i) => ({ n: b * 100 + i, pad })));
                if (r.code !== 200) p.push(`${s} ${b}: ${r.code}`);
            }
        const before = await server.info('quiet');
        if (!(before?.segments >= 2) || before.first_offset !== 0) p.push(`after the writes: ${JSON.stringify(before)}`);
        let after = before;
        const t0 = Date.now();
        while (Date.now() - t0 < 15000 && after.first_offset === 0) { await sleep(100); after = await server.info('quiet'); }
        if (after.first_offset === 0 || after.segments !== 1) p.push(`15 s later, no write since: ${JSON.stringify({ first_offset: after.first_offset, segments: after.segments })}`);
        const kept = await server.info('kept');
        if (kept.first_offset !== 0 || kept.next_offset !== 1200) p.push(`the stream without retention lost records: ${JSON.stringify(kept)}`);
        R.check('quiet_stream_expires_without_writes', p);
    });
} finally {
    await server.stop();
}
process.exitCode = R.failed ? 1 : 0;
