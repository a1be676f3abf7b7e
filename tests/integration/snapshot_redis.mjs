/* kind snapshot from a private Redis server (redis.<name>, tables = named
 * key patterns, db0.<name>), read back by DuckDB:
 *   - include db0.* : one run per table; rows (key, type, value JSON,
 *     ttl_ms, size, truncated) typed VARCHAR, VARCHAR, VARCHAR, BIGINT,
 *     BIGINT, BOOLEAN
 *   - the five value types (string, hash, list, set, zset, stream) as JSON,
 *     value for value (unicode, quotes, binary bytes, an empty string, -inf
 *     scores); TTLs; values over max_items cut with truncated = true and
 *     the full size
 *   - a hash mask on the key (HMAC-SHA256, checked with node's crypto)
 *   - 12,000 keys read in SCAN batches of 100 while another client deletes
 *     keys of the same pattern: the run succeeds, every key that stayed is
 *     there once, no row of a deleted key is broken
 *   - a wrong password, a table not declared, a cursor: each fails alone with
 *     a clear message (never the password). */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { Reporter, makeTmp, Server, sluice, openDuck, sleep, sanitizerReport, lakeScan } from '../node/lib/common.mjs';
import { runsOf as jobRuns, trigger as jobTrigger } from '../node/lib/jobs.mjs';
import { startRedis } from '../node/lib/redis.mjs';

const R = new Reporter();
const T = makeTmp('snapshot-redis');
const PW = 'redis-pw-9Qx';
const rd = await startRedis(path.join(T, 'redis'), PW);
if (!rd) { R.skip('snapshot_redis', 'redis-server is not installed (scripts/deps.sh --test)'); process.exit(0); }

const KEY = 'mask-key-Rd42';
const NBIG = 12000, NVOL = 3000, NSESS = 300;

/* ---- the data ---------------------------------------------------------------------------- */
await rd.pipeline([
    ['SET', 't:str', 'hello "wörld"\n\t✓'],
    ['SET', 't:bin', Buffer.from([0x61, 0x00, 0xff, 0x62])],
    ['SET', 't:empty', ''],
    ['SET', 't:ttl', 'soon', 'PX', '600000'],
    ['HSET', 't:hash', 'zeta', '1', 'alpha', 'two "2"', 'mid', ''],
    ['RPUSH', 't:list', 'a', 'b', 'a', '日本'],
    ['SADD', 't:set', 'pear', 'apple', 'fig'],
    ['ZADD', 't:zset', '1.5', 'a', '2', 'b', '-inf', 'c', '1e20', 'd'],
    ['XADD', 't:stream', '1-1', 'f', 'v'],
    ['XADD', 't:stream', '2-0', 'a', '1', 'b', '2'],
    ['RPUSH', 't:biglist', ...Array.from({ length: 50 }, (_, i) => `e${i}`)],
    ['HSET', 't:bighash', ...Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`]).flat()],
    ['SADD', 't:bigset', ...Array.from({ length: 300 }, (_, i) => `m${String(i).padStart(3, '0')}`)],
    ['SET', 'other:1', 'not in any table'],
]);
for (let i = 0; i < NSESS; i += 100)
    await rd.pipeline(Array.from({ length: 100 }, (_, k) => ['HSET', `session:${i + k}`, 'user', `user${i + k}@example.com`]));
await rd.pipeline(Array.from({ length: NSESS }, (_, k) => ['PEXPIRE', `session:${k}`, String(3600000 + k)]));
for (let i = 0; i < NBIG; i += 1000)
    await rd.pipeline(Array.from({ length: 1000 }, (_, k) => ['SET', `big:${i + k}`, `v${i + k}`]));
for (let i = 0; i < NVOL; i += 1000)
    await rd.pipeline(Array.from({ length: 1000 }, (_, k) => ['SET', `big:vol:${i + k}`, `x${i + k}`]));

fs.mkdirSync(path.join(T, 'secrets'));
fs.writeFileSync(path.join(T, 'secrets', 'mask_key'), KEY + '\n');
fs.writeFileSync(path.join(T, 'pw'), PW + '\n');
fs.writeFileSync(path.join(T, 'badpw'), 'wrong-password\n');
const tables = `{types: "t:*", sessions: "session:*", big: "big:*"}`;
const config = `
data_dir: ${T}/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 2
secrets_dir: ${T}/secrets
scheduler: {tick: 100ms, task_timeout: 10s, heartbeat: 500ms}
redis:
  cache: {port: ${rd.port}, password_file: ${T}/pw, max_items: 20, scan_count: 100, tables: ${tables}}
  cache_badpw: {port: ${rd.port}, password_file: ${T}/badpw, tables: ${tables}}
jobs:
  r:
    kind: snapshot
    source: cache
    window: day
    include: ["db0.*"]
    exclude: [db0.big]
    table_prefix: r1_
    mask_key: mask_key
    retries: 0
    tables:
      db0.sessions:
        mask: {key: hash}
  big:
    kind: snapshot
    source: cache
    window: day
    include: [db0.big]
    table_prefix: r2_
    retries: 0
  bad:
    kind: snapshot
    source: cache
    window: day
    include: [db0.nope, db0.types]
    table_prefix: r3_
    retries: 0
    tables:
      db0.types: {cursor: ttl_ms}
  badpw:
    kind: snapshot
    source: cache_badpw
    window: day
    include: [db0.types]
    table_prefix: r9_
    retries: 0
`;
const cfgPath = path.join(T, 'sluice.yaml');
fs.writeFileSync(cfgPath, config);
const lake = path.join(T, 'data', 'lake');

let res = await sluice(['config', '--check', cfgPath]);
if (res.status === 0) R.ok('config_accepts_redis_source'); else R.fail('config_accepts_redis_source', res.stderr);

const srv = new Server(T, cfgPath);
process.on('exit', () => { if (srv.proc) srv.proc.kill('SIGKILL'); });
await srv.start();

const runsOf = (job, want, t = 90000) => jobRuns(cfgPath, job, want, t);
const trigger = (job) => jobTrigger(cfgPath, job, '2024-05-01');

res = await trigger('r');
let runs = await runsOf('r', 2);
const parts = runs.map((r) => r.account).sort();
R.check('one_run_per_table', JSON.stringify(parts) === JSON.stringify(['db0.sessions', 'db0.types']) ? [] : [`runs for ${JSON.stringify(parts)} (${res.stderr.trim()})`]);
R.check('runs_succeed', runs.filter((r) => r.state !== 'succeeded').map((r) => `${r.account}: ${r.state} ${r.error}`));

const duck = await openDuck();
const scan = (t) => lakeScan(lake, t);

/* ---- types and values ------------------------------------------------------------------------- */
{
    const t = await duck.all(`DESCRIBE SELECT * FROM ${scan('r1_db0_types')}`);
    const types = Object.fromEntries(t.rows.map((r) => [r[0], r[1]]));
    const want = { key: 'VARCHAR', type: 'VARCHAR', value: 'VARCHAR', ttl_ms: 'BIGINT', size: 'BIGINT', truncated: 'BOOLEAN' };
    R.check('lake_types', Object.entries(want).filter(([k, v]) => types[k] !== v).map(([k, v]) => `${k}: want ${v}, got ${types[k]}`));
    const rows = await duck.objs(`SELECT key, type, value, CAST(ttl_ms AS VARCHAR) AS ttl, CAST(size AS VARCHAR) AS size, truncated FROM ${scan('r1_db0_types')} ORDER BY key`);
    const got = Object.fromEntries(rows.map((r) => [r.key, r]));
    const p = [];
    const expect = {
        't:str': ['string', 'hello "wörld"\n\t✓', '19'], /* size: bytes */
        't:bin': ['string', 'a\u0000\u00ffb', '4'],
        't:empty': ['string', '', '0'],
        't:ttl': ['string', 'soon', '4'],
        't:hash': ['hash', { alpha: 'two "2"', mid: '', zeta: '1' }, '3'],
        't:list': ['list', ['a', 'b', 'a', '日本'], '4'],
        't:set': ['set', ['apple', 'fig', 'pear'], '3'],
        't:zset': ['zset', [['c', '-inf'], ['a', 1.5], ['b', 2], ['d', 1e20]], '4'],
        't:stream': ['stream', [{ id: '1-1', fields: { f: 'v' } }, { id: '2-0', fields: { a: '1', b: '2' } }], '2'],
    };
    for (const [k, [type, value, size]] of Object.entries(expect)) {
        const r = got[k];
        if (!r) { p.push(`${k}: no row`); continue; }
        let v;
        try { v = JSON.parse(r.value); } catch (e) { p.push(`${k}: value ${r.value} is not JSON`); continue; }
        if (r.type !== type) p.push(`${k}: type ${r.type}, want ${type}`);
        if (JSON.stringify(v) !== JSON.stringify(value)) p.push(`${k}: value ${r.value}, want ${JSON.stringify(value)}`);
        if (r.size !== size) p.push(`${k}: size ${r.size}, want ${size}`);
        if (r.truncated !== false) p.push(`${k}: truncated ${r.truncated}`);
    }
    if (Object.keys(got).length !== 12) p.push(`keys ${JSON.stringify(Object.keys(got))} (other:1 must not be there)`);
    R.check('five_types_read_back_as_json', p);
    const q = [];
    const ttl = got['t:ttl'] && Number(got['t:ttl'].ttl);
    if (!(ttl > 500000 && ttl <= 600000)) q.push(`t:ttl ttl_ms ${got['t:ttl'] && got['t:ttl'].ttl}`);
    if (got['t:str'] && got['t:str'].ttl !== null) q.push(`t:str ttl_ms ${got['t:str'].ttl}, want NULL`);
    R.check('ttl_ms', q);
    const c = [];
    const cut = (k, n, size) => {
        const r = got[k];
        if (!r) return c.push(`${k}: no row`);
        const v = JSON.parse(r.value), len = Array.isArray(v) ? v.length : Object.keys(v).length;
        if (r.truncated !== true || r.size !== size || len !== n) c.push(`${k}: truncated ${r.truncated}, size ${r.size}, ${len} elements`);
    };
    cut('t:biglist', 20, '50');
    cut('t:bighash', 20, '300');
    cut('t:bigset', 20, '300');
    if (got['t:biglist'] && JSON.parse(got['t:biglist'].value)[19] !== 'e19') c.push('t:biglist: not its first 20 elements');
    R.check('over_max_items_cut_with_truncated_and_size', c);
}

/* ---- mask on the key; TTLs of hashes ------------------------------------------------------------ */
{
    const rows = await duck.objs(`SELECT key, value, ttl_ms FROM ${scan('r1_db0_sessions')}`);
    const want = new Map();
    for (let i = 0; i < NSESS; i++) want.set(crypto.createHmac('sha256', KEY).update(`session:${i}`).digest('hex'), i);
    const p = [];
    for (const r of rows) {
        const i = want.get(r.key);
        if (i === undefined) { p.push(`key ${r.key} is no HMAC of a session key`); continue; }
        if (r.value !== JSON.stringify({ user: `user${i}@example.com` })) p.push(`session ${i}: value ${r.value}`);
        const ttl = Number(r.ttl_ms);
        if (!(ttl > 3500000 && ttl <= 3600000 + i)) p.push(`session ${i}: ttl_ms ${r.ttl_ms}`);
        want.delete(r.key);
    }
    if (rows.length !== NSESS || want.size) p.push(`rows ${rows.length}, missing ${want.size}`);
    const hits = [];
    const walk = (d) => { for (const f of fs.readdirSync(d, { withFileTypes: true })) {
        const fp = path.join(d, f.name);
        if (f.isDirectory()) walk(fp); else if (fs.readFileSync(fp).includes('session:17')) hits.push(fp);
    } };
    walk(path.join(lake, 'r1_db0_sessions'));
    R.check('hash_mask_on_the_key', [...p, ...hits.map((h) => `raw key in ${h}`)]);
}

/* ---- many keys, some deleted while they are read ------------------------------------------------- */
{
    let deleting = true, deleted = 0;
    const deleter = (async () => {
        await sleep(50);
        for (let i = 0; i < NVOL && deleting; i += 20) {
            await rd.pipeline(Array.from({ length: 20 }, (_, k) => ['DEL', `big:vol:${i + k}`]));
            deleted = i + 20;
            await sleep(2);
        }
    })();
    await trigger('big');
    const b = await runsOf('big', 1);
    deleting = false;
    await deleter;
    const p = b.filter((r) => r.state !== 'succeeded').map((r) => `${r.account}: ${r.state} ${r.error}`);
    const [[n, distinct, vol, badvol]] = (await duck.all(`SELECT count(*), count(DISTINCT key), count(*) FILTER (WHERE key LIKE 'big:vol:%'),
        count(*) FILTER (WHERE key LIKE 'big:vol:%' AND (value IS NULL OR type <> 'string' OR value <> '"x' || substr(key, 9) || '"'))
        FROM ${scan('r2_db0_big')}`)).rows.map((r) => r.map(Number));
    const [[stable]] = (await duck.all(`SELECT count(DISTINCT key) FROM ${scan('r2_db0_big')} WHERE key NOT LIKE 'big:vol:%' AND value = '"v' || substr(key, 5) || '"'`)).rows.map((r) => r.map(Number));
    if (stable !== NBIG) p.push(`stable keys read: ${stable} of ${NBIG}`);
    if (badvol) p.push(`${badvol} broken rows of deleted keys`);
    if (n - distinct > 0) p.push(`${n - distinct} keys twice (SCAN may repeat a key only when the keyspace is resized)`);
    console.log(`    (${n} rows; ${vol} of ${NVOL} volatile keys read, ${deleted} deleted by the end of the run)`);
    R.check('over_10k_keys_with_deletes_mid_scan', p);
}

/* ---- bad input ------------------------------------------------------------------------------------ */
{
    await trigger('bad');
    const b = await runsOf('bad', 2);
    const by = Object.fromEntries(b.map((r) => [r.account, r]));
    const p = [];
    const nope = by['db0.nope'], cur = by['db0.types'];
    if (!nope || nope.state !== 'failed' || !/job bad: table db0\.nope: redis "cache": table db0\.nope does not exist/.test(nope.error)) p.push(`db0.nope: ${JSON.stringify(nope)}`);
    if (!cur || cur.state !== 'failed' || !/incremental cursor does not apply to Redis/.test(cur.error)) p.push(`db0.types with a cursor: ${JSON.stringify(cur)}`);
    R.check('undeclared_table_and_cursor_fail_with_clear_messages', p);
    await trigger('badpw');
    const w = await runsOf('badpw', 1);
    const e = w[0] && w[0].error || '';
    R.check('wrong_password_fails_naming_the_connection_not_the_password',
        w[0] && w[0].state === 'failed' && /redis "cache_badpw": AUTH: WRONGPASS/.test(e) && !e.includes('wrong-password') && !srv.log().includes('wrong-password')
            ? [] : [JSON.stringify(w[0])]);
}

await srv.stop();
const san = sanitizerReport(srv.log());
R.check('no_sanitizer_reports', san ? [san] : []);
duck.close();
rd.close();
rd.stop();
console.log(`${R.passed} passed, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
