// The Kinesis Data Streams and Firehose APIs on sluice's port, driven by the
// real AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis, client-firehose
// from npm) pointed at sluice with `endpoint` and test credentials:
//   - PutRecord and PutRecords of 500 records, 6 of them not JSON objects:
//     per-record ErrorCode/ErrorMessage in request order, the rest land; the
//     lake (read by DuckDB) equals what was sent, record for record;
//   - Firehose PutRecord / PutRecordBatch: a record is NDJSON (its lines
//     land as records), a bad one is refused alone;
//   - DescribeStream, DescribeStreamSummary, ListStreams, ListShards,
//     DescribeDeliveryStream answer as the SDK expects;
//   - a wrong secret → InvalidSignatureException, an unknown key →
//     UnrecognizedClientException, a key of another stream →
//     AccessDeniedException, unsigned → MissingAuthenticationTokenException
//     unless the stream has aws_anonymous; an unknown stream →
//     ResourceNotFoundException; 501 records → ValidationException.
import fs from 'node:fs';
import path from 'node:path';
import { kinesis, firehose, NodeHttpHandler } from '../node/lib/aws.mjs';
import { Reporter, Server, makeTmp, openDuck, lakeScan, sluice } from '../node/lib/common.mjs';

const {
    KinesisClient, PutRecordCommand, PutRecordsCommand, DescribeStreamCommand,
    DescribeStreamSummaryCommand, ListStreamsCommand, ListShardsCommand,
} = kinesis;
const { FirehoseClient, PutRecordBatchCommand, PutRecordCommand: FhPutRecordCommand, DescribeDeliveryStreamCommand } = firehose;
const R = new Reporter();
const T = makeTmp('kinesis');
const DATA = path.join(T, 'data');
const KEY = { accessKeyId: 'AKIDSLUICETEST01', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const OTHER = { accessKeyId: 'AKIDSLUICETEST02', secretAccessKey: 'another/secret+value' };
fs.mkdirSync(path.join(T, 'secrets'));
fs.writeFileSync(path.join(T, 'secrets', KEY.accessKeyId), KEY.secretAccessKey + '\n');
fs.writeFileSync(path.join(T, 'secrets', OTHER.accessKeyId), OTHER.secretAccessKey + '\n');
fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
secrets_dir: ${T}/secrets
streams:
  clicks:
    aws_keys: [${KEY.accessKeyId}]
    sink: {roll_age: 200ms}
  fh_logs:
    aws_keys: [${KEY.accessKeyId}]
    sink: {roll_age: 200ms}
  other:
    aws_keys: [${OTHER.accessKeyId}]
  open:
    aws_anonymous: true
    sink: {roll_age: 200ms}
`);
const server = new Server(T);
const enc = (o) => new TextEncoder().encode(typeof o === 'string' ? o : JSON.stringify(o));
const errName = async (p) => { try { await p; return 'no error'; } catch (e) { return e.name; } };
const db = await openDuck();
const lake = path.join(DATA, 'lake');
try {
    await server.start();
    const cfg = (credentials) => ({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1, requestHandler: new NodeHttpHandler() });
    const kin = new KinesisClient(cfg(KEY));
    const fh = new FirehoseClient(cfg(KEY));

    await R.guard('put_record_and_put_records_partial_failure', async () => {
        const p = [];
        const one = await kin.send(new PutRecordCommand({ StreamName: 'clicks', PartitionKey: 'u1', Data: enc({ i: -1, user: 'u1', kind: 'single' }) }));
        if (one.ShardId !== 'shardId-000000000000' || !/^\d+$/.test(one.SequenceNumber)) p.push(`PutRecord: ${JSON.stringify(one)}`);
        const bad = new Set([3, 77, 150, 299, 420, 499]);
        const recs = Array.from({ length: 500 }, (_, i) => ({
            PartitionKey: `k${i % 7}`,
            Data: bad.has(i) ? enc(i === 77 ? '[1,2]' : i === 150 ? '' : 'not json {') : enc({ i, user: `u${i % 13}`, amount: i * 1.5, note: 'é"\\' + i }),
        }));
        const r = await kin.send(new PutRecordsCommand({ StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/clicks', Records: recs }));
        if (r.FailedRecordCount !== 6) p.push(`FailedRecordCount ${r.FailedRecordCount}`);
        if (r.Records.length !== 500) p.push(`${r.Records.length} results`);
        let last = BigInt(one.SequenceNumber);
        r.Records.forEach((x, i) => {
            if (bad.has(i)) { if (x.ErrorCode !== 'InvalidArgumentException' || !x.ErrorMessage || x.SequenceNumber) p.push(`record ${i}: ${JSON.stringify(x)}`); return; }
            if (!x.SequenceNumber || BigInt(x.SequenceNumber) <= last) p.push(`record ${i}: sequence ${x.SequenceNumber} after ${last}`);
            last = BigInt(x.SequenceNumber ?? 0);
        });
        await server.landed('clicks', 20000);
        const rows = await db.objs(`SELECT i, "user", amount, note FROM ${lakeScan(lake, 't1_clicks')} WHERE i >= 0 ORDER BY i`);
        const want = recs.map((_, i) => i).filter((i) => !bad.has(i));
        if (rows.length !== want.length) p.push(`lake has ${rows.length} rows, want ${want.length}`);
        rows.forEach((row, k) => {
            const i = want[k];
            if (Number(row.i) !== i || row.user !== `u${i % 13}` || row.amount !== i * 1.5 || row.note !== 'é"\\' + i) p.push(`row ${k}: ${JSON.stringify(row, (_, v) => typeof v === 'bigint' ? String(v) : v)}`);
        });
        const info = await server.info('clicks');
        const rejected = Object.values(info?.rejected ?? {}).reduce((a, b) => a + b, 0);
        if (rejected !== 6 || info.rejected.not_object !== 1) p.push(`rejected: ${JSON.stringify(info?.rejected)}`);
        const errs = await sluice(['read', 'clicks.errors', '--data', DATA]);
        const lines = errs.stdout.toString().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
        if (lines.length !== 6 || !lines.every((l) => l.stream === 'clicks' && l.reason)) p.push(`clicks.errors: ${errs.stdout.toString().slice(0, 300)} ${errs.stderr}`);
        R.check('put_record_and_put_records_partial_failure', p.slice(0, 20));
    });

    await R.guard('firehose_put_record_batch', async () => {
        const p = [];
        const one = await fh.send(new FhPutRecordCommand({ DeliveryStreamName: 'fh_logs', Record: { Data: enc('{"n":0,"src":"single"}\n') } }));
        if (!/^\d+$/.test(one.RecordId ?? '')) p.push(`PutRecord: ${JSON.stringify(one)}`);
        const r = await fh.send(new PutRecordBatchCommand({
            DeliveryStreamName: 'fh_logs',
            Records: [
                { Data: enc('{"n":1}\n') },
                { Data: enc('{"n":2}\n{"n":3}\n\n{"n":4}') }, // NDJSON: three records
                { Data: enc('{"n":5}\n{oops}\n') },          // one bad line: none of it lands
                { Data: enc('{"n":6}') },
            ],
        }));
        if (r.FailedPutCount !== 1 || r.RequestResponses.length !== 4 || r.RequestResponses[2].ErrorCode !== 'InvalidArgumentException' || !r.RequestResponses[0].RecordId)
            p.push(`PutRecordBatch: ${JSON.stringify(r)}`);
        await server.landed('fh_logs', 20000);
        const rows = await db.objs(`SELECT n FROM ${lakeScan(lake, 't1_fh_logs')} ORDER BY n`);
        const got = rows.map((x) => Number(x.n)).join(',');
        if (got !== '0,1,2,3,4,6') p.push(`lake n = ${got}, want 0,1,2,3,4,6`);
        R.check('firehose_put_record_batch', p);
    });

    await R.guard('describe_and_list_calls', async () => {
        const p = [];
        const d = await kin.send(new DescribeStreamCommand({ StreamName: 'clicks' }));
        if (d.StreamDescription?.StreamStatus !== 'ACTIVE' || d.StreamDescription.Shards?.[0]?.ShardId !== 'shardId-000000000000' || d.StreamDescription.StreamARN !== 'arn:aws:kinesis:us-east-1:000000000000:stream/clicks')
            p.push(`DescribeStream: ${JSON.stringify(d.StreamDescription)}`);
        const s = await kin.send(new DescribeStreamSummaryCommand({ StreamName: 'clicks' }));
        if (s.StreamDescriptionSummary?.OpenShardCount !== 1 || !(s.StreamDescriptionSummary.StreamCreationTimestamp instanceof Date)) p.push(`Summary: ${JSON.stringify(s.StreamDescriptionSummary)}`);
        const l = await kin.send(new ListStreamsCommand({}));
        if (JSON.stringify(l.StreamNames) !== '["clicks","fh_logs"]' || l.HasMoreStreams !== false) p.push(`ListStreams: ${JSON.stringify(l)}`);
        const l1 = await kin.send(new ListStreamsCommand({ Limit: 1 }));
        if (JSON.stringify(l1.StreamNames) !== '["clicks"]' || l1.HasMoreStreams !== true) p.push(`ListStreams Limit 1: ${JSON.stringify(l1)}`);
        const sh = await kin.send(new ListShardsCommand({ StreamName: 'clicks' }));
        if (sh.Shards?.length !== 1) p.push(`ListShards: ${JSON.stringify(sh)}`);
        const fd = await fh.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'fh_logs' }));
        if (fd.DeliveryStreamDescription?.DeliveryStreamStatus !== 'ACTIVE') p.push(`DescribeDeliveryStream: ${JSON.stringify(fd)}`);
        R.check('describe_and_list_calls', p);
    });

    await R.guard('refusals_are_aws_exceptions', async () => {
        const p = [];
        const put = (client, stream) => client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'x', Data: enc({ a: 1 }) }));
        const want = async (what, promise, name) => { const got = await errName(promise); if (got !== name) p.push(`${what}: ${got}, want ${name}`); };
        await want('wrong secret', put(new KinesisClient(cfg({ ...KEY, secretAccessKey: 'wrong' })), 'clicks'), 'InvalidSignatureException');
        await want('unknown key', put(new KinesisClient(cfg({ accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' })), 'clicks'), 'UnrecognizedClientException');
        await want('key of another stream', put(new KinesisClient(cfg(OTHER)), 'clicks'), 'AccessDeniedException');
        await want('unknown stream', put(kin, 'nope'), 'ResourceNotFoundException');
        await want('501 records', kin.send(new PutRecordsCommand({ StreamName: 'clicks', Records: Array.from({ length: 501 }, () => ({ PartitionKey: 'k', Data: enc({ a: 1 }) })) })), 'ValidationException');
        await want('no partition key', kin.send(new PutRecordCommand({ StreamName: 'clicks', PartitionKey: '', Data: enc({ a: 1 }) })), 'ValidationException');
        await want('single bad record', kin.send(new PutRecordCommand({ StreamName: 'clicks', PartitionKey: 'k', Data: enc('nope') })), 'InvalidArgumentException');
        // unsigned requests: a stream with aws_anonymous takes them, another does not
        const raw = (stream) => fetch(server.url + '/', {
            method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.PutRecord' },
            body: JSON.stringify({ StreamName: stream, PartitionKey: 'p', Data: Buffer.from('{"anon":true}').toString('base64') }),
        });
        const a = await raw('open');
        const aj = await a.json();
        if (a.status !== 200 || !aj.SequenceNumber) p.push(`anonymous stream: ${a.status} ${JSON.stringify(aj)}`);
        const b = await raw('clicks');
        const bj = await b.json();
        if (b.status !== 400 || bj.__type !== 'MissingAuthenticationTokenException') p.push(`unsigned on a signed stream: ${b.status} ${JSON.stringify(bj)}`);
        const u = await fetch(server.url + '/', { method: 'POST', headers: { 'x-amz-target': 'Kinesis_20131202.MergeShards' }, body: '{}' });
        if ((await u.json()).__type !== 'UnknownOperationException') p.push('MergeShards is not UnknownOperationException');
        const g = await fetch(server.url + '/', { method: 'POST', headers: { 'x-amz-target': 'Kinesis_20131202.PutRecords' }, body: '{"StreamName":"open","Records":[{"Data":"e30=","PartitionKey":' });
        if ((await g.json()).__type !== 'SerializationException') p.push('truncated JSON is not SerializationException');
        R.check('refusals_are_aws_exceptions', p);
    });
} finally {
    db.close();
    await server.stop();
}
process.exitCode = R.failed ? 1 : 0;
