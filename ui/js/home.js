// Home: the streams (records/s, sink lag, errors; refreshed every 5 s), the
// journals' disk, the lake's tables with how fresh each is, the recent
// failed job runs, the latest schema changes, and the recent queries (saved
// ones, and the SQL run in this tab).
import { apiJson, h, num, bytes, table } from './api.js';
import { runsTable } from './jobs.js';

export const RECENT = 'sluice.recent';

function age(iso) {
    if (!iso) return '—';
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    return s < 120 ? `${Math.round(s)} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago`
         : s < 172800 ? `${Math.round(s / 3600)} h ago` : `${Math.round(s / 86400)} days ago`;
}

function section(el, title, id) {
    const box = h('section', { id, 'aria-label': title }, h('h2', null, title), h('p', { class: 'note' }, 'Loading…'));
    el.append(box);
    return (...kids) => box.replaceChildren(h('h2', null, title), ...kids);
}

const REFRESH_MS = 5000;

function rejected(st) {
    return Object.values(st.rejected || {}).reduce((a, b) => a + b, 0) + (st.sink ? st.sink.errored : 0);
}

/* Records/s from two readings of records_in (prev: name -> {n, t}). */
function rate(prev, st, now) {
    const p = prev.get(st.name);
    prev.set(st.name, { n: st.records_in, t: now });
    if (!p || now <= p.t) return null;
    return Math.max(0, (st.records_in - p.n) * 1000 / (now - p.t));
}

function streamsTable(list, prev) {
    const now = Date.now();
    const rows = list.map((st) => ({ st, rate: rate(prev, st, now) }));
    return table('Streams', [
        { label: 'Stream', render: (r) => r.st.name },
        { label: 'Records/s', num: 1, render: (r) => (r.rate === null ? '—' : num(Math.round(r.rate))) },
        { label: 'Records in', num: 1, render: (r) => num(r.st.records_in) },
        { label: 'Sink lag', num: 1, render: (r) => (!r.st.sink ? 'no sink' : r.st.sink.lag === null ? 'stopped' : num(r.st.sink.lag)) },
        { label: 'Rejected + errored', num: 1, render: (r) => num(rejected(r.st)) },
        { label: 'Journal', num: 1, render: (r) => bytes(r.st.bytes) },
        { label: 'Last error', render: (r) => (r.st.sink && (r.st.sink.error || r.st.sink.last_error)) || '—' },
    ], rows, (r) => ({ dataset: { stream: r.st.name, lag: r.st.sink ? String(r.st.sink.lag) : '', rejected: rejected(r.st),
        rate: r.rate === null ? '' : r.rate.toFixed(1) }, class: r.st.sink && (r.st.sink.lag === null || r.st.sink.last_error) ? 'warn' : null }));
}

function diskBox(d) {
    if (!d) return h('p', { class: 'note' }, 'The disk could not be read.');
    const used = d.total_bytes ? 100 * (1 - d.free_bytes / d.total_bytes) : 0;
    const low = d.min_free_bytes && d.free_bytes < 2 * d.min_free_bytes;
    return h('div', { id: 'home-disk-figures', dataset: { free: d.free_bytes, total: d.total_bytes, journals: d.journal_bytes } },
        h('p', { class: low ? 'error' : null }, `${bytes(d.free_bytes)} free of ${bytes(d.total_bytes)} (${used.toFixed(0)}% used); ` +
            `journals hold ${bytes(d.journal_bytes)}.` +
            (d.min_free_bytes ? ` Ingest refuses records (507) below ${bytes(d.min_free_bytes)} free.` : '')),
        h('meter', { min: '0', max: '100', value: used.toFixed(1), high: '85', 'aria-label': 'Disk used (percent)' }));
}

function changesTable(list) {
    return list.length ? table('Latest schema changes', [
        { label: 'Table', render: (c) => h('a', { href: `/tables/${encodeURIComponent(c.table)}` }, c.table) },
        { label: 'Version', num: 1, render: (c) => c.version },
        { label: 'When', render: (c) => age(new Date(c.created_ms).toISOString()) },
        { label: 'Change', render: (c) => c.change },
    ], list, (c) => ({ dataset: { table: c.table, version: c.version } })) : h('p', null, 'No schema changes.');
}

export function homePage(el) {
    el.append(h('h1', null, 'Home'));
    const streams = section(el, 'Streams', 'home-streams');
    const disk = section(el, 'Disk', 'home-disk');
    const prev = new Map();
    const poll = () => apiJson('/v1/streams').then((r) => {
        streams(r.streams.length ? h('div', { class: 'scroll-x' }, streamsTable(r.streams, prev)) : h('p', null, 'No streams.'));
        disk(diskBox(r.disk));
    }).catch((e) => streams(h('p', { class: 'error' }, String(e.message || e))));
    poll();
    const timer = setInterval(poll, REFRESH_MS);
    const tables = section(el, 'Tables', 'home-tables');
    const fails = section(el, 'Recent failed runs', 'home-failures');
    const changes = section(el, 'Schema changes', 'home-schema');
    const recent = section(el, 'Recent queries', 'home-queries');
    apiJson('/v1/schema-changes?limit=10').then((r) => changes(changesTable(r.changes)))
        .catch((e) => changes(h('p', { class: 'error' }, String(e.message || e))));
    apiJson('/v1/tables').then((list) => tables(list.length ? table('Lake tables by freshness', [
        { label: 'Name', render: (t) => h('a', { href: `/tables/${encodeURIComponent(t.name)}` }, t.name) },
        { label: 'Last commit', render: (t) => t.last_commit || '—' },
        { label: 'Freshness', render: (t) => age(t.last_commit) },
        { label: 'Rows', num: 1, render: (t) => num(t.rows ?? 0) },
        { label: 'Size', num: 1, render: (t) => (t.bytes === undefined ? '—' : bytes(t.bytes)) },
    ], [...list].sort((a, b) => String(b.last_commit || '').localeCompare(String(a.last_commit || ''))),
    (t) => ({ dataset: { table: t.name } })) : h('p', null, 'No tables yet.'))).catch((e) => tables(h('p', { class: 'error' }, String(e.message || e))));
    apiJson('/v1/jobs').then(async (jobs) => {
        const runs = (await Promise.all(jobs.filter((j) => (j.runs.failed || 0) + (j.runs.dead || 0) > 0).map((j) =>
            apiJson(`/v1/jobs/${encodeURIComponent(j.name)}/runs?limit=20`).then((rs) => rs.filter((r) => r.state === 'failed' || r.state === 'dead')))))
            .flat().sort((a, b) => (b.finished_ms || 0) - (a.finished_ms || 0)).slice(0, 20);
        fails(runs.length ? h('div', { class: 'scroll-x' }, runsTable('Recent failed runs', runs, true)) : h('p', null, 'No failed runs.'));
    }).catch((e) => fails(h('p', { class: 'note' }, `Jobs: ${e.message || e}`)));
    const mine = JSON.parse(localStorage.getItem(RECENT) || '[]');
    apiJson('/v1/saved-queries').then((qs) => {
        const saved = [...qs].sort((a, b) => b.updated_ms - a.updated_ms).slice(0, 10);
        recent(saved.length ? h('ul', null, saved.map((q) => h('li', null, h('a', { href: `/saved/${q.id}` }, q.spec.name)))) : h('p', null, 'No saved queries.'),
            mine.length ? h('ul', { id: 'home-recent-sql' }, mine.map((s) => h('li', null, h('a', { href: `/query?sql=${encodeURIComponent(s)}` }, h('code', null, s.slice(0, 160)))))) : '');
    }).catch((e) => recent(h('p', { class: 'error' }, String(e.message || e))));
    return () => clearInterval(timer);
}
