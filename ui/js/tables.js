// Tables: the catalog's list, and one table's columns, schema history,
// partitions, files, sample rows and DDL per dialect.
import { apiJson, h, bytes, num, table } from './api.js';

function failed(el, e) {
    el.append(h('p', { class: 'error', role: 'alert' }, String(e.message || e)));
}

export function tablesList(el) {
    el.append(h('h1', null, 'Tables'));
    const box = h('div', { class: 'loading', 'aria-busy': 'true' }, 'Loading…');
    el.append(box);
    apiJson('/v1/tables').then((list) => {
        box.remove();
        if (!list.length) {
            el.append(h('p', null, 'No tables yet: ingest records into a stream and they land here.'));
            return;
        }
        el.append(table('Lake tables', [
            { label: 'Name', render: (t) => h('a', { href: `/tables/${encodeURIComponent(t.name)}` }, t.name) },
            { label: 'Rows', num: 1, render: (t) => num(t.rows) },
            { label: 'Size', num: 1, render: (t) => bytes(t.bytes) },
            { label: 'Files', num: 1, render: (t) => num(t.files) },
            { label: 'Partitions', num: 1, render: (t) => num(t.partitions) },
            { label: 'Schema', num: 1, render: (t) => `v${t.version}` },
            { label: 'Stream', render: (t) => t.stream || '—' },
            { label: 'Last commit', render: (t) => t.last_commit || '—' },
        ], list, (t) => ({ dataset: { table: t.name } })));
    }).catch((e) => { box.remove(); failed(el, e); });
}

function section(title, ...body) {
    const id = 'sec-' + title.toLowerCase().replace(/[^a-z]+/g, '-');
    return h('section', { 'aria-labelledby': id }, h('h2', { id }, title), ...body);
}

/* DDL per dialect as tabs (arrow keys move between them). */
function ddlTabs(ddl) {
    const tabs = h('div', { role: 'tablist', 'aria-label': 'Dialect' });
    const panel = h('div', { role: 'tabpanel', id: 'ddl-panel', tabindex: '0' });
    const select = (i) => {
        [...tabs.children].forEach((b, j) => {
            b.setAttribute('aria-selected', String(i === j));
            b.tabIndex = i === j ? 0 : -1;
        });
        const d = ddl[i];
        panel.setAttribute('aria-labelledby', `ddl-tab-${d.dialect}`);
        panel.replaceChildren(d.sql ? h('pre', { class: 'code', dataset: { dialect: d.dialect } }, d.sql)
                                    : h('p', { class: 'note' }, d.error));
    };
    ddl.forEach((d, i) => tabs.append(h('button', {
        type: 'button', role: 'tab', id: `ddl-tab-${d.dialect}`, 'aria-controls': 'ddl-panel',
        onclick: () => select(i),
        onkeydown: (e) => {
            const n = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
            if (!n) return;
            const j = (i + n + ddl.length) % ddl.length;
            select(j);
            tabs.children[j].focus();
        },
    }, d.dialect)));
    select(0);
    return h('div', null, tabs, panel);
}

function sampleTable(rows) {
    if (!rows.length) return h('p', null, 'No rows.');
    const cols = Object.keys(rows[0]);
    return h('div', { class: 'scroll-x' }, table('Sample rows', cols.map((c) => ({
        label: c, render: (r) => (r[c] === null ? 'NULL' : typeof r[c] === 'object' ? JSON.stringify(r[c]) : String(r[c])),
    })), rows));
}

export function tableDetail(el, name) {
    el.append(h('p', { class: 'crumbs' }, h('a', { href: '/tables' }, 'Tables'), ' / ', name));
    el.append(h('h1', null, name));
    const box = h('div', { class: 'loading', 'aria-busy': 'true' }, 'Loading…');
    el.append(box);
    apiJson(`/v1/tables/${encodeURIComponent(name)}`).then((t) => {
        box.remove();
        const rows = t.partitions.reduce((a, p) => a + p.rows, 0);
        const size = t.partitions.reduce((a, p) => a + p.bytes, 0);
        const files = t.files_total ?? t.files.length;
        const sql = `SELECT * FROM "${t.name.replace(/"/g, '""')}" LIMIT 100`;
        el.append(h('dl', { class: 'facts' },
            h('dt', null, 'Location'), h('dd', null, t.location),
            h('dt', null, 'Partitioned by'), h('dd', null, t.partition_columns.join(', ') || 'nothing'),
            h('dt', null, 'Stream'), h('dd', null, t.stream || '—'),
            h('dt', null, 'Produced by'), h('dd', null, t.producer
                ? `job ${t.producer.job} (run ${t.producer.run}, ${t.producer.state}), reads ${t.producer.reads.join(', ') || '—'}`
                : '—'),
            h('dt', null, 'Contents'), h('dd', null, `${num(rows)} rows, ${bytes(size)}, ${num(files)} files in ${num(t.partitions.length)} partitions`),
            h('dt', null, 'Created'), h('dd', null, t.created)),
            h('p', null, h('a', { class: 'button', href: `/query?sql=${encodeURIComponent(sql)}` }, 'Query this table')));
        el.append(section('Columns', table('Columns', [
            { label: 'Name', key: 'name' }, { label: 'Type', key: 'type' },
            { label: 'Added in', render: (c) => `v${c.added_version}` },
        ], t.columns, (c) => ({ dataset: { column: c.name, type: c.type } }))));
        el.append(section('Schema history', table('Schema history', [
            { label: 'Version', render: (v) => `v${v.version}` }, { label: 'When', key: 'created' },
            { label: 'Columns', num: 1, key: 'columns' }, { label: 'Change', render: (v) => h('span', { class: 'wrap' }, v.change) },
        ], t.history)));
        el.append(section('Partitions', t.partitions.length ? h('div', { class: 'scroll-box', tabindex: '0', 'aria-label': 'Partitions (scrolls)' }, table('Partitions', [
            { label: 'Partition', render: (p) => p.partition || '(all)' },
            { label: 'Files', num: 1, render: (p) => num(p.files) },
            { label: 'Rows', num: 1, render: (p) => num(p.rows) },
            { label: 'Size', num: 1, render: (p) => bytes(p.bytes) },
        ], t.partitions, (p) => ({ dataset: { partition: p.partition } }))) : h('p', null, 'No files yet.')));
        el.append(section('Files', t.files_total ? h('p', { class: 'note' }, `The first ${t.files.length} of ${num(t.files_total)} files.`) : null,
            t.files.length ? h('div', { class: 'scroll-box', tabindex: '0', 'aria-label': 'Files (scrolls)' }, table('Files', [
                { label: 'Path', key: 'path' }, { label: 'Rows', num: 1, render: (f) => num(f.rows) },
                { label: 'Size', num: 1, render: (f) => bytes(f.bytes) },
                { label: 'Schema', render: (f) => `v${f.schema_version}` }, { label: 'Written', key: 'created' },
            ], t.files)) : h('p', null, 'No files yet.')));
        const sample = section('Sample rows', h('p', { class: 'loading' }, 'Loading…'));
        el.append(sample);
        el.append(section('DDL', h('p', { class: 'note' }, 'Read the table in place from another engine.'), ddlTabs(t.ddl)));
        apiJson(`/v1/tables/${encodeURIComponent(name)}/sample?limit=20`)
            .then((r) => sample.querySelector('.loading').replaceWith(sampleTable(r)))
            .catch((e) => sample.querySelector('.loading').replaceWith(h('p', { class: 'error' }, e.message)));
    }).catch((e) => { box.remove(); failed(el, e); });
}
