// Mock ad-media server for the collector tests (issue 10, `kind: collect`).
// Node stdlib only.  Two ways to use it:
//
//   import { startAdMedia } from '../mock/admedia.mjs';
//   const m = await startAdMedia({ port: 0, seed: 7, bigMb: 20 });
//   ... m.url, m.port, m.accounts, m.stats(), m.truth('fb'), await m.close()
//
//   node tests/mock/admedia.mjs --port 0 [--seed N] [flags below]
//     prints exactly one line `listening http://127.0.0.1:<port>` on stdout
//     once it accepts connections; listens on 127.0.0.1 only; exits 0 on
//     SIGTERM / SIGINT.  Usage errors: one line on stderr, exit 2.
//
// Options (CLI flag) [default]:
//   seed (--seed) [1]; accounts (--accounts) [20, at most 99];
//   limits {fb:{rate,burst},..} (--fb-rate, --fb-burst, --gads-.., --yt-..)
//     [fb 10/s burst 5, gads 5/s burst 2, yt 3/s burst 2];
//   rows {fb:[min,max],..} campaigns per (account, day) (--rows MIN-MAX, all
//     media) [fb 30-80, gads 20-60, yt 10-30];
//   delayMs N | {fb: N, ..} added to every response (--delay-ms) [0];
//   polls (--polls) [2]; phase (--phase) [1]; phaseAfter (--phase-after) [0 = never];
//   expireAccount [acc07]; expireAfterUses (--expire-after) [1; 0 = off];
//   tokenTtl seconds (--token-ttl) [3600]; failAccounts [['acc13']];
//   rotateRefresh [[]]: accounts whose refresh token rotates (below);
//   big: true (--big) = bigMb 500; bigMb (--big-mb) [0 = no big report];
//   bigAccount (--big-account) [acc20]; bigDay (--big-day) [2022-09-10];
//   maxDays [93]; fbLimitDefault [25]; fbLimitMax [500].  Unknown options throw.
//
// ===========================================================================
// THE HTTP SURFACE (the spec the collector configs are written against)
// ===========================================================================
//
// Accounts: acc01..acc20 (option `accounts`).  Credentials are derived from the
// seed; read them from GET /_mock/accounts.  Dates are YYYY-MM-DD (UTC days);
// a request spans at most 93 days (`maxDays`).  Every medium has its own token
// bucket over all its accounts (defaults: fb 10/s burst 5, gads 5/s burst 2,
// yt 3/s burst 2); EVERY request under /fb/, /gads/, /yt/ takes one token (the
// OAuth token endpoint and report file downloads included).  A request finding
// the bucket empty gets 429 + `Retry-After: <whole seconds, >= 1>` and counts
// as a violation of that medium.  Order of the checks on each request: fault
// injection, forced 429, token bucket, response delay, then the route (auth,
// failing account, work).
//
// --- fb: paginated JSON insights (Facebook Graph style) ---------------------
// GET /fb/v1/act_<account>/insights?since=D&until=D[&limit=N][&after=CURSOR]
//     Authorization: Bearer <fb_token of that account>   (or ?access_token=)
//   200 {"data":[row...],
//        "paging":{"cursors":{"before":"..","after":".."},"next":"<absolute url>"}}
//   `next` is absent on the last page (`paging` too when data is empty); it
//   repeats the request's query with `after` replaced.  limit: default 25,
//   1..500.  Rows: one per (day, campaign), days ascending, campaigns by id;
//   30-80 campaigns per (account, day).  Row keys, phase 1:
//     date_start, date_stop, account_id, campaign_id (string), campaign_name,
//     impressions, clicks, spend ("123.45", a string), install
//   phase 2 (see "Changing keys"): Impressions, CLICKS, Spend instead of
//     impressions, clicks, spend, plus video_views (integer).
//   A request without `after` takes a new version of every day in its range
//   (see "Restated numbers"); its cursors pin those versions and the phase, so
//   all pages of one walk are one consistent snapshot.  The cursor is opaque
//   and signed: a tampered cursor, or one used with another account / since /
//   until, is 400.
//   Errors are Graph style: {"error":{"message","type","code","fbtrace_id"}}:
//     401 code 190 missing/wrong token (a token of another account is wrong),
//     400 code 100 bad parameters / cursor / unknown account (with a valid
//     token of some account), 429 code 4, 500 code 2 (acc13).
//
// --- gads: asynchronous CSV report (Google Ads / Apple Search Ads style) ----
// POST /gads/oauth/token   Content-Type: application/x-www-form-urlencoded
//     grant_type=refresh_token&refresh_token=RT&client_id=ID&client_secret=S
//     (client id/secret may come as HTTP Basic auth instead)
//   200 {"access_token":"ya29...","expires_in":3600,"token_type":"Bearer","scope":".."}
//   401 {"error":"invalid_client",..} unknown client id or wrong secret;
//   400 {"error":"invalid_grant",..} wrong refresh token for that client;
//   400 unsupported_grant_type / invalid_request.  Each 200 counts a refresh.
//   For an account in `rotateRefresh` each 200 also carries a new
//   "refresh_token" and the one sent is revoked (invalid_grant from then on),
//   as Xero / Salesforce rotation do; /_mock/accounts shows the current one.
//   Access tokens live `tokenTtl` s (3600) and stay valid after a refresh.
//   Every token acc07 gets expires after `expireAfterUses` (1) successful use:
//   the next call with it gets 401 and the client must refresh (so each acc07
//   call after the first of a token costs a 401 and a refresh).
// POST /gads/v2/accounts/<account>/reports   Authorization: Bearer <access token>
//     {"date_from":"D","date_to":"D"}          (JSON, body <= 64 KB)
//   202 {"report_id":"r000001-...","status":"PENDING"}  + Location: <status url>
//   The report's content (versions of each day, phase) is fixed here.
//   400 bad JSON / dates, 413 body too big, 403 a token of another account,
//   404 unknown account, 500 acc13.
// GET /gads/v2/reports/<report_id>   Authorization: Bearer <token of its account>
//   200 {"report_id","status":"PENDING"|"RUNNING"}   for the first `polls` (2)
//       polls (PENDING first), then
//   200 {"report_id","status":"DONE","file_url":"<absolute url>","file_size":N,"row_count":N}
//   or  {"report_id","status":"FAILED","reason":".."}  (POST /_mock/gads/fail)
//   404 unknown id or a report of another account.
// GET|HEAD /gads/files/<report_id>.csv?sig=..   (the file_url; signed, no auth)
//   200 text/csv, Content-Length, Accept-Ranges: bytes, ETag; one header line
//   then one row per (day, campaign) (RFC 4180 quoting, LF line ends).
//   Range: bytes=a-b | a- | -n → 206 + Content-Range; unsatisfiable → 416
//   with Content-Range: bytes */LEN; a malformed or multi-range header, or an
//   If-Range that is not the ETag, gets the whole file (200).  403 bad sig,
//   409 report not DONE, 404 unknown.
//   Header phase 1: date,account_id,campaign_id,campaign_name,impressions,clicks,cost,install
//   phase 2:        Date,Account_ID,Campaign_ID,Campaign_Name,IMPRESSIONS,Clicks,Cost,Install,View_Through_Installs
//   campaign_id is a 10-digit integer, cost a decimal with 2 places; 20-60
//   campaigns per (account, day).  Campaign names contain commas, quotes and
//   non-ASCII text.
//   Errors: Google style {"error":{"code","message","status"}} (401 with
//   WWW-Authenticate: Bearer error="invalid_token").
//
// --- yt: gzip TSV (YouTube reporting style) ---------------------------------
// GET /yt/reports/<account>/<YYYY-MM-DD>.tsv.gz   X-Api-Key: <yt_key> (or ?key=)
//   200 application/gzip, Content-Length; the bytes are a .gz file (no
//   Content-Encoding) of a TSV with a header line:
//     date account_id campaign_id video_id impressions views clicks install
//   10-30 rows; the keys never change.  Every GET takes a new version of the
//   day.  401 missing/wrong key, 400 bad date, 500 acc13 (Google style bodies).
//
// --- behaviours ---------------------------------------------------------------
// Restated numbers: every (medium, account, day) has a version counter; each
//   new snapshot (fb walk start, gads report creation, yt GET) takes the next
//   version.  impressions, clicks, install (and spend/cost, views,
//   video_views) of every row grow strictly with the version; one extra
//   campaign appears at version 2 or 3 and one campaign disappears at version 3
//   or 4 (per day), so a slice must be replaced, not upserted.  Values are a
//   pure function of (seed, medium, account, day, campaign, version, phase).
// Truth: a snapshot is "served" when delivered (fb: its first page; gads: the
//   first GET of its file; yt: the GET).  Per (medium, account, day) the mock
//   keeps the newest served version; GET /_mock/truth lists those.
// Changing keys: phase 1 until POST /_mock/phase {"phase":2}, or automatically
//   once `phaseAfter` (0 = never) slices have been served.  A snapshot keeps
//   the phase it started in.
// Failing account: acc13 (`failAccounts`) gets 500 on fb insights, gads report
//   creation and yt reports (after its credentials were checked), body
//   {"error":{"message":"internal error for account acc13",...}}.
// Big report: with `bigMb` > 0 (CLI --big-mb), the gads slice (bigAccount
//   acc20, bigDay 2022-09-10) is a CSV of about bigMb * 1e6 bytes, generated
//   on the fly in ~0.8 MB blocks of 10000 rows (never in memory; the same
//   numbers in every block, campaign_id counting up), exact Content-Length and
//   Range.  Its truth is a summary (rows, install and clicks sums), no rows.
//
// --- control endpoints (not rate limited, not counted in media stats) ------
// GET  /_mock/health                 200 ok
// GET  /_mock/accounts[?format=json|ndjson|csv]
//        {"accounts":[{"id","name","fb_token","yt_key","gads_refresh_token",
//          "gads_client_id","gads_client_secret","fails","token_expires","big"}]}
// GET  /_mock/truth?medium=fb|gads|yt[&account=accNN][&format=json|ndjson]
//        json: {"medium","slices":[{"account","day","version","phase","rows",
//               "install","clicks"[,"big":true,"bytes"]}],"rows":[canonical rows]}
//        without medium: {"fb":{..},"gads":{..},"yt":{..}}; ndjson: the rows only.
//        Canonical rows use the lower-case phase-1 key names; the phase-2
//        column (video_views / view_through_installs) is null in phase-1 rows.
//        fb spend is a string as served; gads campaign_id and cost are numbers.
// GET  /_mock/stats
//        {"media":{"fb"|"gads"|"yt":{"requests","by_account":{acc:n},"status":{"200":n,..},
//          "sent_429" (all 429s), "violations" (token bucket 429s), "forced_429",
//          "unauthorized" (401s), "errors_500", "faults", "bytes_sent" (body bytes)}},
//         gads also: "refreshes","refreshes_by_account","reports_created",
//          "reports_polled","reports_failed","downloads" (file GETs),"range_requests";
//         "accounts":{acc:{"fb","gads","yt"}}, "bytes_sent" (all bodies, control
//         endpoints included), "phase", "slices_served", "reports",
//         "tokens_issued", "limits"}
//        by_account counts requests whose account is known from the path or
//        the report id (token requests: once past the rate limit).
// POST /_mock/reset                  back to the state after start: versions,
//        truth, stats, tokens, reports, faults, forced 429s, buckets, phase
//        (to the start phase); the config (limits, delays, ...) is kept.
// GET|POST /_mock/phase  {"phase":1|2}
// POST /_mock/force429   {"medium":"fb","count":N,"retry_after":S}
//        the next N requests of the medium get 429 with Retry-After S; they are
//        not violations and take no token.
// POST /_mock/fault      {"medium":"fb"|"gads"|"yt"|"*","action":A,"count":N,
//                         "path":"substring","ms":N,"after_bytes":N,"status":N}
//        A = hang (never answer), reset (TCP RST), status (answer `status`,
//        default 503, Google-style body), delay (wait ms, then as usual),
//        cut (answer as usual but drop the connection after after_bytes body
//        bytes, default half).  Applies to the next N (1) matching requests;
//        hang/reset/status take no token.
// POST /_mock/gads/fail  {"count":N,"reason":"..","account":"accNN"?}
//        the next N created reports (of that account) end FAILED.
// GET|POST /_mock/config {"limits":{"fb":{"rate":R,"burst":B}},"delay_ms":N|{"fb":N},
//                         "polls":N,"phase_after":N,"expire_after":N,"token_ttl":S,
//                         "big_mb":N,"big_account":"..","big_day":"D"}
import http from 'node:http';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

export const MEDIA = ['fb', 'gads', 'yt'];

export const DEFAULTS = Object.freeze({
    port: 0,
    seed: 1,
    accounts: 20,
    limits: { fb: { rate: 10, burst: 5 }, gads: { rate: 5, burst: 2 }, yt: { rate: 3, burst: 2 } },
    rows: { fb: [30, 80], gads: [20, 60], yt: [10, 30] },
    delayMs: 0,                 // number, or {fb: ms, ...}
    polls: 2,                   // PENDING/RUNNING polls before DONE
    phase: 1,
    phaseAfter: 0,              // served slices before phase 2; 0 = never
    expireAccount: 'acc07',
    expireAfterUses: 1,         // 0 = acc07 behaves like the others
    tokenTtl: 3600,
    failAccounts: ['acc13'],
    rotateRefresh: [],
    big: false,                 // true = bigMb 500
    bigMb: 0,
    bigAccount: 'acc20',
    bigDay: '2022-09-10',
    maxDays: 93,
    fbLimitDefault: 25,
    fbLimitMax: 500,
});

const BODY_MAX = 64 * 1024;
const BIG_BLOCK_ROWS = 10000;

/* ------------------------------------------------------------------------ */
/* deterministic hashing                                                     */
/* ------------------------------------------------------------------------ */

function fmix(h) {
    h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
}

/* 32-bit hash of the seed and the parts (FNV-1a, then murmur's finalizer). */
function h32(seed, ...parts) {
    let h = (0x811c9dc5 ^ seed) >>> 0;
    const s = parts.join('\x1f');
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
    return fmix(h >>> 0);
}

const mix = (b, k) => fmix((b ^ Math.imul(k + 1, 0x9e3779b9)) >>> 0);
const pad = (n, w) => String(n).padStart(w, '0');

function secretHex(st, n, ...parts) {
    return crypto.createHmac('sha256', `admedia-${st.seed}`).update(parts.join('\x1f')).digest('hex').slice(0, n);
}

/* ------------------------------------------------------------------------ */
/* dates                                                                     */
/* ------------------------------------------------------------------------ */

function parseDay(s) {
    if (typeof s !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return null;
    const t = Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10));
    return new Date(t).toISOString().slice(0, 10) === s ? t : null;
}

/* The days from..to, or an error text. */
function dayRange(st, from, to) {
    const a = parseDay(from), b = parseDay(to);
    if (a === null || b === null) return 'dates must be YYYY-MM-DD';
    if (b < a) return 'the range ends before it starts';
    const n = (b - a) / 86400000 + 1;
    if (n > st.maxDays) return `the range spans ${n} days, at most ${st.maxDays}`;
    return Array.from({ length: n }, (_, i) => new Date(a + i * 86400000).toISOString().slice(0, 10));
}

/* ------------------------------------------------------------------------ */
/* accounts                                                                  */
/* ------------------------------------------------------------------------ */

const NAMES = ['Aozora Games', 'Blue Whale Apps', 'Cobalt Studio', 'Delta Mobile', "O'Reilly Puzzles",
    'Fennec Labs', 'Garnet Play', 'Hikari Media', 'Indigo Rides', 'Juniper Health', 'Kite & Co',
    'Lumen Finance', 'Broken Co (always 500)', 'Nova Shop', 'Orca Travel', 'Pebble Music',
    'Quartz News', 'Rally Sports', 'Sakura Books', 'Big Tundra Ltd'];

function makeAccounts(st) {
    return Array.from({ length: st.nAccounts }, (_, i) => {
        const id = 'acc' + pad(i + 1, 2);
        return {
            id,
            name: NAMES[i] ?? `Advertiser ${pad(i + 1, 2)}`,
            fb_token: 'EAAB' + secretHex(st, 40, 'fb', id),
            yt_key: 'AIzaSy' + secretHex(st, 33, 'yt', id),
            gads_refresh_token: '1//0' + secretHex(st, 48, 'rt', id),
            gads_client_id: `${100000 + (h32(st.seed, 'cid', id) % 900000)}-${secretHex(st, 24, 'cid', id)}.apps.googleusercontent.com`,
            gads_client_secret: 'GOCSPX-' + secretHex(st, 28, 'cs', id),
            fails: st.failAccounts.includes(id),
            token_expires: id === st.expireAccount && st.expireAfterUses > 0,
            big: id === st.bigAccount && st.bigMb > 0,
        };
    });
}

/* ------------------------------------------------------------------------ */
/* the data: campaigns and numbers per (medium, account, day, version)       */
/* ------------------------------------------------------------------------ */

/* Campaign indexes of a slice at a version: n base campaigns, one more from
 * version 2 or 3, one gone from version 3 or 4. */
function campaignsOf(st, m, acc, day, v) {
    const [lo, hi] = st.rows[m];
    const b = h32(st.seed, 'n', m, acc, day);
    const n = lo + (b % (hi - lo + 1));
    if (n === 0) return [];
    const gone = n > 1 && v >= 3 + (mix(b, 1) % 2) ? mix(b, 2) % n : -1;
    const out = [];
    for (let c = 0; c < n; c++) if (c !== gone) out.push(c);
    if (v >= 2 + (mix(b, 3) % 2)) out.push(n);
    return out;
}

const CNAMES = [(c) => `Brand ${c}`, (c) => `Summer Sale, JP ${c}`, (c) => `App "Hero" ${c}`,
    (c) => `キャンペーン ${c}`, (c) => `Retargeting – iOS ${c}`, (c) => `UA_Android_${c}`];

function campaignName(st, acc, c) {
    return CNAMES[h32(st.seed, 'cn', acc, c) % CNAMES.length](c);
}

/* Numbers of one row; each grows strictly with the version v (>= 1). */
function metrics(st, m, acc, day, c, v) {
    const b = h32(st.seed, m, acc, day, c);
    const H = (k, lo, hi) => lo + (mix(b, k) % (hi - lo + 1));
    const imp0 = H(1, 500, 60000);
    const clk0 = Math.floor((imp0 * H(2, 5, 40)) / 1000);
    const ins0 = Math.floor((clk0 * H(3, 2, 20)) / 100);
    return {
        impressions: imp0 + v * H(4, 10, 500),
        clicks: clk0 + v * H(5, 1, 25),
        install: ins0 + v * H(6, 1, 9),
        cents: H(7, 100, 500000) + v * H(8, 5, 3000),
        views: Math.floor(imp0 / H(9, 2, 9)) + v * H(10, 3, 90),
        extra: H(11, 0, 5000) + v * H(12, 1, 40),
    };
}

const money = (cents) => `${Math.floor(cents / 100)}.${pad(cents % 100, 2)}`;

/* Canonical rows (lower-case phase-1 keys + the phase-2 column) of a slice. */
function sliceRows(st, m, acc, day, v, phase) {
    return campaignsOf(st, m, acc, day, v).map((c) => {
        const x = metrics(st, m, acc, day, c, v);
        const num = acc.slice(-2);
        if (m === 'fb') return {
            date_start: day, date_stop: day, account_id: acc,
            campaign_id: `2385${num}${pad(c, 4)}${pad(h32(st.seed, 'fid', acc, c) % 10000, 4)}`,
            campaign_name: campaignName(st, acc, c),
            impressions: x.impressions, clicks: x.clicks, spend: money(x.cents), install: x.install,
            video_views: phase === 2 ? x.views : null,
        };
        if (m === 'gads') return {
            date: day, account_id: acc,
            campaign_id: Number(`1${num}${pad(c, 4)}${pad(h32(st.seed, 'gid', acc, c) % 1000, 3)}`),
            campaign_name: campaignName(st, acc, c),
            impressions: x.impressions, clicks: x.clicks, cost: x.cents / 100, install: x.install,
            view_through_installs: phase === 2 ? x.extra : null,
        };
        return {
            date: day, account_id: acc, campaign_id: `yc-${num}-${pad(c, 4)}`,
            video_id: secretHex(st, 11, 'vid', acc, c),
            impressions: x.impressions, views: x.views, clicks: x.clicks, install: x.install,
        };
    });
}

/* fb: a canonical row as served in the phase. */
function fbServed(r, phase) {
    if (phase === 1) {
        const { video_views: _, ...rest } = r;
        return rest;
    }
    return {
        date_start: r.date_start, date_stop: r.date_stop, account_id: r.account_id,
        campaign_id: r.campaign_id, campaign_name: r.campaign_name,
        Impressions: r.impressions, CLICKS: r.clicks, Spend: r.spend, install: r.install,
        video_views: r.video_views,
    };
}

const GADS_HEAD = {
    1: 'date,account_id,campaign_id,campaign_name,impressions,clicks,cost,install',
    2: 'Date,Account_ID,Campaign_ID,Campaign_Name,IMPRESSIONS,Clicks,Cost,Install,View_Through_Installs',
};
const YT_HEAD = 'date\taccount_id\tcampaign_id\tvideo_id\timpressions\tviews\tclicks\tinstall';

const csvField = (s) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

function gadsLine(r, phase) {
    const f = [r.date, r.account_id, String(r.campaign_id), csvField(r.campaign_name), r.impressions,
        r.clicks, money(Math.round(r.cost * 100)), r.install];
    if (phase === 2) f.push(r.view_through_installs);
    return f.join(',') + '\n';
}

function ytLine(r) {
    const clean = (s) => String(s).replace(/[\t\r\n]/g, ' ');
    return [r.date, r.account_id, r.campaign_id, r.video_id, r.impressions, r.views, r.clicks, r.install]
        .map(clean).join('\t') + '\n';
}

/* ------------------------------------------------------------------------ */
/* the big slice: blocks of BIG_BLOCK_ROWS rows, same numbers in every block */
/* ------------------------------------------------------------------------ */

/* Template block for (account, day, version, phase): the text of block 0,
 * where the offset of each row's campaign id is recorded so that block b is
 * the template with digits 1..6 of every id replaced by 100000 + b. */
function bigTemplate(st, acc, day, v, phase) {
    const key = [acc, day, v, phase].join('|');
    const hit = st.bigCache.get(key);
    if (hit) return hit;
    const idOff = new Int32Array(BIG_BLOCK_ROWS);
    const parts = [];
    let len = 0, install = 0, clicks = 0;
    for (let i = 0; i < BIG_BLOCK_ROWS; i++) {
        const x = metrics(st, 'gads', acc, day, 'big' + i, v);
        const pre = `${day},${acc},`;
        idOff[i] = len + pre.length;
        let line = `${pre}${1000000000 + i},bulk campaign ${i % 97},${x.impressions},${x.clicks},${money(x.cents)},${x.install}`;
        if (phase === 2) line += `,${x.extra}`;
        line += '\n';
        parts.push(line);
        len += line.length;
        install += x.install;
        clicks += x.clicks;
    }
    const t = { buf: Buffer.from(parts.join(''), 'latin1'), idOff, install, clicks };
    if (st.bigCache.size > 4) st.bigCache.delete(st.bigCache.keys().next().value);
    st.bigCache.set(key, t);
    return t;
}

/* The big slice as a file part {len, blockLen, block(i)} plus its summary. */
function bigPart(st, acc, day, v, phase, mb) {
    const t = bigTemplate(st, acc, day, v, phase);
    const blocks = Math.min(899999, Math.max(1, Math.round((mb * 1e6) / t.buf.length)));
    const block = (b) => {
        const out = Buffer.allocUnsafe(t.buf.length);
        t.buf.copy(out);
        const d = String(100000 + b);
        const d0 = d.charCodeAt(0), d1 = d.charCodeAt(1), d2 = d.charCodeAt(2),
            d3 = d.charCodeAt(3), d4 = d.charCodeAt(4), d5 = d.charCodeAt(5);
        const off = t.idOff;
        for (let i = 0; i < off.length; i++) {
            const o = off[i];
            out[o] = d0; out[o + 1] = d1; out[o + 2] = d2; out[o + 3] = d3; out[o + 4] = d4; out[o + 5] = d5;
        }
        return out;
    };
    return {
        part: { len: blocks * t.buf.length, blockLen: t.buf.length, block },
        summary: { rows: blocks * BIG_BLOCK_ROWS, install: blocks * t.install, clicks: blocks * t.clicks, bytes: blocks * t.buf.length },
    };
}

/* ------------------------------------------------------------------------ */
/* state                                                                     */
/* ------------------------------------------------------------------------ */

class Bucket {
    constructor(rate, burst) {
        this.rate = rate; this.burst = Math.max(1, burst); this.tokens = this.burst; this.t = performance.now();
    }
    /* 0 when a token was taken, else the seconds until one is there. */
    take() {
        const now = performance.now();
        this.tokens = Math.min(this.burst, this.tokens + ((now - this.t) / 1000) * this.rate);
        this.t = now;
        if (this.tokens >= 1) { this.tokens -= 1; return 0; }
        return (1 - this.tokens) / this.rate;
    }
}

function mediumStats() {
    return {
        requests: 0, by_account: {}, status: {}, sent_429: 0, violations: 0, forced_429: 0,
        unauthorized: 0, errors_500: 0, faults: 0, bytes_sent: 0,
    };
}

function freshStats() {
    const s = { media: {}, bytes_sent: 0 };
    for (const m of MEDIA) s.media[m] = mediumStats();
    Object.assign(s.media.gads, {
        refreshes: 0, refreshes_by_account: {}, reports_created: 0, reports_polled: 0,
        reports_failed: 0, downloads: 0, range_requests: 0,
    });
    return s;
}

function normLimits(base, over = {}) {
    const out = {};
    for (const m of MEDIA) {
        const o = over[m] ?? {};
        const rate = Number(o.rate ?? base[m].rate), burst = Number(o.burst ?? base[m].burst);
        if (!(rate > 0) || !(burst >= 1)) throw new Error(`limits.${m}: rate must be > 0 and burst >= 1`);
        out[m] = { rate, burst };
    }
    return out;
}

function normDelay(d) {
    const out = {};
    for (const m of MEDIA) out[m] = Math.max(0, Number(typeof d === 'object' && d ? d[m] ?? 0 : d ?? 0)) || 0;
    return out;
}

function makeState(o) {
    const bad = Object.keys(o).filter((k) => !(k in DEFAULTS));
    if (bad.length) throw new Error(`unknown option ${bad[0]} (known: ${Object.keys(DEFAULTS).join(', ')})`);
    const st = {
        seed: Number(o.seed ?? DEFAULTS.seed) >>> 0,
        nAccounts: Math.max(1, Math.min(99, Number(o.accounts ?? DEFAULTS.accounts))),
        rows: { ...DEFAULTS.rows, ...(o.rows ?? {}) },
        limits: normLimits(DEFAULTS.limits, o.limits),
        delay: normDelay(o.delayMs ?? DEFAULTS.delayMs),
        polls: Math.max(0, Number(o.polls ?? DEFAULTS.polls)),
        phase0: Number(o.phase ?? DEFAULTS.phase) === 2 ? 2 : 1,
        phaseAfter: Math.max(0, Number(o.phaseAfter ?? DEFAULTS.phaseAfter)),
        expireAccount: o.expireAccount ?? DEFAULTS.expireAccount,
        expireAfterUses: Math.max(0, Number(o.expireAfterUses ?? DEFAULTS.expireAfterUses)),
        tokenTtl: Math.max(1, Number(o.tokenTtl ?? DEFAULTS.tokenTtl)),
        failAccounts: o.failAccounts ?? DEFAULTS.failAccounts,
        rotateRefresh: o.rotateRefresh ?? DEFAULTS.rotateRefresh,
        bigMb: Number(o.bigMb ?? (o.big ? 500 : DEFAULTS.bigMb)) || 0,
        bigAccount: o.bigAccount ?? DEFAULTS.bigAccount,
        bigDay: o.bigDay ?? DEFAULTS.bigDay,
        maxDays: Number(o.maxDays ?? DEFAULTS.maxDays),
        fbLimitDefault: Number(o.fbLimitDefault ?? DEFAULTS.fbLimitDefault),
        fbLimitMax: Number(o.fbLimitMax ?? DEFAULTS.fbLimitMax),
        bigCache: new Map(),
    };
    for (const m of MEDIA) {
        const r = st.rows[m];
        if (!Array.isArray(r) || !(r[0] >= 0) || !(r[1] >= r[0])) throw new Error(`rows.${m} must be [min, max]`);
    }
    if (parseDay(st.bigDay) === null) throw new Error('bigDay must be YYYY-MM-DD');
    resetState(st);
    return st;
}

/* Everything that requests change goes back to the start; config stays. */
function resetState(st) {
    st.phase = st.phase0;
    st.versions = new Map();      // medium|acc|day -> last version taken
    st.served = new Map();        // medium|acc|day -> {account, day, version, phase, big}
    st.slicesServed = 0;
    st.buckets = {};
    for (const m of MEDIA) st.buckets[m] = new Bucket(st.limits[m].rate, st.limits[m].burst);
    st.forced = {};               // medium -> {count, retryAfter}
    st.faults = [];
    st.failReports = [];
    st.tokens = new Map();        // access token -> {account, issued, uses}
    st.tokenSeq = 0;
    st.reports = new Map();
    st.reportSeq = 0;
    st.traceSeq = 0;
    st.stats = freshStats();
    st.accounts = makeAccounts(st);
    st.byId = new Map(st.accounts.map((a) => [a.id, a]));
}

/* A new snapshot of days of (medium, account): the next version of each. */
function snapshot(st, m, acc, days) {
    if (st.phaseAfter > 0 && st.phase === 1 && st.slicesServed >= st.phaseAfter) st.phase = 2;
    const big = (day) => (m === 'gads' && st.bigMb > 0 && acc === st.bigAccount && day === st.bigDay ? st.bigMb : 0);
    return {
        medium: m, account: acc, phase: st.phase, delivered: false,
        days: days.map((day) => {
            const k = `${m}|${acc}|${day}`;
            const v = (st.versions.get(k) ?? 0) + 1;
            st.versions.set(k, v);
            return { day, version: v, big: big(day) };
        }),
    };
}

/* Record a snapshot as served (once). */
function deliver(st, snap) {
    if (snap.delivered) return;
    snap.delivered = true;
    for (const d of snap.days) {
        const k = `${snap.medium}|${snap.account}|${d.day}`;
        const cur = st.served.get(k);
        if (!cur || d.version > cur.version) st.served.set(k, { account: snap.account, day: d.day, version: d.version, phase: snap.phase, big: d.big });
        st.slicesServed++;
    }
}

/* ------------------------------------------------------------------------ */
/* truth                                                                     */
/* ------------------------------------------------------------------------ */

function truthOf(st, m, account) {
    const slices = [], rows = [];
    const keys = [...st.served.keys()].filter((k) => k.startsWith(m + '|')).sort();
    for (const k of keys) {
        const s = st.served.get(k);
        if (account && s.account !== account) continue;
        if (s.big) {
            const { summary } = bigPart(st, s.account, s.day, s.version, s.phase, s.big);
            slices.push({ account: s.account, day: s.day, version: s.version, phase: s.phase, big: true, ...summary });
            continue;
        }
        const r = sliceRows(st, m, s.account, s.day, s.version, s.phase);
        slices.push({
            account: s.account, day: s.day, version: s.version, phase: s.phase, rows: r.length,
            install: r.reduce((a, x) => a + x.install, 0), clicks: r.reduce((a, x) => a + x.clicks, 0),
        });
        rows.push(...r);
    }
    return { medium: m, slices, rows };
}

function statsView(st) {
    const s = structuredClone(st.stats);
    s.phase = st.phase;
    s.slices_served = st.slicesServed;
    s.reports = st.reports.size;
    s.tokens_issued = st.tokenSeq;
    s.limits = st.limits;
    s.accounts = {};
    for (const m of MEDIA) for (const [a, n] of Object.entries(s.media[m].by_account)) (s.accounts[a] ??= { fb: 0, gads: 0, yt: 0 })[m] = n;
    return s;
}

/* ------------------------------------------------------------------------ */
/* replies                                                                   */
/* ------------------------------------------------------------------------ */

/* One response: counts status and body bytes, applies a `cut` fault. */
class Reply {
    constructor(st, medium, req, res) {
        this.st = st; this.medium = medium; this.req = req; this.res = res;
        this.cut = null; this.limit = Infinity; this.sent = 0; this.closed = false;
        res.on('close', () => { this.closed = true; });
        res.on('error', () => { });
    }
    get head() { return this.req.method === 'HEAD'; }
    begin(status, headers, total) {
        const ms = this.medium && this.st.stats.media[this.medium];
        if (ms) ms.status[status] = (ms.status[status] ?? 0) + 1;
        if (this.cut) this.limit = this.cut.after_bytes ?? Math.floor(total / 2);
        this.res.writeHead(status, headers);
    }
    /* false: wait for drain (or stop when closed) */
    write(buf) {
        if (this.closed) return false;
        if (this.sent + buf.length > this.limit) {
            const part = buf.subarray(0, Math.max(0, this.limit - this.sent));
            this.count(part.length);
            this.closed = true;
            this.res.write(part, () => this.res.socket?.destroy());
            return false;
        }
        this.count(buf.length);
        return this.res.write(buf);
    }
    count(n) {
        this.sent += n;
        this.st.stats.bytes_sent += n;
        if (this.medium) this.st.stats.media[this.medium].bytes_sent += n;
    }
    end() { if (!this.closed) this.res.end(); }
    send(status, headers, body) {
        const b = Buffer.isBuffer(body) ? body : Buffer.from(body ?? '', 'utf8');
        this.begin(status, { ...headers, 'Content-Length': b.length }, b.length);
        if (!this.head && b.length) this.write(b);
        this.end();
    }
    json(status, obj, headers = {}) {
        this.send(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers }, JSON.stringify(obj) + '\n');
    }
}

function drained(res) {
    return new Promise((resolve) => {
        const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
        res.on('drain', done); res.on('close', done);
    });
}

/* Write bytes [start, end] of parts ({len, blockLen, block(i)}) with backpressure. */
async function pump(reply, parts, start, end) {
    let base = 0;
    for (const p of parts) {
        const lo = Math.max(start, base), hi = Math.min(end + 1, base + p.len);
        for (let off = lo; off < hi;) {
            const bi = Math.floor((off - base) / p.blockLen), b0 = base + bi * p.blockLen;
            const buf = p.block(bi).subarray(off - b0, Math.min(hi, b0 + p.blockLen) - b0);
            if (!buf.length) throw new Error(`pump: empty slice at ${off}`);   // never loop in place
            off += buf.length;
            if (!reply.write(buf)) {
                if (reply.closed) return;
                await drained(reply.res);
                if (reply.closed) return;
            }
        }
        base += p.len;
    }
    reply.end();
}

const smallPart = (buf) => ({ len: buf.length, blockLen: Math.max(1, buf.length), block: () => buf });

/* {s, e} for a satisfiable single range, 'unsat', or null (serve it all). */
function parseRange(h, len) {
    if (typeof h !== 'string') return null;
    const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
    if (!m || (m[1] === '' && m[2] === '')) return null;
    if (m[1] === '') {
        const n = Number(m[2]);
        if (n === 0) return 'unsat';
        return { s: Math.max(0, len - n), e: len - 1 };
    }
    const s = Number(m[1]);
    if (m[2] !== '' && Number(m[2]) < s) return null;
    if (s >= len) return 'unsat';
    return { s, e: m[2] === '' ? len - 1 : Math.min(Number(m[2]), len - 1) };
}

/* ------------------------------------------------------------------------ */
/* error bodies                                                              */
/* ------------------------------------------------------------------------ */

function fbError(st, reply, status, code, message, type = 'OAuthException', headers = {}) {
    reply.json(status, { error: { message, type, code, fbtrace_id: 'A' + secretHex(st, 10, 'trace', ++st.traceSeq) } }, headers);
}

const G_STATUS = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND',
    405: 'METHOD_NOT_ALLOWED', 409: 'FAILED_PRECONDITION', 413: 'INVALID_ARGUMENT', 429: 'RESOURCE_EXHAUSTED',
    500: 'INTERNAL', 503: 'UNAVAILABLE' };

function gError(reply, status, message, headers = {}) {
    reply.json(status, { error: { code: status, message, status: G_STATUS[status] ?? 'UNKNOWN' } }, headers);
}

function mediumError(st, reply, m, status, message, headers = {}) {
    if (status === 401) st.stats.media[m].unauthorized++;
    if (status === 500) st.stats.media[m].errors_500++;
    if (m === 'fb') {
        const code = { 401: 190, 429: 4, 500: 2 }[status] ?? 100;
        return fbError(st, reply, status, code, message, status === 500 ? 'FacebookApiException' : 'OAuthException', headers);
    }
    if (status === 401) headers = { 'WWW-Authenticate': 'Bearer realm="admedia", error="invalid_token"', ...headers };
    return gError(reply, status, message, headers);
}

function failAccount(st, reply, m, acc) {
    mediumError(st, reply, m, 500, `internal error for account ${acc}`);
}

/* ------------------------------------------------------------------------ */
/* request helpers                                                           */
/* ------------------------------------------------------------------------ */

/* The body (<= BODY_MAX) as a string, or null after answering 413. */
function readBody(req, reply) {
    return new Promise((resolve) => {
        const chunks = [];
        let n = 0, done = false;
        req.on('data', (c) => {
            if (done) return;
            n += c.length;
            if (n > BODY_MAX) { done = true; gError(reply, 413, `body over ${BODY_MAX} bytes`, { Connection: 'close' }); resolve(null); return; }
            chunks.push(c);
        });
        req.on('end', () => { if (!done) { done = true; resolve(Buffer.concat(chunks).toString('utf8')); } });
        req.on('error', () => { if (!done) { done = true; resolve(null); } });
    });
}

function bearer(req) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return m ? m[1] : null;
}

function baseUrl(st, req) {
    const h = req.headers.host;
    return typeof h === 'string' && /^[A-Za-z0-9.\-[\]:]{1,300}$/.test(h) ? `http://${h}` : st.url;
}

const countAccount = (st, m, acc) => {
    if (!acc || !st.byId.has(acc)) return;
    const b = st.stats.media[m].by_account;
    b[acc] = (b[acc] ?? 0) + 1;
};

/* ------------------------------------------------------------------------ */
/* fb                                                                        */
/* ------------------------------------------------------------------------ */

function signCursor(st, obj) {
    const p = Buffer.from(JSON.stringify(obj)).toString('base64url');
    return `${p}.${secretHex(st, 16, 'cur', p)}`;
}

function readCursor(st, s) {
    if (typeof s !== 'string' || s.length > 8192) return null;
    const [p, sig, more] = s.split('.');
    if (more !== undefined || !p || sig !== secretHex(st, 16, 'cur', p)) return null;
    try { return JSON.parse(Buffer.from(p, 'base64url').toString('utf8')); } catch { return null; }
}

function fbRowsOf(st, snap) {
    const key = JSON.stringify(snap);
    if (st.fbCache?.key === key) return st.fbCache.rows;
    const rows = [];
    for (const d of snap.days) for (const r of sliceRows(st, 'fb', snap.account, d.day, d.version, snap.phase)) rows.push(fbServed(r, snap.phase));
    st.fbCache = { key, rows };
    return rows;
}

async function fbInsights(st, req, reply, u, [acc]) {
    const q = u.searchParams;
    const tok = bearer(req) ?? q.get('access_token');
    const owner = st.accounts.find((a) => a.fb_token === tok);
    if (!owner || (owner.id !== acc && st.byId.has(acc)))
        return mediumError(st, reply, 'fb', 401, tok ? 'Invalid OAuth access token - Cannot parse access token' : 'An active access token must be used to query information about the current user.');
    if (!st.byId.has(acc)) return mediumError(st, reply, 'fb', 400, `Unsupported get request. Object with ID 'act_${acc}' does not exist`);
    if (st.byId.get(acc).fails) return failAccount(st, reply, 'fb', acc);
    const since = q.get('since'), until = q.get('until');
    const days = dayRange(st, since, until);
    if (typeof days === 'string') return mediumError(st, reply, 'fb', 400, `Invalid parameter: since/until: ${days}`);
    const limit = q.has('limit') ? Number(q.get('limit')) : st.fbLimitDefault;
    if (!Number.isInteger(limit) || limit < 1 || limit > st.fbLimitMax) return mediumError(st, reply, 'fb', 400, `Invalid parameter: limit must be 1..${st.fbLimitMax}`);
    let snap, offset = 0;
    if (q.has('after')) {
        const c = readCursor(st, q.get('after'));
        if (!c || c.a !== acc || c.s !== since || c.u !== until || !Number.isInteger(c.o) || c.o < 0 ||
            !Array.isArray(c.v) || c.v.length !== days.length || (c.p !== 1 && c.p !== 2))
            return mediumError(st, reply, 'fb', 400, 'Invalid parameter: after (cursor)');
        snap = { medium: 'fb', account: acc, phase: c.p, days: days.map((day, i) => ({ day, version: c.v[i] })) };
        offset = c.o;
    } else {
        snap = snapshot(st, 'fb', acc, days);
        deliver(st, snap);
    }
    const rows = fbRowsOf(st, { account: acc, phase: snap.phase, days: snap.days.map((d) => ({ day: d.day, version: d.version })) });
    const data = rows.slice(offset, offset + limit);
    const out = { data };
    if (data.length) {
        const cur = (o) => signCursor(st, { a: acc, s: since, u: until, p: snap.phase, v: snap.days.map((d) => d.version), o });
        out.paging = { cursors: { before: cur(offset), after: cur(offset + data.length) } };
        if (offset + data.length < rows.length) {
            const nq = new URLSearchParams(q);
            nq.set('after', out.paging.cursors.after);
            out.paging.next = `${baseUrl(st, req)}${u.pathname}?${nq}`;
        }
    }
    reply.json(200, out);
}

/* ------------------------------------------------------------------------ */
/* gads                                                                      */
/* ------------------------------------------------------------------------ */

async function gadsToken(st, req, reply) {
    const text = await readBody(req, reply);
    if (text === null) return;
    const f = new URLSearchParams(text);
    let id = f.get('client_id'), secret = f.get('client_secret');
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
        const dec = Buffer.from(basic[1], 'base64').toString('utf8'), i = dec.indexOf(':');
        if (i > 0) { id = decodeURIComponent(dec.slice(0, i)); secret = decodeURIComponent(dec.slice(i + 1)); }
    }
    const err = (status, error, description) => {
        if (status === 401) st.stats.media.gads.unauthorized++;
        reply.json(status, { error, error_description: description });
    };
    if (f.get('grant_type') !== 'refresh_token') return err(400, 'unsupported_grant_type', 'grant_type must be refresh_token');
    const a = st.accounts.find((x) => x.gads_client_id === id);
    countAccount(st, 'gads', a?.id);
    if (!a || a.gads_client_secret !== secret) return err(401, 'invalid_client', 'The OAuth client was not found.');
    if (!f.get('refresh_token')) return err(400, 'invalid_request', 'Missing required parameter: refresh_token');
    if (f.get('refresh_token') !== a.gads_refresh_token) return err(400, 'invalid_grant', 'Token has been expired or revoked.');
    const tok = `ya29.${secretHex(st, 40, 'at', a.id, ++st.tokenSeq)}`;
    st.tokens.set(tok, { account: a.id, issued: Date.now(), uses: 0 });
    const g = st.stats.media.gads;
    g.refreshes++;
    g.refreshes_by_account[a.id] = (g.refreshes_by_account[a.id] ?? 0) + 1;
    const out = { access_token: tok, expires_in: st.tokenTtl, token_type: 'Bearer', scope: 'https://www.googleapis.com/auth/adwords' };
    if (st.rotateRefresh.includes(a.id)) {
        out.refresh_token = a.gads_refresh_token = '1//0' + secretHex(st, 48, 'rt', a.id, st.tokenSeq);
        g.rotations = (g.rotations ?? 0) + 1;
    }
    reply.json(200, out);
}

/* The account of a valid access token (one use taken), or null after a 401. */
function gadsAuth(st, req, reply) {
    const tok = bearer(req);
    const t = tok && st.tokens.get(tok);
    let why = null;
    if (!tok) why = 'Request is missing required authentication credential.';
    else if (!t) why = 'Request had invalid authentication credentials.';
    else if (Date.now() - t.issued > st.tokenTtl * 1000) why = 'The access token expired.';
    else if (t.account === st.expireAccount && st.expireAfterUses > 0 && t.uses >= st.expireAfterUses) why = 'The access token expired.';
    if (why) { mediumError(st, reply, 'gads', 401, why); return null; }
    t.uses++;
    return t.account;
}

async function gadsCreate(st, req, reply, u, [acc]) {
    const owner = gadsAuth(st, req, reply);
    if (!owner) return;
    if (!st.byId.has(acc)) return gError(reply, 404, `account ${acc} not found`);
    if (owner !== acc) return gError(reply, 403, `The caller does not have permission for account ${acc}`);
    if (st.byId.get(acc).fails) return failAccount(st, reply, 'gads', acc);
    const text = await readBody(req, reply);
    if (text === null) return;
    let body;
    try { body = JSON.parse(text); } catch { return gError(reply, 400, 'body is not JSON'); }
    const days = dayRange(st, body?.date_from, body?.date_to);
    if (typeof days === 'string') return gError(reply, 400, `date_from/date_to: ${days}`);
    const seq = ++st.reportSeq;
    const id = `r${pad(seq, 6)}-${secretHex(st, 8, 'rid', seq)}`;
    const rule = st.failReports.find((r) => r.count > 0 && (!r.account || r.account === acc));
    if (rule) rule.count--;
    st.reports.set(id, { id, account: acc, from: body.date_from, to: body.date_to, snap: snapshot(st, 'gads', acc, days), polls: 0, fail: rule ? rule.reason : null, file: null });
    st.stats.media.gads.reports_created++;
    reply.json(202, { report_id: id, status: 'PENDING' }, { Location: `${baseUrl(st, req)}/gads/v2/reports/${id}` });
}

/* The report file: parts and totals, built once. */
function reportFile(st, r) {
    if (r.file) return r.file;
    const parts = [], ph = r.snap.phase;
    let text = GADS_HEAD[ph] + '\n', rows = 0;
    for (const d of r.snap.days) {
        if (d.big) {
            const { part, summary } = bigPart(st, r.account, d.day, d.version, ph, d.big);
            parts.push(smallPart(Buffer.from(text, 'utf8')), part);
            text = '';
            rows += summary.rows;
            continue;
        }
        const rs = sliceRows(st, 'gads', r.account, d.day, d.version, ph);
        rows += rs.length;
        text += rs.map((x) => gadsLine(x, ph)).join('');
    }
    if (text) parts.push(smallPart(Buffer.from(text, 'utf8')));
    const len = parts.reduce((a, p) => a + p.len, 0);
    r.file = { parts, len, rows, etag: `"${r.id}-${len}"`, sig: secretHex(st, 16, 'sig', r.id) };
    return r.file;
}

function reportStatus(st, r) {
    if (r.polls <= st.polls) return r.polls === 1 ? 'PENDING' : 'RUNNING';
    return r.fail ? 'FAILED' : 'DONE';
}

async function gadsPoll(st, req, reply, u, [id]) {
    const owner = gadsAuth(st, req, reply);
    if (!owner) return;
    const r = st.reports.get(id);
    if (!r || r.account !== owner) return gError(reply, 404, `report ${id} not found`);
    r.polls++;
    st.stats.media.gads.reports_polled++;
    const status = reportStatus(st, r);
    if (status === 'FAILED') {
        if (!r.failCounted) { r.failCounted = true; st.stats.media.gads.reports_failed++; }
        return reply.json(200, { report_id: id, status, reason: r.fail });
    }
    if (status !== 'DONE') return reply.json(200, { report_id: id, status });
    const f = reportFile(st, r);
    reply.json(200, {
        report_id: id, status, file_url: `${baseUrl(st, req)}/gads/files/${id}.csv?sig=${f.sig}`,
        file_size: f.len, row_count: f.rows,
    });
}

async function gadsFile(st, req, reply, u, [id]) {
    const r = st.reports.get(id);
    if (!r) return gError(reply, 404, `file ${id}.csv not found`);
    if (reportStatus(st, r) !== 'DONE' || !r.file) return gError(reply, 409, `report ${id} is not DONE`);
    const f = r.file;
    if (u.searchParams.get('sig') !== f.sig) return gError(reply, 403, 'signature does not match');
    const g = st.stats.media.gads;
    let range = parseRange(req.headers.range, f.len);
    if (range && req.headers['if-range'] !== undefined && req.headers['if-range'] !== f.etag) range = null;
    if (req.headers.range !== undefined) g.range_requests++;
    const h = { 'Content-Type': 'text/csv; charset=utf-8', 'Accept-Ranges': 'bytes', ETag: f.etag,
        'Content-Disposition': `attachment; filename="${id}.csv"` };
    if (range === 'unsat') return reply.send(416, { ...h, 'Content-Range': `bytes */${f.len}` }, '');
    const { s, e } = range ?? { s: 0, e: f.len - 1 };
    const n = f.len ? e - s + 1 : 0;
    if (range) h['Content-Range'] = `bytes ${s}-${e}/${f.len}`;
    reply.begin(range ? 206 : 200, { ...h, 'Content-Length': n }, n);
    if (reply.head || n === 0) return reply.end();
    g.downloads++;
    deliver(st, r.snap);
    await pump(reply, f.parts, s, e);
}

/* ------------------------------------------------------------------------ */
/* yt                                                                        */
/* ------------------------------------------------------------------------ */

async function ytReport(st, req, reply, u, [acc, day]) {
    const key = req.headers['x-api-key'] ?? u.searchParams.get('key');
    const owner = st.accounts.find((a) => a.yt_key === key);
    if (!owner || owner.id !== acc) return mediumError(st, reply, 'yt', 401, key ? 'API key not valid. Please pass a valid API key.' : 'The request is missing a valid API key.');
    if (owner.fails) return failAccount(st, reply, 'yt', acc);
    if (parseDay(day) === null) return gError(reply, 400, `bad date ${JSON.stringify(day).slice(0, 40)}`);
    const snap = snapshot(st, 'yt', acc, [day]);
    deliver(st, snap);
    const rows = sliceRows(st, 'yt', acc, day, snap.days[0].version, snap.phase);
    const gz = zlib.gzipSync(YT_HEAD + '\n' + rows.map(ytLine).join(''));
    reply.send(200, { 'Content-Type': 'application/gzip', 'Content-Disposition': `attachment; filename="${acc}-${day}.tsv.gz"` }, gz);
}

/* ------------------------------------------------------------------------ */
/* routing                                                                   */
/* ------------------------------------------------------------------------ */

const ROUTES = [
    { methods: ['GET'], m: 'fb', re: /^\/fb\/v1\/act_([^/]{1,64})\/insights$/, fn: fbInsights, acc: (x) => x[0] },
    { methods: ['POST'], m: 'gads', re: /^\/gads\/oauth\/token$/, fn: gadsToken },
    { methods: ['POST'], m: 'gads', re: /^\/gads\/v2\/accounts\/([^/]{1,64})\/reports$/, fn: gadsCreate, acc: (x) => x[0] },
    { methods: ['GET'], m: 'gads', re: /^\/gads\/v2\/reports\/([^/]{1,64})$/, fn: gadsPoll, report: true },
    { methods: ['GET', 'HEAD'], m: 'gads', re: /^\/gads\/files\/([^/]{1,64})\.csv$/, fn: gadsFile, report: true },
    { methods: ['GET'], m: 'yt', re: /^\/yt\/reports\/([^/]{1,64})\/([^/]{1,64})\.tsv\.gz$/, fn: ytReport, acc: (x) => x[0] },
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* A fault for this request (count taken), or null. */
function takeFault(st, m, path) {
    const f = st.faults.find((x) => x.count > 0 && (x.medium === '*' || x.medium === m) && (!x.path || path.includes(x.path)));
    if (!f) return null;
    f.count--;
    st.faults = st.faults.filter((x) => x.count > 0);
    st.stats.media[m].faults++;
    return f;
}

/* Fault, forced 429, bucket and delay; true when the request was answered. */
async function gate(st, m, req, reply, path) {
    const f = takeFault(st, m, path);
    if (f?.action === 'hang') { req.socket.setTimeout(0); return true; }
    if (f?.action === 'reset') { req.socket.resetAndDestroy(); return true; }
    if (f?.action === 'status') { mediumError(st, reply, m, f.status ?? 503, `injected ${f.status ?? 503}`); return true; }
    if (f?.action === 'delay') await sleep(f.ms ?? 1000);
    if (f?.action === 'cut') reply.cut = f;
    const ms = st.stats.media[m];
    const forced = st.forced[m];
    if (forced && forced.count > 0) {
        forced.count--;
        ms.sent_429++; ms.forced_429++;
        mediumError(st, reply, m, 429, 'Too many requests (forced by the test)', { 'Retry-After': String(forced.retryAfter) });
        return true;
    }
    const wait = st.buckets[m].take();
    if (wait > 0) {
        ms.sent_429++; ms.violations++;
        mediumError(st, reply, m, 429, m === 'fb' ? '(#4) Application request limit reached' : 'Quota exceeded: too many requests',
            { 'Retry-After': String(Math.max(1, Math.ceil(wait))) });
        return true;
    }
    if (st.delay[m] > 0) await sleep(st.delay[m]);
    return false;
}

async function handleMedium(st, m, req, reply, u) {
    const ms = st.stats.media[m];
    ms.requests++;
    const route = ROUTES.find((r) => r.m === m && r.re.test(u.pathname));
    const match = route ? route.re.exec(u.pathname).slice(1) : null;
    let acc = route?.acc?.(match);
    if (route?.report) acc = st.reports.get(match[0])?.account;
    countAccount(st, m, acc);
    if (await gate(st, m, req, reply, u.pathname + u.search)) return;
    if (!route) return mediumError(st, reply, m, 404, `no such endpoint ${req.method} ${u.pathname.slice(0, 200)}`);
    if (!route.methods.includes(req.method)) return mediumError(st, reply, m, 405, `method ${req.method} not allowed`, { Allow: route.methods.join(', ') });
    await route.fn(st, req, reply, u, match);
}

/* ------------------------------------------------------------------------ */
/* control endpoints                                                         */
/* ------------------------------------------------------------------------ */

function toCsv(rows) {
    if (!rows.length) return '';
    const keys = Object.keys(rows[0]);
    const f = (v) => (v === null || v === undefined ? '' : csvField(String(v)));
    return keys.join(',') + '\n' + rows.map((r) => keys.map((k) => f(r[k])).join(',')).join('\n') + '\n';
}

function sendRows(reply, format, rows, wrap) {
    if (format === 'ndjson') return reply.send(200, { 'Content-Type': 'application/x-ndjson' }, rows.map((r) => JSON.stringify(r) + '\n').join(''));
    if (format === 'csv') return reply.send(200, { 'Content-Type': 'text/csv; charset=utf-8' }, toCsv(rows));
    return reply.json(200, wrap);
}

function configView(st) {
    return {
        limits: st.limits, delay_ms: st.delay, polls: st.polls, phase: st.phase, phase_after: st.phaseAfter,
        expire_account: st.expireAccount, expire_after: st.expireAfterUses, token_ttl: st.tokenTtl,
        fail_accounts: st.failAccounts, big_mb: st.bigMb, big_account: st.bigAccount, big_day: st.bigDay,
        seed: st.seed, accounts: st.nAccounts, rows: st.rows, max_days: st.maxDays,
    };
}

/* Apply a config change (snake_case keys as in GET /_mock/config); all or
 * nothing. */
function configure(st, c) {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new Error('config must be an object');
    const known = ['limits', 'delay_ms', 'polls', 'phase_after', 'expire_after', 'token_ttl', 'big_mb', 'big_account', 'big_day'];
    const bad = Object.keys(c).filter((k) => !known.includes(k));
    if (bad.length) throw new Error(`unknown config key ${bad[0]} (known: ${known.join(', ')})`);
    const num = (k, min, cur) => {
        if (c[k] === undefined) return cur;
        const v = Number(c[k]);
        if (c[k] === null || !Number.isFinite(v) || v < min) throw new Error(`${k} must be a number >= ${min}`);
        return v;
    };
    if (c.big_day !== undefined && parseDay(c.big_day) === null) throw new Error('big_day must be YYYY-MM-DD');
    const n = {
        limits: c.limits !== undefined ? normLimits(st.limits, c.limits) : st.limits,
        delay: c.delay_ms !== undefined ? normDelay(typeof c.delay_ms === 'object' && c.delay_ms ? { ...st.delay, ...c.delay_ms } : c.delay_ms) : st.delay,
        polls: num('polls', 0, st.polls),
        phaseAfter: num('phase_after', 0, st.phaseAfter),
        expireAfterUses: num('expire_after', 0, st.expireAfterUses),
        tokenTtl: num('token_ttl', 1, st.tokenTtl),
        bigMb: num('big_mb', 0, st.bigMb),
        bigAccount: c.big_account !== undefined ? String(c.big_account) : st.bigAccount,
        bigDay: c.big_day ?? st.bigDay,
    };
    Object.assign(st, n);
    if (c.limits) for (const m of MEDIA) if (c.limits[m]) st.buckets[m] = new Bucket(st.limits[m].rate, st.limits[m].burst);
    for (const a of st.accounts) {
        a.big = a.id === st.bigAccount && st.bigMb > 0;
        a.token_expires = a.id === st.expireAccount && st.expireAfterUses > 0;
    }
}

function setPhase(st, p) {
    if (p !== 1 && p !== 2) throw new Error('phase must be 1 or 2');
    st.phase = p;
}

function force429(st, m, count, retryAfter) {
    if (!MEDIA.includes(m)) throw new Error('medium must be fb, gads or yt');
    const n = Number(count ?? 1), ra = Number(retryAfter ?? 1);
    if (!Number.isInteger(n) || n < 0 || !Number.isInteger(ra) || ra < 0) throw new Error('count and retry_after must be integers >= 0');
    st.forced[m] = { count: n, retryAfter: ra };
}

const FAULTS = ['hang', 'reset', 'status', 'delay', 'cut'];

function addFault(st, f) {
    if (!(f.medium === '*' || MEDIA.includes(f.medium))) throw new Error('medium must be fb, gads, yt or *');
    if (!FAULTS.includes(f.action)) throw new Error(`action must be one of ${FAULTS.join(', ')}`);
    const count = Number(f.count ?? 1);
    if (!Number.isInteger(count) || count < 1) throw new Error('count must be an integer >= 1');
    st.faults.push({ medium: f.medium, action: f.action, count, path: f.path ? String(f.path) : null,
        ms: f.ms !== undefined ? Number(f.ms) : undefined,
        after_bytes: f.after_bytes !== undefined ? Number(f.after_bytes) : undefined,
        status: f.status !== undefined ? Number(f.status) : undefined });
}

function failReports(st, f) {
    const count = Number(f.count ?? 1);
    if (!Number.isInteger(count) || count < 1) throw new Error('count must be an integer >= 1');
    st.failReports.push({ count, reason: String(f.reason ?? 'report failed'), account: f.account ?? null });
}

async function handleControl(st, req, reply, u) {
    const p = u.pathname, q = u.searchParams, method = req.method;
    const post = async () => {
        const t = await readBody(req, reply);
        if (t === null) return null;
        try { return t.trim() ? JSON.parse(t) : {}; } catch { throw new Error('body is not JSON'); }
    };
    try {
        if (p === '/_mock/health') return reply.send(200, { 'Content-Type': 'text/plain' }, 'ok\n');
        if (p === '/_mock/accounts' && method === 'GET') return sendRows(reply, q.get('format'), st.accounts, { accounts: st.accounts });
        if (p === '/_mock/truth' && method === 'GET') {
            const m = q.get('medium');
            if (m && !MEDIA.includes(m)) throw new Error('medium must be fb, gads or yt');
            if (!m) {
                const all = Object.fromEntries(MEDIA.map((x) => [x, truthOf(st, x, q.get('account'))]));
                return sendRows(reply, q.get('format'), MEDIA.flatMap((x) => all[x].rows), all);
            }
            const t = truthOf(st, m, q.get('account'));
            return sendRows(reply, q.get('format'), t.rows, t);
        }
        if (p === '/_mock/stats' && method === 'GET') return reply.json(200, statsView(st));
        if (p === '/_mock/config' && method === 'GET') return reply.json(200, configView(st));
        if (p === '/_mock/phase' && method === 'GET') return reply.json(200, { phase: st.phase });
        if (method !== 'POST') return gError(reply, 404, `no such control endpoint ${method} ${p.slice(0, 100)}`);
        const b = await post();
        if (b === null) return;
        if (p === '/_mock/reset') resetState(st);
        else if (p === '/_mock/phase') setPhase(st, Number(b.phase));
        else if (p === '/_mock/force429') force429(st, b.medium, b.count, b.retry_after);
        else if (p === '/_mock/fault') addFault(st, b);
        else if (p === '/_mock/gads/fail') failReports(st, b);
        else if (p === '/_mock/config') configure(st, b);
        else return gError(reply, 404, `no such control endpoint POST ${p.slice(0, 100)}`);
        return reply.json(200, p === '/_mock/config' ? configView(st) : { ok: true, phase: st.phase });
    } catch (e) {
        return gError(reply, 400, e.message);
    }
}

async function handle(st, req, res) {
    const seg = /^\/([^/?]*)/.exec(req.url ?? '')?.[1];
    const medium = MEDIA.includes(seg) ? seg : null;
    const reply = new Reply(st, medium, req, res);
    try {
        let u = null;
        try { if (req.url.startsWith('/')) u = new URL('http://mock' + req.url); } catch { }
        if (!u) return gError(reply, 400, 'request target must be a path');
        if (medium) return await handleMedium(st, medium, req, reply, u);
        if (seg === '_mock') return await handleControl(st, req, reply, u);
        return gError(reply, 404, `no such endpoint ${u.pathname.slice(0, 200)}`);
    } catch (e) {
        if (!res.headersSent) gError(reply, 500, `mock bug: ${e.message}`);
        else res.destroy();
    }
}

/* ------------------------------------------------------------------------ */
/* start                                                                     */
/* ------------------------------------------------------------------------ */

/* Start the mock on 127.0.0.1 (opts: see DEFAULTS).  Resolves
 * {url, port, accounts, state, stats(), truth(medium?), config(), configure(c),
 *  setPhase(p), force429(m, n, s), fault(f), failReports(f), reset(), close()}. */
/* The YAML (indented for jobs.<name>) of the body of a `kind: collect` job
 * for the gads asynchronous CSV report with OAuth2 refresh: one account
 * (id acc) whose refresh token, client id and secret are the secrets rt,
 * cid, cs; base: the mock's (or a proxy's) URL; extra: more keys, YAML
 * lines at the job's indent. */
export function gadsJobYaml({ acc, base, table, poll = '100ms', extra = '' }) {
    return `    kind: collect
    window: day
    retries: 0
${extra}    accounts:
      sql: "SELECT '${acc}' AS id, 'rt' AS rt, 'cid' AS cid, 'cs' AS cs"
    auth:
      type: oauth2
      token_url: "{{params.base}}/gads/oauth/token"
      refresh_token: "{{account_secret.rt}}"
      client_id: "{{account_secret.cid}}"
      client_secret: "{{account_secret.cs}}"
    report:
      async: true
      create:
        method: POST
        url: "{{params.base}}/gads/v2/accounts/{{account}}/reports"
        body: '{"date_from":"{{ds}}","date_to":"{{ds}}"}'
      id_path: report_id
      status: {url: "{{params.base}}/gads/v2/reports/{{report.id}}"}
      status_path: status
      ready: DONE
      failed: FAILED
      file_url_path: file_url
      poll: ${poll}
      max_wait: 10m
      format: csv
    table: ${table}
    params: {base: "${base}"}
`;
}

export async function startAdMedia(opts = {}) {
    const st = makeState(opts);
    const server = http.createServer((req, res) => { handle(st, req, res); });
    server.keepAliveTimeout = 5000;
    server.requestTimeout = 0;
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(opts.port ?? 0), '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
    const port = server.address().port;
    st.url = `http://127.0.0.1:${port}`;
    return {
        url: st.url, port, server, state: st,
        get accounts() { return st.accounts.map((a) => ({ ...a })); },
        stats: () => statsView(st),
        truth: (m, account) => (m ? truthOf(st, m, account) : Object.fromEntries(MEDIA.map((x) => [x, truthOf(st, x, account)]))),
        config: () => configView(st),
        configure: (c) => configure(st, c),
        setPhase: (p) => setPhase(st, p),
        force429: (m, n, s) => force429(st, m, n, s),
        fault: (f) => addFault(st, f),
        failReports: (f) => failReports(st, f),
        reset: () => resetState(st),
        close: () => new Promise((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        }),
    };
}

/* ------------------------------------------------------------------------ */
/* command line                                                              */
/* ------------------------------------------------------------------------ */

const USAGE = `usage: node admedia.mjs [--port N] [--seed N] [--accounts N] [--rows MIN-MAX]
  [--fb-rate R] [--fb-burst B] [--gads-rate R] [--gads-burst B] [--yt-rate R] [--yt-burst B]
  [--polls N] [--phase 1|2] [--phase-after N] [--delay-ms N] [--expire-after N] [--token-ttl S]
  [--big] [--big-mb N] [--big-account ID] [--big-day YYYY-MM-DD]
  --rows MIN-MAX: campaigns per (account, day) on every medium; --big = --big-mb 500`;

export function parseArgs(argv) {
    const o = { limits: { fb: {}, gads: {}, yt: {} } };
    const num = (k, v) => {
        const n = Number(v);
        if (v === undefined || v === '' || !Number.isFinite(n)) throw new Error(`${k} needs a number`);
        return n;
    };
    for (let i = 0; i < argv.length; i++) {
        const k = argv[i], v = argv[i + 1];
        const lim = /^--(fb|gads|yt)-(rate|burst)$/.exec(k);
        if (lim) { o.limits[lim[1]][lim[2]] = num(k, v); i++; continue; }
        switch (k) {
            case '--port': o.port = num(k, v); i++; break;
            case '--seed': o.seed = num(k, v); i++; break;
            case '--accounts': o.accounts = num(k, v); i++; break;
            case '--rows': {
                const m = /^(\d+)-(\d+)$/.exec(v ?? '');
                if (!m) throw new Error('--rows needs MIN-MAX');
                o.rows = Object.fromEntries(MEDIA.map((x) => [x, [+m[1], +m[2]]]));
                i++; break;
            }
            case '--polls': o.polls = num(k, v); i++; break;
            case '--phase': o.phase = num(k, v); i++; break;
            case '--phase-after': o.phaseAfter = num(k, v); i++; break;
            case '--delay-ms': o.delayMs = num(k, v); i++; break;
            case '--expire-after': o.expireAfterUses = num(k, v); i++; break;
            case '--token-ttl': o.tokenTtl = num(k, v); i++; break;
            case '--big': o.big = true; break;
            case '--big-mb': o.bigMb = num(k, v); i++; break;
            case '--big-account': if (!v) throw new Error('--big-account needs an id'); o.bigAccount = v; i++; break;
            case '--big-day': if (!v) throw new Error('--big-day needs a date'); o.bigDay = v; i++; break;
            case '-h': case '--help': throw new Error('help');
            default: throw new Error(`unknown argument ${k}`);
        }
    }
    return o;
}

async function main() {
    let opts;
    try {
        opts = parseArgs(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(e.message === 'help' ? USAGE + '\n' : `admedia: ${e.message}\n${USAGE}\n`);
        process.exit(e.message === 'help' ? 0 : 2);
    }
    let m;
    try {
        m = await startAdMedia(opts);
    } catch (e) {
        process.stderr.write(`admedia: ${e.message}\n`);
        process.exit(1);
    }
    process.stdout.write(`listening ${m.url}\n`);
    const stop = () => { m.close().then(() => process.exit(0)); setTimeout(() => process.exit(0), 2000).unref(); };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
}

const isMain = () => { try { return import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href; } catch { return false; } };
if (process.argv[1] && isMain()) main();
