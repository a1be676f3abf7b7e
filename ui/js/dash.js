// Dashboards: a grid of saved-query widgets (and text ones) with shared parameters (their
// values go to every widget's query by name, and live in the URL as
// ?p.NAME=value), auto-refresh, and a read-only view (?view=1) to share.
import { apiJson, h, table } from './api.js';
import { chart, chartRows } from './chart.js';
import { failed, paramInput, runRows } from './saved.js';

export function dashList(el) {
    el.append(h('h1', null, 'Dashboards'));
    const name = h('input', { id: 'dash-name', required: true });
    const msgs = h('div');
    el.append(msgs, h('form', { class: 'toolbar', onsubmit: async (e) => {
        e.preventDefault();
        try {
            const o = await apiJson('/v1/dashboards', { method: 'POST',
                body: JSON.stringify({ spec: { name: name.value.trim(), params: [], widgets: [], refresh_s: 0 } }) });
            history.pushState(null, '', `/dashboards/${o.id}`);
            dispatchEvent(new PopStateEvent('popstate'));
        } catch (err) { failed(msgs, err); }
    } }, h('label', { for: 'dash-name' }, 'New dashboard'), name, h('button', { type: 'submit', id: 'dash-create' }, 'Create')));
    apiJson('/v1/dashboards').then((list) => {
        if (!list.length) return el.append(h('p', null, 'No dashboards yet.'));
        el.append(table('Dashboards', [
            { label: 'Name', render: (d) => h('a', { href: `/dashboards/${d.id}` }, d.spec.name) },
            { label: 'Widgets', num: 1, render: (d) => (d.spec.widgets || []).length },
            { label: 'Refresh', render: (d) => (d.spec.refresh_s ? `${d.spec.refresh_s} s` : 'off') },
            { label: 'Read-only link', render: (d) => h('a', { href: `/dashboards/${d.id}?view=1` }, 'view') },
        ], list, (d) => ({ dataset: { dashboard: d.id } })));
    }).catch((e) => failed(el, e));
}

export function dashPage(el, id, search) {
    const readOnly = search.get('view') === '1';
    let dash = null, queries = new Map(), timer = null, refreshes = 0;
    const title = h('h1', null, 'Dashboard');
    const msgs = h('div');
    const paramBar = h('form', { id: 'dash-params', class: 'params', onsubmit: (e) => { e.preventDefault(); apply(); } });
    const grid = h('div', { id: 'dash-grid', class: 'dash-grid' });
    const info = h('p', { id: 'dash-refreshed', class: 'note', role: 'status' });
    const edit = h('section', { id: 'dash-edit', 'aria-label': 'Edit the dashboard' });
    el.append(title, msgs, paramBar, info, grid, readOnly ? null : edit);

    const values = () => {
        const v = {};
        for (const d of dash.spec.params || []) {
            const inp = document.getElementById(`dp-${d.name}`);
            const x = inp ? inp.value : search.get(`p.${d.name}`) ?? d.default;
            if (x !== undefined && x !== null && x !== '') v[d.name] = x;
        }
        return v;
    };
    function drawParams() {
        const ps = dash.spec.params || [];
        paramBar.replaceChildren(...ps.map((d) => h('label', { for: `dp-${d.name}` }, d.label || d.name,
            paramInput(`dp-${d.name}`, d, search.get(`p.${d.name}`) ?? d.default))),
            ps.length ? h('button', { type: 'submit', id: 'dash-apply' }, 'Apply') : '');
    }
    async function drawWidget(w, box) {
        if (w.text !== undefined) { /* text: paragraphs at blank lines, "# " lines as headings; never markup */
            box.replaceChildren(...(w.title ? [h('h2', null, w.title)] : []), ...String(w.text).split(/\n\s*\n/).map((p) =>
                /^#\s/.test(p) ? h('h3', null, p.replace(/^#\s+/, '')) : h('p', { class: 'widget-text' }, p)));
            box.dataset.text = '1';
            return;
        }
        const q = queries.get(w.query);
        const head = h('h2', null, w.title || (q ? q.spec.name : `query ${w.query}`));
        try {
            if (!q) throw new Error(`saved query ${w.query} does not exist`);
            const { rows, cols, note } = await chartRows(q.spec.chart || {}, { saved_query: w.query, params: values() }, runRows);
            box.replaceChildren(head, chart(q.spec.chart || {}, cols, rows), note ? h('p', { class: 'note chart-note' }, `Drawn: ${note}.`) : '');
            box.dataset.rows = String(rows.length);
            box.dataset.bucketed = note.startsWith('more than') ? '1' : '';
        } catch (e) { box.replaceChildren(head, h('p', { class: 'error', role: 'alert' }, String(e.message || e))); }
    }
    async function refresh() {
        const boxes = [...grid.children];
        await Promise.all((dash.spec.widgets || []).map((w, i) => drawWidget(w, boxes[i])));
        refreshes++;
        info.dataset.count = String(refreshes);
        info.textContent = `Updated ${new Date().toLocaleTimeString()}` +
            (dash.spec.refresh_s ? `; refreshes every ${dash.spec.refresh_s} s.` : '.');
    }
    function apply() {
        const u = new URLSearchParams(search);
        for (const [k] of [...u]) if (k.startsWith('p.')) u.delete(k);
        for (const [k, v] of Object.entries(values())) u.set(`p.${k}`, v);
        search = u;
        history.replaceState(null, '', `${location.pathname}?${u}`);
        drawEdit();
        refresh();
    }
    function layout() {
        title.textContent = dash.spec.name;
        document.title = `${dash.spec.name} · sluice`;
        grid.replaceChildren(...(dash.spec.widgets || []).map((w) =>
            h('article', { class: `widget w${w.width || 2}`, dataset: w.text !== undefined ? { text: '1' } : { query: w.query } }, h('p', { class: 'note' }, 'Loading…'))));
        drawParams();
        drawEdit();
        clearInterval(timer);
        if (dash.spec.refresh_s) timer = setInterval(refresh, dash.spec.refresh_s * 1000);
        refresh();
    }
    async function save(spec) {
        msgs.replaceChildren();
        try {
            dash = await apiJson(`/v1/dashboards/${id}`, { method: 'PUT', body: JSON.stringify({ version: dash.version, spec }) });
            layout();
        } catch (e) { failed(msgs, e); }
    }
    function drawEdit() {
        if (readOnly) return;
        const share = new URLSearchParams(search);
        share.set('view', '1');
        const qsel = h('select', { id: 'add-query' }, [...queries.values()].map((q) => h('option', { value: q.id }, q.spec.name)));
        const wsel = h('select', { id: 'add-width' }, [1, 2, 3, 4].map((n) => h('option', { value: n, selected: n === 2 }, `${n} of 4`)));
        const pn = h('input', { id: 'new-param-name', size: 12 }), pd = h('input', { id: 'new-param-default', size: 12 });
        const pt = h('select', { id: 'new-param-type' }, ['date', 'daterange', 'text', 'number'].map((t) => h('option', { value: t }, t)));
        const tx = h('textarea', { id: 'add-text', rows: 2, cols: 40, maxlength: 4096 });
        const rf = h('input', { id: 'dash-refresh', type: 'number', min: '0', max: '86400', value: dash.spec.refresh_s || 0 });
        const spec = () => ({ ...dash.spec });
        edit.replaceChildren(h('h2', null, 'Edit'),
            h('div', { class: 'toolbar' }, h('label', { for: 'add-query' }, 'Saved query'), qsel, h('label', { for: 'add-width' }, 'Width'), wsel,
                h('button', { type: 'button', id: 'add-widget', onclick: () => save({ ...spec(),
                    widgets: [...(dash.spec.widgets || []), { query: Number(qsel.value), width: Number(wsel.value) }] }) }, 'Add widget')),
            h('div', { class: 'toolbar' }, h('label', { for: 'add-text' }, 'Text'), tx,
                h('button', { type: 'button', id: 'add-text-widget', onclick: () => tx.value.trim() && save({ ...spec(),
                    widgets: [...(dash.spec.widgets || []), { text: tx.value, width: Number(wsel.value) }] }) }, 'Add text')),
            h('div', { class: 'toolbar' }, h('label', { for: 'new-param-name' }, 'Shared parameter'), pn,
                h('label', { for: 'new-param-type' }, 'Type'), pt, h('label', { for: 'new-param-default' }, 'Default'), pd,
                h('button', { type: 'button', id: 'add-param', onclick: () => save({ ...spec(),
                    params: [...(dash.spec.params || []), { name: pn.value.trim(), type: pt.value, ...(pd.value ? { default: pd.value } : {}) }] }) }, 'Add parameter')),
            h('div', { class: 'toolbar' }, h('label', { for: 'dash-refresh' }, 'Auto-refresh (s, 0 = off)'), rf,
                h('button', { type: 'button', id: 'dash-save-refresh', onclick: () => save({ ...spec(), refresh_s: Number(rf.value) || 0 }) }, 'Set'),
                h('a', { id: 'share-link', href: `${location.pathname}?${share}` }, 'Read-only link'),
                h('span', { id: 'dash-version', class: 'note', dataset: { version: dash.version } }, `version ${dash.version}`)));
    }
    Promise.all([apiJson(`/v1/dashboards/${id}`), apiJson('/v1/saved-queries')]).then(([d, qs]) => {
        dash = d;
        queries = new Map(qs.map((q) => [q.id, q]));
        layout();
    }).catch((e) => failed(msgs, e));
    return () => clearInterval(timer);
}
