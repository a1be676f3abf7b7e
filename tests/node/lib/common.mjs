// Shared helpers for the node integration tests (tests/integration/*.mjs).
//
// Lives under tests/node/ so that `import '@duckdb/node-api'` resolves to
// tests/node/node_modules.  Provides: the ok/FAIL/skip reporter, running the
// sluice binary, a `sluice serve` child (Server: start, stop, requests, waiting
// until a sink landed), a temp dir, DuckDB access, a JSON parser that keeps
// numbers as their source text (so 64-bit integers survive), and value
// normalizers shared by the writer and reader tests.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';

export const ROOT = process.env.SLUICE_ROOT ?? path.resolve(new URL('../../..', import.meta.url).pathname);
export const BIN = process.env.SLUICE_BIN ?? path.join(ROOT, 'build/san/sluice');
export const TESTDATA = process.env.SLUICE_TESTDATA ?? path.resolve(ROOT, 'tests/data');

/* ------------------------------------------------------------------------ */
/* reporting                                                                 */
/* ------------------------------------------------------------------------ */

export class Reporter {
    constructor() { this.failed = 0; this.passed = 0; this.skipped = 0; }
    ok(name) { this.passed++; console.log(`ok ${name}`); }
    fail(name, why) {
        this.failed++;
        const text = String(why ?? '').replace(/\s+$/, '');
        const lines = text.split('\n');
        console.log(`FAIL ${name}: ${lines[0]}`);
        for (const l of lines.slice(1, 40)) console.log(`    ${l}`);
        if (lines.length > 40) console.log(`    ... (${lines.length - 40} more lines)`);
    }
    skip(name, why) { this.skipped++; console.log(`skip ${name}: ${why}`); }
    /* ok when problems is empty, else FAIL listing them. */
    check(name, problems) {
        if (!problems || problems.length === 0) this.ok(name);
        else this.fail(name, problems.length + ' problem(s):\n' + problems.slice(0, 25).join('\n') +
            (problems.length > 25 ? `\n... and ${problems.length - 25} more` : ''));
    }
    /* Run fn; an exception becomes a FAIL line for name. */
    async guard(name, fn) {
        try { return await fn(); } catch (e) { this.fail(name, 'exception: ' + (e && e.stack || e)); }
    }
}

/* ------------------------------------------------------------------------ */
/* temp dir                                                                  */
/* ------------------------------------------------------------------------ */

export function makeTmp(prefix) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sluice-${prefix}-`));
    const clean = () => { try { fs.rmSync(dir, { recursive: true, force: true }); } catch { } };
    process.on('exit', clean);
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { clean(); process.exit(130); });
    return dir;
}

/* ------------------------------------------------------------------------ */
/* running sluice                                                            */
/* ------------------------------------------------------------------------ */

/* Run a program; resolves {status, signal, stdout: Buffer, stderr: string}.
 * opts.input: Buffer/string for stdin (or a path via opts.stdinFile). */
export function run(cmd, args, opts = {}) {
    return new Promise((resolve) => {
        const p = spawn(cmd, args, {
            cwd: opts.cwd ?? ROOT,
            env: { ...process.env, ...(opts.env ?? {}) },
            stdio: [opts.stdinFile ? fs.openSync(opts.stdinFile, 'r') : 'pipe', 'pipe', 'pipe'],
        });
        const out = [], err = [];
        p.stdout.on('data', (d) => out.push(d));
        p.stderr.on('data', (d) => err.push(d));
        p.on('error', (e) => resolve({ status: -1, signal: null, stdout: Buffer.alloc(0), stderr: String(e) }));
        p.on('close', (status, signal) => resolve({
            status, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'),
        }));
        if (p.stdin) {
            p.stdin.on('error', () => { });
            if (opts.input !== undefined) p.stdin.end(opts.input); else p.stdin.end();
        }
    });
}

export function sluice(args, opts) { return run(BIN, args, opts); }

/* Sanitizer reports or a crash signal in a result; returns a reason or null. */
export function crashed(res) {
    if (res.signal) return `killed by ${res.signal}`;
    if (/AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer/.test(res.stderr))
        return 'sanitizer report: ' + res.stderr.split('\n').filter((l) => /Sanitizer|runtime error|#[0-3] /.test(l)).slice(0, 8).join('\n');
    if (res.status !== null && res.status >= 128) return `exit ${res.status}`;
    return null;
}

/* A one-paragraph description of a failed command for FAIL lines. */
export function describe(res, args) {
    const err = res.stderr.trim().split('\n').slice(0, 12).join('\n');
    return `sluice ${args.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ')} -> exit ${res.status}${res.signal ? ' signal ' + res.signal : ''}\n${err}`;
}

/* Run tasks (functions returning promises) with at most n in flight. */
export async function pool(n, tasks) {
    const results = new Array(tasks.length);
    let next = 0;
    async function worker() {
        while (next < tasks.length) { const i = next++; results[i] = await tasks[i](); }
    }
    await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
    return results;
}

/* ------------------------------------------------------------------------ */
/* a sluice server                                                           */
/* ------------------------------------------------------------------------ */

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* `sluice serve -c <dir>/sluice.yaml` on the port its config picks (use
 * listen: 127.0.0.1:0), found through --port-file; stderr is appended to
 * <dir>/server.log.  One child at a time. */
export class Server {
    constructor(dir, config = path.join(dir, 'sluice.yaml')) {
        this.dir = dir;
        this.config = config;
        this.logPath = path.join(dir, 'server.log');
        this.proc = null;
        this.port = 0;
    }
    get url() { return `http://127.0.0.1:${this.port}`; }
    /* Start and wait until it listens (20 s); env: extra environment. */
    async start(env = {}) {
        const pf = path.join(this.dir, 'port');
        fs.rmSync(pf, { force: true });
        const log = fs.openSync(this.logPath, 'a');
        this.proc = spawn(BIN, ['serve', '-c', this.config, '--port-file', pf],
            { stdio: ['ignore', 'ignore', log], env: { ...process.env, ...env } });
        fs.closeSync(log);
        const exited = new Promise((r) => this.proc.once('exit', r));
        for (let i = 0; i < 800; i++) {
            if (fs.existsSync(pf) && fs.readFileSync(pf, 'utf8').trim()) {
                this.port = Number(fs.readFileSync(pf, 'utf8').trim());
                return;
            }
            if (this.proc.exitCode !== null) break;
            await sleep(25);
        }
        await Promise.race([exited, sleep(100)]);
        throw new Error('server did not start: ' + this.log().slice(-2000));
    }
    /* Send sig and wait for the exit: its code, or the signal's name; 0
     * when no server runs. */
    async stop(sig = 'SIGTERM') {
        if (!this.proc) return 0;
        if (this.proc.exitCode !== null || this.proc.signalCode !== null) { // exited already
            const code = this.proc.exitCode ?? this.proc.signalCode;
            this.proc = null;
            return code;
        }
        const p = new Promise((r) => this.proc.once('exit', (code, s) => r(code ?? s)));
        this.proc.kill(sig);
        const code = await p;
        this.proc = null;
        return code;
    }
    /* One HTTP request (no keep-alive): {code, body}; code 0 when it failed. */
    request(method, p, body, timeoutMs = 15000) {
        return new Promise((resolve) => {
            const req = http.request({ host: '127.0.0.1', port: this.port, method, path: p, agent: false,
                headers: body ? { 'Content-Type': 'application/x-ndjson', 'Content-Length': Buffer.byteLength(body) } : {} },
                (res) => { let d = ''; res.on('data', (x) => d += x); res.on('end', () => resolve({ code: res.statusCode, body: d })); });
            req.on('error', (e) => resolve({ code: 0, body: String(e) }));
            req.setTimeout(timeoutMs, () => req.destroy());
            req.end(body);
        });
    }
    /* POST records (objects or NDJSON lines) to a stream. */
    post(stream, lines) {
        const body = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
        return this.request('POST', `/v1/streams/${stream}/records`, body);
    }
    /* GET /v1/streams/<stream>, parsed, or null. */
    async info(stream) {
        const r = await this.request('GET', `/v1/streams/${stream}`);
        return r.code === 200 ? JSON.parse(r.body) : null;
    }
    /* Wait until the stream's sink has committed everything the stream holds
     * (and runs); returns the stream's info, throws after timeoutMs. */
    async landed(stream, timeoutMs = 20000, tag = `stream ${stream}`) {
        const t0 = Date.now();
        let i = null;
        while (Date.now() - t0 < timeoutMs) {
            i = await this.info(stream);
            if (i && i.sink && i.sink.state !== 'stopped' && i.sink.position === i.next_offset && i.sink.buffered === 0) return i;
            await sleep(30);
        }
        throw new Error(`${tag}: the sink did not land everything within ${timeoutMs} ms: ${JSON.stringify(i && i.sink)} next_offset ${i && i.next_offset}`);
    }
    /* The server's log so far. */
    log() { return fs.existsSync(this.logPath) ? fs.readFileSync(this.logPath, 'utf8') : ''; }
}

/* Sanitizer report lines in a log (at most max), or null when there are none. */
export function sanitizerReport(log, max = 15) {
    if (!/AddressSanitizer|LeakSanitizer|runtime error/.test(log)) return null;
    return log.split('\n').filter((l) => /Sanitizer|runtime error|#[0-9] /.test(l)).slice(0, max).join('\n');
}

/* DuckDB's scan of a lake table's files: read_parquet of <lake>/<table>/**, hive partitions. */
export const lakeScan = (lake, table) =>
    `read_parquet('${lake}/${table}/**/*.parquet', hive_partitioning=true, union_by_name=true)`;

/* ------------------------------------------------------------------------ */
/* DuckDB                                                                    */
/* ------------------------------------------------------------------------ */

export async function openDuck() {
    const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
    const con = await inst.connect();
    await con.run("SET TimeZone = 'UTC'");
    return {
        inst, con,
        async all(sql) {
            const r = await con.runAndReadAll(sql);
            return { names: r.columnNames(), types: r.columnTypes().map((t) => t.toString()), rows: r.getRows() };
        },
        async objs(sql) { return (await con.runAndReadAll(sql)).getRowObjects(); },
        async run(sql) { return con.run(sql); },
        close() { try { con.closeSync?.(); } catch { } },
    };
}

export const sqlStr = (s) => "'" + String(s).replace(/'/g, "''") + "'";
export const sqlIdent = (s) => '"' + String(s).replace(/"/g, '""') + '"';

/* ------------------------------------------------------------------------ */
/* JSON with numbers kept as text                                            */
/* ------------------------------------------------------------------------ */

/* A JSON number as written: .text is the literal. */
export class JNum {
    constructor(text) { this.text = text; }
    toString() { return this.text; }
}

/* Parse one JSON text; numbers become JNum.  Throws on malformed input. */
export function parseJson(s) {
    let i = 0;
    const ws = () => { while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++; };
    const fail = (m) => { throw new Error(`${m} at offset ${i} in ${JSON.stringify(s.slice(Math.max(0, i - 30), i + 30))}`); };
    function value() {
        ws();
        const c = s[i];
        if (c === '{') {
            i++; const o = {}; ws();
            if (s[i] === '}') { i++; return o; }
            for (;;) {
                ws(); if (s[i] !== '"') fail('expected key');
                const k = str(); ws();
                if (s[i++] !== ':') fail('expected :');
                if (Object.prototype.hasOwnProperty.call(o, k)) fail(`duplicate key ${k}`);
                o[k] = value(); ws();
                if (s[i] === ',') { i++; continue; }
                if (s[i] === '}') { i++; return o; }
                fail('expected , or }');
            }
        }
        if (c === '[') {
            i++; const a = []; ws();
            if (s[i] === ']') { i++; return a; }
            for (;;) {
                a.push(value()); ws();
                if (s[i] === ',') { i++; continue; }
                if (s[i] === ']') { i++; return a; }
                fail('expected , or ]');
            }
        }
        if (c === '"') return str();
        if (s.startsWith('true', i)) { i += 4; return true; }
        if (s.startsWith('false', i)) { i += 5; return false; }
        if (s.startsWith('null', i)) { i += 4; return null; }
        const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(s.slice(i, i + 64));
        if (!m || !m[0]) fail('bad value');
        i += m[0].length;
        return new JNum(m[0]);
    }
    function str() {
        const start = ++i;
        let simple = true;
        while (i < s.length && s[i] !== '"') {
            const cc = s.charCodeAt(i);
            if (cc < 0x20) fail('control character in string');
            if (s[i] === '\\') { simple = false; i += 2; } else i++;
        }
        if (i >= s.length) fail('unterminated string');
        const raw = s.slice(start, i++);
        return simple ? raw : JSON.parse('"' + raw + '"');
    }
    const v = value(); ws();
    if (i !== s.length) fail('trailing characters');
    return v;
}

/* Parse NDJSON output (Buffer or string): one object per non-empty line. */
export function parseNdjson(buf) {
    const text = Buffer.isBuffer(buf) ? buf.toString('utf8') : buf;
    const rows = [];
    const lines = text.split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    for (let n = 0; n < lines.length; n++) {
        try { rows.push(parseJson(lines[n])); } catch (e) { throw new Error(`output line ${n + 1}: ${e.message}`); }
    }
    return rows;
}

/* Serialize a value as JSON; bigint as a bare integer, JNum as its text,
 * {raw: text} verbatim. */
export function toJson(v) {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof JNum) return v.text;
    if (typeof v === 'object' && 'raw' in v && Object.keys(v).length === 1) return v.raw;
    if (Array.isArray(v)) return '[' + v.map(toJson).join(',') + ']';
    if (typeof v === 'object') return '{' + Object.entries(v).map(([k, x]) => JSON.stringify(k) + ':' + toJson(x)).join(',') + '}';
    return JSON.stringify(v);
}

/* ------------------------------------------------------------------------ */
/* time                                                                      */
/* ------------------------------------------------------------------------ */

const floorDiv = (a, b) => { const q = a / b; return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q; };
const pad = (n, w) => String(n).padStart(w, '0');

/* days since 1970-01-01 -> [y, m, d] (proleptic Gregorian) */
export function civilFromDays(z) {
    z += 719468;
    const era = Math.floor(z / 146097);
    const doe = z - era * 146097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
    const y = yoe + era * 400;
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
    const m = mp < 10 ? mp + 3 : mp - 9;
    return [m <= 2 ? y + 1 : y, m, d];
}
export function daysFromCivil(y, m, d) {
    y -= m <= 2 ? 1 : 0;
    const era = Math.floor(y / 400);
    const yoe = y - era * 400;
    const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
    const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
    return era * 146097 + doe - 719468;
}
/* days -> "YYYY-MM-DD" */
export function dateStr(days) {
    const [y, m, d] = civilFromDays(days);
    return `${y < 0 ? '-' + pad(-y, 4) : pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}
/* µs since epoch (bigint) -> "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (the sluice cat format) */
export function tsStr(us) {
    us = BigInt(us);
    const days = floorDiv(us, 86400000000n);
    let rem = us - days * 86400000000n;
    const frac = rem % 1000000n; rem /= 1000000n;
    const hh = rem / 3600n, mm = (rem / 60n) % 60n, ss = rem % 60n;
    return `${dateStr(Number(days))}T${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2)}${frac ? '.' + pad(frac, 6) : ''}Z`;
}
/* "YYYY-MM-DDTHH:MM:SS(.f+)?(Z|±HH:MM)" or with a space -> µs (bigint), or null */
export function parseTs(s) {
    const m = /^(-?\d{4,})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d(?::?\d\d)?)?$/.exec(s);
    if (!m) return null;
    const days = BigInt(daysFromCivil(+m[1], +m[2], +m[3]));
    let us = ((days * 24n + BigInt(+m[4])) * 60n + BigInt(+m[5])) * 60n + BigInt(+m[6]);
    us *= 1000000n;
    if (m[7]) us += BigInt((m[7] + '000000000').slice(0, 6));
    if (m[8] && m[8] !== 'Z') {
        const sign = m[8][0] === '-' ? -1n : 1n;
        const hhmm = m[8].slice(1).replace(':', '');
        const off = BigInt(+hhmm.slice(0, 2)) * 60n + BigInt(+(hhmm.slice(2) || '0'));
        us -= sign * off * 60000000n;
    }
    return us;
}
/* "YYYY-MM-DD" -> days, or null */
export function parseDate(s) {
    const m = /^(-?\d{4,})-(\d\d)-(\d\d)$/.exec(s);
    return m ? daysFromCivil(+m[1], +m[2], +m[3]) : null;
}

/* ------------------------------------------------------------------------ */
/* numbers                                                                   */
/* ------------------------------------------------------------------------ */

/* The textual float forms sluice cat prints for non-finite values. */
export function numFromCat(v) {
    if (v instanceof JNum) return Number(v.text);
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    return undefined;
}
/* Same value, NaN equal to NaN, -0 distinct from +0. */
export const sameNum = (a, b) => Object.is(a, b);
export const fmtNum = (x) => (Object.is(x, -0) ? '-0' : String(x));

/* Base64 of bytes. */
export const b64 = (bytes) => Buffer.from(bytes).toString('base64');

/* UTF-8 byte order comparison of two JS strings. */
export function cmpUtf8(a, b) { return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')); }

/* A short printable form of a value for messages. */
export function show(v, max = 80) {
    let s;
    if (v instanceof JNum) s = v.text;
    else if (typeof v === 'bigint') s = v.toString() + 'n';
    else if (typeof v === 'number') s = fmtNum(v);
    else if (v && typeof v === 'object' && v.constructor && v.constructor.name.startsWith('DuckDB')) s = v.constructor.name + '(' + String(v) + ')';
    else { try { s = JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x.toString() : x)); } catch { s = String(v); } }
    if (s === undefined) s = String(v);
    return s.length > max ? s.slice(0, max) + `…(${s.length} chars)` : s;
}

/* Deterministic PRNG (mulberry32). */
export function rng(seed) {
    let a = seed >>> 0;
    const next = () => {
        a = (a + 0x6D2B79F5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    next.int = (n) => Math.floor(next() * n);
    next.pick = (arr) => arr[Math.floor(next() * arr.length)];
    next.big64 = () => (BigInt(Math.floor(next() * 2 ** 32)) << 32n | BigInt(Math.floor(next() * 2 ** 32))) - (1n << 63n);
    return next;
}

/* ------------------------------------------------------------------------ */
/* comparing `sluice cat` output with DuckDB values                          */
/* ------------------------------------------------------------------------ */

/* DuckDB column types sluice cat prints (flat); anything else is nested or
 * outside the reader's scope. */
export function isNestedType(t) { return /\[\]$|^STRUCT|^MAP|^UNION|^LIST|\[\d+\]$/.test(t); }

const INT_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT']);
const TS_TYPES = new Set(['TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP_NS', 'TIMESTAMP_MS', 'TIMESTAMP_S']);
export function catComparable(t) {
    return t === 'BOOLEAN' || INT_TYPES.has(t) || t === 'FLOAT' || t === 'DOUBLE' || /^DECIMAL/.test(t) ||
        t === 'VARCHAR' || t === 'BLOB' || t === 'DATE' || TS_TYPES.has(t);
}

/* significant decimal digits of a number literal ("1.50e3" -> 2: "15") */
function sigDigits(text) {
    const mant = text.replace(/^-/, '').split(/[eE]/)[0].replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.max(1, mant.length);
}
function shortestDigits(x, isFloat) {
    if (!Number.isFinite(x) || x === 0) return 1;
    for (let p = 1; p <= 17; p++) {
        const y = Number(x.toPrecision(p));
        if (isFloat ? Math.fround(y) === x : y === x) return p;
    }
    return 17;
}

function shortestText(x, isFloat) { return Number(x.toPrecision(shortestDigits(x, isFloat))).toString(); }

export const TS_RE = /^-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/;

/* Micros from a DuckDB timestamp value of any unit. */
export function duckMicros(v) {
    if (v.micros !== undefined) return BigInt(v.micros);
    if (v.nanos !== undefined) return floorDivBig(BigInt(v.nanos), 1000n);
    if (v.millis !== undefined) return BigInt(v.millis) * 1000n;
    if (v.seconds !== undefined) return BigInt(v.seconds) * 1000000n;
    throw new Error('not a timestamp value: ' + show(v));
}
function floorDivBig(a, b) { const q = a / b; return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q; }

/* Decimal value -> its exact decimal string */
export function decimalString(v) {
    let s = (v.value < 0n ? -v.value : v.value).toString();
    if (v.scale > 0) {
        s = s.padStart(v.scale + 1, '0');
        s = s.slice(0, s.length - v.scale) + '.' + s.slice(s.length - v.scale);
    }
    return (v.value < 0n ? '-' : '') + s;
}

/* Compare one `sluice cat` value with DuckDB's value of DuckDB type t.
 * Returns null when they match, else a reason. */
export function compareCatValue(t, duck, cat, styleNotes) {
    if (duck === null || duck === undefined) return cat === null ? null : `expected null, got ${show(cat)}`;
    if (cat === null || cat === undefined) return `expected ${show(duck)}, got ${cat === null ? 'null' : 'missing'}`;
    if (t === 'BOOLEAN') return cat === duck ? null : `expected ${duck}, got ${show(cat)}`;
    if (INT_TYPES.has(t)) {
        if (!(cat instanceof JNum) || !/^-?\d+$/.test(cat.text)) return `expected integer ${duck}, got ${show(cat)}`;
        return BigInt(cat.text) === BigInt(duck) ? null : `expected ${duck}, got ${cat.text}`;
    }
    if (t === 'FLOAT' || t === 'DOUBLE') {
        const x = numFromCat(cat);
        if (x === undefined) return `expected number ${fmtNum(duck)}, got ${show(cat)}`;
        if (cat instanceof JNum && !Number.isFinite(x)) return `non-finite as a bare number: ${cat.text}`;
        const got = t === 'FLOAT' ? Math.fround(x) : x;
        if (!sameNum(got, duck)) return `expected ${fmtNum(duck)}, got ${show(cat)}`;
        if (cat instanceof JNum && sigDigits(cat.text) > shortestDigits(duck, t === 'FLOAT')) {
            const why = `${t} printed as ${cat.text}, not the shortest round-trip form (${shortestText(duck, t === 'FLOAT')})`;
            if (!styleNotes) return why;
            styleNotes.push(why);
        }
        return null;
    }
    if (/^DECIMAL/.test(t)) {
        if (!(cat instanceof JNum)) return `expected number ${decimalString(duck)}, got ${show(cat)}`;
        const want = Number(decimalString(duck)), got = Number(cat.text);
        if (got === want) return null;
        if (duck.width > 15 && Math.abs(got - want) <= 4e-16 * Math.abs(want)) return null;
        return `expected ${decimalString(duck)} (${want}), got ${cat.text}`;
    }
    if (t === 'VARCHAR') return cat === duck ? null : `expected ${show(duck)}, got ${show(cat)}`;
    if (t === 'BLOB') {
        const want = b64(duck.bytes);
        return cat === want ? null : `expected base64 ${show(want)}, got ${show(cat)}`;
    }
    if (t === 'DATE') {
        const want = dateStr(duck.days);
        return cat === want ? null : `expected ${want}, got ${show(cat)}`;
    }
    if (TS_TYPES.has(t)) {
        const us = duckMicros(duck);
        if (typeof cat !== 'string' || !TS_RE.test(cat)) return `expected ${tsStr(us)}, got ${show(cat)} (bad format)`;
        return parseTs(cat) === us ? null : `expected ${tsStr(us)}, got ${cat}`;
    }
    return `no comparison for DuckDB type ${t}`;
}

/* ======================================================================== */
/* independent page-header walk (thrift compact protocol), for tests that  */
/* check page counts, sizes and CRCs without trusting either reader          */
/* ======================================================================== */

export class Compact {
    constructor(buf, pos) { this.b = buf; this.p = pos; }
    byte() { if (this.p >= this.b.length) throw new Error('thrift: past end'); return this.b[this.p++]; }
    varint() { let r = 0n, s = 0n; for (;;) { const x = this.byte(); r |= BigInt(x & 0x7f) << s; if (!(x & 0x80)) return r; s += 7n; } }
    zz() { const v = this.varint(); return (v >> 1n) ^ -(v & 1n); }
    skip(t) {
        switch (t) {
            case 1: case 2: return;                       // bool in the type nibble
            case 3: this.p++; return;                     // byte
            case 4: case 5: case 6: this.varint(); return; // i16 i32 i64
            case 7: this.p += 8; return;                  // double
            case 8: { const n = Number(this.varint()); this.p += n; return; }
            case 9: case 10: {
                const h = this.byte(); let n = h >> 4; const et = h & 15;
                if (n === 15) n = Number(this.varint());
                for (let k = 0; k < n; k++) this.skip(et === 1 || et === 2 ? 3 : et);
                return;
            }
            case 11: {
                const n = Number(this.varint()); if (!n) return;
                const kv = this.byte();
                for (let k = 0; k < n; k++) { this.skip(kv >> 4); this.skip(kv & 15); }
                return;
            }
            case 12: this.struct(() => false); return;
        }
        throw new Error('thrift: bad type ' + t);
    }
    /* read a struct; onField(id, type) returns true if it consumed the value */
    struct(onField) {
        let last = 0;
        for (;;) {
            const h = this.byte();
            if (h === 0) return;
            const t = h & 15; const d = h >> 4;
            const id = d ? last + d : Number(this.zz());
            last = id;
            if (!onField(id, t)) this.skip(t);
        }
    }
}

/* Pages of one column chunk: [{type, numValues, compressed, uncompressed,
 * crc (unsigned, or null), header (offset), body (offset)}] */
export function walkPages(buf, start, total) {
    const pages = [];
    let pos = start;
    while (pos < start + total) {
        const c = new Compact(buf, pos);
        const pg = { type: -1, numValues: 0, compressed: 0, uncompressed: 0, crc: null, header: pos, body: 0 };
        c.struct((id, t) => {
            if (id === 1) { pg.type = Number(c.zz()); return true; }
            if (id === 2) { pg.uncompressed = Number(c.zz()); return true; }
            if (id === 3) { pg.compressed = Number(c.zz()); return true; }
            if (id === 4) { pg.crc = Number(c.zz()) >>> 0; return true; }
            if (id === 5 || id === 7 || id === 8) {      // data v1 / dictionary / data v2 header
                c.struct((id2, t2) => { if (id2 === 1) { pg.numValues = Number(c.zz()); return true; } return false; });
                return true;
            }
            return false;
        });
        pg.body = c.p;
        pos = c.p + pg.compressed;
        pages.push(pg);
        if (pg.compressed < 0 || pages.length > 1e6) throw new Error('page walk went wrong');
    }
    if (pos !== start + total) throw new Error(`pages end at ${pos}, chunk ends at ${start + total}`);
    return pages;
}


/* CRC-32 (as in Parquet page headers) of buf[start, start+len) */
export function crc32(buf, start, len) { return zlib.crc32(buf.subarray(start, start + len)) >>> 0; }
