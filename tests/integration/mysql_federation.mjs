/* MySQL / MariaDB federation (src/myfed) against a private MariaDB
 * (tests/node/lib/mariadb.mjs), through `sluice sql -c CONFIG` and the query
 * API:
 *   - mysql.<name> tables as <name>.<table> (default database) and
 *     <name>."<db>.<table>"; a database the user may not see is absent
 *   - types: integers, bigint unsigned, bit, year, float, double, decimal,
 *     date, datetime, timestamp (UTC, the lake's forms), zero dates NULL,
 *     blobs, unicode text, NULLs
 *   - pushdown: the columns and the WHERE (=, range, IN, IS NULL, LIKE) and
 *     LIMIT in MariaDB's general log; a case-insensitive collation's = and
 *     LIKE are pushed but re-checked: SQLite's answer, not MariaDB's
 *   - the design-doc query: a lake table (CTAS) joined with a MariaDB
 *     table, equal to DuckDB's answer over the lake's Parquet and the same
 *     airport rows
 *   - a wrong password and an unreachable server: errors naming the
 *     connection, never the password; a server killed mid-query fails that
 *     query and the sluice server goes on. */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Reporter, makeTmp, Server, sluice, openDuck, sleep, sanitizerReport, lakeScan } from '../node/lib/common.mjs';
import { startMariadb } from '../node/lib/mariadb.mjs';

const R = new Reporter();
const T = makeTmp('mysql-fed');
const my = await startMariadb(path.join(T, 'my'));
if (!my) { R.skip('mysql_federation', 'MariaDB is not installed (scripts/deps.sh --test)'); process.exit(0); }

const PW = 'fed-pw-Qx71';
const AIRPORTS = [
    ['JFK', 'John F. Kennedy', 'New York', 13],
    ['LAX', 'Los Angeles', 'Los Angeles', 38],
    ['CDG', 'Charles de Gaulle', 'Paris', 119],
    ['ZRH', 'Zürich Kloten', 'Zürich', 432],
    ['NRT', '成田国際空港', 'Narita', 43],
    ['FRA', 'Frankfurt "Main"', 'Frankfurt', 111],
    ['OSL', "O'Hare? no: Oslo", 'Oslo', 208],
];
const lit = (s) => "'" + s.replace(/'/g, "''").replace(/\\/g, '\\\\') + "'";
await my.sql('', `
SET time_zone = '+00:00';
CREATE DATABASE geo DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_general_ci;
CREATE DATABASE app DEFAULT CHARSET utf8mb4;
CREATE DATABASE hidden;
CREATE USER 'fed'@'127.0.0.1' IDENTIFIED BY '${PW}';
CREATE USER 'fed'@'localhost' IDENTIFIED BY '${PW}';
CREATE TABLE geo.airport (airport_code char(3) PRIMARY KEY, name varchar(100), city varchar(100),
  elevation int) DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_general_ci;
INSERT INTO geo.airport VALUES ${AIRPORTS.map((a) => `(${lit(a[0])}, ${lit(a[1])}, ${lit(a[2])}, ${a[3]})`).join(', ')};
CREATE TABLE geo.city (id int PRIMARY KEY, name varchar(50) COLLATE utf8mb4_general_ci,
  bname varchar(50) COLLATE utf8mb4_bin);
INSERT INTO geo.city VALUES (1, 'Zürich', 'Zürich'), (2, 'zürich', 'zürich'), (3, 'ZURICH', 'ZURICH'),
  (4, 'zurich ', 'zurich '), (5, 'Zug', 'Zug'), (6, NULL, NULL), (7, 'zü', 'zü');
CREATE TABLE app.types (id int PRIMARY KEY, i8 tinyint, i64 bigint, u64 bigint unsigned, b1 bit(1),
  b10 bit(10), yr year, f float, d double, dec_ decimal(12,3), day date, dt datetime(6),
  ts timestamp(6) NULL DEFAULT NULL, t time, s varchar(40), c char(5), e enum('a','b'), raw varbinary(8),
  bl blob) DEFAULT CHARSET utf8mb4;
INSERT INTO app.types VALUES
 (1, -128, -9223372036854775808, 18446744073709551615, 1, 1023, 2024, 0.1, 1.5, -12.345, '2024-05-01',
  '2024-05-01 12:00:00.000000', '2024-05-01 12:00:00.5', '-12:30:00', 'Zoë ✓ 日本', 'ab', 'b', 0x00ff, 0x000102),
 (2, 127, 9223372036854775807, 5, 0, 0, 1901, -3.25, -1e300, 999999999.999, '1000-01-01',
  '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01', '838:59:59', '', 'x', 'a', '', ''),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SET SESSION sql_mode = '';
INSERT INTO app.types (id, day, dt) VALUES (4, '0000-00-00', '0000-00-00 00:00:00');
CREATE TABLE app.nums (n int PRIMARY KEY, v varchar(20));
SET max_recursive_iterations = 100000;
INSERT INTO app.nums SELECT n, concat('v', n) FROM (WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000) SELECT n FROM g) s;
CREATE VIEW app.slow AS SELECT n, sleep(0.2) AS z FROM app.nums WHERE n <= 100;
CREATE TABLE hidden.secret (x int);
GRANT SELECT, SHOW VIEW ON geo.* TO 'fed'@'127.0.0.1';
GRANT SELECT, SHOW VIEW ON geo.* TO 'fed'@'localhost';
GRANT SELECT, SHOW VIEW ON app.* TO 'fed'@'127.0.0.1';
GRANT SELECT, SHOW VIEW ON app.* TO 'fed'@'localhost';
`);

fs.writeFileSync(path.join(T, 'pw'), PW + '\n');
fs.writeFileSync(path.join(T, 'badpw'), 'wrong-secret-77\n');
const closedPort = await new Promise((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
const DATA = path.join(T, 'data');
fs.mkdirSync(DATA);
const base = `data_dir: ${DATA}\nlisten: 127.0.0.1:0\nlimits: {min_free_disk: 0}\n`;
const cfg = (name, body) => { const f = path.join(T, name); fs.writeFileSync(f, base + body); return f; };
const CFG = cfg('sluice.yaml', `mysql:
  fed: {host: 127.0.0.1, port: ${my.port}, user: fed, database: geo, password_file: ${T}/pw}
  fsock: {socket: ${my.socket}, user: fed, database: app, password_file: ${T}/pw}
`);
const BAD = cfg('bad.yaml', `mysql:\n  fed: {port: ${my.port}, user: fed, password_file: ${T}/badpw}\n`);
const DOWN = cfg('down.yaml', `mysql:\n  gone: {port: ${closedPort}, user: fed, password_file: ${T}/pw, connect_timeout: 2s}\n`);

/* sluice sql -c config -F ndjson q: {status, rows, stderr} */
async function q(sql, config = CFG) {
    const r = await sluice(['sql', '-c', config, '-F', 'ndjson', sql]);
    const out = r.stdout.toString('utf8');
    const rows = r.status === 0 ? out.split('\n').filter(Boolean).map((l) => JSON.parse(l)) : null;
    return { status: r.status, rows, stderr: r.stderr, out };
}
const logSince = (off) => fs.readFileSync(my.log, 'utf8').slice(off);
const logLen = () => fs.statSync(my.log).size;
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

await R.guard('names', async () => {
    const p = [];
    let r = await q(`SELECT count(*) AS n FROM fed.airport`);
    if (!r.rows || r.rows[0].n !== AIRPORTS.length) p.push(`fed.airport: ${r.out} ${r.stderr}`);
    r = await q(`SELECT count(*) AS n FROM fed."geo.airport"`);
    if (!r.rows || r.rows[0].n !== AIRPORTS.length) p.push(`fed."geo.airport": ${r.out} ${r.stderr}`);
    r = await q(`SELECT count(*) AS n FROM fed."app.nums"`);
    if (!r.rows || r.rows[0].n !== 20000) p.push(`fed."app.nums": ${r.out} ${r.stderr}`);
    r = await q(`SELECT count(*) AS n FROM fsock.nums`); /* through the socket, default app */
    if (!r.rows || r.rows[0].n !== 20000) p.push(`fsock.nums: ${r.out} ${r.stderr}`);
    r = await q(`SELECT name FROM fed.sqlite_master ORDER BY name`);
    const names = r.rows ? r.rows.map((x) => x.name) : [];
    for (const n of ['airport', 'city', 'geo.airport', 'geo.city', 'app.types', 'app.nums', 'app.slow'])
        if (!names.includes(n)) p.push(`no table ${n} in fed: ${names}`);
    if (names.some((n) => n.startsWith('hidden.') || n.startsWith('mysql.'))) p.push(`tables the user may not see: ${names}`);
    R.check('mysql_tables_as_conn_table_and_conn_db_table', p);
});

await R.guard('types', async () => {
    const p = [];
    const r = await q(`SELECT * FROM fsock.types ORDER BY id`);
    if (!r.rows) { R.fail('mysql_types_in_lake_forms', r.stderr); return; }
    const want = [
        { id: 1, i8: -128, i64: '-9223372036854775808', u64: 1.8446744073709552e19, b1: 1, b10: 1023, yr: 2024,
          f: 0.10000000149011612, d: 1.5, dec_: -12.345, day: '2024-05-01', dt: '2024-05-01T12:00:00',
          ts: '2024-05-01T12:00:00.500000Z', t: '-12:30:00', s: 'Zoë ✓ 日本', c: 'ab', e: 'b' },
        { id: 2, i8: 127, i64: '9223372036854775807', u64: 5, b1: 0, b10: 0, yr: 1901, f: -3.25, d: -1e300,
          dec_: 999999999.999, day: '1000-01-01', dt: '9999-12-31T23:59:59.999999', ts: '1970-01-01T00:00:01Z',
          t: '838:59:59', s: '', c: 'x', e: 'a' },
        { id: 3 }, { id: 4 },
    ];
    const txt = r.out.split('\n').filter(Boolean);
    for (let i = 0; i < want.length; i++) {
        const got = r.rows[i] || {};
        for (const [k, v] of Object.entries(want[i])) {
            let g = got[k];
            if (k === 'i64') g = (txt[i].match(/"i64":(-?\d+)/) || [])[1]; /* past 2^53: the text */
            if (!same(g, v)) p.push(`row ${want[i].id} ${k}: ${JSON.stringify(g)}, want ${JSON.stringify(v)}`);
        }
        if (i >= 2) for (const k of Object.keys(got)) if (k !== 'id' && got[k] !== null) p.push(`row ${want[i].id} ${k}: ${JSON.stringify(got[k])}, want NULL`);
    }
    const h = await q(`SELECT id, hex(raw) AS r, hex(bl) AS b, typeof(raw) AS t, typeof(u64) AS ut, typeof(i64) AS it FROM fsock.types WHERE id <= 2 ORDER BY id`);
    if (!h.rows || !same(h.rows.map((x) => [x.r, x.b, x.t, x.it]), [['00FF', '000102', 'blob', 'integer'], ['', '', 'blob', 'integer']]))
        p.push(`blobs / integer types: ${h.out} ${h.stderr}`);
    R.check('mysql_types_in_lake_forms', p);
});

await R.guard('pushdown', async () => {
    const p = [];
    const cases = [
        [`SELECT airport_code FROM fed.airport WHERE elevation > 100 ORDER BY 1`, ['CDG', 'FRA', 'OSL', 'ZRH'],
            /SELECT "airport_code", "elevation" FROM "geo"\."airport" WHERE "elevation" > 100/],
        [`SELECT name FROM fed.airport WHERE airport_code IN ('NRT', 'JFK', 'nope') ORDER BY 1`, ['John F. Kennedy', '成田国際空港'],
            /FROM "geo"\."airport" WHERE "airport_code" IN \('(NRT|JFK|nope)', '(NRT|JFK|nope)', '(NRT|JFK|nope)'\)/],
        [`SELECT id FROM fed.city WHERE name IS NULL`, [6], /SELECT "id", "name" FROM "geo"\."city" WHERE "name" IS NULL/],
        [`SELECT n FROM fsock.nums WHERE n >= 19998 LIMIT 2`, [19998, 19999], /SELECT "n" FROM "app"\."nums" WHERE "n" >= 19998 LIMIT 2/],
        [`SELECT city FROM fed.airport WHERE name = 'Frankfurt "Main"'`, ['Frankfurt'], /WHERE "name" = 'Frankfurt "Main"'/],
        [`SELECT city FROM fed.airport WHERE name = 'O''Hare? no: Oslo'`, ['Oslo'], /WHERE "name" = 'O''Hare\? no: Oslo'/],
        [`SELECT id FROM fed.city WHERE bname >= 'zu' ORDER BY id`, [2, 4, 7], /WHERE CAST\("bname" AS BINARY\) >= 'zu'/],
        [`SELECT id FROM fsock.types WHERE ts >= '2024-05-01T12:00:00.500000Z'`, [1], /WHERE "ts" >= '2024-05-01 11:59:59\.500000'/],
    ];
    for (const [sql, want, re] of cases) {
        const off = logLen();
        const r = await q(sql);
        const got = r.rows ? r.rows.map((x) => Object.values(x)[0]) : r.stderr;
        if (!same(got, want)) p.push(`${sql}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
        if (!re.test(logSince(off))) p.push(`${sql}: no ${re} in the general log:\n${logSince(off).split('\n').filter((l) => /Query/.test(l)).slice(-4).join('\n')}`);
    }
    R.check('mysql_pushdown_in_general_log', p);
});

await R.guard('two_scans', async () => {
    const p = [];
    /* the outer scan holds one connection while the probes use a second */
    let r = await q(`SELECT a.airport_code AS k, n.v FROM fed.airport a JOIN fed."app.nums" n ON n.n = a.elevation ORDER BY 1`);
    const want = [...AIRPORTS].sort((x, y) => (x[0] < y[0] ? -1 : 1)).map((a) => [a[0], 'v' + a[3]]);
    if (!r.rows || !same(r.rows.map((x) => [x.k, x.v]), want)) p.push(`MySQL-MySQL join: ${r.out} ${r.stderr}`);
    /* LIKE is re-checked, so the LIMIT stays in SQLite: the scan stops early
     * and its connection is cut rather than read to the end */
    const off = logLen();
    r = await q(`SELECT n FROM fed."app.nums" WHERE v LIKE 'v1%' LIMIT 3`);
    if (!r.rows || !same(r.rows.map((x) => x.n), [1, 10, 11])) p.push(`early stop: ${r.out} ${r.stderr}`);
    if (!/FROM "app"\."nums" WHERE "v" LIKE 'v1%'$/m.test(logSince(off))) p.push(`early stop: LIMIT pushed or no LIKE: ${logSince(off).slice(-400)}`);
    R.check('mysql_two_scans_at_once_and_early_stop', p);
});

await R.guard('collation', async () => {
    const p = [];
    /* general_ci: MariaDB's = keeps Zürich, zürich, ZURICH, 'zurich ' (PAD SPACE, ü = u);
     * SQLite's keeps the one identical string */
    const cases = [
        [`SELECT id FROM fed.city WHERE name = 'zürich' ORDER BY id`, [2], /WHERE "name" = 'zürich'/],
        [`SELECT id FROM fed.city WHERE name LIKE 'zü%' ORDER BY id`, [1, 2, 7], /WHERE "name" LIKE 'zü%'/],
        [`SELECT id FROM fed.city WHERE name = 'zurich' ORDER BY id`, [], /WHERE "name" = 'zurich'/],
        [`SELECT id FROM fed.city WHERE name = 'zürich' LIMIT 1`, [2], /WHERE "name" = 'zürich'$/m],
        /* utf8mb4_bin: = is PAD SPACE still ('zurich' = 'zurich '), LIKE case-sensitive: not pushed with letters */
        [`SELECT id FROM fed.city WHERE bname = 'zurich' ORDER BY id`, [], /WHERE "bname" = 'zurich'/],
        [`SELECT id FROM fed.city WHERE bname LIKE 'ZU%' ORDER BY id`, [3, 4, 5], /SELECT "id", "bname" FROM "geo"\."city"$/m],
    ];
    for (const [sql, want, re] of cases) {
        const off = logLen();
        const r = await q(sql);
        const got = r.rows ? r.rows.map((x) => x.id) : r.stderr;
        if (!same(got, want)) p.push(`${sql}: ${JSON.stringify(got)}, want SQLite's ${JSON.stringify(want)}`);
        if (!re.test(logSince(off))) p.push(`${sql}: no ${re} in the general log:\n${logSince(off).split('\n').filter((l) => /Query/.test(l)).slice(-3).join('\n')}`);
    }
    const mdb = (await my.sql('geo', `SELECT count(*) FROM city WHERE name = 'zürich'`)).trim();
    if (Number(mdb) < 3) p.push(`MariaDB's own = should keep more rows (${mdb}): the test does not test`);
    R.check('mysql_case_insensitive_collation_rechecked_by_sqlite', p);
});

await R.guard('join', async () => {
    const p = [];
    const codes = ['JFK', 'JFK', 'LAX', 'CDG', 'ZRH', 'NRT', 'jfk', 'XXX', null, 'FRA', 'NRT', 'JFK'];
    const rows = Array.from({ length: 3000 }, (_, i) => codes[i % codes.length]);
    let r = await q(`CREATE TABLE flights AS WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < 2999)
        SELECT n AS id, CASE n % 12 ${codes.map((c, i) => `WHEN ${i} THEN ${c === null ? 'NULL' : `'${c}'`}`).join(' ')} END AS code FROM g`);
    if (r.status !== 0) { R.fail('lake_join_mysql_equals_duckdb', `CTAS: ${r.stderr}`); return; }
    const off = logLen();
    r = await q(`SELECT a.name, count(*) AS n FROM lake.flights f JOIN fed.airport a ON f.code = a.airport_code GROUP BY a.name ORDER BY a.name`);
    if (!r.rows) { R.fail('lake_join_mysql_equals_duckdb', r.stderr); return; }
    const db = await openDuck();
    await db.run(`CREATE TABLE airport (airport_code VARCHAR, name VARCHAR, city VARCHAR, elevation INTEGER)`);
    for (const a of AIRPORTS) await db.run(`INSERT INTO airport VALUES ('${a[0]}', '${a[1].replace(/'/g, "''")}', '${a[2].replace(/'/g, "''")}', ${a[3]})`);
    const duck = await db.objs(`SELECT a.name, count(*) AS n FROM ${lakeScan(path.join(DATA, 'lake'), 'flights')} f
        JOIN airport a ON f.code = a.airport_code GROUP BY a.name ORDER BY a.name COLLATE C`);
    db.close();
    const d = duck.map((x) => [x.name, Number(x.n)]);
    const s = r.rows.map((x) => [x.name, x.n]);
    if (!same(s, d)) p.push(`sluice ${JSON.stringify(s)}\nDuckDB ${JSON.stringify(d)}`);
    const want = rows.filter((c) => c && c === c.toUpperCase() && AIRPORTS.some((a) => a[0] === c)).length;
    if (s.reduce((t, x) => t + x[1], 0) !== want) p.push(`joined rows ${s.reduce((t, x) => t + x[1], 0)}, want ${want}`);
    if (!/FROM "geo"\."airport"/.test(logSince(off))) p.push('the join did not read geo.airport');
    R.check('lake_join_mysql_equals_duckdb', p);
});

await R.guard('errors', async () => {
    /* a connection that cannot be attached is left out with a warning naming
     * it (never its password): the lake and the other connections still
     * answer; its own tables are unknown */
    const p = [];
    let r = await q(`SELECT 1`, BAD);
    if (r.status !== 0 || !/mysql connection "fed"/.test(r.stderr) || !/Access denied/.test(r.stderr) || r.stderr.includes('wrong-secret-77'))
        p.push(`wrong password: ${r.status} ${r.stderr}`);
    r = await q(`SELECT * FROM fed.airport`, BAD);
    if (r.status === 0 || !/no such table: fed\.airport/.test(r.stderr)) p.push(`its table: ${r.status} ${r.stderr}`);
    const t0 = Date.now();
    r = await q(`SELECT 1`, DOWN);
    if (r.status !== 0 || !/mysql connection "gone" \(fed@127\.0\.0\.1:\d+\)/.test(r.stderr) || r.stderr.includes(PW))
        p.push(`unreachable: ${r.status} ${r.stderr}`);
    if (Date.now() - t0 > 10000) p.push(`unreachable took ${Date.now() - t0} ms`);
    R.check('mysql_connection_errors_name_it_without_password', p);
});

/* last: it kills MariaDB */
await R.guard('dead', async () => {
    const p = [];
    const srv = new Server(T, CFG);
    await srv.start();
    const pending = srv.request('POST', '/v1/query', JSON.stringify({ sql: 'SELECT count(*), sum(z) FROM fsock.slow', format: 'json' }), 30000);
    await sleep(1500);
    process.kill(my.pid, 'SIGKILL');
    const res = await pending;
    if (res.code === 200 && !/error|mysql/i.test(res.body)) p.push(`the query did not fail: ${res.code} ${res.body}`);
    if (!/mysql (connection )?\\"fsock\\"/.test(res.body)) p.push(`no message naming the connection: ${res.code} ${res.body}`);
    const m = await srv.request('GET', '/metrics');
    if (m.code !== 200) p.push(`the server did not survive: ${m.code} ${m.body}`);
    const code = await srv.stop();
    if (code !== 0) p.push(`server exit ${code}`);
    const san = sanitizerReport(srv.log());
    if (san) p.push(san);
    R.check('mysql_dead_server_fails_the_query_not_the_process', p);
});

console.log(`${R.passed} passed, ${R.failed} failed`);
process.exit(R.failed ? 1 : 0);
