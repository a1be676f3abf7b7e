// Acceptance test for the Parquet writer: files written by `sluice convert`
// must read back in DuckDB (an independent reader) with every value equal to
// the source, the right logical types, repetition, statistics and codec.
//
// Cases:
//   codec-*          every type + edge values, --schema, each codec; values,
//                    parquet_schema, parquet_metadata (stats, codec,
//                    encodings), page headers parsed independently
//   nodict           --no-dictionary: no dictionary pages/encodings
//   tiny             --page-bytes 4096 --row-group-rows 1000: many pages/row groups
//   infer-*          NDJSON without --schema: inferred DuckDB types and values
//   csv-*, tsv-*     CSV / TSV input
//   gz / zst / stdin compressed and piped input
//   bad-records      malformed lines: good rows land, stderr names the lines
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
    Reporter, makeTmp, sluice, run, crashed, describe, pool, openDuck, sqlStr, sqlIdent,
    toJson, tsStr, dateStr, parseTs, parseDate, fmtNum, show, cmpUtf8, rng, parseNdjson, JNum, walkPages, crc32, numFromCat,
} from '../node/lib/common.mjs';

const T = new Reporter();
const tmp = makeTmp('pqduck');
const db = await openDuck();
const N = Number(process.env.PQ_ROWS ?? 12000);

/* ======================================================================== */
/* the data set                                                             */
/* ======================================================================== */

const COLS = [
    ['b', 'bool'], ['b_req', 'bool!'],
    ['i32', 'int32'], ['i32_req', 'int32!'],
    ['i64', 'int64'], ['i64_req', 'int64!'],
    ['f', 'float'], ['d', 'double'], ['d_req', 'double!'],
    ['s', 'string'], ['s_req', 'string!'], ['s_distinct', 'string'], ['s_few', 'string'],
    ['ts', 'timestamp'], ['ts_req', 'timestamp!'],
    ['dt', 'date'], ['dt_req', 'date!'],
].map(([name, t]) => ({ name, type: t.replace('!', ''), req: t.endsWith('!') }));
const SCHEMA = COLS.map((c) => `${c.name}:${c.type}${c.req ? '!' : ''}`).join(',');

/* How non-finite doubles are spelled in NDJSON input (JSON has no literal
 * for them): the same strings `sluice cat` prints. */
const NONFINITE_JSON = { NaN: '"NaN"', Infinity: '"Infinity"', '-Infinity': '"-Infinity"' };

const ts = (text) => ({ us: parseTs(text), text });
const date = (text) => ({ days: parseDate(text), text });
/* a string whose JSON spelling is given explicitly (escapes) */
const jstr = (value, json) => ({ str: value, json });

const EDGE_STRINGS = [
    '', ' ', 'a', 'héllo wörld', '日本語テキスト', 'Ελληνικά', 'עברית', 'مرحبا',
    '😀', '👩‍👩‍👧‍👦 family', '🏳️‍🌈', 'e\u0301 (e + combining acute)', 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
    'tab\there', 'new\nline', 'cr\rlf\r\n', 'quote " and \\ backslash', 'nul\u0000byte', '\u007f\u0001\u001f',
    jstr('é via escape', '"\\u00e9 via escape"'), jstr('😀 via surrogate escapes', '"\\ud83d\\ude00 via surrogate escapes"'),
    jstr('/solidus/', '"\\/solidus\\/"'), jstr('\b\f', '"\\b\\f"'),
    '\uffff max BMP', '\u{10ffff} max code point', 'trailing space ', '  leading',
    'x'.repeat(1000),
];
const LONG_STRINGS = [
    'L'.repeat(300000) + ' end',
    '長い文字列'.repeat(20000),          // 300 KB of 3-byte chars
    '🎉'.repeat(70000),                 // 280 KB of 4-byte chars
];
const FEW = ['alpha', 'beta', 'gamma', 'δέλτα', '🚀', ''];

const I32_EDGE = [-2147483648n, 2147483647n, 0n, -1n, 1n, -2147483647n, 2147483646n];
const I64_EDGE = [-9223372036854775808n, 9223372036854775807n, 0n, -1n, 1n, 9007199254740993n,
    -9007199254740993n, 4294967296n, -4294967297n, 9223372036854775806n, -9223372036854775807n];
const F32_EDGE = [0, -0, 1.5, -1.5, 0.1, 3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45,
    1.1754943508222875e-38, 16777217, NaN, Infinity, -Infinity, 123456.789, 1e-10];
const F64_EDGE = [0, -0, 1.5, 0.1, 1 / 3, -2 / 3, 1e300, -1e-300, 5e-324, 1.7976931348623157e308,
    -1.7976931348623157e308, 2.2250738585072014e-308, 123456789012345680000, 42, -7, 9007199254740993,
    NaN, Infinity, -Infinity, 0.30000000000000004];
const TS_EDGE = [
    '1970-01-01T00:00:00Z', '1969-12-31T23:59:59.999999Z', '1970-01-01T00:00:00.000001Z',
    '1969-07-20T20:17:40.5Z', '2000-02-29T12:34:56.789Z', '1900-01-01T00:00:00Z', '1899-12-31T23:59:59.123456Z',
    '2038-01-19T03:14:08Z', '9999-12-31T23:59:59.999999Z', '0001-01-01T00:00:00Z', '1600-02-29T00:00:00.000100Z',
    '2024-05-01T12:00:00.1Z', '2262-04-11T23:47:16.854775Z',
].map(ts);
const DATE_EDGE = ['1970-01-01', '1969-12-31', '1900-01-01', '1900-03-01', '2000-02-29', '2100-12-31',
    '0001-01-01', '9999-12-31', '1583-10-15', '2024-02-29'].map(date);

function genRows() {
    const r = rng(12345);
    const rows = [];
    const pick = (edge, i, gen) => (i < edge.length ? edge[i] : (r() < 0.1 ? r.pick(edge) : gen()));
    const nul = (i, p = 0.15) => i >= 30 && r() < p;     // nulls only after the first rows of edge values
    const randStr = () => {
        const parts = ['a', 'ß', 'ø', '中', '文', '🙂', 'z', ' ', '9', 'Ω', 'q', 'w', 'e'];
        let s = '';
        const n = r.int(24);
        for (let k = 0; k < n; k++) s += r.pick(parts);
        return s;
    };
    const randTs = () => {
        // 1900..2100 with random µs
        const us = BigInt(Math.floor((r() * 200 - 70) * 365.2425 * 86400)) * 1000000n + BigInt(r.int(1000000));
        const text = tsStr(us);
        return { us, text };
    };
    const randDate = () => { const days = r.int(200 * 366) - 70 * 366; return { days, text: dateStr(days) }; };
    for (let i = 0; i < N; i++) {
        const row = {};
        row.b = nul(i) ? null : r() < 0.5;
        row.b_req = i === 0 ? false : i === 1 ? true : r() < 0.3;
        row.i32 = nul(i) ? null : pick(I32_EDGE, i, () => BigInt(r.int(2 ** 32) - 2 ** 31));
        row.i32_req = pick(I32_EDGE.slice().reverse(), i, () => BigInt(r.int(2000) - 1000));
        row.i64 = nul(i) ? null : pick(I64_EDGE, i, () => r.big64());
        row.i64_req = pick(I64_EDGE.slice().reverse(), i, () => BigInt(r.int(1e9)) * 1000003n);
        row.f = nul(i) ? null : Math.fround(pick(F32_EDGE, i, () => (r() - 0.5) * 10 ** r.int(20)));
        row.d = nul(i) ? null : pick(F64_EDGE, i, () => (r() - 0.5) * 10 ** (r.int(40) - 20));
        row.d_req = pick(F64_EDGE.slice(0, 16), i, () => r.int(1000) / 8);
        if (i < EDGE_STRINGS.length) row.s = EDGE_STRINGS[i];
        else if (i >= 100 && i < 100 + LONG_STRINGS.length) row.s = LONG_STRINGS[i - 100];
        else row.s = nul(i, 0.2) ? null : r() < 0.3 ? r.pick(EDGE_STRINGS) : randStr();
        row.s_req = i < 3 ? ['', '\u0000', '😀'][i] : randStr();
        // few values first (the dictionary pays on the first page), then many
        // distinct ones (~450 bytes each, > 1 MiB in the chunk): the writer must
        // fall back from the dictionary in the middle of the chunk
        row.s_distinct = nul(i, 0.02) ? null : i < 8500 ? `few-${i % 7}`
            : `${i.toString(36)}:${(i * 2654435761 % 4294967296).toString(16)}:` + 'ü'.repeat(20) + 'd'.repeat(380 + (i % 40));
        row.s_few = nul(i, 0.1) ? null : r.pick(FEW);
        row.ts = nul(i) ? null : pick(TS_EDGE, i, randTs);
        row.ts_req = pick(TS_EDGE.slice().reverse(), i, randTs);
        row.dt = nul(i) ? null : pick(DATE_EDGE, i, randDate);
        row.dt_req = pick(DATE_EDGE.slice().reverse(), i, randDate);
        rows.push(row);
    }
    return rows;
}

const strOf = (v) => (v && typeof v === 'object' && 'str' in v ? v.str : v);

function jsonValue(type, v) {
    if (v === null) return 'null';
    switch (type) {
        case 'bool': return v ? 'true' : 'false';
        case 'int32': case 'int64': return v.toString();
        case 'float': case 'double':
            if (!Number.isFinite(v)) return NONFINITE_JSON[String(v)];
            return Object.is(v, -0) ? '-0.0' : String(v);
        case 'string': return typeof v === 'object' ? v.json : JSON.stringify(v);
        case 'timestamp': case 'date': return JSON.stringify(v.text);
    }
    throw new Error('type ' + type);
}

/* NDJSON text: nulls are written as null or left out, alternately. */
function toNdjson(cols, rows) {
    const out = [];
    rows.forEach((row, i) => {
        const parts = [];
        for (const c of cols) {
            const v = row[c.name];
            if (v === null && i % 2 === 1) continue;   // absent key == null
            parts.push(JSON.stringify(c.name) + ':' + jsonValue(c.type, v));
        }
        if (i % 3 === 0) parts.reverse();               // key order must not matter
        out.push('{' + parts.join(',') + '}');
    });
    return out.join('\n') + '\n';
}

/* ======================================================================== */
/* comparing DuckDB values with the source                                  */
/* ======================================================================== */

const DUCK_TYPE = {
    bool: 'BOOLEAN', int32: 'INTEGER', int64: 'BIGINT', float: 'FLOAT', double: 'DOUBLE',
    string: 'VARCHAR', timestamp: ['TIMESTAMP WITH TIME ZONE'], date: 'DATE',
};

/* null if DuckDB's value equals the source value, else a reason */
function cmpDuck(type, want, got) {
    if (want === null) return got === null ? null : `expected null, got ${show(got)}`;
    if (got === null) return `expected ${show(strOf(want))}, got null`;
    switch (type) {
        case 'bool': return got === want ? null : `expected ${want}, got ${got}`;
        case 'int32': case 'int64': return BigInt(got) === want ? null : `expected ${want}, got ${got}`;
        case 'float': return Object.is(got, Math.fround(want)) ? null : `expected ${fmtNum(Math.fround(want))}, got ${fmtNum(got)}`;
        case 'double': return Object.is(got, want) ? null : `expected ${fmtNum(want)}, got ${fmtNum(got)}`;
        case 'string': { const w = strOf(want); return got === w ? null : `expected ${show(w)}, got ${show(got)}`; }
        case 'timestamp': return got.micros === want.us ? null : `expected ${want.text} (${tsStr(want.us)}), got ${tsStr(got.micros)}`;
        case 'date': return got.days === want.days ? null : `expected ${want.text}, got ${dateStr(got.days)}`;
    }
    return 'unknown type ' + type;
}

async function compareValues(file, cols, rows) {
    const res = await db.all(`SELECT ${cols.map((c) => sqlIdent(c.name)).join(', ')} FROM read_parquet(${sqlStr(file)})`);
    const problems = [];
    if (res.rows.length !== rows.length) problems.push(`DuckDB read ${res.rows.length} rows, expected ${rows.length}`);
    const n = Math.min(res.rows.length, rows.length);
    for (let i = 0; i < n && problems.length < 30; i++) {
        for (let j = 0; j < cols.length; j++) {
            const why = cmpDuck(cols[j].type, rows[i][cols[j].name], res.rows[i][j]);
            if (why) problems.push(`row ${i} column ${cols[j].name}: ${why}`);
        }
    }
    return problems;
}

/* ======================================================================== */
/* metadata checks                                                          */
/* ======================================================================== */

function statParse(type, s) {
    if (s === null || s === undefined) return undefined;
    switch (type) {
        case 'bool': return s === 'true' ? true : s === 'false' ? false : undefined;
        case 'int32': case 'int64': return BigInt(s);
        case 'float': case 'double': {
            const x = /^-?inf/i.test(s) ? (s[0] === '-' ? -Infinity : Infinity) : /^nan$/i.test(s) ? NaN : Number(s);
            return type === 'float' ? Math.fround(x) : x;
        }
        case 'string': return s;
        case 'timestamp': return parseTs(s);
        case 'date': return parseDate(s);
    }
}
function srcKey(type, v) {
    switch (type) {
        case 'timestamp': return v.us;
        case 'date': return v.days;
        case 'string': return strOf(v);
        case 'float': return Math.fround(v);
        default: return v;
    }
}
function less(type, a, b) {
    if (type === 'string') return cmpUtf8(a, b) < 0;
    if (type === 'bool') return !a && b;
    return a < b;
}
function eqStat(type, a, b) {
    if (type === 'float' || type === 'double') return a === b; // -0 == 0 on purpose (spec allows either zero)
    return a === b;
}

async function checkMetadata(label, file, cols, rows, expect) {
    const problems = [];
    // --- schema: physical/logical types and repetition
    const sch = await db.objs(`SELECT * FROM parquet_schema(${sqlStr(file)})`);
    const byName = Object.fromEntries(sch.map((r) => [r.name, r]));
    const PHYS = { bool: 'BOOLEAN', int32: 'INT32', int64: 'INT64', float: 'FLOAT', double: 'DOUBLE', string: 'BYTE_ARRAY', timestamp: 'INT64', date: 'INT32' };
    for (const c of cols) {
        const s = byName[c.name];
        if (!s) { problems.push(`parquet_schema: no column ${c.name}`); continue; }
        if (s.type !== PHYS[c.type]) problems.push(`${c.name}: physical type ${s.type}, expected ${PHYS[c.type]}`);
        const rep = c.req ? 'REQUIRED' : 'OPTIONAL';
        if (s.repetition_type !== rep) problems.push(`${c.name}: repetition ${s.repetition_type}, expected ${rep}`);
        const lt = s.logical_type ?? '', ct = s.converted_type ?? '';
        if (c.type === 'string' && !(ct === 'UTF8' && (lt === '' || /StringType/.test(lt))))
            problems.push(`${c.name}: string column has converted_type=${ct} logical_type=${lt}, expected UTF8 / StringType`);
        if (c.type === 'timestamp') {
            if (!/TimestampType\(isAdjustedToUTC=(1|true)/.test(lt) || !/MICROS=MicroSeconds/.test(lt))
                problems.push(`${c.name}: logical_type ${lt || '(none)'}, expected TimestampType(isAdjustedToUTC=1, MICROS)`);
            if (ct !== 'TIMESTAMP_MICROS') problems.push(`${c.name}: converted_type ${ct || '(none)'}, expected TIMESTAMP_MICROS`);
        }
        if (c.type === 'date' && !(ct === 'DATE' && (lt === '' || /DateType/.test(lt))))
            problems.push(`${c.name}: converted_type=${ct} logical_type=${lt}, expected DATE`);
        if (c.type === 'int32' && !(ct === '' || ct === 'INT_32')) problems.push(`${c.name}: converted_type ${ct}`);
        if (c.type === 'int64' && !(ct === '' || ct === 'INT_64')) problems.push(`${c.name}: converted_type ${ct}`);
        const dt = Array.isArray(DUCK_TYPE[c.type]) ? DUCK_TYPE[c.type] : [DUCK_TYPE[c.type]];
        if (!dt.includes(s.duckdb_type)) problems.push(`${c.name}: DuckDB reads it as ${s.duckdb_type}, expected ${dt.join(' or ')}`);
    }
    // --- file metadata
    const fm = (await db.objs(`SELECT * FROM parquet_file_metadata(${sqlStr(file)})`))[0];
    if (BigInt(fm.num_rows) !== BigInt(rows.length)) problems.push(`num_rows ${fm.num_rows}, expected ${rows.length}`);
    if (!/sluice/i.test(fm.created_by ?? '')) problems.push(`created_by ${show(fm.created_by)} does not name sluice`);
    // --- column chunks
    const md = await db.objs(`SELECT * FROM parquet_metadata(${sqlStr(file)}) ORDER BY row_group_id, column_id`);
    const rgRows = new Map();
    for (const m of md) rgRows.set(Number(m.row_group_id), Number(m.row_group_num_rows));
    const nrg = rgRows.size;
    let start = 0;
    const rgStart = [];
    for (let g = 0; g < nrg; g++) { rgStart.push(start); start += rgRows.get(g) ?? 0; }
    if (start !== rows.length) problems.push(`row groups hold ${start} rows, expected ${rows.length}`);
    if (expect.rowGroups !== undefined && nrg !== expect.rowGroups) problems.push(`${nrg} row groups, expected ${expect.rowGroups}`);
    if (expect.maxRgRows) for (const [g, n] of rgRows) if (n > expect.maxRgRows) problems.push(`row group ${g} has ${n} rows > ${expect.maxRgRows}`);
    const buf = fs.readFileSync(file);
    const pageCounts = {};
    let crcPages = 0;
    for (const m of md) {
        const g = Number(m.row_group_id);
        const c = cols.find((x) => x.name === m.path_in_schema);
        if (!c) { problems.push(`unexpected column ${m.path_in_schema}`); continue; }
        const where = `rg ${g} ${c.name}`;
        if (m.compression !== expect.codec) problems.push(`${where}: compression ${m.compression}, expected ${expect.codec}`);
        const slice = rows.slice(rgStart[g], rgStart[g] + rgRows.get(g));
        let nulls = 0, min, max, hasNaN = false;
        for (const row of slice) {
            const v = row[c.name];
            if (v === null) { nulls++; continue; }
            const k = srcKey(c.type, v);
            if (typeof k === 'number' && Number.isNaN(k)) { hasNaN = true; continue; }
            if (min === undefined || less(c.type, k, min)) min = k;
            if (max === undefined || less(c.type, max, k)) max = k;
        }
        if (m.stats_null_count === null || BigInt(m.stats_null_count) !== BigInt(nulls))
            problems.push(`${where}: null_count ${m.stats_null_count}, expected ${nulls}`);
        const gotMin = statParse(c.type, m.stats_min_value), gotMax = statParse(c.type, m.stats_max_value);
        // Writers may leave float min/max out of a chunk that holds NaN (DuckDB
        // does); present values must still be right.
        const nanSkip = (c.type === 'float' || c.type === 'double') && hasNaN && gotMin === undefined && gotMax === undefined;
        if (min !== undefined && !nanSkip) {
            if (gotMin === undefined || !eqStat(c.type, gotMin, min)) problems.push(`${where}: min ${show(m.stats_min_value)}, expected ${show(min)}`);
            if (gotMax === undefined || !eqStat(c.type, gotMax, max)) problems.push(`${where}: max ${show(m.stats_max_value)}, expected ${show(max)}`);
            if (Number.isNaN(gotMin) || Number.isNaN(gotMax)) problems.push(`${where}: NaN in min/max statistics`);
        }
        const enc = String(m.encodings ?? '');
        const dictEnc = /DICTIONARY/.test(enc);
        if (expect.noDict && (dictEnc || m.dictionary_page_offset !== null)) problems.push(`${where}: dictionary used with --no-dictionary (encodings ${enc})`);
        if (!expect.noDict && c.name === 's_few' && !dictEnc) problems.push(`${where}: few distinct values but no dictionary encoding (encodings ${enc})`);
        if (!expect.noDict && c.name === 's_distinct' && nrg === 1 &&
            !(dictEnc && /(^|,\s*)(PLAIN|DELTA_LENGTH_BYTE_ARRAY)(,|$)/.test(enc)))
            problems.push(`${where}: a dictionary that passes 1 MiB should fall back to PLAIN or DELTA_LENGTH_BYTE_ARRAY mid-chunk (encodings ${enc})`);
        // walk the pages ourselves
        try {
            const first = m.dictionary_page_offset !== null ? Number(m.dictionary_page_offset) : Number(m.data_page_offset);
            const pages = walkPages(buf, first, Number(m.total_compressed_size));
            const dataPages = pages.filter((p) => p.type === 0 || p.type === 3);
            const dictPages = pages.filter((p) => p.type === 2);
            const nv = dataPages.reduce((a, p) => a + p.numValues, 0);
            if (nv !== slice.length) problems.push(`${where}: data pages hold ${nv} values, expected ${slice.length}`);
            if (dictPages.length > 1) problems.push(`${where}: ${dictPages.length} dictionary pages`);
            if (dictPages.length && pages[0].type !== 2) problems.push(`${where}: dictionary page is not first`);
            if (expect.noDict && dictPages.length) problems.push(`${where}: dictionary page with --no-dictionary`);
            for (const p of pages) {
                if (p.crc !== null && crc32(buf, p.body, p.compressed) !== p.crc) problems.push(`${where}: page at ${p.header} has a wrong CRC`);
                if (p.crc !== null) crcPages++;
            }
            const comp = pages.reduce((a, p) => a + p.compressed, 0);
            const uncomp = pages.reduce((a, p) => a + p.uncompressed, 0);
            if (expect.codec === 'UNCOMPRESSED' && comp !== uncomp) problems.push(`${where}: uncompressed codec but sizes differ`);
            pageCounts[c.name] = (pageCounts[c.name] ?? 0) + dataPages.length;
            if (expect.pageBytes) {
                // fixed-width columns only: a page may exceed the target by one long string
                const big = c.type === 'string' ? [] : dataPages.filter((p) => p.uncompressed > expect.pageBytes * 2 + 64 && p.numValues > 1);
                if (big.length) problems.push(`${where}: ${big.length} data page(s) over 2x --page-bytes (${big[0].uncompressed} bytes, ${big[0].numValues} values)`);
            }
        } catch (e) {
            problems.push(`${where}: page walk: ${e.message}`);
        }
    }
    if (expect.minTotalPages) {
        const total = Object.values(pageCounts).reduce((a, b) => a + b, 0);
        if (total < expect.minTotalPages * md.length) problems.push(`${total} data pages in ${md.length} column chunks, expected at least ${expect.minTotalPages} per chunk on average`);
    }
    if (expect.minPages) for (const [name, n] of Object.entries(expect.minPages))
        if ((pageCounts[name] ?? 0) < n) problems.push(`${name}: ${pageCounts[name]} data pages in total, expected at least ${n}`);
    return problems;
}

/* `sluice cat` of our own file must print the source values too. */
function cmpCat(type, want, got) {
    if (want === null) return got === null ? null : `expected null, got ${show(got)}`;
    if (got === null || got === undefined) return `expected ${show(strOf(want))}, got ${got === null ? 'null' : 'missing'}`;
    switch (type) {
        case 'bool': return got === want ? null : `expected ${want}, got ${show(got)}`;
        case 'int32': case 'int64': return got instanceof JNum && /^-?\d+$/.test(got.text) && BigInt(got.text) === want ? null : `expected ${want}, got ${show(got)}`;
        case 'float': case 'double': {
            const x = numFromCat(got);
            const w = type === 'float' ? Math.fround(want) : want;
            if (x === undefined) return `expected ${fmtNum(w)}, got ${show(got)}`;
            return Object.is(type === 'float' ? Math.fround(x) : x, w) ? null : `expected ${fmtNum(w)}, got ${show(got)}`;
        }
        case 'string': { const w = strOf(want); return got === w ? null : `expected ${show(w)}, got ${show(got)}`; }
        case 'timestamp': return got === tsStr(want.us) ? null : `expected ${tsStr(want.us)}, got ${show(got)}`;
        case 'date': return got === dateStr(want.days) ? null : `expected ${dateStr(want.days)}, got ${show(got)}`;
    }
    return 'unknown type ' + type;
}
async function compareCat(file, cols, rows) {
    const res = await sluice(['cat', file]);
    const bad = crashed(res);
    if (bad || res.status !== 0) return [(bad ?? '') + describe(res, ['cat', file])];
    let got;
    try { got = parseNdjson(res.stdout); } catch (e) { return [`cat output is not NDJSON: ${e.message}`]; }
    const problems = [];
    if (got.length !== rows.length) problems.push(`cat printed ${got.length} rows, expected ${rows.length}`);
    for (let i = 0; i < Math.min(got.length, rows.length) && problems.length < 30; i++) {
        for (const c of cols) {
            const why = cmpCat(c.type, rows[i][c.name], got[i][c.name]);
            if (why) problems.push(`row ${i} column ${c.name}: ${why}`);
        }
    }
    return problems;
}

/* ======================================================================== */
/* main cases                                                               */
/* ======================================================================== */

const rows = genRows();
const srcFile = path.join(tmp, 'all.ndjson');
fs.writeFileSync(srcFile, toNdjson(COLS, rows));

const variants = [
    { label: 'codec-uncompressed', args: ['--codec', 'none'], codec: 'UNCOMPRESSED' },
    { label: 'codec-snappy', args: ['--codec', 'snappy'], codec: 'SNAPPY' },
    { label: 'codec-gzip', args: ['--codec', 'gzip'], codec: 'GZIP' },
    { label: 'codec-zstd', args: ['--codec', 'zstd'], codec: 'ZSTD' },
    { label: 'codec-lz4_raw', args: ['--codec', 'lz4_raw'], codec: 'LZ4_RAW' },
    { label: 'codec-default', args: [], codec: 'ZSTD' },
    { label: 'codec-zstd-level19', args: ['--codec', 'zstd', '--level', '19'], codec: 'ZSTD' },
    { label: 'nodict', args: ['--codec', 'zstd', '--no-dictionary'], codec: 'ZSTD', noDict: true },
    {
        label: 'tiny', args: ['--codec', 'snappy', '--page-bytes', '1024', '--row-group-rows', '1000'], codec: 'SNAPPY',
        rowGroups: Math.ceil(N / 1000), maxRgRows: 1000, pageBytes: 1024, minTotalPages: 3,
    },
    {
        label: 'tiny-plain', args: ['--codec', 'gzip', '--page-bytes', '4096', '--row-group-rows', '1000', '--no-dictionary'], codec: 'GZIP',
        rowGroups: Math.ceil(N / 1000), maxRgRows: 1000, pageBytes: 4096, noDict: true,
        minPages: { i64_req: Math.ceil(N / 1000) * 2, d_req: Math.ceil(N / 1000) * 2, s_distinct: Math.ceil(N / 1000) * 20 },
    },
];

const convResults = await pool(2, variants.map((v) => async () => {
    const out = path.join(tmp, v.label + '.parquet');
    const args = ['convert', '--schema', SCHEMA, ...v.args, srcFile, out];
    const res = await sluice(args);
    return { v, out, res, args };
}));

for (const { v, out, res, args } of convResults) {
    const bad = crashed(res);
    if (bad || res.status !== 0 || !fs.existsSync(out)) {
        T.fail(`${v.label} convert`, (bad ? bad + '\n' : '') + describe(res, args));
        continue;
    }
    T.ok(`${v.label} convert`);
    await T.guard(`${v.label} values`, async () => T.check(`${v.label} values (${N} rows x ${COLS.length} columns vs DuckDB)`, await compareValues(out, COLS, rows)));
    if (['codec-zstd', 'nodict', 'tiny', 'codec-uncompressed'].includes(v.label))
        await T.guard(`${v.label} cat`, async () => T.check(`${v.label} sluice cat == source (our reader on our writer)`, await compareCat(out, COLS, rows)));
    await T.guard(`${v.label} metadata`, async () => T.check(`${v.label} metadata (schema, logical types, repetition, stats, codec, pages)`, await checkMetadata(v.label, out, COLS, rows, v)));
}
// Compressed output should actually be smaller than uncompressed.
{
    const size = (l) => { try { return fs.statSync(path.join(tmp, l + '.parquet')).size; } catch { return NaN; } };
    const u = size('codec-uncompressed');
    const probs = [];
    for (const l of ['codec-snappy', 'codec-gzip', 'codec-zstd', 'codec-lz4_raw'])
        if (!(size(l) < u)) probs.push(`${l}: ${size(l)} bytes, uncompressed ${u}`);
    if (!(size('codec-zstd-level19') <= size('codec-zstd'))) probs.push(`zstd -19 (${size('codec-zstd-level19')}) larger than zstd default (${size('codec-zstd')})`);
    T.check('compressed files are smaller than uncompressed', probs);
}
// Required column given a null: the record is bad, not the file.
{
    const f = path.join(tmp, 'reqnull.ndjson'), out = path.join(tmp, 'reqnull.parquet');
    fs.writeFileSync(f, '{"a":1,"b":"x"}\n{"a":null,"b":"y"}\n{"b":"z"}\n{"a":4,"b":"w"}\n');
    const args = ['convert', '--schema', 'a:int64!,b:string', f, out];
    const res = await sluice(args);
    const probs = [];
    const bad = crashed(res); if (bad) probs.push(bad);
    if (!fs.existsSync(out)) probs.push('no output file: ' + describe(res, args));
    else {
        const got = await db.all(`SELECT a, b FROM read_parquet(${sqlStr(out)})`);
        const want = [[1n, 'x'], [4n, 'w']];
        if (!isDeepStrictEqual(got.rows, want)) probs.push(`rows ${show(got.rows)}, expected ${show(want)}`);
    }
    for (const ln of [2, 3]) if (!res.stderr.includes(`${f}:${ln}:`)) probs.push(`stderr does not name ${f}:${ln}: — ${res.stderr.trim().slice(0, 300)}`);
    T.check('required column missing/null -> bad record reported, others land', probs);
}

/* ======================================================================== */
/* inference                                                                */
/* ======================================================================== */

await T.guard('infer', async () => {
    const f = path.join(tmp, 'infer.ndjson'), out = path.join(tmp, 'infer.parquet');
    const src = [];
    const nested = [{ k: [1, 2, { x: null }], s: 'é' }, [], {}, [1, 'two', [3]], { deep: { deeper: { deepest: true } } }];
    for (let i = 0; i < 500; i++) {
        const at = tsStr(BigInt(i - 250) * 86400123456n + 1700000000000000n);
        src.push({
            id: i === 0 ? { raw: '9223372036854775807' } : i === 1 ? { raw: '-9223372036854775808' } : i,
            price: i % 7 === 3 ? null : i * 1.25 + 0.1,
            ok: i % 5 === 4 ? null : i % 2 === 0,
            name: i % 9 === 8 ? null : `name ${i} — ünïcödé 😀`,
            at: i % 11 === 10 ? null : at,
            meta: nested[i % nested.length],
            late: i < 100 ? null : i,                  // null at first, ints later
        });
    }
    fs.writeFileSync(f, src.map((r, i) => toJson(i % 2 ? r : Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null)))).join('\n') + '\n');
    const args = ['convert', f, out];
    const res = await sluice(args);
    const bad = crashed(res);
    if (bad || res.status !== 0) { T.fail('infer convert', (bad ?? '') + '\n' + describe(res, args)); return; }
    T.ok('infer convert');
    const d = await db.all(`DESCRIBE SELECT * FROM read_parquet(${sqlStr(out)})`);
    const types = Object.fromEntries(d.rows.map((r) => [r[0], r[1]]));
    const want = { id: ['BIGINT'], price: ['DOUBLE'], ok: ['BOOLEAN'], name: ['VARCHAR'], at: ['TIMESTAMP WITH TIME ZONE', 'TIMESTAMP'], meta: ['VARCHAR'], late: ['BIGINT'] };
    const tp = [];
    for (const [k, ts_] of Object.entries(want)) if (!ts_.includes(types[k])) tp.push(`${k}: DuckDB type ${types[k]}, expected ${ts_.join(' or ')}`);
    T.check('infer types (BIGINT, DOUBLE, BOOLEAN, VARCHAR, TIMESTAMP, nested->VARCHAR)', tp);
    const got = await db.all(`SELECT id, price, "ok", name, "at", meta, late FROM read_parquet(${sqlStr(out)})`);
    const vp = [];
    if (got.rows.length !== src.length) vp.push(`${got.rows.length} rows, expected ${src.length}`);
    for (let i = 0; i < Math.min(src.length, got.rows.length) && vp.length < 20; i++) {
        const [id, price, ok, name, at, meta, late] = got.rows[i];
        const s = src[i];
        const wantId = typeof s.id === 'object' ? BigInt(s.id.raw) : BigInt(s.id);
        if (BigInt(id) !== wantId) vp.push(`row ${i} id ${id}, expected ${wantId}`);
        if (!Object.is(price, s.price)) vp.push(`row ${i} price ${price}, expected ${s.price}`);
        if (ok !== s.ok) vp.push(`row ${i} ok ${ok}, expected ${s.ok}`);
        if (name !== s.name) vp.push(`row ${i} name ${show(name)}, expected ${show(s.name)}`);
        const atWant = s.at === null ? null : parseTs(s.at);
        if ((at === null ? null : at.micros) !== atWant) vp.push(`row ${i} at ${at && tsStr(at.micros)}, expected ${s.at}`);
        let metaGot; try { metaGot = meta === null ? null : JSON.parse(meta); } catch { metaGot = `unparseable JSON text ${show(meta)}`; }
        if (!isDeepStrictEqual(metaGot, s.meta)) vp.push(`row ${i} meta ${show(meta)}, expected JSON ${JSON.stringify(s.meta)}`);
        if ((late === null ? null : Number(late)) !== s.late) vp.push(`row ${i} late ${late}, expected ${s.late}`);
    }
    T.check('infer values (incl. int64 extremes, nested objects/arrays as JSON text)', vp);
});

await T.guard('gen', async () => {
    // sluice gen | sluice convert - (inferred schema): every value of every
    // column equals the NDJSON source, as DuckDB reads the Parquet file.
    const count = 20000;
    const g = await sluice(['gen', '--count', String(count), '--seed', '7']);
    if (crashed(g) || g.status !== 0) { T.fail('gen | convert', describe(g, ['gen', '--count', String(count), '--seed', '7'])); return; }
    const out = path.join(tmp, 'gen.parquet');
    const res = await sluice(['convert', '-', out], { input: g.stdout });
    if (crashed(res) || res.status !== 0) { T.fail('gen | convert', describe(res, ['convert', '-', out])); return; }
    const src = parseNdjson(g.stdout);
    const d = await db.all(`SELECT * FROM read_parquet(${sqlStr(out)})`);
    const probs = [];
    if (d.rows.length !== count) probs.push(`DuckDB reads ${d.rows.length} rows, expected ${count}`);
    const keys = new Set(src.flatMap((r) => Object.keys(r)));
    for (const k of keys) if (!d.names.includes(k)) probs.push(`no column for key ${k}`);
    for (let i = 0; i < Math.min(count, d.rows.length) && probs.length < 20; i++) {
        d.names.forEach((name, j) => {
            const want = src[i][name] ?? null, got = d.rows[i][j], t = d.types[j];
            let bad = false;
            if (want === null || got === null) bad = want !== got;
            else if (t === 'BIGINT') bad = !(want instanceof JNum) || BigInt(want.text) !== got;
            else if (t === 'DOUBLE') bad = !(want instanceof JNum) || Number(want.text) !== got;
            else if (t === 'BOOLEAN') bad = want !== got;
            else if (t.startsWith('TIMESTAMP')) bad = typeof want !== 'string' || parseTs(want) !== got.micros;
            else if (t === 'VARCHAR') bad = typeof want === 'string' ? want !== got : !isDeepStrictEqual(JSON.parse(toJson(want)), JSON.parse(got));
            else bad = `unexpected type ${t}`;
            if (bad) probs.push(`row ${i} ${name} (${t}): source ${show(want)}, DuckDB ${show(got)}`);
        });
    }
    T.check(`gen --count ${count} | convert - (inferred): every value equals the source`, probs);
});

await T.guard('names-wide', async () => {
    // odd column names (unicode, spaces, dots, quotes) and a wide record
    const names = ['ünïcödé', '名前', 'with space', 'a.b', 'quote"d', 'emoji😀', 'UPPER', 'x'.repeat(200)];
    for (let k = 0; k < 400; k++) names.push(`c${k}`);
    const f = path.join(tmp, 'wide.ndjson'), out = path.join(tmp, 'wide.parquet');
    const rowsW = [];
    for (let i = 0; i < 50; i++) rowsW.push(Object.fromEntries(names.map((n, j) => [n, i * 1000 + j])));
    fs.writeFileSync(f, rowsW.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const res = await sluice(['convert', f, out]);
    const probs = [];
    if (crashed(res) || res.status !== 0) probs.push(describe(res, ['convert', f, out]));
    else {
        const d = await db.all(`SELECT * FROM read_parquet(${sqlStr(out)})`);
        if (d.names.join('\u0001') !== names.join('\u0001')) probs.push(`column names ${show(d.names.slice(0, 8), 300)}…, expected ${show(names.slice(0, 8), 300)}…`);
        for (let i = 0; i < rowsW.length && probs.length < 10; i++)
            d.rows[i].forEach((v, j) => { if (Number(v) !== i * 1000 + j) probs.push(`row ${i} col ${d.names[j]}: ${v}`); });
        const c = await sluice(['cat', '--columns', 'ünïcödé,with space,a.b', '--limit', '2', out]);
        if (crashed(c) || c.status !== 0) probs.push(describe(c, ['cat', '--columns', 'ünïcödé,with space,a.b', out]));
        else {
            const got = parseNdjson(c.stdout).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v.text)])));
            const want = [0, 1].map((i) => ({ 'ünïcödé': i * 1000, 'with space': i * 1000 + 2, 'a.b': i * 1000 + 3 }));
            if (!isDeepStrictEqual(got, want)) probs.push(`cat --columns: ${show(got, 200)}, expected ${show(want, 200)}`);
        }
    }
    T.check(`${names.length} columns with unicode / space / dot / quote names: DuckDB and cat read them`, probs);
});

await T.guard('empty-input', async () => {
    const f = path.join(tmp, 'empty.ndjson'), out = path.join(tmp, 'empty.parquet');
    fs.writeFileSync(f, '');
    const args = ['convert', '--schema', 'a:int64,b:string', f, out];
    const res = await sluice(args);
    const probs = [];
    const c = crashed(res); if (c) probs.push(c);
    if (res.status === 0) {
        try {
            const d = await db.all(`SELECT * FROM read_parquet(${sqlStr(out)})`);
            if (d.rows.length !== 0 || d.names.join() !== 'a,b') probs.push(`DuckDB reads ${d.rows.length} rows, columns ${d.names}`);
        } catch (e) { probs.push(`exit 0 but DuckDB cannot read the output: ${e.message.split('\n')[0]}`); }
    } else if (fs.existsSync(out)) probs.push(`exit ${res.status} but left ${out}`);
    T.check('empty input with --schema: a valid 0-row file, or an error without output', probs);
});

await T.guard('infer-widen', async () => {
    // an int column that later sees a double becomes DOUBLE; values exact
    const f = path.join(tmp, 'widen.ndjson'), out = path.join(tmp, 'widen.parquet');
    const vals = [1, 2, 3, 2.5, -4, 1e20];
    fs.writeFileSync(f, vals.map((v) => `{"n":${v === 1e20 ? '1e20' : v}}`).join('\n') + '\n');
    const res = await sluice(['convert', f, out]);
    const probs = [];
    if (crashed(res) || res.status !== 0) probs.push(describe(res, ['convert', f, out]));
    else {
        const got = await db.all(`SELECT n FROM read_parquet(${sqlStr(out)})`);
        if (got.types[0] !== 'DOUBLE') probs.push(`type ${got.types[0]}, expected DOUBLE`);
        const gv = got.rows.map((r) => Number(r[0]));
        if (!isDeepStrictEqual(gv, vals)) probs.push(`values ${show(gv)}, expected ${show(vals)}`);
    }
    T.check('infer int then double -> DOUBLE', probs);
});

await T.guard('ts-offsets', async () => {
    // RFC 3339 offsets and fraction lengths, with --schema
    const texts = ['2024-05-01T12:00:00+02:00', '2024-05-01T12:00:00.5-07:30', '2024-05-01t12:00:00z', '2024-05-01T12:00:00.123456789Z',
        '1969-12-31T23:59:59.9Z', '2024-05-01 12:00:00Z'];
    const f = path.join(tmp, 'off.ndjson'), out = path.join(tmp, 'off.parquet');
    fs.writeFileSync(f, texts.map((t) => JSON.stringify({ t })).join('\n') + '\n');
    const res = await sluice(['convert', '--schema', 't:timestamp', f, out]);
    const probs = [];
    if (crashed(res) || res.status !== 0) probs.push(describe(res, ['convert', '--schema', 't:timestamp', f, out]));
    else {
        const got = await db.all(`SELECT t FROM read_parquet(${sqlStr(out)})`);
        texts.forEach((t, i) => {
            const want = parseTs(t.replace('t', 'T').replace(/z$/, 'Z'));
            const g = got.rows[i]?.[0];
            if (!g || g.micros !== want) probs.push(`${t}: got ${g ? tsStr(g.micros) : g}, expected ${tsStr(want)}`);
        });
    }
    T.check('timestamps with offsets / lowercase / space / nanosecond fractions', probs);
});

/* ======================================================================== */
/* CSV / TSV                                                                */
/* ======================================================================== */

const CSV_SCHEMA = 'id:int64!,name:string,amount:double,day:date,at:timestamp,flag:bool,n32:int32';
const CSV_COLS = CSV_SCHEMA.split(',').map((s) => { const [name, t] = s.split(':'); return { name, type: t.replace('!', ''), req: t.endsWith('!') }; });
const csvRows = [];
{
    const r = rng(7);
    const names = ['Smith, John', 'say "hi"', 'multi\nline', '日本語', 'plain', 'tab\tinside', 'emoji 🎉', "it's", 'comma,quote",newline\n'];
    for (let i = 0; i < 2000; i++) {
        csvRows.push({
            id: BigInt(i === 0 ? '-9223372036854775808' : i === 1 ? '9223372036854775807' : i),
            name: r() < 0.1 ? null : r.pick(names) + ' ' + i,
            amount: r() < 0.1 ? null : r.pick([0.1, -2.25, 1e10, 1.5e-7, 3, -0.5, 123456.789]) * (i % 3 + 1),
            day: r() < 0.1 ? null : date(dateStr(r.int(40000) - 20000)),
            at: r() < 0.1 ? null : ts(tsStr(BigInt(r.int(2e9) - 1e9) * 1000000n + BigInt(r.int(1e6)))),
            flag: r() < 0.1 ? null : r() < 0.5,
            n32: r() < 0.1 ? null : BigInt(r.int(2 ** 32) - 2 ** 31),
        });
    }
}
function csvField(type, v, sep) {
    if (v === null) return '';
    let s;
    switch (type) {
        case 'int64': case 'int32': s = v.toString(); break;
        case 'double': s = String(v); break;
        case 'bool': s = v ? 'true' : 'false'; break;
        case 'timestamp': case 'date': s = v.text; break;
        default: s = v;
    }
    if (sep === ',' && /[",\n\r]/.test(s)) s = '"' + s.replace(/"/g, '""') + '"';
    return s;
}
function toDelimited(cols, rows, sep, eol = '\n') {
    return [cols.map((c) => c.name).join(sep), ...rows.map((row) => cols.map((c) => csvField(c.type, row[c.name], sep)).join(sep))].join(eol) + eol;
}

async function convertAndCompare(label, inFile, extraArgs, cols, rows, schema = CSV_SCHEMA) {
    const out = path.join(tmp, label.replace(/[^A-Za-z0-9]+/g, '_').slice(0, 60) + '.parquet');
    const args = ['convert', ...(schema ? ['--schema', schema] : []), ...extraArgs, inFile, out];
    const res = await sluice(args);
    const bad = crashed(res);
    if (bad || res.status !== 0) { T.fail(label, (bad ?? '') + '\n' + describe(res, args)); return null; }
    T.check(label, await compareValues(out, cols, rows));
    return out;
}

await T.guard('csv', async () => {
    const f = path.join(tmp, 'in.csv');
    fs.writeFileSync(f, toDelimited(CSV_COLS, csvRows, ','));
    await convertAndCompare('csv (--format csv, RFC 4180 quoting, empty field = null)', f, ['--format', 'csv'], CSV_COLS, csvRows);
    const crlf = path.join(tmp, 'crlf.csv');
    fs.writeFileSync(crlf, toDelimited(CSV_COLS, csvRows, ',', '\r\n'));
    await convertAndCompare('csv with CRLF line ends', crlf, ['--format', 'csv'], CSV_COLS, csvRows);
    const bom = path.join(tmp, 'bom.csv');
    fs.writeFileSync(bom, '\ufeff' + toDelimited(CSV_COLS, csvRows.slice(0, 50), ','));
    await convertAndCompare('csv with UTF-8 BOM', bom, ['--format', 'csv'], CSV_COLS, csvRows.slice(0, 50));
    // columns in a different order than --schema: matched by header name
    const perm = [CSV_COLS[3], CSV_COLS[0], CSV_COLS[6], CSV_COLS[1], CSV_COLS[5], CSV_COLS[2], CSV_COLS[4]];
    const pf = path.join(tmp, 'perm.csv');
    fs.writeFileSync(pf, toDelimited(perm, csvRows.slice(0, 200), ','));
    await convertAndCompare('csv header order differs from --schema (matched by name)', pf, ['--format', 'csv'], CSV_COLS, csvRows.slice(0, 200));
});

await T.guard('csv-nonfinite', async () => {
    const f = path.join(tmp, 'nf.csv'), out = path.join(tmp, 'nf.parquet');
    fs.writeFileSync(f, 'x\nNaN\nInfinity\n-Infinity\n1.5\n-0.0\n');
    const args = ['convert', '--format', 'csv', '--schema', 'x:double', f, out];
    const res = await sluice(args);
    const probs = [];
    if (crashed(res) || res.status !== 0) probs.push(describe(res, args));
    else {
        const got = (await db.all(`SELECT x FROM read_parquet(${sqlStr(out)})`)).rows.map((r) => r[0]);
        const want = [NaN, Infinity, -Infinity, 1.5, -0];
        if (!want.every((w, i) => Object.is(got[i], w))) probs.push(`got ${got.map(fmtNum)}, expected ${want.map(fmtNum)}`);
    }
    T.check('csv NaN / Infinity / -Infinity / -0.0 in a double column', probs);
});

await T.guard('csv-infer', async () => {
    const f = path.join(tmp, 'inf.csv'), out = path.join(tmp, 'inf.parquet');
    const cols = CSV_COLS.filter((c) => ['id', 'name', 'amount', 'flag'].includes(c.name));
    fs.writeFileSync(f, toDelimited(cols, csvRows, ','));
    const args = ['convert', '--format', 'csv', f, out];
    const res = await sluice(args);
    const probs = [];
    if (crashed(res) || res.status !== 0) probs.push(describe(res, args));
    else {
        const d = await db.all(`DESCRIBE SELECT * FROM read_parquet(${sqlStr(out)})`);
        const types = Object.fromEntries(d.rows.map((r) => [r[0], r[1]]));
        const want = { id: 'BIGINT', name: 'VARCHAR', amount: 'DOUBLE', flag: 'BOOLEAN' };
        for (const [k, t] of Object.entries(want)) if (types[k] !== t) probs.push(`${k}: ${types[k]}, expected ${t}`);
        if (!probs.length) probs.push(...await compareValues(out, cols.map((c) => ({ ...c, type: c.type === 'int32' ? 'int64' : c.type })), csvRows));
    }
    T.check('csv without --schema: inferred BIGINT / VARCHAR / DOUBLE / BOOLEAN, values', probs);
});

await T.guard('tsv', async () => {
    const cols = CSV_COLS;
    const tsvRows = csvRows.map((r) => ({ ...r, name: r.name === null ? null : r.name.replace(/[\t\n"]/g, '_') }));
    const f = path.join(tmp, 'in.tsv');
    fs.writeFileSync(f, toDelimited(cols, tsvRows, '\t'));
    await convertAndCompare('tsv (--format tsv)', f, ['--format', 'tsv'], cols, tsvRows);
});

/* ======================================================================== */
/* compressed and piped input                                               */
/* ======================================================================== */

await T.guard('compressed', async () => {
    const sub = rows.slice(0, 3000);
    const plain = path.join(tmp, 'c.ndjson');
    fs.writeFileSync(plain, toNdjson(COLS, sub));
    const gz = (await run('gzip', ['-k', '-f', plain])).status === 0 ? plain + '.gz' : null;
    const zst = (await run('zstd', ['-q', '-f', plain, '-o', plain + '.zst'])).status === 0 ? plain + '.zst' : null;
    if (!gz) T.fail('gz input', 'gzip CLI failed (scripts/deps.sh --test installs it)');
    else await convertAndCompare('gz input (.ndjson.gz)', gz, [], COLS, sub, SCHEMA);
    if (!zst) T.fail('zst input', 'zstd CLI failed (scripts/deps.sh --test installs it)');
    else await convertAndCompare('zst input (.ndjson.zst)', zst, [], COLS, sub, SCHEMA);
    if (gz) {
        // compression is detected by content, not by name
        const renamed = path.join(tmp, 'gz-named-plain.ndjson');
        fs.copyFileSync(gz, renamed);
        await convertAndCompare('gzip input without a .gz name (magic detection)', renamed, [], COLS, sub, SCHEMA);
        // multi-member gzip (cat a.gz b.gz)
        const two = path.join(tmp, 'two.ndjson.gz');
        fs.writeFileSync(two, Buffer.concat([fs.readFileSync(gz), fs.readFileSync(gz)]));
        await convertAndCompare('multi-member gzip input', two, [], COLS, sub.concat(sub), SCHEMA);
    }
    if (zst) {
        const out = path.join(tmp, 'stdin-zst.parquet');
        const args = ['convert', '--schema', SCHEMA, '-', out];
        const res = await sluice(args, { stdinFile: zst });
        if (crashed(res) || res.status !== 0) T.fail('zstd on stdin', describe(res, args));
        else T.check('zstd on stdin', await compareValues(out, COLS, sub));
    }
    {
        const out = path.join(tmp, 'stdin.parquet');
        const args = ['convert', '--schema', SCHEMA, '-', out];
        const res = await sluice(args, { input: fs.readFileSync(plain) });
        if (crashed(res) || res.status !== 0) T.fail('stdin input (-)', describe(res, args));
        else T.check('stdin input (-)', await compareValues(out, COLS, sub));
    }
    {
        const out = path.join(tmp, 'stdin-csv.parquet');
        const args = ['convert', '--format', 'csv', '--schema', CSV_SCHEMA, '-', out];
        const res = await sluice(args, { input: toDelimited(CSV_COLS, csvRows, ',') });
        if (crashed(res) || res.status !== 0) T.fail('csv on stdin', describe(res, args));
        else T.check('csv on stdin', await compareValues(out, CSV_COLS, csvRows));
    }
    if (gz) {
        // a truncated gzip stream is an error naming the input, not a crash
        const cut = path.join(tmp, 'cut.ndjson.gz'), out = path.join(tmp, 'cut.parquet');
        const b = fs.readFileSync(gz);
        fs.writeFileSync(cut, b.subarray(0, Math.floor(b.length / 2)));
        const res = await sluice(['convert', '--schema', SCHEMA, cut, out]);
        const probs = [];
        const c = crashed(res); if (c) probs.push(c);
        if (res.status === 0) probs.push('exit 0 for a truncated gzip input');
        if (!res.stderr.includes(cut)) probs.push(`stderr does not name the input: ${res.stderr.trim().slice(0, 300)}`);
        T.check('truncated .gz input -> error naming the file', probs);
    }
});

/* ======================================================================== */
/* bad records                                                              */
/* ======================================================================== */

await T.guard('bad-records', async () => {
    const f = path.join(tmp, 'bad.ndjson'), out = path.join(tmp, 'bad.parquet');
    const lines = [];
    const badLines = [];
    const goodIds = [];
    const bads = ['{"id": 3, "name": ', 'not json at all', '{"id": "abc", "name": "x"}', '[1,2,3]', '{"id": 1.5, "name":"frac"}',
        '{"id": 5, "name": "unterminated}', '{"id": 6,, "name": "x"}', '{"id": 99999999999999999999999, "name":"overflow"}', '"just a string"',
        '{"id": 7, "name": "x"} trailing'];
    let b = 0;
    for (let ln = 1; ln <= 60; ln++) {
        if (ln % 6 === 3 && b < bads.length) { lines.push(bads[b++]); badLines.push(ln); continue; }
        lines.push(JSON.stringify({ id: ln, name: `good ${ln}` }));
        goodIds.push(ln);
    }
    fs.writeFileSync(f, lines.join('\n') + '\n');
    const args = ['convert', '--schema', 'id:int64!,name:string', f, out];
    const res = await sluice(args);
    const probs = [];
    const c = crashed(res); if (c) probs.push(c);
    if (!fs.existsSync(out)) probs.push('no output: ' + describe(res, args));
    else {
        const got = await db.all(`SELECT id, name FROM read_parquet(${sqlStr(out)})`);
        const ids = got.rows.map((r) => Number(r[0]));
        if (!isDeepStrictEqual(ids, goodIds)) probs.push(`ids ${show(ids, 300)}, expected ${show(goodIds, 300)}`);
        const cnt = await db.all(`SELECT count(*) FROM read_parquet(${sqlStr(out)})`);
        if (Number(cnt.rows[0][0]) !== goodIds.length) probs.push(`count ${cnt.rows[0][0]}, expected ${goodIds.length}`);
    }
    for (const ln of badLines) {
        const re = new RegExp(`(^|\\n)[^\\n]*${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${ln}: \\S`);
        if (!re.test(res.stderr)) probs.push(`stderr has no "${path.basename(f)}:${ln}: reason" line`);
    }
    for (const ln of goodIds) if (res.stderr.includes(`${f}:${ln}:`)) probs.push(`stderr reports good line ${ln}`);
    if (probs.length) probs.push('stderr was:\n' + res.stderr.trim().split('\n').slice(0, 15).join('\n'));
    T.check(`bad records (${badLines.length} malformed among ${goodIds.length} good): good rows land, stderr names IN:LINE`, probs);
});

db.close();
process.exitCode = T.failed ? 1 : 0;
