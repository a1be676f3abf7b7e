// The AWS SDK's own retries against sluice's backpressure: a stream over its
// disk budget (streams.<s>.max_bytes) answers PutRecords with
// ProvisionedThroughputExceededException, which the SDK treats as throttling
// and retries; once the stream's retention removes its expired segment the
// budget frees and a retry succeeds — the records land once.
//   - with maxAttempts 1 the caller sees the exception (the throttle is real);
//   - with the SDK's retry strategy (fixed 400 ms backoff, 12 attempts) the
//     same call succeeds after more than one attempt.
// Regression: a stream over its budget took no appends, so no segment rolled
// and retention (which ran only on a roll) never freed it: refused for ever.
import fs from 'node:fs';
import path from 'node:path';
import { kinesis, NodeHttpHandler, ConfiguredRetryStrategy } from '../node/lib/aws.mjs';
import { Reporter, Server, makeTmp, sluice } from '../node/lib/common.mjs';

const { KinesisClient, PutRecordsCommand } = kinesis;
const R = new Reporter();
const T = makeTmp('kinesis-retry');
const DATA = path.join(T, 'data');
const KEY = { accessKeyId: 'AKIDSLUICERETRY1', secretAccessKey: 'retry/secret+value' };
fs.mkdirSync(path.join(T, 'secrets'));
fs.writeFileSync(path.join(T, 'secrets', KEY.accessKeyId), KEY.secretAccessKey + '\n');
fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
secrets_dir: ${T}/secrets
streams:
  tiny:
    aws_keys: [${KEY.accessKeyId}]
    segment_bytes: 1MiB
    retention: 2s
    max_bytes: 1MiB
    sink: {enabled: false}
`);
const server = new Server(T);
const enc = (o) => new TextEncoder().encode(JSON.stringify(o));
try {
    await server.start();
    await R.guard('sdk_retries_throttled_put_records', async () => {
        const p = [];
        // fill past the budget in records of ~1 KB (the first segment rolls at 1 MiB)
        // until ingest says 507
        const pad = 'x'.repeat(1000);
        let full = false;
        for (let b = 0; b < 20 && !full; b++) {
            const r = await server.post('tiny', Array.from({ length: 100 }, (_, i) => ({ fill: b * 100 + i, pad })));
            full = r.code === 507;
            if (r.code !== 200 && !full) p.push(`fill ${b}: ${r.code} ${r.body.slice(0, 200)}`);
        }
        if (!full) p.push('the stream never went over its budget');
        const info = await server.info('tiny');
        if (!(info?.bytes >= 1 << 20) || !(info?.segments >= 2)) p.push(`after the fill: ${JSON.stringify(info)}`);
        const base = { endpoint: server.url, region: 'us-east-1', credentials: KEY, requestHandler: new NodeHttpHandler() };
        const recs = Array.from({ length: 50 }, (_, i) => ({ PartitionKey: `k${i}`, Data: enc({ id: i, v: 'retry' }) }));
        const once = new KinesisClient({ ...base, maxAttempts: 1 });
        let name = 'no error';
        try { await once.send(new PutRecordsCommand({ StreamName: 'tiny', Records: recs })); } catch (e) { name = e.name; }
        if (name !== 'ProvisionedThroughputExceededException') p.push(`maxAttempts 1: ${name}, want ProvisionedThroughputExceededException`);
        const retrying = new KinesisClient({ ...base, retryStrategy: new ConfiguredRetryStrategy(12, () => 400) });
        const t0 = Date.now();
        let r = null;
        try { r = await retrying.send(new PutRecordsCommand({ StreamName: 'tiny', Records: recs })); } catch (e) { p.push(`with retries: ${e.name}: ${e.message} after ${Date.now() - t0} ms`); }
        if (r && (r.FailedRecordCount !== 0 || !(r.$metadata.attempts > 1))) p.push(`with retries: failed ${r.FailedRecordCount}, attempts ${r.$metadata.attempts}`);
        const rd = await sluice(['read', 'tiny', '--data', DATA]);
        const ids = rd.stdout.toString().split('\n').filter((l) => l.includes('"retry"')).map((l) => JSON.parse(l).id);
        if (ids.length !== 50 || new Set(ids).size !== 50) p.push(`the stream holds ${ids.length} retried records (${new Set(ids).size} distinct), want 50 once`);
        R.check('sdk_retries_throttled_put_records', p);
    });
} finally {
    await server.stop();
}
process.exitCode = R.failed ? 1 : 0;
