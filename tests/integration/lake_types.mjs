// Lake tables with the column types of database snapshots: decimal(p,s),
// time, timestamp_ntz and bytes.  A table is landed by
// build/san/lake_driver (tests/unit/driver/lake_driver.c: lk_land, the one
// way files enter the lake; built here if missing) and read back
//   - by DuckDB through `sluice ddl --dialect duckdb` (the view it prints):
//     decimals as exact text, times and wall-clock timestamps as epoch µs,
//     bytes as hex;
//   - by `sluice sql`: decimals as REAL (the double of the exact value;
//     decimal(12,2) exactly that double), times as "HH:MM:SS[.ffffff]",
//     timestamp_ntz as "YYYY-MM-DDTHH:MM:SS[.ffffff]", bytes as BLOB;
//     predicates on every column count every matching row (files and row
//     groups skipped by statistics must never hold one);
//   - `sluice describe` / `sluice ddl` name the types.
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, ROOT, makeTmp, run, sluice, crashed, openDuck, sqlStr, rng } from '../node/lib/common.mjs';

const T = new Reporter();
const tmp = makeTmp('ltypes');
const DRIVER = process.env.LAKE_DRIVER ?? path.join(ROOT, 'build/san/lake_driver');
if (!fs.existsSync(DRIVER)) {
    const mk = await run('make', ['-C', ROOT, '--no-print-directory', 'build/san/lake_driver']);
    if (mk.status !== 0) {
        T.fail('build lake_driver', mk.stderr);
        process.exit(1);
    }
}

/* ---- the rows (exact values in JS) ------------------------------------------ */

const R = rng(20261203);
const pick = (a) => a[Math.floor(R() * a.length)];
const randDigits = (n) => { let s = ''; for (let i = 0; i < n; i++) s += Math.floor(R() * 10); return s; };
/* Canonical text of an unscaled BigInt at scale s. */
function decText(u, s) {
    const neg = u < 0n;
    const d = (neg ? -u : u).toString().padStart(s + 1, '0');
    return (neg ? '-' : '') + (s ? d.slice(0, d.length - s) + '.' + d.slice(d.length - s) : d);
}
function randDec(p, s) {
    const max = 10n ** BigInt(p) - 1n;
    const r = R();
    let u;
    if (r < 0.05) u = max;
    else if (r < 0.1) u = -max;
    else if (r < 0.15) u = 0n;
    else u = BigInt(randDigits(1 + Math.floor(R() * p))) * (R() < 0.5 ? -1n : 1n);
    if (u > max) u = max;
    if (u < -max) u = -max;
    return u;
}
const pad = (n, w = 2) => String(n).padStart(w, '0');
function timeText(us) {
    const s = Math.floor(us / 1e6), f = us % 1e6;
    const t = `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
    return f ? `${t}.${pad(f, 6)}` : t;
}
function ntzText(us) { // BigInt µs since 1970-01-01 00:00 (wall clock)
    let secs = us / 1000000n, frac = us % 1000000n;
    if (frac < 0n) { frac += 1000000n; secs -= 1n; }
    const d = new Date(Number(secs) * 1000);
    const y = d.getUTCFullYear();
    const t = `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    return frac ? `${t}.${pad(frac, 6)}` : t;
}
const NTZ_MIN = -62135596800000000n; // 0001-01-01 (JS Date handles years 1..9999 here)
const NTZ_MAX = 253402300799999999n; // 9999-12-31T23:59:59.999999
function randNtz() {
    const r = R();
    if (r < 0.04) return NTZ_MIN;
    if (r < 0.08) return NTZ_MAX;
    if (r < 0.5) return 1714521600000000n + BigInt(Math.floor(R() * 86400e6)); // 2024-05-01
    // anywhere in years 0001 .. 9999 (the range whose texts sort like the times)
    return NTZ_MIN + BigInt(Math.floor(R() * Number(NTZ_MAX - NTZ_MIN) / 1e3)) * 1000n + BigInt(Math.floor(R() * 1000));
}
function randTime() {
    const r = R();
    if (r < 0.05) return 0;
    if (r < 0.1) return 86400000000; // 24:00:00
    return Math.floor(R() * 86400e6) * (R() < 0.3 ? 1 : 0) + (R() < 0.5 ? Math.floor(R() * 86400) * 1e6 : 0);
}
function randBytes() {
    const n = Math.floor(R() * 6);
    let h = '';
    for (let i = 0; i < n; i++) h += pad(Math.floor(R() * 256).toString(16));
    return h.toUpperCase();
}

const N = 300, FILES = 3;
const rows = [];
for (let i = 0; i < N; i++) {
    const nul = () => R() < 0.1;
    rows.push({
        id: i,
        d12: nul() ? null : randDec(12, 2),
        d38: nul() ? null : randDec(38, 10),
        at: nul() ? null : Math.min(randTime(), 86400000000),
        local: nul() ? null : randNtz(),
        raw: nul() ? null : randBytes(),
    });
}
// sorted by time within each file so that statistics skip files and row groups
const per = N / FILES;
const tsv = ['id:int64\td12:decimal(12,2)\td38:decimal(38,10)\tat:time\tlocal:timestamp_ntz\traw:bytes'];
for (let f = 0; f < FILES; f++) {
    if (f) tsv.push('--');
    const key = (r) => (r.at === null ? Infinity : r.at);
    const part = rows.slice(f * per, (f + 1) * per).sort((a, b) => key(a) - key(b));
    for (const r of part) {
        const v = (x, fn) => (x === null ? '\\N' : fn(x));
        tsv.push([r.id, v(r.d12, (u) => decText(u, 2)), v(r.d38, (u) => decText(u, 10)), v(r.at, String),
            v(r.local, String), v(r.raw, (h) => h)].join('\t'));
    }
}
const data = path.join(tmp, 'data');
fs.mkdirSync(data, { recursive: true });
const land = await run(DRIVER, [data, 'snap', '16'], { input: tsv.join('\n') + '\n' });
if (land.status !== 0) {
    T.fail('lake_driver lands the table', `${crashed(land) ?? ''} exit ${land.status}: ${land.stderr}`);
    process.exit(1);
}
T.ok(`lake_driver landed ${N} rows in ${FILES} files`);

/* ---- sluice describe / ddl ---------------------------------------------------- */

await T.guard('describe_ddl', async () => {
    const probs = [];
    const d = await sluice(['describe', '-d', data, 'snap']);
    const out = d.stdout.toString();
    for (const re of [/d12\s+decimal\(12,2\)/, /d38\s+decimal\(38,10\)/, /at\s+time\s/, /local\s+timestamp_ntz/, /raw\s+bytes/])
        if (!re.test(out)) probs.push(`describe lacks ${re}: ${out}`);
    const j = await sluice(['describe', '-d', data, 'snap', '--json']);
    const cols = JSON.parse(j.stdout.toString()).columns.map((c) => `${c.name} ${c.type}`).join(', ');
    if (cols !== 'id int64, d12 decimal(12,2), d38 decimal(38,10), at time, local timestamp_ntz, raw bytes')
        probs.push(`describe --json columns: ${cols}`);
    const sp = await sluice(['ddl', '-d', data, 'snap', '--dialect', 'spark']);
    if (!/`d38` DECIMAL\(38,10\)/.test(sp.stdout.toString()) || !/`local` TIMESTAMP_NTZ/.test(sp.stdout.toString()))
        probs.push(`spark ddl: ${sp.stdout}`);
    T.check('describe and ddl name decimal(p,s), time, timestamp_ntz, bytes', probs);
});

/* ---- DuckDB through sluice's view --------------------------------------------- */

const db = await openDuck();
await T.guard('duckdb', async () => {
    const ddl = await sluice(['ddl', '-d', data, 'snap', '--dialect', 'duckdb']);
    if (ddl.status !== 0) throw new Error(`ddl: ${ddl.stderr}`);
    await db.run(ddl.stdout.toString());
    const res = await db.all('SELECT id, d12::VARCHAR, d38::VARCHAR, epoch_us("at")::VARCHAR, epoch_us("local")::VARCHAR, hex(raw) FROM snap ORDER BY id');
    const probs = [];
    const types = res.types.join(',');
    if (types !== 'BIGINT,VARCHAR,VARCHAR,VARCHAR,VARCHAR,VARCHAR') probs.push(`types ${types}`);
    const t2 = (await db.all('SELECT typeof(d12), typeof(d38), typeof("at"), typeof("local"), typeof(raw) FROM snap LIMIT 1')).rows[0].join(',');
    if (t2 !== 'DECIMAL(12,2),DECIMAL(38,10),TIME,TIMESTAMP,BLOB') probs.push(`DuckDB column types ${t2}`);
    if (res.rows.length !== N) probs.push(`${res.rows.length} rows, want ${N}`);
    for (let i = 0; i < Math.min(N, res.rows.length); i++) {
        const r = rows[i], g = res.rows[i].map((x) => (x === null ? null : String(x)));
        const want = [String(r.id), r.d12 === null ? null : decText(r.d12, 2), r.d38 === null ? null : decText(r.d38, 10),
            r.at === null ? null : String(r.at), r.local === null ? null : String(r.local), r.raw];
        for (let k = 0; k < want.length; k++)
            if (g[k] !== want[k]) probs.push(`row ${i} col ${k}: DuckDB ${g[k]}, want ${want[k]}`);
    }
    T.check(`DuckDB reads every value exactly (${N} rows: decimal(12,2)/(38,10), time, timestamp_ntz, blob)`, probs);
});

/* ---- sluice sql --------------------------------------------------------------- */

async function sql(q) {
    const r = await sluice(['sql', '-d', data, '--format', 'ndjson', q]);
    if (r.status !== 0) throw new Error(`${q}: exit ${r.status}: ${r.stderr}`);
    return r.stdout.toString().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

await T.guard('sluice_sql_values', async () => {
    const got = await sql('SELECT id, d12, d38, at, local, hex(raw) AS raw, typeof(d12) AS t1, typeof(at) AS t2, typeof(local) AS t3, typeof(raw) AS t4 FROM snap ORDER BY id');
    const probs = [];
    if (got.length !== N) probs.push(`${got.length} rows, want ${N}`);
    for (let i = 0; i < Math.min(N, got.length); i++) {
        const r = rows[i], g = got[i];
        const e12 = r.d12 === null ? null : Number(decText(r.d12, 2));
        if (g.d12 !== e12) probs.push(`row ${i} d12: ${g.d12}, want ${e12}`);
        if (r.d38 === null ? g.d38 !== null : !(Math.abs(g.d38 - Number(decText(r.d38, 10))) <= Math.abs(Number(decText(r.d38, 10))) * 4e-16))
            probs.push(`row ${i} d38: ${g.d38}, want ~${r.d38 === null ? null : decText(r.d38, 10)}`);
        const eat = r.at === null ? null : timeText(r.at);
        if (g.at !== eat) probs.push(`row ${i} at: ${g.at}, want ${eat}`);
        const el = r.local === null ? null : ntzText(r.local);
        if (g.local !== el) probs.push(`row ${i} local: ${g.local}, want ${el}`);
        if ((g.raw ?? '') !== (r.raw ?? '')) probs.push(`row ${i} raw: ${g.raw}, want ${r.raw}`);
        const wt = r.d12 === null ? 'null' : 'real';
        if (g.t1 !== wt || g.t2 !== (r.at === null ? 'null' : 'text') || g.t3 !== (r.local === null ? 'null' : 'text') ||
            g.t4 !== (r.raw === null ? 'null' : 'blob'))
            probs.push(`row ${i} types ${g.t1} ${g.t2} ${g.t3} ${g.t4}`);
    }
    T.check(`sluice sql reads decimal as REAL, time / timestamp_ntz as text, bytes as BLOB (${N} rows)`, probs);
});

await T.guard('sluice_sql_predicates', async () => {
    const probs = [];
    const cmp = (a, op, b) => ({ '<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b, '=': a === b }[op]);
    const ops = ['<', '<=', '>', '>=', '='];
    const cases = [];
    for (let k = 0; k < 12; k++) {
        const r = pick(rows.filter((x) => x.at !== null)), op = pick(ops);
        cases.push([`at ${op} '${timeText(r.at)}'`, (x) => x.at !== null && cmp(timeText(x.at), op, timeText(r.at))]);
        const l = pick(rows.filter((x) => x.local !== null)), op2 = pick(ops);
        cases.push([`local ${op2} '${ntzText(l.local)}'`, (x) => x.local !== null && cmp(x.local, op2, l.local)]);
        const tx = ntzText(pick(rows.filter((x) => x.local !== null)).local).slice(0, 1 + Math.floor(R() * 19)), op5 = pick(ops);
        cases.push([`local ${op5} '${tx}'`, (x) => x.local !== null && cmp(ntzText(x.local), op5, tx)]); // a prefix: text order
        const d = pick(rows.filter((x) => x.d12 !== null)), op3 = pick(ops);
        cases.push([`d12 ${op3} ${decText(d.d12, 2)}`, (x) => x.d12 !== null && cmp(x.d12, op3, d.d12)]);
        const b = pick(rows.filter((x) => x.raw)), op4 = pick(ops);
        cases.push([`raw ${op4} x'${b.raw}'`, (x) => x.raw !== null && cmp(x.raw, op4, b.raw)]);
    }
    cases.push(["at = '24:00:00'", (x) => x.at === 86400000000]);
    cases.push(["local >= '9999'", (x) => x.local !== null && x.local >= 253402214400000000n]);
    cases.push(["d38 > 0", (x) => x.d38 !== null && x.d38 > 0n]);
    cases.push(["at IN ('00:00:00', '24:00:00')", (x) => x.at === 0 || x.at === 86400000000]);
    for (const [where, fn] of cases) {
        const g = await sql(`SELECT count(*) AS n FROM snap WHERE ${where}`);
        const want = rows.filter(fn).length;
        if (g[0].n !== want) probs.push(`${where}: ${g[0].n} rows, want ${want}`);
    }
    T.check(`sluice sql predicates on decimal/time/timestamp_ntz/bytes count every matching row (${cases.length} cases)`, probs);
});

db.close();
process.exit(T.failed ? 1 : 0);
