// Exact types from sluice's Parquet writer, read by DuckDB (an independent
// reader): DECIMAL(p,s) on INT32 / INT64 / FIXED_LEN_BYTE_ARRAY (p = 1 .. 38,
// extremes ±(10^p - 1), zero, "-0.00", padding, exponents, unscaled puts),
// TIME (incl. 24:00:00), TIMESTAMP without time zone, TIMESTAMP WITH TIME
// ZONE and BLOB.  Files are written by build/san/pq_driver
// (tests/unit/driver/pq_driver.c, built here if missing).
//
// Checks: DuckDB's column types; every value (decimals as DuckDB's text,
// times as epoch_us, blobs as hex); parquet_schema's ConvertedType/scale/
// precision (Spark and Hive read those); per row group min/max statistics
// against the values (DuckDB's parquet_metadata); counts under filters, also
// on sorted data where DuckDB prunes row groups by min/max; refused inputs.
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, ROOT, makeTmp, run, sluice, crashed, openDuck, sqlStr, sqlIdent, rng, show } from '../node/lib/common.mjs';

const T = new Reporter();
const tmp = makeTmp('pqdec');
const DRIVER = process.env.PQ_DRIVER ?? path.join(ROOT, 'build/san/pq_driver');

if (!fs.existsSync(DRIVER)) {
    const mk = await run('make', ['-C', ROOT, '--no-print-directory', 'build/san/pq_driver']);
    if (mk.status !== 0) {
        T.fail('build pq_driver', mk.stderr);
        process.exit(1);
    }
}
const db = await openDuck();

/* ---- exact decimals in JS (BigInt), independent of the C code ------------ */

const DECS = [[1, 0], [1, 1], [9, 2], [10, 0], [18, 4], [19, 0], [19, 2], [38, 0], [38, 10], [38, 38]];
const dcol = ([p, s]) => `d${p}_${s}`;

/* Unscaled BigInt of decimal text at scale s (input known to be valid). */
function unscaled(text, s) {
    if (text.startsWith('u')) return BigInt(text.slice(1));
    let m = text, e = 0;
    const ei = text.search(/[eE]/);
    if (ei >= 0) { m = text.slice(0, ei); e = Number(text.slice(ei + 1)); }
    let neg = false;
    if (m[0] === '+' || m[0] === '-') { neg = m[0] === '-'; m = m.slice(1); }
    const [ip, fp = ''] = m.split('.');
    let digits = (ip + fp).replace(/^0+/, '') || '0';
    let k = s + e - fp.length;
    let v = BigInt(digits);
    if (k >= 0) v *= 10n ** BigInt(k);
    else v /= 10n ** BigInt(-k); // only exact cases are generated
    return neg ? -v : v;
}
/* Canonical text of an unscaled value at scale s ("-0.50", "12"). */
function decText(u, s) {
    const neg = u < 0n;
    let d = (neg ? -u : u).toString().padStart(s + 1, '0');
    const t = s ? d.slice(0, d.length - s) + '.' + d.slice(d.length - s) : d;
    return (neg ? '-' : '') + t;
}
/* DuckDB's text of a DECIMAL(p,s) value: as decText, but DECIMAL(p,p)
 * prints without the integer zero (".5", "-.5"). */
const duckText = (u, p, s) => (p === s ? decText(u, s).replace(/^(-?)0\./, '$1.') : decText(u, s));
const nines = (n) => (n ? '9'.repeat(n) : '');
function extremeText(p, s, neg) {
    const ip = p - s ? nines(p - s) : '0';
    return (neg ? '-' : '') + ip + (s ? '.' + nines(s) : '');
}

/* ---- the data ----------------------------------------------------------- */

const R = rng(20261203);
function randomDecimal(p, s) {
    const nd = 1 + R.int(p);
    let t = String(1 + R.int(9));
    for (let i = 1; i < nd; i++) t += R.int(10);
    const u = BigInt(t);
    const v = R() < 0.5 ? -u : u;
    const form = R.int(4);
    if (form === 0) return `${v}e-${s}`;            // exponent form
    if (form === 1 && s > 0 && v % 10n === 0n) {     // fewer fraction digits: padding
        const t = decText(v, s);
        return t.slice(0, -1);
    }
    if (form === 2 && v >= -(2n ** 63n) && v < 2n ** 63n) return `u${v}`; // unscaled put
    return (form === 3 && v > 0 ? '+' : '') + decText(v, s);
}

const COLS = [
    { name: 'id', spec: 'int64!' },
    ...DECS.map((ps) => ({ name: dcol(ps), spec: `decimal(${ps[0]},${ps[1]})`, ps })),
    { name: 't', spec: 'time' },
    { name: 'ts', spec: 'timestamp_ntz' },
    { name: 'tz', spec: 'timestamp' },
    { name: 'b', spec: 'bytes' },
];
const rows = []; // each: array of input strings ('\\N' = null)
function edgeRow(kind) {
    return DECS.map(([p, s]) => {
        switch (kind) {
        case 'max': return extremeText(p, s, false);
        case 'min': return extremeText(p, s, true);
        case 'zero': return '0';
        case 'negzero': return '-0' + (s ? '.' + '0'.repeat(s) : '');
        case 'null': return '\\N';
        case 'pad': return s < p ? '1' : '0.1';          // "1" -> 1.000..
        case 'exp': return s === 0 ? '0.3e1' : s < p ? '1.5e0' : '3e-1';
        default: throw new Error(kind);
        }
    });
}
const TIMES = ['0', '86400000000', '45296789012', '1', '86399999999', '\\N'];
/* 0001-01-01 00:00:00 and 9999-12-31 23:59:59.999999 (DuckDB keeps +-(2^63-1) for infinity) */
const TSS = ['-62135596800000000', '253402300799999999', '0', '-1', '1700000000123456', '\\N'];
const BLOBS = ['', '00', 'ff00', '\\N', '80' + '00'.repeat(40), 'deadbeef'];
for (const kind of ['max', 'min', 'zero', 'negzero', 'null', 'pad', 'exp'])
    rows.push(edgeRow(kind));
for (let i = 0; i < 3000; i++)
    rows.push(DECS.map(([p, s]) => (R() < 0.05 ? '\\N' : randomDecimal(p, s))));
rows.forEach((r, i) => {
    const n = (k) => k[i % k.length];
    r.unshift(String(i));
    r.push(n(TIMES), n(TSS), n(TSS), n(BLOBS));
});

const file = path.join(tmp, 'exact.parquet');
const tsv = [COLS.map((c) => `${c.name}:${c.spec}`).join('\t'), ...rows.map((r) => r.join('\t'))].join('\n') + '\n';
const RG = 700;
const w = await run(DRIVER, [file, String(RG)], { input: tsv });
if (crashed(w) || w.status !== 0) {
    T.fail('pq_driver writes the file', `exit ${w.status}: ${show(w.stderr, 2000)}`);
    process.exit(1);
}
T.ok(`pq_driver wrote ${rows.length} rows (${Math.ceil(rows.length / RG)} row groups)`);

/* expected DuckDB text per cell */
const want = rows.map((r) => COLS.map((c, j) => {
    const v = r[j];
    if (v === '\\N') return null;
    if (c.ps) return duckText(unscaled(v, c.ps[1]), c.ps[0], c.ps[1]);
    if (c.name === 'b') return v.toUpperCase();
    return v;
}));

/* ---- types ----------------------------------------------------------------- */

await T.guard('types', async () => {
    const d = await db.objs(`DESCRIBE SELECT * FROM read_parquet(${sqlStr(file)})`);
    const got = Object.fromEntries(d.map((x) => [x.column_name, x.column_type]));
    const probs = [];
    const expect = { id: 'BIGINT', t: 'TIME', ts: 'TIMESTAMP', tz: 'TIMESTAMP WITH TIME ZONE', b: 'BLOB' };
    for (const [p, s] of DECS) expect[dcol([p, s])] = `DECIMAL(${p},${s})`;
    for (const [k, v] of Object.entries(expect)) if (got[k] !== v) probs.push(`${k}: DuckDB type ${got[k]}, want ${v}`);
    T.check('DuckDB reads DECIMAL(p,s) / TIME / TIMESTAMP / TIMESTAMPTZ / BLOB types', probs);

    const sch = await db.objs(`SELECT name, type, type_length, converted_type, scale, precision, logical_type FROM parquet_schema(${sqlStr(file)})`);
    const by = Object.fromEntries(sch.map((x) => [x.name, x]));
    const p2 = [];
    for (const [p, s] of DECS) {
        const e = by[dcol([p, s])];
        const phys = p <= 9 ? 'INT32' : p <= 18 ? 'INT64' : 'FIXED_LEN_BYTE_ARRAY';
        if (e.type !== phys) p2.push(`${e.name}: physical ${e.type}, want ${phys}`);
        if (phys === 'FIXED_LEN_BYTE_ARRAY') {
            let n = 1;
            while (2n ** BigInt(8 * n - 1) <= 10n ** BigInt(p) - 1n) n++;
            if (Number(e.type_length) !== n) p2.push(`${e.name}: type_length ${e.type_length}, want ${n} (minimal)`);
        }
        if (e.converted_type !== 'DECIMAL' || Number(e.scale) !== s || Number(e.precision) !== p)
            p2.push(`${e.name}: converted_type ${e.converted_type} scale ${e.scale} precision ${e.precision}`);
        if (!/DecimalType/.test(e.logical_type)) p2.push(`${e.name}: logical type ${e.logical_type}`);
    }
    if (!/TimeType\(isAdjustedToUTC=0.*MICROS=MicroSeconds/.test(by.t.logical_type)) p2.push(`t: ${by.t.logical_type}`);
    if (!/TimestampType\(isAdjustedToUTC=0.*MICROS=MicroSeconds/.test(by.ts.logical_type) || by.ts.converted_type !== 'TIMESTAMP_MICROS')
        p2.push(`ts: ${by.ts.logical_type} / ${by.ts.converted_type}`);
    if (!/TimestampType\(isAdjustedToUTC=1/.test(by.tz.logical_type)) p2.push(`tz: ${by.tz.logical_type}`);
    if (by.b.type !== 'BYTE_ARRAY' || by.b.logical_type !== null || by.b.converted_type !== null)
        p2.push(`b: ${by.b.type} ${by.b.logical_type} ${by.b.converted_type}`);
    T.check('parquet_schema: physical types, minimal FLBA lengths, ConvertedType DECIMAL + scale/precision, TIME/TIMESTAMP local', p2);
});

/* ---- values ---------------------------------------------------------------- */

const SEL = COLS.map((c) => {
    const q = sqlIdent(c.name);
    if (c.ps) return `${q}::VARCHAR`;
    if (c.name === 'b') return `hex(${q})`;
    if (c.name === 'id') return `${q}::VARCHAR`;
    return `epoch_us(${q})::VARCHAR`;
}).join(', ');

await T.guard('values', async () => {
    const res = await db.all(`SELECT ${SEL} FROM read_parquet(${sqlStr(file)}) ORDER BY id`);
    const probs = [];
    if (res.rows.length !== rows.length) probs.push(`${res.rows.length} rows, want ${rows.length}`);
    for (let i = 0; i < Math.min(res.rows.length, rows.length); i++)
        for (let j = 0; j < COLS.length; j++) {
            const g = res.rows[i][j], e = want[i][j];
            if (g !== e) probs.push(`row ${i} ${COLS[j].name}: DuckDB ${g}, want ${e} (input ${rows[i][j]})`);
        }
    T.check(`every value exact in DuckDB (${rows.length} rows x ${COLS.length} columns, 38-digit extremes included)`, probs);
});

/* ---- statistics ---------------------------------------------------------------- */

await T.guard('stats', async () => {
    const md = await db.objs(`SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count
        FROM parquet_metadata(${sqlStr(file)}) ORDER BY row_group_id, column_id`);
    const probs = [];
    for (const m of md) {
        const j = COLS.findIndex((c) => c.name === m.path_in_schema);
        const c = COLS[j];
        if (!c.ps && c.name !== 't') continue;
        const g = Number(m.row_group_id);
        const vals = want.slice(g * RG, (g + 1) * RG).map((r) => r[j]).filter((v) => v !== null);
        const nulls = Math.min(RG, rows.length - g * RG) - vals.length;
        if (Number(m.stats_null_count) !== nulls) probs.push(`rg ${g} ${c.name}: null_count ${m.stats_null_count}, want ${nulls}`);
        if (!vals.length) continue;
        const key = c.ps ? (v) => unscaled(v, c.ps[1]) : (v) => BigInt(v);
        let mn = vals[0], mx = vals[0];
        for (const v of vals) {
            if (key(v) < key(mn)) mn = v;
            if (key(v) > key(mx)) mx = v;
        }
        if (c.ps) { /* DuckDB prints decimal statistics as it prints values */
            if (m.stats_min_value !== mn || m.stats_max_value !== mx)
                probs.push(`rg ${g} ${c.name}: min/max ${m.stats_min_value} / ${m.stats_max_value}, want ${mn} / ${mx}`);
        } else if (m.stats_min_value == null || m.stats_max_value == null) {
            probs.push(`rg ${g} ${c.name}: no min/max`);
        }
    }
    T.check('per row group min/max statistics are the signed min/max of the values', probs);

    /* filters DuckDB answers with row-group pruning: a statistics bug drops rows */
    const p2 = [];
    for (const [p, s] of DECS) {
        const j = COLS.findIndex((c) => c.name === dcol([p, s]));
        const us = want.map((r) => r[j]).filter((v) => v !== null).map((v) => unscaled(v, s));
        for (const thr of [extremeText(p, s, true), '0', s < p ? '-1' : '-0.1', decText(us[10], s), decText(us[2000], s)]) {
            const tu = unscaled(thr, s);
            for (const [op, f] of [['<', (v) => v < tu], ['>', (v) => v > tu], ['=', (v) => v === tu]]) {
                const exp = us.filter(f).length;
                const got = Number((await db.all(`SELECT count(*) FROM read_parquet(${sqlStr(file)}) WHERE ${sqlIdent(dcol([p, s]))} ${op} ${sqlStr(thr)}::DECIMAL(${p},${s})`)).rows[0][0]);
                if (got !== exp) p2.push(`${dcol([p, s])} ${op} ${thr}: DuckDB counts ${got}, want ${exp}`);
            }
        }
    }
    T.check('DuckDB filters on random data count every matching row', p2);

    /* sorted values, row groups of 700 around zero: a row group holding both
     * signs is where an unsigned (bytewise) min/max would be wrong.  DuckDB
     * (1.x) prunes INT32/INT64 decimals by min/max but was seen not to prune
     * FIXED_LEN_BYTE_ARRAY ones (a bytewise-ordered FLBA min/max still counts
     * right here); the parquet_metadata check above catches those. */
    const SC = [[9, 2, 5], [18, 4, 12], [19, 2, 15], [38, 0, 33], [38, 10, 33]]; // p, s, exponent of the step
    const sorted = path.join(tmp, 'sorted.parquet');
    const N = 3000, vals = [];
    for (let i = 0; i < N; i++) vals.push(SC.map(([, , e]) => BigInt(i - 1500) * 10n ** BigInt(e)));
    const head = SC.map(([p, s]) => `s${p}_${s}:decimal(${p},${s})`).join('\t');
    const body = vals.map((r) => r.map((u, k) => `${u}e-${SC[k][1]}`).join('\t')).join('\n');
    const ws = await run(DRIVER, [sorted, '700'], { input: head + '\n' + body + '\n' });
    if (ws.status !== 0) { T.fail('sorted file', ws.stderr); return; }
    const p3 = [];
    for (let k = 0; k < SC.length; k++) {
        const [p, s, e] = SC[k];
        const col = sqlIdent(`s${p}_${s}`);
        for (const step of [-1400, -1, 0, 1, 150, 598, 1000]) {
            const thr = decText(BigInt(step) * 10n ** BigInt(e), s);
            for (const [op, f] of [['>', (i) => i - 1500 > step], ['<', (i) => i - 1500 < step], ['=', (i) => i - 1500 === step]]) {
                let exp = 0;
                for (let i = 0; i < N; i++) exp += f(i);
                const got = Number((await db.all(`SELECT count(*) FROM read_parquet(${sqlStr(sorted)}) WHERE ${col} ${op} ${sqlStr(thr)}::DECIMAL(${p},${s})`)).rows[0][0]);
                if (got !== exp) p3.push(`${col} ${op} ${thr}: DuckDB counts ${got}, want ${exp}`);
            }
        }
    }
    T.check('sorted data across zero: DuckDB filters (pruning by min/max where it does) count every matching row', p3);
});

/* ---- refused input ------------------------------------------------------------ */

await T.guard('refused', async () => {
    const bad = path.join(tmp, 'bad.parquet');
    const lines = ['k:int64!\td:decimal(5,2)\tt:time',
        '1\t1.5\t0', '2\t1.234\t0', '3\tNaN\t0', '4\t1234\t0', '5\t 1\t0', '6\t-12.30\t86400000001', '7\t-999.99\t86400000000'];
    const r = await run(DRIVER, [bad], { input: lines.join('\n') + '\n' });
    const probs = [];
    if (crashed(r)) probs.push(crashed(r));
    if (r.status !== 2) probs.push(`exit ${r.status}, want 2 (some rows refused)`);
    const expect = [['row 2', 'more fraction digits than the scale 2'], ['row 3', 'NaN and Infinity'],
        ['row 4', 'more than 3 integer digits'], ['row 5', "unexpected ' '"], ['row 6', 'outside 00:00:00 .. 24:00:00']];
    for (const [row, msg] of expect) {
        const line = r.stderr.split('\n').find((l) => l.startsWith(row + ':'));
        if (!line || !line.includes(msg) || !line.includes("column '")) probs.push(`${row}: stderr line ${line}, want it to say ${msg} and name the column`);
    }
    const got = await db.all(`SELECT k, d::VARCHAR, t::VARCHAR FROM read_parquet(${sqlStr(bad)}) ORDER BY k`);
    const g = got.rows.map((x) => x.map(String).join(' ')).join(', ');
    if (g !== '1 1.50 00:00:00, 7 -999.99 24:00:00') probs.push(`rows kept: ${g}`);
    T.check('refused decimals / times are reported with the column and leave the other rows', probs);
});

/* regression: sluice's own SQL over other writers' files keeps TIMESTAMP
 * without time zone and TIME columns (the reader reporting them as their own
 * types once made read_parquet drop them).  Since the lake has these types
 * they read as the lake's columns do: a wall-clock time as its text without
 * a zone, a time of day as HH:MM:SS[.ffffff] (no longer µs since midnight,
 * nor a UTC instant). */
await T.guard('sluice_sql_reads_ntz_and_time', async () => {
    const f = path.join(tmp, 'duck_ntz.parquet');
    await db.run(`COPY (SELECT 1 AS id, TIMESTAMP '2024-05-01 12:00:00.5' AS ts, TIME '23:59:59' AS t) TO '${f}' (FORMAT parquet)`);
    fs.mkdirSync(path.join(tmp, 'd'), { recursive: true });
    const r = await sluice(['sql', '-d', path.join(tmp, 'd'), '--format', 'csv', `SELECT * FROM read_parquet('${f}')`]);
    const out = r.stdout.toString().trim();
    const want = 'id,ts,t\n1,2024-05-01T12:00:00.500000,23:59:59';
    if (out === want) T.ok('sluice_sql_reads_ntz_and_time');
    else T.fail('sluice_sql_reads_ntz_and_time', `got ${JSON.stringify(out)} ${r.stderr}`);
});

db.close();
console.log(`${T.passed} passed, ${T.failed} failed`);
process.exit(T.failed ? 1 : 0);
