// Home: the lake's tables with how fresh each is, the recent failed job
// runs, and the recent queries (saved ones, and the SQL run in this tab).
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

export function homePage(el) {
    el.append(h('h1', null, 'Home'));
    const tables = section(el, 'Tables', 'home-tables');
    const fails = section(el, 'Recent failed runs', 'home-failures');
    const recent = section(el, 'Recent queries', 'home-queries');
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
}
