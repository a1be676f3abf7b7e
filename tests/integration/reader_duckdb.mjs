// The Parquet reader against DuckDB: `sluice cat` of a file must print the
// same values DuckDB reads from it.
//
//   duck-*        files DuckDB writes: every flat type it has, nulls, edge
//                 values, each codec, data page v2, many row groups
//   testing/*     every $SLUICE_TESTDATA/parquet-testing/*.parquet (flat
//                 columns; nested ones must be skipped with a note, no crash;
//                 corrupt-checksum files must be rejected)
//   roundtrip     files sluice writes, read back by sluice and DuckDB
//   cat flags     --columns, --limit, --format csv; `sluice schema` output
import fs from 'node:fs';
import path from 'node:path';
import {
    Reporter, makeTmp, sluice, crashed, describe, openDuck, sqlStr, sqlIdent, parseNdjson, show, JNum,
    compareCatValue, isNestedType, catComparable, TESTDATA, pool, walkPages, crc32,
} from '../node/lib/common.mjs';

const T = new Reporter();
const tmp = makeTmp('reader');
const db = await openDuck();

/* Compare `sluice cat` output rows with DuckDB's rows of the same file.
 * cols: [{name, type}] (DuckDB types) that sluice must print. */
const styleNotes = [];   // floats not in shortest round-trip form, reported once at the end
function compareRows(cols, duckRows, catRows, colIndex) {
    const problems = [];
    if (catRows.length !== duckRows.length) problems.push(`sluice printed ${catRows.length} rows, DuckDB reads ${duckRows.length}`);
    const want = cols.map((c) => c.name).sort();
    const n = Math.min(catRows.length, duckRows.length);
    for (let i = 0; i < n && problems.length < 30; i++) {
        const got = catRows[i];
        const keys = Object.keys(got).sort();
        if (keys.join('\u0001') !== want.join('\u0001')) {
            problems.push(`row ${i}: keys ${show(keys, 200)}, expected ${show(want, 200)}`);
            continue;
        }
        for (const c of cols) {
            const why = compareCatValue(c.type, duckRows[i][colIndex[c.name]], got[c.name], styleNotes);
            if (why) problems.push(`row ${i} column ${c.name} (${c.type}): ${why}`);
        }
    }
    return problems;
}

/* cat the file and compare with DuckDB; returns problems ([] = equal) */
async function catVsDuck(file, { extraArgs = [], allowNested = true } = {}) {
    const d = await db.all(`SELECT * FROM read_parquet(${sqlStr(file)})`);
    const colIndex = Object.fromEntries(d.names.map((n, i) => [n, i]));
    const cols = d.names.map((name, i) => ({ name, type: d.types[i] }));
    const flat = cols.filter((c) => !isNestedType(c.type));
    const nested = cols.filter((c) => isNestedType(c.type));
    const problems = [];
    const odd = flat.filter((c) => !catComparable(c.type));
    const args = ['cat', ...extraArgs, file];
    const res = await sluice(args);
    const bad = crashed(res);
    if (bad) return [bad, describe(res, args)];
    if (res.status !== 0) return [describe(res, args)];
    let rows;
    try { rows = parseNdjson(res.stdout); } catch (e) { return [`output is not NDJSON: ${e.message}`]; }
    for (const c of nested) if (!res.stderr.includes(c.name.split('.')[0])) problems.push(`nested column ${c.name} skipped without a note on stderr (stderr: ${show(res.stderr.trim(), 200)})`);
    problems.push(...compareRows(flat.filter((c) => catComparable(c.type)), d.rows, rows.map((r) => {
        const o = { ...r }; for (const c of odd) delete o[c.name]; return o;
    }), colIndex));
    return { problems, odd, nested, rows: d.rows.length };
}

/* ======================================================================== */
/* (a) files DuckDB writes                                                  */
/* ======================================================================== */

const NROWS = 10000;
await db.run(`CREATE TABLE src (
    id BIGINT, b BOOLEAN, ti TINYINT, si SMALLINT, ii INTEGER, bi BIGINT,
    ut UTINYINT, us USMALLINT, ui UINTEGER, ub UBIGINT,
    f FLOAT, d DOUBLE, dec9 DECIMAL(9,2), dec18 DECIMAL(18,4), dec38 DECIMAL(38,10),
    s VARCHAR, few VARCHAR, bl BLOB, dt DATE, ts TIMESTAMP, tstz TIMESTAMPTZ)`);
await db.run(`INSERT INTO src VALUES
 (0, true, -128, -32768, -2147483648, -9223372036854775807 - 1, 0, 0, 0, 0,
  'nan', 'inf', -9999999.99, 99999999999999.9999, -9999999999999999999999999999.9999999999,
  'e' || chr(769) || ' 👩‍👩‍👧‍👦 日本語', 'a', ''::BLOB, DATE '0001-01-01', TIMESTAMP '1969-12-31 23:59:59.999999', TIMESTAMPTZ '1900-01-01 00:00:00.000001+00'),
 (1, false, 127, 32767, 2147483647, 9223372036854775807, 255, 65535, 4294967295, 18446744073709551615,
  '-inf', '-0.0', 9999999.99, -99999999999999.9999, 9999999999999999999999999999.9999999999,
  '', 'b', '\\x00'::BLOB, DATE '9999-12-31', TIMESTAMP '9999-12-31 23:59:59.999999', TIMESTAMPTZ '1970-01-01 00:00:00+00'),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, true, 0, 0, 0, 0, 1, 1, 2147483648, 9223372036854775808,
  '-0.0', 'nan', 0.01, -0.0001, 0.0000000001,
  'tab' || chr(9) || 'nl' || chr(10) || 'quote" back\\ nul' || chr(1), 'c', '\\xFF\\xFE\\x00\\x80abc'::BLOB, DATE '1969-12-31', TIMESTAMP '1970-01-01 00:00:00.000001', TIMESTAMPTZ '2262-04-11 23:47:16.854775+00'),
 (4, false, -1, -1, -1, -1, 128, 32768, 1, 9007199254740993,
  3.4028235e38, 1.7976931348623157e308, -0.01, 0.0001, -0.0000000001,
  repeat('long ', 50000), 'd', repeat('\\xAB', 1000)::BLOB, DATE '2000-02-29', TIMESTAMP '1900-03-01 12:34:56.5', TIMESTAMPTZ '1600-02-29 00:00:00+00'),
 (5, true, 1, 1, 1, 1, 2, 2, 3, 4,
  1.401298464324817e-45, 5e-324, 1.5, 1.5, 1.5,
  '😀', NULL, NULL, DATE '1970-01-01', TIMESTAMP '0001-01-01 00:00:00', NULL)`);
await db.run(`INSERT INTO src SELECT
    i,
    CASE WHEN i % 7 = 0 THEN NULL ELSE i % 3 = 0 END,
    CASE WHEN i % 11 = 1 THEN NULL ELSE ((i * 37) % 256 - 128)::TINYINT END,
    ((i * 7919) % 65536 - 32768)::SMALLINT,
    CASE WHEN i % 13 = 2 THEN NULL ELSE ((hash(i) % 4294967296)::BIGINT - 2147483648)::INTEGER END,
    (hash(i)::HUGEINT - 9223372036854775808)::BIGINT,
    (i % 256)::UTINYINT, ((i * 7) % 65536)::USMALLINT, (hash(i * 5) % 4294967296)::UINTEGER,
    CASE WHEN i % 17 = 3 THEN NULL ELSE hash(i * 3) END,
    CASE WHEN i % 5 = 0 THEN NULL ELSE (i / 7.0 - 500)::FLOAT * (10::FLOAT ** ((i % 20) - 10)) END,
    CASE WHEN i % 5 = 1 THEN NULL ELSE (i::DOUBLE / 3 - 1000) * pow(10, (i % 40) - 20) END,
    CASE WHEN i % 6 = 0 THEN NULL ELSE (((hash(i) % 199999999)::BIGINT - 99999999) / 100)::DECIMAL(9,2) END,
    (((hash(i + 1) % 1999999999999999)::BIGINT - 999999999999999) / 10000)::DECIMAL(18,4),
    (hash(i + 2)::DOUBLE / 1e7 - 9e11)::DECIMAL(38,10),
    CASE WHEN i % 9 = 0 THEN NULL WHEN i % 9 = 1 THEN '' ELSE 'str-' || i || ' ünï 😀 ' || repeat('x', i % 50) END,
    ['alpha', 'beta', 'γάμμα', '🚀'][i % 4 + 1],
    CASE WHEN i % 8 = 0 THEN NULL ELSE ('\\x00\\xFF\\x80'::BLOB || (i::VARCHAR)::BLOB) END,
    CASE WHEN i % 10 = 0 THEN NULL ELSE DATE '1970-01-01' + ((hash(i) % 200000)::INTEGER - 100000) END,
    CASE WHEN i % 10 = 1 THEN NULL ELSE make_timestamp((hash(i) % 8000000000000000)::BIGINT - 4000000000000000) END,
    make_timestamp((hash(i * 11) % 4000000000000000)::BIGINT - 1000000000000000)::TIMESTAMPTZ
  FROM range(6, ${NROWS}) t(i)`);

const duckFiles = [
    { label: 'duck-uncompressed', opts: 'COMPRESSION uncompressed', codec: 'UNCOMPRESSED' },
    { label: 'duck-snappy', opts: 'COMPRESSION snappy', codec: 'SNAPPY' },
    { label: 'duck-gzip', opts: 'COMPRESSION gzip', codec: 'GZIP' },
    { label: 'duck-zstd', opts: 'COMPRESSION zstd', codec: 'ZSTD' },
    { label: 'duck-lz4', opts: 'COMPRESSION lz4', codec: 'LZ4_RAW' },
    { label: 'duck-v2-zstd', opts: "COMPRESSION zstd, PARQUET_VERSION V2", codec: 'ZSTD' },
    { label: 'duck-v2-snappy-small-rg', opts: "COMPRESSION snappy, PARQUET_VERSION V2, ROW_GROUP_SIZE 2048", codec: 'SNAPPY', minRg: 4 },
    { label: 'duck-many-rg', opts: 'COMPRESSION zstd, ROW_GROUP_SIZE 2048', codec: 'ZSTD', minRg: 4 },
    { label: 'duck-nodict', opts: 'COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 1', codec: 'SNAPPY' },
];
for (const f of duckFiles) {
    f.path = path.join(tmp, f.label + '.parquet');
    try {
        await db.run(`COPY (SELECT * FROM src ORDER BY id) TO ${sqlStr(f.path)} (FORMAT parquet, ${f.opts})`);
    } catch (e) {
        T.skip(f.label, `DuckDB cannot write it: ${e.message.split('\n')[0]}`);
        f.path = null;
    }
}

for (const f of duckFiles) {
    if (!f.path) continue;
    await T.guard(f.label, async () => {
        const md = await db.objs(`SELECT DISTINCT row_group_id, compression, encodings FROM parquet_metadata(${sqlStr(f.path)})`);
        const rgs = new Set(md.map((m) => String(m.row_group_id))).size;
        const codecs = [...new Set(md.map((m) => m.compression))];
        const encs = [...new Set(md.flatMap((m) => String(m.encodings).split(/,\s*/)))].sort();
        const r = await catVsDuck(f.path);
        const probs = Array.isArray(r) ? r : r.problems;
        if (codecs.join() !== f.codec) probs.unshift(`(test setup) DuckDB wrote codec ${codecs}, expected ${f.codec}`);
        if (f.minRg && rgs < f.minRg) probs.unshift(`(test setup) only ${rgs} row groups`);
        if (!Array.isArray(r) && r.odd.length) probs.push(`columns of types this test cannot compare: ${r.odd.map((c) => c.name + ' ' + c.type)}`);
        T.check(`${f.label} (${NROWS} rows, ${rgs} row group(s), ${codecs}, encodings ${encs.join('/')}) cat == DuckDB`, probs);
    });
}

/* ======================================================================== */
/* (b) parquet-testing files                                                */
/* ======================================================================== */

const ptDir = path.join(TESTDATA, 'parquet-testing');
const ptFiles = fs.existsSync(ptDir) ? fs.readdirSync(ptDir).filter((n) => n.endsWith('.parquet')).sort() : [];
if (!ptFiles.length) T.fail('parquet-testing', `no *.parquet files in ${ptDir}`);
for (const name of ptFiles) {
    const file = path.join(ptDir, name);
    const label = `testing/${name}`;
    await T.guard(label, async () => {
        if (/corrupt/i.test(name)) {
            const res = await sluice(['cat', file]);
            const probs = [];
            const c = crashed(res); if (c) probs.push(c);
            if (res.status === 0) probs.push('exit 0 for a file with a corrupt checksum');
            if (!res.stderr.includes(name)) probs.push(`stderr does not name the file: ${show(res.stderr.trim(), 300)}`);
            T.check(`${label}: corrupt file rejected with an error naming it`, probs);
            return;
        }
        try {
            await db.all(`SELECT count(*) FROM read_parquet(${sqlStr(file)})`);
        } catch (e) {
            // DuckDB cannot read it; sluice still must not crash
            const res = await sluice(['cat', file]);
            const c = crashed(res);
            if (c) T.fail(`${label}: no crash`, c);
            else T.skip(label, `DuckDB cannot read it (${e.message.split('\n')[0]}); sluice exit ${res.status} without crashing`);
            return;
        }
        const r = await catVsDuck(file);
        if (Array.isArray(r)) { T.fail(label, r.join('\n')); return; }
        const notes = [];
        if (r.nested.length) notes.push(`nested skipped: ${r.nested.map((c) => c.name).join(',')}`);
        if (r.odd.length) notes.push(`not compared (types): ${r.odd.map((c) => c.name + ' ' + c.type).join(',')}`);
        T.check(`${label} (${r.rows} rows${notes.length ? '; ' + notes.join('; ') : ''}) cat == DuckDB`, r.problems);
    });
}

/* ======================================================================== */
/* round trip: sluice writes, sluice and DuckDB read                         */
/* ======================================================================== */

await T.guard('roundtrip', async () => {
    const src = path.join(tmp, 'rt.ndjson'), out = path.join(tmp, 'rt.parquet');
    const lines = [];
    for (let i = 0; i < 3000; i++) {
        lines.push(JSON.stringify({
            id: i, neg: -i * 1000003, f: i % 10 === 0 ? null : i / 7, ok: i % 3 === 0, s: i % 5 ? `s${i % 37} ✓` : null,
            at: new Date(Date.UTC(1960, 0, 1) + i * 86400001 * 7).toISOString(), day: new Date(Date.UTC(1950, 0, 1) + i * 86400000 * 13).toISOString().slice(0, 10),
        }));
    }
    fs.writeFileSync(src, lines.join('\n') + '\n');
    const args = ['convert', '--schema', 'id:int64!,neg:int64,f:double,ok:bool,s:string,at:timestamp,day:date', '--row-group-rows', '1000', src, out];
    const res = await sluice(args);
    if (crashed(res) || res.status !== 0) { T.fail('roundtrip (sluice convert -> sluice cat == DuckDB)', describe(res, args)); return; }
    const r = await catVsDuck(out);
    T.check('roundtrip (sluice convert -> sluice cat == DuckDB)', Array.isArray(r) ? r : r.problems);
});

await T.guard('crc', async () => {
    // A page whose body no longer matches its CRC: sluice must refuse the file
    // (exit non-zero, naming it), not print wrong values.
    const src = path.join(tmp, 'crc.ndjson'), out = path.join(tmp, 'crc.parquet'), bad = path.join(tmp, 'crc-corrupt.parquet');
    fs.writeFileSync(src, Array.from({ length: 500 }, (_, i) => JSON.stringify({ n: i * 3, s: `value ${i}` })).join('\n') + '\n');
    const args = ['convert', '--schema', 'n:int64!,s:string!', '--codec', 'none', '--no-dictionary', src, out];
    const res = await sluice(args);
    if (crashed(res) || res.status !== 0) { T.fail('corrupt page CRC', describe(res, args)); return; }
    const buf = fs.readFileSync(out);
    const md = await db.objs(`SELECT data_page_offset, total_compressed_size FROM parquet_metadata(${sqlStr(out)}) WHERE path_in_schema = 'n'`);
    const pages = walkPages(buf, Number(md[0].data_page_offset), Number(md[0].total_compressed_size));
    if (pages[0].crc === null) { T.fail('corrupt page CRC', 'the writer wrote no page CRC, nothing to check'); return; }
    if (crc32(buf, pages[0].body, pages[0].compressed) !== pages[0].crc) { T.fail('corrupt page CRC', 'the writer\'s CRC is already wrong'); return; }
    const b2 = Buffer.from(buf);
    b2[pages[0].body + Math.floor(pages[0].compressed / 2)] ^= 0x10;   // a value byte: still decodable, wrong value
    fs.writeFileSync(bad, b2);
    const r = await sluice(['cat', bad]);
    const probs = [];
    const c = crashed(r); if (c) probs.push(c);
    if (r.status === 0) probs.push('exit 0: printed the corrupted page');
    if (!r.stderr.includes(bad)) probs.push(`stderr does not name the file: ${show(r.stderr.trim(), 300)}`);
    if (!/crc|checksum/i.test(r.stderr)) probs.push(`stderr does not say checksum/CRC: ${show(r.stderr.trim(), 300)}`);
    T.check('page with a corrupt CRC -> cat exits non-zero naming the file and the checksum', probs);
});

/* ======================================================================== */
/* cat flags and schema                                                     */
/* ======================================================================== */

const main = duckFiles.find((f) => f.label === 'duck-many-rg' && f.path) ?? duckFiles.find((f) => f.path);
if (main) {
    const all = await db.all(`SELECT * FROM read_parquet(${sqlStr(main.path)})`);
    const idx = Object.fromEntries(all.names.map((n, i) => [n, i]));
    const typeOf = Object.fromEntries(all.names.map((n, i) => [n, all.types[i]]));
    const cmpSubset = (names, rows, n) => compareRows(names.map((name) => ({ name, type: typeOf[name] })), all.rows.slice(0, n), rows, idx);

    await T.guard('cat --columns --limit', async () => {
        const args = ['cat', '--columns', 's,id,tstz', '--limit', '7', main.path];
        const res = await sluice(args);
        if (crashed(res) || res.status !== 0) { T.fail('cat --columns s,id,tstz --limit 7', describe(res, args)); return; }
        const rows = parseNdjson(res.stdout);
        T.check('cat --columns s,id,tstz --limit 7', cmpSubset(['s', 'id', 'tstz'], rows, 7));
    });
    await T.guard('cat --limit across row groups', async () => {
        const args = ['cat', '--limit', '5000', main.path];
        const res = await sluice(args);
        if (crashed(res) || res.status !== 0) { T.fail('cat --limit 5000 (spans row groups)', describe(res, args)); return; }
        T.check('cat --limit 5000 (spans row groups)', cmpSubset(all.names, parseNdjson(res.stdout), 5000));
    });
    await T.guard('cat --limit 0', async () => {
        const res = await sluice(['cat', '--limit', '0', main.path]);
        const probs = [];
        if (crashed(res) || res.status !== 0) probs.push(describe(res, ['cat', '--limit', '0', main.path]));
        else if (res.stdout.length) probs.push(`printed ${res.stdout.toString().split('\n').length - 1} lines`);
        T.check('cat --limit 0 prints nothing', probs);
    });
    await T.guard('cat --columns unknown', async () => {
        const res = await sluice(['cat', '--columns', 'id,no_such_col', main.path]);
        const probs = [];
        const c = crashed(res); if (c) probs.push(c);
        if (res.status === 0) probs.push('exit 0');
        if (!res.stderr.includes('no_such_col')) probs.push(`stderr does not name the column: ${show(res.stderr.trim(), 200)}`);
        T.check('cat --columns with an unknown column -> error naming it', probs);
    });
    await T.guard('cat --format csv', async () => {
        const args = ['cat', '--format', 'csv', '--columns', 'id,bi,ub,s,dt', '--limit', '300', main.path];
        const res = await sluice(args);
        if (crashed(res) || res.status !== 0) { T.fail('cat --format csv', describe(res, args)); return; }
        const recs = parseCsv(res.stdout.toString('utf8'));
        const probs = [];
        const header = recs.shift();
        if (!header || header.join(',') !== 'id,bi,ub,s,dt') probs.push(`header ${show(header)}, expected id,bi,ub,s,dt`);
        if (recs.length !== 300) probs.push(`${recs.length} records, expected 300`);
        for (let i = 0; i < Math.min(300, recs.length) && probs.length < 20; i++) {
            const d = all.rows[i];
            const [id, bi, ub, s, dt] = recs[i];
            const intCell = (v) => (v === null ? '' : String(v));
            if (id !== intCell(d[idx.id])) probs.push(`row ${i} id ${id}, expected ${d[idx.id]}`);
            if (bi !== intCell(d[idx.bi])) probs.push(`row ${i} bi ${bi}, expected ${d[idx.bi]}`);
            if (ub !== intCell(d[idx.ub])) probs.push(`row ${i} ub ${ub}, expected ${d[idx.ub]}`);
            const sv = d[idx.s];
            if (sv !== null && s !== sv) probs.push(`row ${i} s ${show(s)}, expected ${show(sv)}`);
            if (sv === null && s !== '') probs.push(`row ${i} s ${show(s)}, expected empty for null`);
            const dv = d[idx.dt];
            if (dv !== null && compareCatValue('DATE', dv, dt)) probs.push(`row ${i} dt ${dt}: ${compareCatValue('DATE', dv, dt)}`);
        }
        T.check('cat --format csv (header, RFC 4180 quoting of strings with quotes/newlines, values)', probs);
    });
    await T.guard('schema', async () => {
        for (const f of duckFiles.filter((x) => x.path && ['duck-gzip', 'duck-v2-zstd', 'duck-lz4'].includes(x.label))) {
            const res = await sluice(['schema', f.path]);
            const probs = [];
            if (crashed(res) || res.status !== 0) probs.push(describe(res, ['schema', f.path]));
            else {
                const out = res.stdout.toString('utf8');
                if (!out.includes(f.codec)) probs.push(`output does not mention codec ${f.codec}`);
                const md = await db.objs(`SELECT DISTINCT encodings FROM parquet_metadata(${sqlStr(f.path)})`);
                const encs = new Set(md.flatMap((m) => String(m.encodings).split(/,\s*/)));
                for (const e of encs) if (!out.includes(e)) probs.push(`output does not mention encoding ${e}`);
                for (const n of all.names) if (!new RegExp(`(^|\\W)${n}(\\W|$)`).test(out)) probs.push(`output does not mention column ${n}`);
                if (!/10\s?000|10,000/.test(out)) probs.push('output does not show the row count 10000');
                if (probs.length) probs.push('output was:\n' + out.split('\n').slice(0, 30).join('\n'));
            }
            T.check(`schema ${path.basename(f.path)} mentions codec ${f.codec}, every encoding, every column, row count`, probs);
        }
        const res = await sluice(['schema', '--json', main.path]);
        const probs = [];
        if (crashed(res) || res.status !== 0) probs.push(describe(res, ['schema', '--json', main.path]));
        else {
            let j;
            try { j = JSON.parse(res.stdout.toString('utf8')); } catch (e) { probs.push(`not JSON: ${e.message}`); }
            if (j !== undefined) {
                const text = JSON.stringify(j);
                for (const n of all.names) if (!text.includes(`"${n}"`)) probs.push(`no column "${n}" in the JSON`);
                if (!text.includes('ZSTD')) probs.push('JSON does not mention ZSTD');
            }
        }
        T.check('schema --json is JSON naming every column and the codec', probs);
    });
}

T.check('cat prints FLOAT/DOUBLE in shortest round-trip form (all files above)', [...new Set(styleNotes)]);

/* RFC 4180 parser: returns arrays of fields */
function parseCsv(text) {
    const recs = [];
    let rec = [], field = '', i = 0, quoted = false, any = false;
    while (i < text.length) {
        const c = text[i];
        if (quoted) {
            if (c === '"') { if (text[i + 1] === '"') { field += '"'; i += 2; continue; } quoted = false; i++; continue; }
            field += c; i++; continue;
        }
        if (c === '"' && field === '') { quoted = true; any = true; i++; continue; }
        if (c === ',') { rec.push(field); field = ''; i++; any = true; continue; }
        if (c === '\r' && text[i + 1] === '\n') { i++; continue; }
        if (c === '\n') { rec.push(field); recs.push(rec); rec = []; field = ''; any = false; i++; continue; }
        field += c; any = true; i++;
    }
    if (any || field !== '' || rec.length) { rec.push(field); recs.push(rec); }
    return recs;
}

db.close();
process.exitCode = T.failed ? 1 : 0;
