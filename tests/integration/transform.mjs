// Per-stream transforms (streams.<s>.transform), through the real binary:
//   - the HTTP API: records reshaped (lowercase_keys, rename, drop, set) land
//     with the new shape (DuckDB over the lake); filtered records are
//     acknowledged, counted in the reply, GET /v1/streams and /metrics, and
//     never stored; a record the transform fails on (a required key missing,
//     a type mismatch, two keys equal ignoring case) goes to <stream>.errors
//     with reason "transform" and the original text, and the records beside
//     it in the same request land;
//   - a filter-only transform keeps the journaled bytes exactly as sent;
//   - the Kinesis / Firehose API (real AWS SDK): a dropped record is a
//     success, a failing one an InvalidArgumentException naming the reason;
//     a Firehose record with one failing line is refused whole;
//   - bad transforms are config errors naming the key and the character.
import fs from 'node:fs';
import path from 'node:path';
import { kinesis, firehose, NodeHttpHandler } from '../node/lib/aws.mjs';
import { Reporter, Server, makeTmp, openDuck, lakeScan, sluice } from '../node/lib/common.mjs';

const { KinesisClient, PutRecordsCommand } = kinesis;
const { FirehoseClient, PutRecordBatchCommand } = firehose;
const R = new Reporter();
const T = makeTmp('transform');
const DATA = path.join(T, 'data');
fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
streams:
  events:
    sink: {roll_age: 200ms}
    transform:
      lowercase_keys: true
      rename: {userid: user_id, ts_ms: ts}
      require: [user_id]
      drop_where: ["is_test = true", "event in ('ping', 'debug')"]
      keep_where: ["cost is null or cost >= 0"]
      drop: [debug_info, is_test]
      set: {source: web, schema_version: 2, note: '"2"'}
  raw:
    transform:
      drop_where: ["kind = 'noise'"]
  kin:
    aws_anonymous: true
    sink: {roll_age: 200ms}
    transform:
      require: [id]
      drop_where: ["id < 0"]
`);
const server = new Server(T);
const lake = path.join(DATA, 'lake');
const db = await openDuck();
const big = (_, v) => (typeof v === 'bigint' ? String(v) : v);
try {
    await server.start();

    await R.guard('http_reshape_filter_and_fail', async () => {
        const p = [];
        const recs = [];
        const want = [];      // the rows that must land, by id
        const failing = {};   // index -> reason fragment
        let dropped = 0;
        for (let i = 0; i < 300; i++) {
            const r = { Id: i, UserId: `u${i % 7}`, EVENT: 'click', cost: i / 4, Debug_Info: { x: i } };
            if (i % 10 === 3) { r.Is_Test = true; dropped++; }
            else if (i % 10 === 5) { r.EVENT = i % 20 === 5 ? 'ping' : 'debug'; dropped++; }
            else if (i % 50 === 7) { delete r.UserId; failing[i] = "required key 'user_id' is missing"; }
            else if (i % 50 === 9) { r.cost = 'free'; failing[i] = "key 'cost' is a string, compared with a number"; }
            else if (i % 50 === 11) { r.userid = 'dup'; failing[i] = "two keys are 'userid' ignoring case"; }
            else if (i % 50 === 13) { r.cost = -1; dropped++; }
            else if (i % 50 === 17) { r.TS_MS = 1700000000000 + i; r.Is_Test = false; want.push({ ...r }); }
            else want.push({ ...r });
            recs.push(r);
        }
        const res = await server.post('events', recs);
        const body = JSON.parse(res.body);
        const nfail = Object.keys(failing).length;
        if (res.code !== 200 || body.accepted !== want.length || body.rejected !== nfail || body.dropped !== dropped)
            p.push(`reply ${res.code} ${res.body.slice(0, 300)}; want accepted ${want.length} rejected ${nfail} dropped ${dropped}`);
        for (const e of body.errors ?? []) {
            if (e.reason !== 'transform' || !failing[e.index] || !e.message.includes(failing[e.index])) p.push(`error ${JSON.stringify(e)}`);
        }
        await server.landed('events', 20000);
        const rows = await db.objs(`SELECT * FROM ${lakeScan(lake, 't1_events')} ORDER BY id`);
        if (rows.length !== want.length) p.push(`lake has ${rows.length} rows, want ${want.length}`);
        const cols = Object.keys(rows[0] ?? {}).filter((c) => !['dt', 'hr', '_ingest_ts'].includes(c)).sort().join(',');
        const wantCols = 'cost,event,id,note,schema_version,source,ts,user_id';
        if (cols !== wantCols) p.push(`lake columns ${cols}, want ${wantCols}`);
        rows.forEach((row, k) => {
            const w = want[k];
            if (!w) return;
            const ok = Number(row.id) === w.Id && row.user_id === w.UserId && row.event === 'click' && row.cost === w.cost &&
                row.source === 'web' && Number(row.schema_version) === 2 && row.note === '2' &&
                (w.TS_MS === undefined ? row.ts === null : Number(row.ts) === w.TS_MS);
            if (!ok) p.push(`row ${k}: ${JSON.stringify(row, big)} for ${JSON.stringify(w)}`);
        });
        const errs = await sluice(['read', 'events.errors', '--data', DATA]);
        const lines = errs.stdout.toString().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
        if (lines.length !== nfail || !lines.every((l) => l.reason === 'transform' && failing[JSON.parse(l.record).Id] && l.message))
            p.push(`events.errors: ${errs.stdout.toString().slice(0, 400)}`);
        const info = await server.info('events');
        if (info?.dropped !== dropped || info?.rejected?.transform !== nfail) p.push(`GET info: dropped ${info?.dropped} rejected ${JSON.stringify(info?.rejected)}`);
        const m = (await server.request('GET', '/metrics')).body;
        if (!m.includes(`sluice_stream_dropped_total{stream="events"} ${dropped}`) || !m.includes(`sluice_ingest_rejected_total{stream="events",reason="transform"} ${nfail}`))
            p.push(`metrics: ${m.split('\n').filter((l) => /dropped|transform/.test(l)).join(' | ')}`);
        R.check('http_reshape_filter_and_fail', p.slice(0, 20));
    });

    await R.guard('all_dropped_is_a_success', async () => {
        const res = await server.post('events', [{ userid: 'a', is_test: true }, { userid: 'b', event: 'ping' }]);
        const b = JSON.parse(res.body);
        R.check('all_dropped_is_a_success', res.code === 200 && b.accepted === 0 && b.dropped === 2 ? [] : [`${res.code} ${res.body}`]);
    });

    await R.guard('filter_only_keeps_bytes', async () => {
        const lines = ['{"kind":"a",  "v":1.50}', '{"kind":"noise","v":2}', '{ "v":"\\u00e9", "kind":"b" }'];
        const res = await server.post('raw', lines);
        const b = JSON.parse(res.body);
        const rd = await sluice(['read', 'raw', '--data', DATA]);
        const got = rd.stdout.toString().trim().split('\n');
        const p = [];
        if (b.accepted !== 2 || b.dropped !== 1) p.push(`reply ${res.body}`);
        if (got.length !== 2 || got[0] !== lines[0] || got[1] !== lines[2]) p.push(`journal: ${JSON.stringify(got)}`);
        R.check('filter_only_keeps_bytes', p);
    });

    await R.guard('kinesis_and_firehose', async () => {
        const p = [];
        const cfg = { endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1, requestHandler: new NodeHttpHandler() };
        // anonymous stream: the SDK signs, sluice only checks signatures of configured keys
        const kin = new KinesisClient({ ...cfg, signer: { sign: async (r) => r } });
        const enc = (o) => new TextEncoder().encode(JSON.stringify(o));
        const r = await kin.send(new PutRecordsCommand({ StreamName: 'kin', Records: [
            { PartitionKey: 'a', Data: enc({ id: 1 }) },
            { PartitionKey: 'a', Data: enc({ id: -1 }) },     // dropped: a success
            { PartitionKey: 'a', Data: enc({ other: 1 }) },   // fails: no id
            { PartitionKey: 'a', Data: enc({ id: 2 }) },
        ] }));
        const x = r.Records;
        if (r.FailedRecordCount !== 1 || !x[0].SequenceNumber || !x[1].SequenceNumber || x[2].ErrorCode !== 'InvalidArgumentException' ||
            !/transform: required key 'id' is missing/.test(x[2].ErrorMessage ?? '') || !x[3].SequenceNumber)
            p.push(`PutRecords: ${JSON.stringify(r)}`);
        const fh = new FirehoseClient({ ...cfg, signer: { sign: async (q) => q } });
        const f = await fh.send(new PutRecordBatchCommand({ DeliveryStreamName: 'kin', Records: [
            { Data: new TextEncoder().encode('{"id":3}\n{"id":-5}\n') }, // one kept, one dropped
            { Data: new TextEncoder().encode('{"id":4}\n{"x":1}\n') },   // one line fails: none of it
        ] }));
        if (f.FailedPutCount !== 1 || !f.RequestResponses[0].RecordId || f.RequestResponses[1].ErrorCode !== 'InvalidArgumentException') p.push(`PutRecordBatch: ${JSON.stringify(f)}`);
        await server.landed('kin', 20000);
        const rows = await db.objs(`SELECT id FROM ${lakeScan(lake, 't1_kin')} ORDER BY id`);
        if (rows.map((o) => Number(o.id)).join(',') !== '1,2,3') p.push(`lake ids ${rows.map((o) => o.id).join(',')}`);
        R.check('kinesis_and_firehose', p);
    });

    await R.guard('bad_transforms_are_config_errors', async () => {
        const p = [];
        const cases = [
            ['drop_where: ["cost >"]', /streams\.s\.transform\.drop_where.*expected a number, a 'string', true or false at character 7/],
            ['keep_where: ["a = null"]', /is null/],
            ['rename: {a: x, b: x}', /rename: 'a' and 'b' both become 'x'/],
            ['drop_where: ["' + 'a = 1 or '.repeat(40) + 'a = 1"]', /more than 64 terms/],
            ['lowercase_keys: maybe', /lowercase_keys/],
        ];
        for (const [yaml, re] of cases) {
            const f = path.join(T, 'bad.yaml');
            fs.writeFileSync(f, `data_dir: ${DATA}\nstreams:\n  s:\n    transform:\n      ${yaml}\n`);
            const c = await sluice(['config', '--check', f]);
            const out = c.stdout.toString() + c.stderr.toString();
            if (c.status === 0 || !re.test(out)) p.push(`${yaml}: exit ${c.status}: ${out.slice(0, 300)}`);
        }
        R.check('bad_transforms_are_config_errors', p);
    });
} finally {
    await server.stop();
    db.close();
}
process.exitCode = R.failed ? 1 : 0;
