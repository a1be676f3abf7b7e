/* kind export into MariaDB through LOAD DATA LOCAL INFILE (export_my.c),
 * against a real MariaDB:
 *   - the rows go as LOAD DATA LOCAL INFILE statements (the general log),
 *     and values come out exactly as the lake has them: tabs, newlines,
 *     CR, backslashes (one at the end of a value too), quotes, NULL vs ''
 *     vs the strings '\N' and 'NULL', unicode, binary (every byte the
 *     escapes use; empty vs NULL), decimals (38 digits: snapshotted from
 *     MariaDB into the lake, exported back), a bigint at its limit, timestamps with
 *     microseconds into datetime(6) and timestamp(6) — into a table the
 *     export creates and into one with declared types
 *   - the server with local_infile off: the export falls back to INSERTs,
 *     says so once in the log, and the target is byte for byte the same
 *   - strict: a string too long for its column, a decimal out of range, a
 *     duplicate key fail the run naming the column (LOCAL turns them into warnings: the
 *     warnings are checked), the target keeps its previous rows
 * (A database killed mid-export and a re-run: tests/integration/export_db.mjs.) */
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, makeTmp, Server, sleep, sanitizerReport, sluice } from '../node/lib/common.mjs';
import { startMariadb } from '../node/lib/mariadb.mjs';
import { trigger } from '../node/lib/jobs.mjs';

const R = new Reporter();
const T = makeTmp('export-my-load');
const my = await startMariadb(path.join(T, 'my'));
if (!my) { R.skip('export_my_load', 'MariaDB is not installed (scripts/deps.sh --test)'); process.exit(0); }
const PW = 'load-pw-3Qz';
fs.writeFileSync(path.join(T, 'pw'), PW + '\n');
await my.sql(null, `CREATE DATABASE svc CHARACTER SET utf8mb4; CREATE USER 'exporter'@'127.0.0.1' IDENTIFIED BY '${PW}';
GRANT ALL ON svc.* TO 'exporter'@'127.0.0.1';`);

const DATA = path.join(T, 'data'), DAY = '2024-05-01', MANY = 60000; /* about 3.6 MB: 4 LOADs */
const Q = () => `"SELECT id, s, CASE WHEN id = 6 THEN X'' WHEN id % 3 = 0 THEN X'00FF5C090A0D4E275C' WHEN id % 3 = 1 THEN NULL ELSE CAST(s AS BLOB) END AS b, at, at AS ts, d, big FROM t1_ev ORDER BY id"`;
const job = (name, table, q = Q()) => `  ${name}: {kind: export, source: t1_ev, query: ${q}, mode: replace_table, target: {connection: svc, table: ${table}}, retries: 0}`;
const CFG = path.join(T, 'sluice.yaml');
fs.writeFileSync(CFG, `
data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 1
scheduler: {tick: 100ms, task_timeout: 5s, heartbeat: 300ms}
mysql:
  svc: {host: 127.0.0.1, port: ${my.port}, user: exporter, database: svc, password_file: ${T}/pw}
streams:
  ev: {sink: {roll_age: 100ms, event_time_field: at}}
jobs:
${job('created', 'created')}
${job('typed', 'typed')}
${job('narrow', 'narrow')}
${job('range', 'rng', `"SELECT id, d * 1000 AS d FROM t1_ev ORDER BY id"`)}
  dec_snap: {kind: snapshot, source: svc, window: day, include: [svc.dec_src], table_prefix: t1_, retries: 0}
  dec_out: {kind: export, source: t1_svc_dec_src, mode: replace_table, target: {connection: svc, table: dec_dst}, retries: 0}
${job('dup', 'dup', `"SELECT id % 5 AS id, s FROM t1_ev ORDER BY id"`)}
${job('many', 'many', `"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ${MANY}) SELECT x AS id, printf('%.50d', x) AS s FROM g"`)}
${job('many_bad', 'many', `"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ${MANY}) SELECT x AS id, printf('%.50d', x) || CASE WHEN x = ${MANY - 20000} THEN 'x' ELSE '' END AS s FROM g"`)}
`);

/* the values: every escape LOAD DATA's text uses, and what looks like one */
const S = ['plain', 'tab\there\t', 'new\nline\r\ncrlf\r', 'back\\slash\\', "quote's \"dq\" `bq`", null, '',
    '\\N', 'NULL', 'unicode: żółć 日本 🎉 ?', '\\t not a tab', '\\', 'a\\\tb\\\nc', 'N', '\\\\N'];
const D = [0.1, 12345678901234.5, -7.25, 1e-7, 1234567890123456789, 0, -0.5, 2.5e-10, 99999.99, 1, 3, 4, 5, 6, 7];
const AT = (i) => `2024-05-01T0${i % 10}:0${i % 7}:1${i % 9}.${String(100000 + i * 7013).slice(-6)}Z`;
const lines = S.map((s, i) => JSON.stringify({ at: AT(i), id: i, s, d: D[i] }).replace(/}$/, `,"big":${i % 2 ? '9223372036854775807' : '-9223372036854775808'}}`));

const srv = new Server(T, CFG);
process.on('exit', () => { if (srv.proc) srv.proc.kill('SIGKILL'); });
await srv.start();
{
    const r = await srv.post('ev', lines);
    if (r.code !== 200) throw new Error(`ingest: ${r.code} ${r.body.slice(0, 300)}`);
    await srv.landed('ev');
}
const runsOf = async (j) => JSON.parse((await sluice(['runs', j, '-c', CFG, '--format', 'json', '--limit', '100'])).stdout.toString() || '[]');
const runJob = async (j) => {
    const n0 = (await runsOf(j)).length;
    const r = await trigger(CFG, j, DAY, true);
    if (r.status !== 0) throw new Error(`sluice run ${j}: ${r.stderr}`);
    for (const end = Date.now() + 40000; Date.now() < end; await sleep(100)) {
        const v = await runsOf(j);
        if (v.length > n0 && ['succeeded', 'failed', 'dead'].includes(v[0].state)) return v[0];
    }
    return (await runsOf(j))[0];
};
const logged = () => fs.readFileSync(my.log, 'utf8');

/* each row as the server has it: hex of text and bytes ('null' for NULL), the decimals' text, the times in UTC */
const hx = (c) => `IF(${c} IS NULL, 'null', CONCAT('h', HEX(${c})))`;
const dump = async (t) => (await my.sql('svc', `SET time_zone = '+00:00'; SELECT id, ${hx('s')}, ${hx('b')},
    DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f'), d, big FROM ${t} ORDER BY id`)).trim();
const hex = (s) => (s === null ? 'null' : 'h' + Buffer.from(s, 'utf8').toString('hex').toUpperCase());
const B0 = 'h00FF5C090A0D4E275C';
const wantRows = (dec) => S.map((s, i) => [i, hex(s), i === 6 ? 'h' : i % 3 === 0 ? B0 : i % 3 === 1 ? 'null' : hex(s),
    AT(i).replace('T', ' ').replace('Z', ''), AT(i).replace('T', ' ').replace('Z', ''), dec(D[i]),
    i % 2 ? '9223372036854775807' : '-9223372036854775808'].join('\t')).join('\n');
/* decimal(30,10) of the lake's double: its shortest text, scaled */
const DEC = { 0.1: '0.1000000000', 12345678901234.5: '12345678901234.5000000000', '-7.25': '-7.2500000000', 1e-7: '0.0000001000',
    1234567890123456789: '1234567890123456800.0000000000', 0: '0.0000000000', '-0.5': '-0.5000000000', 2.5e-10: '0.0000000003',
    99999.99: '99999.9900000000' };
const dec10 = (x) => DEC[x] ?? `${x}.0000000000`;

/* into a table the export creates (longtext, longblob, datetime(6), double, bigint) */
{
    const p = [];
    const run = await runJob('created');
    if (run?.state !== 'succeeded') p.push(`run: ${JSON.stringify(run)}`);
    if (!/LOAD DATA LOCAL INFILE 'sluice' INTO TABLE "created__sluice_new"/.test(logged())) p.push('no LOAD DATA LOCAL INFILE in the general log');
    /* a double column: the server's text of it read back as the same double */
    const got = (await dump('created')).split('\n').map((l) => l.split('\t').map((f, k) => (k === 5 ? String(Number(f)) : f)).join('\t')).join('\n');
    const want = wantRows(String);
    if (got !== want) p.push(`created:\n${got}\nwant\n${want}`);
    R.check('load_data_export_into_a_created_table_keeps_every_value', p);
}

/* into declared types: varchar, varbinary, datetime(6), timestamp(6), decimal(30,10), decimal(20,0) */
const TYPED = `CREATE TABLE typed (id int PRIMARY KEY, s varchar(100), b varbinary(100), at datetime(6), ts timestamp(6) NULL, d decimal(30,10), big decimal(20,0))`;
await my.sql('svc', TYPED);
let typedLoad;
{
    const p = [];
    const run = await runJob('typed');
    if (run?.state !== 'succeeded') p.push(`run: ${JSON.stringify(run)}`);
    if (!/LOAD DATA LOCAL INFILE 'sluice' INTO TABLE "typed__sluice_new" CHARACTER SET utf8mb4/.test(logged())) p.push('no LOAD DATA into typed__sluice_new in the general log');
    typedLoad = await dump('typed');
    const want = wantRows(dec10);
    if (typedLoad !== want) p.push(`typed:\n${typedLoad}\nwant\n${want}`);
    R.check('load_data_export_into_declared_types_is_exact', p);
}

/* local_infile off on the server: INSERTs, one warning, the same bytes */
{
    const p = [];
    await my.sql(null, 'SET GLOBAL local_infile = 0');
    const inserts0 = (logged().match(/INSERT INTO "typed__sluice_new"/g) || []).length;
    const loads0 = (logged().match(/LOAD DATA LOCAL INFILE 'sluice' INTO TABLE "typed__sluice_new"/g) || []).length;
    await my.sql('svc', 'DROP TABLE typed; ' + TYPED);
    const run = await runJob('typed');
    if (run?.state !== 'succeeded') p.push(`run: ${JSON.stringify(run)}`);
    const inserts = (logged().match(/INSERT INTO "typed__sluice_new"/g) || []).length - inserts0;
    const loads = (logged().match(/LOAD DATA LOCAL INFILE 'sluice' INTO TABLE "typed__sluice_new"/g) || []).length - loads0;
    if (inserts < 1 || loads !== 0) p.push(`${inserts} INSERTs and ${loads} LOADs logged, want INSERTs only`);
    const warned = srv.log().split('\n').filter((l) => /job typed: mysql "svc": the server refuses LOAD DATA LOCAL INFILE \(local_infile is off\): the rows go as INSERTs/.test(l));
    if (warned.length !== 1) p.push(`${warned.length} fallback lines in the server log, want 1`);
    const got = await dump('typed');
    if (got !== typedLoad) p.push(`INSERT path:\n${got}\nLOAD path:\n${typedLoad}`);
    await my.sql(null, 'SET GLOBAL local_infile = 1');
    R.check('local_infile_off_falls_back_to_inserts_with_the_same_rows', p);
}

/* strict: a value that does not fit fails the run naming the column; the old rows stay */
{
    const p = [];
    await my.sql('svc', `CREATE TABLE narrow (id int, s varchar(5), b varbinary(100), at datetime(6), ts datetime(6), d double, big bigint);
        INSERT INTO narrow (id, s) VALUES (-1, 'old');
        CREATE TABLE rng (id int, d decimal(7,2)); INSERT INTO rng VALUES (-1, 1.5);
        CREATE TABLE dup (id int PRIMARY KEY, s text); INSERT INTO dup VALUES (-1, 'old');`);
    for (const [j, t, re] of [['narrow', 'narrow', /job narrow: target narrow: mysql "svc": LOAD DATA of rows 1\.\.15 into narrow__sluice_new: Warning (1265: Data truncated|1406: Data too long) for column 's' at row \d+/],
        ['range', 'rng', /job range: target rng: mysql "svc": LOAD DATA of rows 1\.\.15 into rng__sluice_new: Warning 1264: Out of range value for column 'd' at row \d+/],
        /* a duplicate key: LOCAL skips the row with a warning; the INSERT would have failed */
        ['dup', 'dup', /job dup: target dup: mysql "svc": LOAD DATA of rows 1\.\.15 into dup__sluice_new: Warning 1062: Duplicate entry '\d+' for key 'PRIMARY'/]]) {
        const run = await runJob(j);
        if (run?.state !== 'failed' || !re.test(run.error)) p.push(`${j}: ${JSON.stringify(run)}`);
        else console.log(`# ${j}: ${run.error}`);
        const left = (await my.sql('svc', `SELECT count(*), min(id) FROM ${t}`)).trim();
        if (left !== '1\t-1') p.push(`${t} after the failed export: ${left}, want its one old row`);
    }
    R.check('a_value_that_does_not_fit_or_a_duplicate_key_fails_the_load_data_export', p);
}

/* decimals of 38 digits: a MariaDB table snapshotted into the lake, exported back through LOAD DATA: digit for digit */
{
    const p = [];
    const vals = ['1234567890123456789012345678.0123456789', '-9999999999999999999999999999.9999999999', '0.0000000001', '0E-10', '12345.6789000000', null];
    await my.sql('svc', `CREATE TABLE dec_src (id int PRIMARY KEY, d decimal(38,10));
        INSERT INTO dec_src VALUES ${vals.map((v, i) => `(${i}, ${v === null ? 'NULL' : v})`).join(', ')};
        CREATE TABLE dec_dst (id int, d decimal(38,10));`);
    let run = await runJob('dec_snap');
    if (run?.state !== 'succeeded') p.push(`snapshot: ${JSON.stringify(run)}`);
    run = await runJob('dec_out');
    if (run?.state !== 'succeeded') p.push(`export: ${JSON.stringify(run)}`);
    if (!/LOAD DATA LOCAL INFILE 'sluice' INTO TABLE "dec_dst__sluice_new"/.test(logged())) p.push('no LOAD DATA into dec_dst__sluice_new');
    const q = (t) => my.sql('svc', `SELECT id, IFNULL(CAST(d AS CHAR), 'null') FROM ${t} ORDER BY id`).then((x) => x.trim());
    const [a, b] = [await q('dec_src'), await q('dec_dst')];
    if (a !== b || a.split('\n').length !== vals.length) p.push(`source:\n${a}\nexported:\n${b}`);
    R.check('decimals_of_38_digits_export_digit_for_digit', p);
}

/* many chunks (one LOAD in flight while the next fills): all rows; a value that does not fit in
 * the third chunk fails the run naming its LOAD's rows, the previous export's rows stay */
{
    const p = [];
    await my.sql('svc', 'CREATE TABLE many (id int PRIMARY KEY, s varchar(50))');
    const loads0 = (logged().match(/LOAD DATA LOCAL INFILE 'sluice' INTO TABLE "many__sluice_new"/g) || []).length;
    let run = await runJob('many');
    const loads = (logged().match(/LOAD DATA LOCAL INFILE 'sluice' INTO TABLE "many__sluice_new"/g) || []).length - loads0;
    if (run?.state !== 'succeeded') p.push(`many: ${JSON.stringify(run)}`);
    if (loads < 3) p.push(`${loads} LOAD statements, want several`);
    const want = `${MANY}\t${MANY * (MANY + 1) / 2}\t${MANY}`;
    const sum = async () => (await my.sql('svc', `SELECT count(*), sum(id), sum(CAST(s AS UNSIGNED) = id) FROM many`)).trim();
    let got = await sum();
    if (got !== want) p.push(`many: ${got}, want ${want}`);
    run = await runJob('many_bad');
    const m = /job many_bad: target many: mysql "svc": LOAD DATA of rows (\d+)\.\.(\d+) into many__sluice_new: Warning 1265: Data truncated for column 's' at row (\d+)/.exec(run?.error ?? '');
    if (run?.state !== 'failed' || !m || Number(m[1]) === 1 || Number(m[1]) + Number(m[3]) - 1 !== MANY - 20000) p.push(`many_bad: ${JSON.stringify(run)}`);
    else console.log(`# many_bad: ${run.error}`);
    got = await sum();
    if (got !== want) p.push(`after the failed export: ${got}, want ${want}`);
    R.check('a_multi_chunk_load_data_export_sends_all_rows_and_fails_whole', p);
}

await srv.stop();
const san = sanitizerReport(srv.log());
san ? R.fail('no_sanitizer_reports', san) : R.ok('no_sanitizer_reports');
process.exit(R.failed ? 1 : 0);
