/* kind snapshot from a real PostgreSQL 15 (a private cluster), read back by
 * DuckDB as an independent reader:
 *   - include patterns and exclude; one run per table; the lake tables
 *     t1_<schema>_<table>
 *   - every column type, value for value, against a SELECT from the source
 *     (NULLs, extremes, unicode, infinity -> NULL)
 *   - drop, rename, masks: hash = HMAC-SHA256 with the secret key (checked
 *     with node's crypto), truncate, regex; the raw e-mail addresses in no
 *     byte of any lake file
 *   - where; a second run replaces the window's partition (an update shows,
 *     nothing doubles); a source column dropped stays in the lake as NULL
 *   - bad input: a table that does not exist, a mask on a missing column, a
 *     wrong password: that run fails with a message naming the job, the
 *     table and the column; the other tables still snapshot. */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import net from 'node:net';
import { Reporter, makeTmp, Server, sluice, openDuck, sleep, sanitizerReport, lakeScan } from '../node/lib/common.mjs';
import { startPg } from '../node/lib/pg.mjs';
import { runsOf as jobRuns, trigger as jobTrigger } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('snapshot-pg');
const pg = await startPg(path.join(T, 'pg'));
if (!pg) { R.skip('snapshot_pg', 'PostgreSQL 15 is not installed (scripts/deps.sh --test)'); process.exit(0); }

const KEY = 'mask-key-Zq81';
const PW = 'reader-pw-7Hk';
const N = Number(process.env.SNAPSHOT_TEST_ROWS || 3000); /* 1000000: the acceptance size (a minute or two) */

await pg.createdb('shop');
await pg.psql('shop', `
CREATE ROLE reader LOGIN PASSWORD '${PW}';
CREATE SCHEMA shop;
CREATE TYPE shop.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE shop.users (
  id int8 PRIMARY KEY, email text, phone text, password_hash text, name text, age int2,
  score float8, ratio float4, balance numeric(12,2), active bool, created timestamptz,
  local_ts timestamp, birthday date, wake time, avatar bytea, uid uuid, meta jsonb,
  mood shop.mood, big int4, deleted_at timestamptz, note text);
INSERT INTO shop.users
SELECT g, 'user' || g || '@example.com', '+49 170 ' || lpad(g::text, 7, '0'), md5(g::text),
  CASE WHEN g % 7 = 0 THEN NULL ELSE 'Zoë ' || g END, (g % 100)::int2,
  g * 1.5 - 1000, (g % 13) / 4.0, (g * 3.25 - 500)::numeric(12,2), g % 3 = 0,
  timestamptz '2024-05-01 00:00:00+00' + g * interval '37 minutes 0.125 seconds',
  timestamp '2023-01-01 00:00:00' + g * interval '1 hour', date '2000-01-01' + g,
  time '00:00:00' + g * interval '17 seconds', decode(lpad(to_hex(g), 8, '0'), 'hex'),
  md5(g::text)::uuid, jsonb_build_object('g', g, 'tags', jsonb_build_array('a', g % 5)),
  (ARRAY['sad', 'ok', 'happy'])[1 + g % 3]::shop.mood, g * 1000,
  CASE WHEN g % 10 = 0 THEN now() END, 'card 1234' || lpad(g::text, 4, '0')
FROM generate_series(1, ${N}) g;
INSERT INTO shop.users (id, email, name, age, score, ratio, active, created, birthday, big, note)
VALUES (-9223372036854775808, 'min@example.com', '日本語 ✓ "quoted" \\ back', -32768, -1.7976931348623157e308,
        -3.4e38, false, '0001-01-01 00:00:00+00', '0001-01-01', -2147483648, E'tab\\there\\nnewline'),
       (9223372036854775807, 'max@example.com', '', 32767, 'Infinity', 'NaN', true,
        'infinity', 'infinity', 2147483647, NULL),
       (0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE shop.orders (id int8 PRIMARY KEY, user_id int8, amount numeric(10,2), at timestamptz);
INSERT INTO shop.orders SELECT g, 1 + g % ${N}, g % 1000 + 0.99, '2024-05-01'::timestamptz + g * interval '1 minute'
FROM generate_series(1, 500) g;
CREATE TABLE shop.secret_tokens (id int, token text);
INSERT INTO shop.secret_tokens VALUES (1, 'do-not-copy');
CREATE VIEW shop.active_users AS SELECT id, name FROM shop.users WHERE active;
GRANT USAGE ON SCHEMA shop TO reader;
GRANT SELECT ON ALL TABLES IN SCHEMA shop TO reader;
`);

fs.mkdirSync(path.join(T, 'secrets'));
fs.writeFileSync(path.join(T, 'secrets', 'mask_key'), KEY + '\n');
fs.writeFileSync(path.join(T, 'pw'), PW + '\n');
fs.writeFileSync(path.join(T, 'badpw'), 'wrong-password\n');
const conninfo = `host=127.0.0.1 port=${pg.port} dbname=shop user=reader`;
const deadPort = await new Promise((res) => { /* a port nothing listens on */
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
});
const config = (extraTables = '') => `
data_dir: ${T}/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 2
secrets_dir: ${T}/secrets
scheduler: {tick: 100ms, task_timeout: 10s, heartbeat: 500ms}
postgres:
  shop: {conninfo: "${conninfo}", password_file: ${T}/pw}
  shop_badpw: {conninfo: "${conninfo}", password_file: ${T}/badpw}
  shop_down: {conninfo: "host=127.0.0.1 port=${deadPort} dbname=shop user=reader", connect_timeout: 2s}
jobs:
  shop:
    kind: snapshot
    source: shop
    window: day
    include: ["shop.*"]
    exclude: ["shop.secret*"]
    table_prefix: t1_
    mask_key: mask_key
    retries: 0
    tables:
      shop.users:
        drop: [password_hash]
        rename: {email: email_hash}
        mask: {email: hash, phone: "truncate:3", note: "regex:[0-9]{4}([0-9]{4})=>****\\\\1"}
        where: "deleted_at IS NULL"
${extraTables}
  badpw:
    kind: snapshot
    source: shop_badpw
    window: day
    include: [shop.orders]
    table_prefix: t9_
    retries: 0
  down:
    kind: snapshot
    source: shop_down
    window: day
    include: [shop.orders]
    table_prefix: t8_
    retries: 0
`;
const cfgPath = path.join(T, 'sluice.yaml');
fs.writeFileSync(cfgPath, config());
const lake = path.join(T, 'data', 'lake');

let res = await sluice(['config', '--check', cfgPath]);
if (res.status === 0) R.ok('config_accepts_snapshot_job'); else R.fail('config_accepts_snapshot_job', res.stderr);

const srv = new Server(T, cfgPath);
process.on('exit', () => { if (srv.proc) srv.proc.kill('SIGKILL'); });
await srv.start();

/* Every run of job for the window, once each has ended. */
const runsOf = (job, want, t) => jobRuns(cfgPath, job, want, t);
const trigger = (job, force) => jobTrigger(cfgPath, job, '2024-05-01', force);

res = await trigger('shop');
let runs = await runsOf('shop', 3);
const parts = runs.map((r) => r.account).sort();
R.check('one_run_per_table_include_exclude', JSON.stringify(parts) === JSON.stringify(['shop.active_users', 'shop.orders', 'shop.users'])
    ? [] : [`runs for ${JSON.stringify(parts)} (${res.stderr.trim()})`]);
R.check('runs_succeed', runs.filter((r) => r.state !== 'succeeded').map((r) => `${r.account}: ${r.state} ${r.error}`));

const duck = await openDuck();
const scan = (t) => lakeScan(lake, t);

/* ---- values, type by type ----------------------------------------------------------- */
const srcRows = (await pg.psql('shop', `
SELECT id, coalesce(name, '<null>'), coalesce(age::text, '<null>'), coalesce(score::text, '<null>'),
  coalesce(ratio::text, '<null>'), coalesce(balance::text, '<null>'), coalesce(active::text, '<null>'),
  CASE WHEN created IS NULL OR created = 'infinity' THEN '<null>' ELSE ((extract(epoch from created) * 1000000)::int8)::text END,
  CASE WHEN birthday IS NULL OR birthday = 'infinity' THEN '<null>' ELSE birthday::text END,
  coalesce(wake::text, '<null>'), coalesce(uid::text, '<null>'), coalesce(meta::text, '<null>'),
  coalesce(mood::text, '<null>'), coalesce(big::text, '<null>'), coalesce(encode(avatar, 'hex'), '<null>'),
  coalesce(((extract(epoch from local_ts) * 1000000)::int8)::text, '<null>')
FROM shop.users WHERE deleted_at IS NULL ORDER BY id`)).split('\n').filter(Boolean).map((l) => l.split('|'));
const lakeRows = (await duck.all(`SELECT CAST(id AS VARCHAR), coalesce(name, '<null>'), coalesce(CAST(age AS VARCHAR), '<null>'),
  score, ratio, coalesce(CAST(balance AS VARCHAR), '<null>'), coalesce(CAST(active AS VARCHAR), '<null>'),
  coalesce(CAST(epoch_us(created) AS VARCHAR), '<null>'), coalesce(CAST(birthday AS VARCHAR), '<null>'),
  coalesce(CAST(wake AS VARCHAR), '<null>'), coalesce(CAST(uid AS VARCHAR), '<null>'), coalesce(CAST(meta AS VARCHAR), '<null>'),
  coalesce(CAST(mood AS VARCHAR), '<null>'), coalesce(CAST(big AS VARCHAR), '<null>'), coalesce(lower(hex(avatar)), '<null>'),
  coalesce(CAST(epoch_us(local_ts) AS VARCHAR), '<null>')
  FROM ${scan('t1_shop_users')} ORDER BY id`)).rows;
{
    const p = [];
    if (srcRows.length !== lakeRows.length) p.push(`rows: source ${srcRows.length}, lake ${lakeRows.length}`);
    const names = ['id', 'name', 'age', 'score', 'ratio', 'balance', 'active', 'created', 'birthday', 'wake', 'uid', 'meta', 'mood', 'big', 'avatar', 'local_ts'];
    for (let i = 0; i < Math.min(srcRows.length, lakeRows.length) && p.length < 20; i++) {
        const s = srcRows[i], l = lakeRows[i];
        for (let c = 0; c < names.length; c++) {
            let same;
            if (c === 3 || c === 4) { /* doubles / floats: as numbers (NaN stays NaN) */
                const want = s[c] === '<null>' ? null : c === 4 ? Math.fround(Number(s[c].replace('Infinity', 'Infinity'))) : Number(s[c]);
                same = want === null ? l[c] === null : Object.is(want, l[c]) || (Number.isNaN(want) && Number.isNaN(l[c]));
            } else same = s[c] === String(l[c]);
            if (!same) p.push(`id ${s[0]} ${names[c]}: source ${JSON.stringify(s[c])}, lake ${JSON.stringify(String(l[c]))}`);
        }
    }
    R.check('every_type_reads_back_as_the_source_has_it', p);
}
{
    const t = await duck.all(`DESCRIBE SELECT * FROM ${scan('t1_shop_users')}`);
    const types = Object.fromEntries(t.rows.map((r) => [r[0], r[1]]));
    const want = { id: 'BIGINT', age: 'INTEGER', score: 'DOUBLE', ratio: 'FLOAT', active: 'BOOLEAN',
        created: 'TIMESTAMP WITH TIME ZONE', birthday: 'DATE', name: 'VARCHAR', big: 'INTEGER', email_hash: 'VARCHAR',
        balance: 'DECIMAL(12,2)', wake: 'TIME', local_ts: 'TIMESTAMP', avatar: 'BLOB', uid: 'VARCHAR', meta: 'VARCHAR' };
    R.check('lake_types', Object.entries(want).filter(([k, v]) => types[k] !== v).map(([k, v]) => `${k}: want ${v}, got ${types[k]}`));
    R.check('dropped_column_absent', 'password_hash' in types || 'email' in types ? [`columns: ${Object.keys(types).join(', ')}`] : []);
}

/* ---- masks ---------------------------------------------------------------------------- */
{
    const rows = await duck.objs(`SELECT CAST(id AS VARCHAR) AS id, email_hash, phone, note FROM ${scan('t1_shop_users')} WHERE id BETWEEN 1 AND 50 ORDER BY id`);
    const p = [];
    for (const r of rows) {
        const g = Number(r.id);
        const want = crypto.createHmac('sha256', KEY).update(`user${g}@example.com`).digest('hex');
        if (r.email_hash !== want) p.push(`id ${g}: email_hash ${r.email_hash}, want ${want}`);
        if (r.phone !== '+49') p.push(`id ${g}: phone ${r.phone}`);
        const tail = String(g).padStart(4, '0');
        if (r.note !== `card ****${tail}`) p.push(`id ${g}: note ${r.note}`);
    }
    if (rows.length < 40) p.push(`only ${rows.length} rows`);
    R.check('masks_hash_truncate_regex', p);
    const hits = [];
    const walk = (d) => { for (const f of fs.readdirSync(d, { withFileTypes: true })) {
        const fp = path.join(d, f.name);
        if (f.isDirectory()) walk(fp);
        else { const b = fs.readFileSync(fp); for (const needle of ['user17@example.com', 'min@example.com', 'do-not-copy', md5('17')]) if (b.includes(needle)) hits.push(`${fp}: ${needle}`); }
    } };
    walk(lake);
    R.check('raw_emails_in_no_lake_byte', hits);
}
function md5(s) { return crypto.createHash('md5').update(s).digest('hex'); }

/* ---- where, replace on the next run, a column dropped at the source -------------------- */
{
    const [[n]] = (await duck.all(`SELECT count(*) FROM ${scan('t1_shop_users')}`)).rows;
    const want = Number((await pg.psql('shop', 'SELECT count(*) FROM shop.users WHERE deleted_at IS NULL')).trim());
    R.check('where_filters_rows', Number(n) === want ? [] : [`lake ${n}, source ${want}`]);
    await pg.psql('shop', `UPDATE shop.users SET name = 'renamed' WHERE id = 1; INSERT INTO shop.orders VALUES (9999, 1, 1.00, now());
        ALTER TABLE shop.orders DROP COLUMN at;`);
    await trigger('shop', true);
    runs = await runsOf('shop', 6);
    R.check('second_runs_succeed', runs.filter((r) => r.state !== 'succeeded').map((r) => `${r.account}: ${r.state} ${r.error}`));
    const [[n2]] = (await duck.all(`SELECT count(*) FROM ${scan('t1_shop_users')}`)).rows;
    const [[nm]] = (await duck.all(`SELECT name FROM ${scan('t1_shop_users')} WHERE id = 1`)).rows;
    R.check('rerun_replaces_not_doubles', Number(n2) === want && nm === 'renamed' ? [] : [`rows ${n2} (want ${want}), name ${nm}`]);
    const o = await duck.all(`SELECT count(*), count("at"), count(*) FILTER (WHERE id = 9999) FROM ${scan('t1_shop_orders')}`);
    const [cnt, at, added] = o.rows[0].map(Number);
    R.check('dropped_source_column_stays_null', cnt === 501 && at === 0 && added === 1 ? [] : [`rows ${cnt}, non-null at ${at}, new ${added}`]);
}

/* ---- bad input ------------------------------------------------------------------------------ */
{
    fs.writeFileSync(cfgPath, config(`      shop.nope: {}
      shop.orders:
        mask: {no_such_col: hash}`));
    await srv.stop();
    await srv.start();
    await trigger('shop', true);
    runs = await runsOf('shop', 10);
    const last = new Map();
    for (const r of runs) if (!last.has(r.account) || last.get(r.account).id < r.id) last.set(r.account, r);
    const p = [];
    const nope = last.get('shop.nope'), orders = last.get('shop.orders'), users = last.get('shop.users');
    if (!nope || nope.state !== 'failed' || !/job shop: table shop\.nope: .*does not exist/.test(nope.error)) p.push(`shop.nope: ${JSON.stringify(nope)}`);
    if (!orders || orders.state !== 'failed' || !/job shop: table shop\.orders: mask: the source has no column 'no_such_col'/.test(orders.error)) p.push(`shop.orders: ${JSON.stringify(orders)}`);
    if (!users || users.state !== 'succeeded') p.push(`shop.users: ${JSON.stringify(users)}`);
    R.check('bad_table_and_column_fail_alone_with_names', p);
    await trigger('badpw');
    const b = await runsOf('badpw', 1);
    const e = b[0] && b[0].error || '';
    R.check('wrong_password_names_connection_not_password', b[0] && b[0].state === 'failed' && /postgres (connection )?"shop_badpw"/.test(e) && !e.includes('wrong-password') && !srv.log().includes('wrong-password')
        ? [] : [JSON.stringify(b[0])]);
}

{
    await trigger('down');
    const d = await runsOf('down', 1);
    const e = d[0] && d[0].error || '';
    R.check('unreachable_database_fails_naming_the_connection', d[0] && d[0].state === 'failed' && /job down: table shop\.orders: postgres connection "shop_down"/.test(e) && /refused|could not connect/i.test(e)
        ? [] : [JSON.stringify(d[0])]);
}

await srv.stop();
const san = sanitizerReport(srv.log());
R.check('no_sanitizer_reports', san ? [san] : []);
duck.close();
console.log(`${R.passed} passed, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
