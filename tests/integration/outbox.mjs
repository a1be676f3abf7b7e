// The catalog outbox's sender (src/runtime/outbox.c) against records other
// writers put on the same stream: HTTP clients may append anything to
// <job>.files, also a record that starts like the sender's own
// ({"outbox_id":N,...}).  The sender's reconcile (which marks the records it
// finds in the stream as already appended) must not take such a record for
// its own: the outbox record would then be marked sent without ever being
// appended — a committed file never announced.
//   - a foreign record carrying a pending outbox id: the outbox record is
//     still appended, once;
//   - a record the sender appended but did not mark (a stop between the two)
//     is still found and not appended again;
//   - a foreign "outbox_id" too big for an int64 is not ours (no overflow).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, Server, makeTmp, sanitizerReport, sleep, sluice } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('outbox');
const DATA = path.join(T, 'data');
const CAT = path.join(DATA, 'catalog.db');
const server = new Server(T);
const alive = () => server.proc && server.proc.exitCode === null && server.proc.signalCode === null;
const stop = async () => { if (alive()) await server.stop(); else server.proc = null; };

const py = (code, ...args) => {
    const r = spawnSync('python3', ['-c', code, ...args]);
    return { out: r.stdout.toString().trim(), err: r.stderr.toString() };
};
const hasOutbox = () => py(`import sqlite3,sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT count(*) FROM sqlite_master WHERE name = 'outbox'").fetchone()[0])`, CAT).out === '1';
const addOutbox = (stream, record) => py(`import sqlite3,sys,time
c = sqlite3.connect(sys.argv[1], timeout=10)
cur = c.execute("INSERT INTO outbox(stream, record, run_id, created_ms) VALUES (?, ?, 1, ?)",
                (sys.argv[2], sys.argv[3], int(time.time() * 1000)))
c.commit(); print(cur.lastrowid)`, CAT, stream, record).out;
const pending = () => py(`import sqlite3,sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM outbox WHERE sent_offset IS NULL").fetchone()[0])`, CAT).out;
const unmark = (id) => py(`import sqlite3,sys
c = sqlite3.connect(sys.argv[1], timeout=10)
n = c.execute("UPDATE outbox SET sent_offset = NULL, sent_ms = NULL WHERE id = ?", (int(sys.argv[2]),)).rowcount
c.commit(); print(n)`, CAT, String(id)).out;
const records = async (stream) => {
    const r = await sluice(['read', '--data', DATA, stream]);
    if (r.status !== 0) return { err: r.stderr };
    return { recs: r.stdout.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
};
const drained = async () => {
    for (const end = Date.now() + 10000; Date.now() < end; await sleep(50)) if (pending() === '0') return true;
    return false;
};

try {
    fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
streams:
  j.files:
    retention: 1d
`);
    await server.start();
    for (const end = Date.now() + 10000; Date.now() < end && !hasOutbox(); await sleep(50));
    // a client appends a record that looks like the sender's next one
    const p = await server.post('j.files', ['{"outbox_id":1,"forged":true}', '{"outbox_id":99999999999999999999}']);
    p.code === 200 || p.code === 201 || p.code === 204 ? R.ok('foreign_record_appended') : R.fail('foreign_record_appended', `${p.code} ${p.body}`);
    const id = addOutbox('j.files', '{"key":"raw/a.json.gz"}');
    id === '1' ? R.ok('outbox_record_1_added') : R.fail('outbox_record_1_added', `id ${id}`);
    const ok1 = await drained();
    alive() ? R.ok('server_alive_after_reconcile') : R.fail('server_alive_after_reconcile', server.log().slice(-1500));
    let got = await records('j.files');
    const mine = (got.recs ?? []).filter((r) => r.key === 'raw/a.json.gz');
    ok1 && mine.length === 1 && mine[0].outbox_id === 1
        ? R.ok('foreign_record_with_a_pending_id_is_not_taken_for_the_outbox_record')
        : R.fail('foreign_record_with_a_pending_id_is_not_taken_for_the_outbox_record',
            `drained ${ok1}; stream: ${JSON.stringify(got)}`);

    // a stop between append and mark: found in the stream, not appended again
    await stop();
    const u = unmark(1);
    await server.start();
    const ok2 = await drained();
    got = await records('j.files');
    const again = (got.recs ?? []).filter((r) => r.key === 'raw/a.json.gz');
    u === '1' && ok2 && again.length === 1
        ? R.ok('appended_but_unmarked_record_is_reconciled_not_resent')
        : R.fail('appended_but_unmarked_record_is_reconciled_not_resent', `unmarked ${u}, drained ${ok2}; stream: ${JSON.stringify(got)}`);
    // regression: a stream that cannot be opened (here a name no stream may
    // have) held back every record after its own, of every stream
    addOutbox('bad name!', '{"key":"raw/never.json.gz"}');
    addOutbox('j.files', '{"key":"raw/b.json.gz"}');
    let seen = [];
    for (const end = Date.now() + 10000; Date.now() < end; await sleep(100)) {
        seen = ((await records('j.files')).recs ?? []).filter((r) => r.key === 'raw/b.json.gz');
        if (seen.length) break;
    }
    seen.length === 1 && /stream bad name!/.test(server.log())
        ? R.ok('one_broken_stream_does_not_hold_back_the_others')
        : R.fail('one_broken_stream_does_not_hold_back_the_others', `${seen.length} records of raw/b; log: ${server.log().slice(-800)}`);
    const san = sanitizerReport(server.log());
    san ? R.fail('no_sanitizer_report', san) : R.ok('no_sanitizer_report');
} catch (e) {
    R.fail('outbox', e.stack || String(e));
} finally {
    if (!alive() && R.failed) console.log(server.log().split('\n').slice(-15).join('\n'));
    await stop();
}
process.exit(R.failed ? 1 : 0);
