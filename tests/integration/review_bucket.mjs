// POST /v1/query "bucket" (src/server/bucket.c) around queries a chart may
// hold; each query works without "bucket", so it must work with it:
//   - a query ending in a -- comment (the wrapper's ')' must not be
//     commented out);
//   - a query ending in ';' and then a comment (the trailing ';' is not the
//     last character, so it stayed inside "WITH q AS (...;" — a syntax
//     error);
//   - a query over a lake table named q, r or k (CREATE TABLE k AS ...: the
//     wrapper's own CTE names shadowed it: "circular reference: q");
//   - a query with its own WITH, ORDER BY and LIMIT.
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, Server, makeTmp } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('review-bucket');
fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${path.join(T, 'data')}\nlisten: 127.0.0.1:0\n` +
    `limits:\n  min_free_disk: 0\nquery:\n  tokens: [rtok]\n  write_tokens: [wtok]\n`);
const srv = new Server(T);
await srv.start();
const post = async (body, tok = 'rtok') => {
    const r = await fetch(srv.url + '/v1/query', { method: 'POST', headers: { Authorization: `Bearer ${tok}` }, body: JSON.stringify(body) });
    const text = await r.text();
    let j = null;
    try { j = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, body: j, text };
};
const GEN = 'WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000) SELECT i AS x, 1 AS n FROM c';
for (const t of ['q', 'r', 'k', 'events']) {
    const r = await post({ sql: `CREATE TABLE ${t} AS ${GEN}` }, 'wtok');
    if (r.status !== 200) R.fail(`setup_${t}`, `${r.status} ${r.text}`);
}
const B = { x: 'x', y: ['n'], points: 10, agg: 'sum' };
// each: a query and the sum of n it has (3000)
const cases = {
    ends_in_line_comment: 'SELECT x, n FROM events -- the last line is a comment',
    ends_in_semicolon: 'SELECT x, n FROM events;',
    semicolon_then_comment: 'SELECT x, n FROM events; -- all of them',
    semicolon_then_block_comment: 'SELECT x, n FROM events; /* all of them */',
    own_with_order_limit: 'WITH e AS (SELECT x, n FROM events) SELECT x, n FROM e ORDER BY x DESC LIMIT 5000',
    own_with_named_q: 'WITH q AS (SELECT x, n FROM events) SELECT x, n FROM q',
    table_named_q: 'SELECT x, n FROM q',
    table_named_r: 'SELECT x, n FROM r',
    table_named_k: 'SELECT x, n FROM k',
};
for (const [name, sql] of Object.entries(cases)) {
    await R.guard(`bucket_${name}`, async () => {
        const p = [];
        const plain = await post({ sql });
        if (plain.status !== 200 || plain.body.length !== 3000) p.push(`without bucket: ${plain.status} ${plain.text.slice(0, 200)}`);
        const b = await post({ sql, bucket: B });
        if (b.status !== 200) p.push(`with bucket: ${b.status} ${b.text.slice(0, 300)}`);
        else {
            const sum = b.body.reduce((a, r) => a + r.n, 0);
            if (sum !== 3000 || b.body.length > 11) p.push(`with bucket: ${b.body.length} rows, sum ${sum}: ${b.text.slice(0, 200)}`);
        }
        R.check(`bucket_${name}`, p);
    });
}
await srv.stop();
process.exit(R.failed ? 1 : 0);
