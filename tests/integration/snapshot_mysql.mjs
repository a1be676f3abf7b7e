/* kind snapshot from a real MariaDB (a private server, tests/node/lib/mariadb.mjs),
 * read back by DuckDB as an independent reader:
 *   - a mysql.<name> connection with a user, a password_file and grants;
 *     include "shop.*" and exclude; one run per table
 *   - every column type, value for value, against a SELECT from the source
 *     (NULLs, extremes, unicode, unsigned, tinyint(1), bit(1), bit(10),
 *     zero dates and TIME beyond a day -> NULL, enum, set, json, blobs with
 *     0x00 bytes), whatever type the lake has for the classes it keeps as
 *     text for now (decimal, time, timestamp without time zone, binary):
 *     compared through one text or number form
 *   - drop, rename, masks (hash = HMAC-SHA256 checked with node's crypto);
 *     the raw e-mail addresses in no byte of any lake file
 *   - where; the statements in the server's general log (one consistent
 *     snapshot transaction per table, the session settings)
 *   - bad input: a table that does not exist, a wrong password: that run
 *     fails alone with a message naming the table / the connection and not
 *     the password
 *   - the job's timeout stops a read blocked in the server (KILL QUERY in
 *     the general log) within a few seconds. */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { Reporter, makeTmp, Server, sluice, openDuck, sleep, sanitizerReport, lakeScan } from '../node/lib/common.mjs';
import { runsOf as jobRuns, trigger as jobTrigger } from '../node/lib/jobs.mjs';
import { startMariadb } from '../node/lib/mariadb.mjs';

const R = new Reporter();
const T = makeTmp('snapshot-mysql');
const my = await startMariadb(path.join(T, 'my'));
if (!my) { R.skip('snapshot_mysql', 'MariaDB is not installed (scripts/deps.sh --test)'); process.exit(0); }

const KEY = 'mask-key-Zq81';
const PW = 'reader-pw-7Hk';
const N = Number(process.env.SNAPSHOT_TEST_ROWS || 3000); /* 1000000: the acceptance size (a minute or two); the values stay in range for it */

await my.sql('', `
SET time_zone = '+00:00';
SET max_recursive_iterations = ${Math.max(100000, N + 10)};
CREATE DATABASE shop;
CREATE DATABASE other;
CREATE USER 'reader'@'127.0.0.1' IDENTIFIED BY '${PW}';
CREATE USER 'reader'@'localhost' IDENTIFIED BY '${PW}';
CREATE TABLE shop.users (
  id bigint PRIMARY KEY, email varchar(100), phone varchar(40), password_hash char(32),
  name varchar(100), age smallint, tiny tinyint, med mediumint, cnt int, ucnt int unsigned,
  ubig bigint unsigned, score double, ratio float, balance decimal(12,2), active tinyint(1),
  flag bit(1), bits bit(10), created timestamp(6) NULL DEFAULT NULL, local_ts datetime(6),
  birthday date, wake time(6), yr year, avatar blob, code varbinary(16),
  mood enum('sad','ok','happy'), tags set('a','b','c'), meta json, big int,
  deleted_at datetime NULL, note text) DEFAULT CHARSET utf8mb4;
INSERT INTO shop.users
SELECT n, concat('user', n, '@example.com'), concat('+49 170 ', lpad(n, 7, '0')), md5(n),
  IF(n % 7 = 0, NULL, concat('Zoë ', n)), n % 100, n % 256 - 128, (n * 1000) % 16777216 - 8388608, n * 1000,
  4294967295 - n, 18446744073709551615 - n, n * 1.5 - 1000, (n % 13) / 4.0, n * 3.25 - 500,
  n % 3 = 0, n % 2, n % 1024,
  TIMESTAMP'2024-05-01 00:00:00' + INTERVAL (n % 100000) * 37 MINUTE + INTERVAL n * 125000 MICROSECOND,
  TIMESTAMP'2023-01-01 00:00:00' + INTERVAL n HOUR + INTERVAL n MICROSECOND,
  DATE'2000-01-01' + INTERVAL n DAY,
  IF(n % 500 = 0, '-12:30:00', sec_to_time((n * 17) % 86400 + (n % 10) / 10)),
  1901 + n % 255, concat(0x00, 'img', n, 0x0001), unhex(md5(n)),
  ELT(1 + n % 3, 'sad', 'ok', 'happy'), IF(n % 4 = 0, 'a,c', 'b'),
  json_object('g', n, 'tags', json_array('a', n % 5)), n * 1000,
  IF(n % 10 = 0, now(), NULL), concat('card 1234', lpad(n, 4, '0'))
FROM (WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${N}) SELECT n FROM g) s;
UPDATE shop.users SET wake = '23:59:59.999999' WHERE id = 7;
UPDATE shop.users SET wake = '24:00:00' WHERE id = 8;
INSERT INTO shop.users VALUES
 (-9223372036854775808, 'min@example.com', NULL, NULL, '日本語 ✓ "quoted" \\\\ back', -32768, -128,
  -8388608, -2147483648, 0, 0, -1.7976931348623157e308, -3.40282e38, -9999999999.99, 0, 0, 0,
  '1970-01-01 00:00:01', '1000-01-01 00:00:00', '1000-01-01', '-838:59:59', 1901, '', 0x00,
  'sad', '', '[]', -2147483648, NULL, 'tab\\there\\nnewline'),
 (9223372036854775807, 'max@example.com', NULL, NULL, '', 32767, 127, 8388607, 2147483647,
  4294967295, 18446744073709551615, 1.7976931348623157e308, 3.40282e38, 9999999999.99, 1, 1, 1023,
  '2038-01-19 03:14:07.999999', '9999-12-31 23:59:59.999999', '9999-12-31', '838:59:59', 2155,
  0x00c3a900, 0xffffffffffffffffffffffffffffffff, 'happy', 'a,b,c', '{"k": "ü"}', 2147483647, NULL, NULL),
 (-1, 'zero@example.com', NULL, NULL, 'zero dates', 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, 5, NULL, NULL, '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00', '100:00:00',
  0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE shop.orders (id bigint PRIMARY KEY, user_id bigint, amount decimal(10,2), at datetime);
INSERT INTO shop.orders SELECT n, 1 + n % ${N}, n % 1000 + 0.99, TIMESTAMP'2024-05-01 00:00:00' + INTERVAL n MINUTE
FROM (WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 500) SELECT n FROM g) s;
CREATE TABLE shop.secret_tokens (id int, token text);
INSERT INTO shop.secret_tokens VALUES (1, 'do-not-copy');
CREATE VIEW shop.active_users AS SELECT id, name FROM shop.users WHERE active;
CREATE TABLE shop.slow (id int);
INSERT INTO shop.slow VALUES (1), (2), (3);
CREATE TABLE other.hidden (id int);
GRANT SELECT, SHOW VIEW ON shop.* TO 'reader'@'127.0.0.1';
GRANT SELECT, SHOW VIEW ON shop.* TO 'reader'@'localhost';
`);

fs.mkdirSync(path.join(T, 'secrets'));
fs.writeFileSync(path.join(T, 'secrets', 'mask_key'), KEY + '\n');
fs.writeFileSync(path.join(T, 'pw'), PW + '\n');
fs.writeFileSync(path.join(T, 'badpw'), 'wrong-password\n');
const config = (extraTables = '') => `
data_dir: ${T}/data
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 2
secrets_dir: ${T}/secrets
scheduler: {tick: 100ms, task_timeout: 30s, heartbeat: 500ms}
mysql:
  shop: {host: 127.0.0.1, port: ${my.port}, user: reader, password_file: ${T}/pw}
  shop_sock: {socket: ${my.socket}, user: reader, database: shop, password_file: ${T}/pw}
  shop_badpw: {port: ${my.port}, user: reader, password_file: ${T}/badpw}
jobs:
  shop:
    kind: snapshot
    source: shop
    window: day
    include: ["shop.*", "other.*"]
    exclude: ["shop.secret*", "shop.slow"]
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
  sock:
    kind: snapshot
    source: shop_sock
    window: day
    include: [shop.orders]
    table_prefix: t2_
    retries: 0
  badpw:
    kind: snapshot
    source: shop_badpw
    window: day
    include: [shop.orders]
    table_prefix: t9_
    retries: 0
  slow:
    kind: snapshot
    source: shop
    window: day
    include: [shop.slow]
    table_prefix: t8_
    retries: 0
    timeout: 2s
    tables:
      shop.slow: {where: "SLEEP(20) = 0"}
  inc:
    kind: snapshot
    source: shop
    window: day
    include: [shop.orders]
    table_prefix: t6_
    retries: 0
    tables:
      shop.orders: {cursor: at}
  slow_rows:
    kind: snapshot
    source: shop
    window: day
    include: [shop.users]
    table_prefix: t7_
    retries: 0
    timeout: 3s
    tables:
      shop.users: {where: "id < 2000 OR SLEEP(20) = 0"}
`;
const cfgPath = path.join(T, 'sluice.yaml');
fs.writeFileSync(cfgPath, config());
const lake = path.join(T, 'data', 'lake');

let res = await sluice(['config', '--check', cfgPath]);
if (res.status === 0) R.ok('config_accepts_mysql_snapshot_job'); else R.fail('config_accepts_mysql_snapshot_job', res.stderr);
{
    const clash = path.join(T, 'clash.yaml');
    fs.writeFileSync(clash, `data_dir: ${T}/x\npostgres: {Shop: {conninfo: ""}}\nmysql: {shop: {user: a}}\n`);
    const r = await sluice(['config', '--check', clash]);
    R.check('mysql_and_postgres_names_must_differ_ignoring_case',
        r.status !== 0 && /postgres\.Shop and mysql\.shop/.test(r.stderr) ? [] : [`status ${r.status}: ${r.stderr}`]);
}

const srv = new Server(T, cfgPath);
process.on('exit', () => { if (srv.proc) srv.proc.kill('SIGKILL'); });
await srv.start();

/* Every run of job, once each has ended. */
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
const types = Object.fromEntries((await duck.all(`DESCRIBE SELECT * FROM ${scan('t1_shop_users')}`)).rows.map((r) => [r[0], r[1]]));

/* ---- values, type by type -------------------------------------------------------------
 * Each column as [name, source expression, lake expression]: both give the
 * same text (or number, for score / ratio) when the value came through;
 * '<null>' for NULL and for the values with no lake form. */
const nul = (e) => `coalesce(${e}, '<null>')`;
const us = (e) => `CAST(${e} AS VARCHAR)`;
/* the lake expression of a timestamp-ish column whatever its lake type */
const lakeMicros = (c) => types[c] === 'VARCHAR' ? us(`epoch_us(CAST(${c} AS TIMESTAMP))`) : us(`epoch_us(${c})`);
const lakeTime = (c) => `CAST(extract('hour' FROM CAST(${c} AS TIME)) * 3600000000 + extract('minute' FROM CAST(${c} AS TIME)) * 60000000 + extract('microseconds' FROM CAST(${c} AS TIME)) AS VARCHAR)`;
const cols = [
    ['id', 'CAST(id AS CHAR)', us('id')],
    ['name', 'hex(name)', 'hex(name)'],
    ['age', 'CAST(age AS CHAR)', us('age')],
    ['tiny', 'CAST(tiny AS CHAR)', us('tiny')],
    ['med', 'CAST(med AS CHAR)', us('med')],
    ['cnt', 'CAST(cnt AS CHAR)', us('cnt')],
    ['ucnt', 'CAST(ucnt AS CHAR)', us('ucnt')],
    ['ubig', 'CAST(ubig AS CHAR)', us('ubig')],
    ['score', 'score', 'score'],
    ['ratio', 'ratio + 0e0', 'ratio'],
    ['balance', 'CAST(balance AS CHAR)', us('balance')],
    ['active', "IF(active IS NULL, NULL, IF(active <> 0, 'true', 'false'))", us('active')],
    ['flag', "IF(flag IS NULL, NULL, IF(flag = 1, 'true', 'false'))", us('flag')],
    ['bits', 'CAST(bits + 0 AS CHAR)', us('bits')],
    ['created', "IF(year(created) = 0, NULL, CAST(timestampdiff(MICROSECOND, '1970-01-01 00:00:00', created) AS CHAR))", lakeMicros('created')],
    ['local_ts', "IF(year(local_ts) = 0, NULL, CAST(timestampdiff(MICROSECOND, '1970-01-01 00:00:00', local_ts) AS CHAR))", lakeMicros('local_ts')],
    ['birthday', "IF(year(birthday) = 0, NULL, CAST(birthday AS CHAR))", us('birthday')],
    /* as text until the lake has TIME (src/jobs stores a string column's text unconverted);
     * then as µs, NULL outside a day */
    types.wake === 'VARCHAR' ? ['wake', 'CAST(wake AS CHAR)', 'wake']
        : ['wake', "IF(wake < TIME'00:00:00' OR wake > TIME'24:00:00', NULL, CAST(CAST(time_to_sec(wake) * 1000000 AS SIGNED) AS CHAR))", lakeTime('wake')],
    ['yr', 'CAST(yr + 0 AS CHAR)', us('yr')],
    ['avatar', 'hex(avatar)', 'hex(avatar)'],
    ['mood', 'CAST(mood AS CHAR)', us('mood')],
    ['tags', 'CAST(tags AS CHAR)', us('tags')],
    ['meta', 'hex(meta)', 'hex(meta)'],
    ['big', 'CAST(big AS CHAR)', us('big')],
];
/* varbinary with bytes that are not UTF-8: readable only once the lake has binary columns */
cols.push(['code', 'hex(code)', 'hex(code)']); /* varbinary with bytes that are not UTF-8 */

const srcRows = (await my.sql('shop', `SET time_zone = '+00:00';
SELECT ${cols.map((c) => nul(c[1])).join(', ')} FROM shop.users WHERE deleted_at IS NULL ORDER BY id`))
    .split('\n').filter(Boolean).map((l) => l.split('\t'));
const lakeRows = (await duck.all(`SELECT ${cols.map((c) => c[0] === 'score' || c[0] === 'ratio' ? c[2] : nul(c[2])).join(', ')} FROM ${scan('t1_shop_users')} ORDER BY id`)).rows;
{
    const p = [];
    if (srcRows.length !== lakeRows.length || srcRows.length < N * 0.8) p.push(`rows: source ${srcRows.length}, lake ${lakeRows.length}`);
    for (let i = 0; i < Math.min(srcRows.length, lakeRows.length) && p.length < 20; i++) {
        const s = srcRows[i], l = lakeRows[i];
        for (let c = 0; c < cols.length; c++) {
            const name = cols[c][0];
            let same;
            if (name === 'score' || name === 'ratio') {
                const want = s[c] === '<null>' ? null : name === 'ratio' ? Math.fround(Number(s[c])) : Number(s[c]);
                same = want === null ? l[c] === null : Object.is(want, l[c]);
            } else same = s[c] === String(l[c]);
            if (!same) p.push(`id ${s[0]} ${name}: source ${JSON.stringify(s[c])}, lake ${JSON.stringify(String(l[c]))}`);
        }
    }
    R.check('every_type_reads_back_as_the_source_has_it', p);
    const zero = lakeRows.find((r) => r[0] === '-1');
    R.check('zero_dates_are_null', zero && zero[cols.findIndex((c) => c[0] === 'created')] === '<null>' &&
        zero[cols.findIndex((c) => c[0] === 'birthday')] === '<null>' && zero[cols.findIndex((c) => c[0] === 'local_ts')] === '<null>' &&
        (types.wake === 'VARCHAR' || zero[cols.findIndex((c) => c[0] === 'wake')] === '<null>') &&
        zero[cols.findIndex((c) => c[0] === 'active')] === 'true' ? [] : [JSON.stringify(zero)]);
}
{
    const want = { id: 'BIGINT', age: 'INTEGER', tiny: 'INTEGER', med: 'INTEGER', cnt: 'INTEGER', ucnt: 'BIGINT',
        score: 'DOUBLE', ratio: 'FLOAT', active: 'BOOLEAN', flag: 'BOOLEAN', bits: 'BIGINT', yr: 'INTEGER',
        created: 'TIMESTAMP WITH TIME ZONE', birthday: 'DATE', name: 'VARCHAR', mood: 'VARCHAR', tags: 'VARCHAR',
        meta: 'VARCHAR', big: 'INTEGER', email_hash: 'VARCHAR', balance: 'DECIMAL(12,2)', ubig: 'DECIMAL(20,0)',
        wake: 'TIME', local_ts: 'TIMESTAMP', avatar: 'BLOB', code: 'BLOB' };
    const either = {};
    const p = Object.entries(want).filter(([k, v]) => types[k] !== v).map(([k, v]) => `${k}: want ${v}, got ${types[k]}`);
    for (const [k, v] of Object.entries(either)) if (!v.includes(types[k])) p.push(`${k}: want one of ${v}, got ${types[k]}`);
    R.check('lake_types', p);
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
        if (r.note !== `card ****${String(g).padStart(4, '0')}`) p.push(`id ${g}: note ${r.note}`);
    }
    if (rows.length < 40) p.push(`only ${rows.length} rows`);
    R.check('masks_hash_truncate_regex', p);
    const hits = [];
    const walk = (d) => { for (const f of fs.readdirSync(d, { withFileTypes: true })) {
        const fp = path.join(d, f.name);
        if (f.isDirectory()) walk(fp);
        else { const b = fs.readFileSync(fp); for (const needle of ['user17@example.com', 'min@example.com', 'zero@example.com', 'do-not-copy', md5('17')]) if (b.includes(needle)) hits.push(`${fp}: ${needle}`); }
    } };
    walk(lake);
    R.check('raw_emails_in_no_lake_byte', hits);
}
function md5(s) { return crypto.createHash('md5').update(s).digest('hex'); }

/* ---- where, orders, the statements the server saw --------------------------------------- */
{
    const [[n]] = (await duck.all(`SELECT count(*) FROM ${scan('t1_shop_users')}`)).rows;
    const want = Number((await my.sql('shop', 'SELECT count(*) FROM shop.users WHERE deleted_at IS NULL')).trim());
    R.check('where_filters_rows', Number(n) === want ? [] : [`lake ${n}, source ${want}`]);
    const ot = Object.fromEntries((await duck.all(`DESCRIBE SELECT * FROM ${scan('t1_shop_orders')}`)).rows.map((r) => [r[0], r[1]]));
    const at = ot.at === 'VARCHAR' ? 'CAST("at" AS TIMESTAMP)' : '"at"';
    const o = (await duck.all(`SELECT count(*), CAST(sum(CAST(amount AS DECIMAL(12,2))) AS VARCHAR), CAST(max(epoch_us(${at})) AS VARCHAR) FROM ${scan('t1_shop_orders')}`)).rows[0];
    const s = (await my.sql('shop', `SELECT count(*), CAST(sum(amount) AS CHAR), CAST(timestampdiff(MICROSECOND, '1970-01-01', max(at)) AS CHAR) FROM shop.orders`)).trim().split('\t');
    R.check('orders_read_back', String(o[0]) === s[0] && o[1] === s[1] && o[2] === s[2] ? [] : [`lake ${o}, source ${s}`]);
    const log = fs.readFileSync(my.log, 'utf8');
    const p = [];
    for (const re of [/START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY/, /time_zone = '\+00:00'/, /SELECT "id", .*"email".* FROM "shop"\."users" WHERE \(deleted_at IS NULL\n\)/, /COMMIT/])
        if (!re.test(log)) p.push(`no ${re} in the general log`);
    if (/"other"/.test(log) || runs.some((r) => r.account.startsWith('other.'))) p.push('read a database the user may not see');
    R.check('general_log_shows_one_consistent_transaction_per_table', p);
}

/* ---- a socket connection ------------------------------------------------------------------ */
{
    await trigger('sock');
    const b = await runsOf('sock', 1);
    const [[n]] = b[0] && b[0].state === 'succeeded' ? (await duck.all(`SELECT count(*) FROM ${scan('t2_shop_orders')}`)).rows : [[0]];
    R.check('unix_socket_connection', Number(n) === 500 ? [] : [JSON.stringify(b[0]), `rows ${n}`]);
}

/* ---- incremental: max(cursor) in the transaction, then "at" > 'last' ------------------------ */
{
    await sluice(['run', 'inc', '-c', cfgPath, '-w', '2024-05-01']);
    let b = await runsOf('inc', 1);
    await my.sql('shop', `INSERT INTO shop.orders VALUES (2001, 1, 5.00, '2024-06-01 00:00:00'), (2002, 2, 6.00, '2024-06-01 00:00:01.5');
        UPDATE shop.orders SET amount = 7.00, at = '2024-06-02 00:00:00' WHERE id = 3`);
    await sluice(['run', 'inc', '-c', cfgPath, '-w', '2024-05-02']);
    b = await runsOf('inc', 2);
    const p = b.filter((r) => r.state !== 'succeeded').map((r) => `${r.account}: ${r.state} ${r.error}`);
    const rows = (await duck.all(`SELECT dt, count(*), CAST(sum(CAST(amount AS DECIMAL(12,2))) AS VARCHAR) FROM read_parquet('${lake}/t6_shop_orders/**/*.parquet', hive_partitioning = true) GROUP BY dt ORDER BY dt`)).rows
        .map((r) => `${r[0]} ${r[1]} ${r[2]}`);
    if (JSON.stringify(rows.slice(1)) !== JSON.stringify(['2024-05-02 3 18.00'])) p.push(`partitions ${JSON.stringify(rows)}`);
    const log = fs.readFileSync(my.log, 'utf8');
    if (!/SELECT max\("at"\) FROM "shop"\."orders"/.test(log) || !/\("at" > '2024-05-01 08:20:00'\n\) AND "at" <= '2024-06-02 00:00:00'/.test(log))
        p.push('no max / cursor condition in the general log');
    R.check('incremental_cursor_reads_the_changed_rows', p);
}

/* ---- bad input ------------------------------------------------------------------------------ */
{
    fs.writeFileSync(cfgPath, config('      shop.nope: {}'));
    await srv.stop();
    await srv.start();
    await trigger('shop', true);
    runs = await runsOf('shop', 7);
    const last = new Map();
    for (const r of runs) if (!last.has(r.account) || last.get(r.account).id < r.id) last.set(r.account, r);
    const p = [];
    const nope = last.get('shop.nope'), users = last.get('shop.users');
    if (!nope || nope.state !== 'failed' || !/job shop: table shop\.nope: .*mysql "shop": table shop\.nope does not exist/.test(nope.error)) p.push(`shop.nope: ${JSON.stringify(nope)}`);
    if (!users || users.state !== 'succeeded') p.push(`shop.users: ${JSON.stringify(users)}`);
    R.check('missing_table_fails_alone_with_its_name', p);
    await trigger('badpw');
    const b = await runsOf('badpw', 1);
    const e = b[0] && b[0].error || '';
    R.check('wrong_password_names_connection_not_password', b[0] && b[0].state === 'failed' && /mysql "shop_badpw"/.test(e) &&
        /Access denied/.test(e) && !e.includes('wrong-password') && !srv.log().includes('wrong-password') && !srv.log().includes(PW)
        ? [] : [JSON.stringify(b[0])]);
}

/* ---- the job's timeout stops a read the server blocks ------------------------------------- */
/* before the first row (the server sends nothing until it has rows), and in
 * the middle of the rows (2000 rows streamed, then the server sleeps) */
for (const [job, cap] of [['slow', 12000], ['slow_rows', 13000]]) {
    const t0 = Date.now();
    const kills = (fs.readFileSync(my.log, 'utf8').match(/KILL QUERY \d+/g) || []).length;
    await trigger(job);
    const b = await runsOf(job, 1, 30000);
    const took = Date.now() - t0;
    const e = b[0] && b[0].error || '';
    const log = fs.readFileSync(my.log, 'utf8');
    const p = [];
    const table = job === 'slow' ? 'shop\\.slow' : 'shop\\.users';
    if (!b[0] || b[0].state !== 'failed' || !new RegExp(`mysql "shop": table ${table}: the job's timeout passed`).test(e)) p.push(JSON.stringify(b[0]));
    if (took > cap) p.push(`took ${took} ms (the query sleeps 20 s a row)`);
    if ((log.match(/KILL QUERY \d+/g) || []).length !== kills + 1) p.push('no KILL QUERY in the general log');
    const busy = (await my.sql('', "SELECT count(*) FROM information_schema.processlist WHERE info LIKE '%SLEEP(20)%' AND info NOT LIKE '%processlist%'")).trim();
    if (busy !== '0') p.push(`${busy} statements still running in the server`);
    R.check(`timeout_kills_a_blocked_read_${job === 'slow' ? 'before_rows' : 'mid_rows'}`, p);
}

await srv.stop();
const san = sanitizerReport(srv.log());
R.check('no_sanitizer_reports', san ? [san] : []);
duck.close();
console.log(`${R.passed} passed, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
