// Saved queries: the list, and one query's editor with its {{name}}
// parameters (typed; values bound by the server, never pasted), its chart,
// Run and Save (the version read is sent back: a stale save is refused).
import { api, apiJson, h, table } from './api.js';
import { editor } from './query.js';
import { chart, chartRows } from './chart.js';

const TYPES = ['text', 'number', 'date', 'daterange', 'enum'];
const CHARTS = ['table', 'line', 'area', 'bar', 'stacked', 'pie', 'scatter', 'counter'];

export function failed(el, e) {
    el.prepend(h('p', { class: 'error', role: 'alert' }, String(e.message || e)));
}

/* The names of the {{name}} placeholders of sql, in order, once each. */
export function placeholders(sql) {
    return [...new Set([...sql.matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)(?:\.(?:start|end))?\s*\}\}/g)].map((m) => m[1]))];
}

/* An input for a parameter definition's value. */
export function paramInput(id, d, value) {
    if (d.type === 'enum' && d.options_query) { /* filled by a saved query's first column */
        const sel = h('select', { id, dataset: { optionsQuery: d.options_query } }, h('option', { value: value ?? '' }, value ?? 'Loading…'));
        runRows({ saved_query: d.options_query, limit: 1000 }).then(({ rows, cols }) => {
            const vals = rows.map((r) => r[cols[0]]).filter((v) => v !== null && v !== undefined).map(String);
            sel.replaceChildren(...vals.map((o) => h('option', { value: o, selected: o === value }, o)));
            sel.dataset.loaded = String(vals.length);
        }).catch((e) => { sel.replaceChildren(h('option', { value: '' }, `options: ${e.message || e}`)); });
        return sel;
    }
    if (d.type === 'enum')
        return h('select', { id }, (d.options || []).map((o) => h('option', { value: o, selected: o === value }, o)));
    return h('input', { id, type: d.type === 'date' && /^\d{4}-\d\d-\d\d$/.test(value || '') ? 'date' : d.type === 'number' ? 'number' : 'text',
        value: value ?? '', step: d.type === 'number' ? 'any' : null,
        placeholder: d.type === 'daterange' ? 'YYYY-MM-DD..YYYY-MM-DD, last_7_days' : null,
        size: d.type === 'daterange' ? 24 : null });
}

/* Run a query request; rows (objects) and their columns. */
export async function runRows(body) {
    const res = await api('/v1/query', { method: 'POST', body: JSON.stringify({ format: 'json', ...body }) });
    const b = await res.json().catch(() => null);
    if (!res.ok) throw new Error((b && b.error) || `${res.status} ${res.statusText}`);
    const rows = Array.isArray(b) ? b : [];
    return { rows, cols: rows.length ? Object.keys(rows[0]) : [] };
}

export function savedList(el) {
    el.append(h('h1', null, 'Saved queries'), h('p', null, h('a', { href: '/saved/new', class: 'button', id: 'new-saved' }, 'New saved query')));
    apiJson('/v1/saved-queries').then((list) => {
        if (!list.length) return el.append(h('p', null, 'No saved queries yet.'));
        el.append(table('Saved queries', [
            { label: 'Name', render: (q) => h('a', { href: `/saved/${q.id}` }, q.spec.name) },
            { label: 'Chart', render: (q) => (q.spec.chart && q.spec.chart.type) || 'table' },
            { label: 'Parameters', render: (q) => (q.spec.params || []).map((p) => p.name).join(', ') || '—' },
            { label: 'Version', num: 1, render: (q) => q.version },
            { label: 'Updated', render: (q) => new Date(q.updated_ms).toISOString().slice(0, 19).replace('T', ' ') },
        ], list, (q) => ({ dataset: { saved: q.id } })));
    }).catch((e) => failed(el, e));
}

export function savedPage(el, id) {
    let obj = null;
    const defs = new Map(); // name -> definition (kept while the SQL changes)
    const title = h('h1', null, id ? 'Saved query' : 'New saved query');
    el.append(title);
    const name = h('input', { id: 'sq-name', required: true, size: 50 });
    const ed = editor('SELECT 1 AS one', () => run());
    const paramBox = h('div', { id: 'sq-params', class: 'params' });
    const ctype = h('select', { id: 'chart-type' }, CHARTS.map((c) => h('option', { value: c }, c)));
    const cx = h('input', { id: 'chart-x', placeholder: 'first column' });
    const cy = h('input', { id: 'chart-y', placeholder: 'numeric columns', size: 30 });
    const cmp = h('input', { id: 'chart-compare', placeholder: 'counter: previous period', size: 18 });
    const version = h('span', { id: 'sq-version', class: 'note' });
    const status = h('p', { id: 'sq-status', class: 'status', role: 'status' });
    const out = h('div', { id: 'sq-result' });
    const msgs = h('div');
    el.append(msgs, h('div', { class: 'form-grid' },
        h('label', { for: 'sq-name' }, 'Name'), name,
        h('label', { for: 'chart-type' }, 'Chart'), h('div', { class: 'toolbar' }, ctype,
            h('label', { for: 'chart-x' }, 'x'), cx, h('label', { for: 'chart-y' }, 'y (comma-separated)'), cy,
            h('label', { for: 'chart-compare' }, 'compare'), cmp)),
        h('label', { for: 'sql' }, 'SQL (write {{ name }} for a parameter)'), ed.el,
        h('h2', null, 'Parameters'), paramBox,
        h('div', { class: 'toolbar' }, h('button', { type: 'button', id: 'sq-run', onclick: () => run() }, 'Run'),
            h('button', { type: 'button', id: 'sq-save', onclick: () => save() }, 'Save'),
            id ? h('button', { type: 'button', id: 'sq-delete', class: 'quiet', onclick: () => del() }, 'Delete') : null, version),
        status, out);

    function readDefs() {
        return placeholders(ed.ta.value).map((n) => {
            const d = defs.get(n) || { name: n, type: 'text' };
            const t = document.getElementById(`p-type-${n}`), df = document.getElementById(`p-default-${n}`),
                op = document.getElementById(`p-options-${n}`);
            const out = { name: n, type: t ? t.value : d.type };
            const dv = df ? df.value : d.default;
            if (dv !== undefined && dv !== '') out.default = dv;
            const opts = op ? op.value.split(',').map((x) => x.trim()).filter((x) => x) : d.options;
            const oq = document.getElementById(`p-optq-${n}`), qid = oq ? Number(oq.value) || 0 : d.options_query || 0;
            if (out.type === 'enum' && qid) out.options_query = qid;
            else if (out.type === 'enum') out.options = opts || [];
            defs.set(n, out);
            return out;
        });
    }
    function drawParams() {
        const list = readDefs();
        paramBox.replaceChildren(...list.map((d) => h('fieldset', { class: 'params', 'data-param': d.name }, h('legend', null, `{{${d.name}}}`),
            h('label', { for: `p-type-${d.name}` }, 'Type', h('select', { id: `p-type-${d.name}`, onchange: drawParams },
                TYPES.map((t) => h('option', { value: t, selected: t === d.type }, t)))),
            h('label', { for: `p-default-${d.name}` }, 'Default', h('input', { id: `p-default-${d.name}`, value: d.default ?? '' })),
            d.type === 'enum' ? h('label', { for: `p-options-${d.name}` }, 'Options (comma-separated)',
                h('input', { id: `p-options-${d.name}`, value: (d.options || []).join(', ') })) : null,
            d.type === 'enum' ? h('label', { for: `p-optq-${d.name}` }, 'or from saved query (id)',
                h('input', { id: `p-optq-${d.name}`, type: 'number', min: '1', value: d.options_query || '' })) : null,
            h('label', { for: `p-value-${d.name}` }, 'Value for Run', h('input', { id: `p-value-${d.name}` })))));
        if (!list.length) paramBox.append(h('p', { class: 'note' }, 'None: write {{ name }} in the SQL to add one.'));
    }
    let drawTimer = null;
    ed.ta.addEventListener('input', () => { clearTimeout(drawTimer); drawTimer = setTimeout(drawParams, 300); });

    const chartSpec = () => {
        const c = { type: ctype.value };
        if (cx.value.trim()) c.x = cx.value.trim();
        const ys = cy.value.split(',').map((x) => x.trim()).filter((x) => x);
        if (ys.length) c.y = ys;
        if (cmp.value.trim()) c.compare = cmp.value.trim();
        return c;
    };
    const spec = () => ({ name: name.value.trim(), sql: ed.ta.value, params: readDefs(), chart: chartSpec() });

    async function run() {
        status.textContent = 'Running…';
        const params = readDefs().map((d) => {
            const v = document.getElementById(`p-value-${d.name}`);
            return v && v.value !== '' ? { ...d, value: v.value } : d;
        });
        try {
            const { rows, cols, note } = await chartRows(chartSpec(), { sql: ed.ta.value, params }, runRows);
            out.replaceChildren(chart(chartSpec(), cols, rows));
            out.dataset.bucketed = note.startsWith('more than') ? '1' : '';
            status.textContent = `${rows.length} row${rows.length === 1 ? '' : 's'}` + (note ? ` (${note}; Query has every row).` : '.');
            status.dataset.rows = String(rows.length);
        } catch (e) { status.textContent = ''; out.replaceChildren(); failed(out, e); }
    }
    function show(o) {
        obj = o;
        title.textContent = `Saved query: ${o.spec.name}`;
        version.textContent = `version ${o.version}`;
        version.dataset.version = String(o.version);
    }
    async function save() {
        msgs.replaceChildren();
        try {
            const body = obj ? { version: obj.version, spec: spec() } : { spec: spec() };
            const o = await apiJson(obj ? `/v1/saved-queries/${obj.id}` : '/v1/saved-queries',
                { method: obj ? 'PUT' : 'POST', body: JSON.stringify(body) });
            show(o);
            if (!id) history.replaceState(null, '', `/saved/${o.id}`);
            status.textContent = `Saved (version ${o.version}).`;
        } catch (e) { failed(msgs, e); }
    }
    async function del() {
        try {
            const r = await api(`/v1/saved-queries/${obj.id}?version=${obj.version}`, { method: 'DELETE' });
            if (r.status !== 204) throw new Error((await r.json()).error);
            history.pushState(null, '', '/saved');
            dispatchEvent(new PopStateEvent('popstate'));
        } catch (e) { failed(msgs, e); }
    }
    if (id) {
        apiJson(`/v1/saved-queries/${id}`).then((o) => {
            show(o);
            name.value = o.spec.name;
            ed.ta.value = o.spec.sql;
            ed.ta.dispatchEvent(new Event('input'));
            for (const d of o.spec.params || []) defs.set(d.name, d);
            const c = o.spec.chart || {};
            ctype.value = c.type || 'table';
            cx.value = c.x || '';
            cy.value = (Array.isArray(c.y) ? c.y : c.y ? [c.y] : []).join(', ');
            cmp.value = c.compare || '';
            drawParams();
        }).catch((e) => failed(msgs, e));
    } else drawParams();
    name.focus();
}
