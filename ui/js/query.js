// Query: an SQL editor (highlighted), Run with a time limit and Cancel, the
// result streamed into a virtualised grid, and the full result as CSV or
// Parquet streamed from the server straight to disk (POST /v1/downloads).
import { api, apiJson, h, num, bytes } from './api.js';
import { highlight } from './sqlhl.js';
import { Grid } from './grid.js';
import { attachCompletion } from './complete.js';

const MAX_GRID_ROWS = 1000000; // the grid's cap; Download CSV has none of its own
const LAST_SQL = 'sluice.sql';

export function editor(initial, onRun) {
    const code = h('code');
    const pre = h('pre', { class: 'editor-hl', 'aria-hidden': 'true' }, code);
    const ta = h('textarea', { id: 'sql', class: 'editor-input', spellcheck: 'false', autocapitalize: 'off',
        'aria-describedby': 'sql-help' });
    ta.value = initial;
    const paint = () => {
        code.replaceChildren(...highlight(ta.value));
        pre.scrollTop = ta.scrollTop;
        pre.scrollLeft = ta.scrollLeft;
    };
    ta.addEventListener('input', paint);
    ta.addEventListener('scroll', () => { pre.scrollTop = ta.scrollTop; pre.scrollLeft = ta.scrollLeft; });
    ta.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); onRun(); }
    });
    paint();
    const el = h('div', { class: 'editor' }, pre, ta);
    const wrap = h('div', { class: 'editor-wrap' }, el);
    attachCompletion(ta, wrap);
    return { el: wrap, ta };
}

/* Read an NDJSON body line by line: onRows(arrayOfObjects) per chunk. */
async function readNdjson(res, onRows) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let rest = '';
    for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rest += value;
        const cut = rest.lastIndexOf('\n');
        if (cut < 0) continue;
        const lines = rest.slice(0, cut).split('\n');
        rest = rest.slice(cut + 1);
        onRows(lines.filter((l) => l).map((l) => JSON.parse(l)));
    }
    if (rest.trim()) onRows([JSON.parse(rest)]);
}

export function queryPage(el, params) {
    const initial = params.get('sql') || sessionStorage.getItem(LAST_SQL) || 'SELECT 1 AS one';
    let ctl = null, timer = null, grid = null;
    el.append(h('h1', null, 'Query'));
    const ed = editor(initial, () => run());
    const limit = h('input', { id: 'time-limit', type: 'number', min: '1', max: '600', value: '30', inputmode: 'numeric' });
    const runBtn = h('button', { type: 'button', id: 'run', onclick: () => run() }, 'Run');
    const cancelBtn = h('button', { type: 'button', id: 'cancel', disabled: true, onclick: () => cancel() }, 'Cancel');
    const dlBtn = h('button', { type: 'button', id: 'download-csv', class: 'quiet', onclick: () => download('csv') }, 'Download CSV');
    const pqBtn = h('button', { type: 'button', id: 'download-parquet', class: 'quiet', onclick: () => download('parquet') }, 'Download Parquet');
    const status = h('p', { id: 'status', class: 'status', role: 'status' }, 'Ctrl+Enter runs the query.');
    const out = h('div', { id: 'result' });
    const readBox = h('div', { id: 'read-stats', class: 'note' });
    const showStats = (st) => {
        Object.assign(readBox.dataset, { partitionsRead: st.partitions_read, partitionsTotal: st.partitions_total,
            filesRead: st.files_read, filesTotal: st.files_total, bytesRead: st.bytes_read, bytesTotal: st.bytes_total });
        readBox.replaceChildren(
            st.scans ? h('p', null, `Read ${num(st.partitions_read)} of ${num(st.partitions_total)} partitions, ` +
                `${num(st.files_read)} of ${num(st.files_total)} files, ${bytes(st.bytes_read)} of ${bytes(st.bytes_total)}` +
                ` (${num(st.rows_from_files)} rows from files, ${num(st.rows_from_tail)} from the journal tail)` +
                (st.limit_stops ? '; stopped early by LIMIT' : '') + '.')
                     : h('p', null, 'No lake table scanned.'),
            st.plan.length ? h('details', null, h('summary', null, 'Query plan'), h('pre', { class: 'code' }, st.plan.join('\n'))) : null);
    };
    el.append(h('label', { for: 'sql' }, 'SQL'), ed.el,
        h('p', { id: 'sql-help', class: 'note' }, 'Read-only SQL over the lake tables (SQLite dialect). Ctrl+Enter runs it; Ctrl+Space completes table and column names.'),
        h('div', { class: 'toolbar' }, runBtn, cancelBtn,
            h('label', { for: 'time-limit' }, 'Time limit (s)'), limit, dlBtn, pqBtn),
        status, readBox, out);

    const seconds = () => Math.min(600, Math.max(1, Number(limit.value) || 30));
    const busy = (on) => { runBtn.disabled = on; cancelBtn.disabled = !on; el.dataset.state = on ? 'running' : 'idle'; };

    async function run() {
        if (ctl) return;
        const sql = ed.ta.value;
        sessionStorage.setItem(LAST_SQL, sql);
        const recent = JSON.parse(localStorage.getItem('sluice.recent') || '[]').filter((x) => x !== sql);
        localStorage.setItem('sluice.recent', JSON.stringify([sql, ...recent].slice(0, 10)));
        const lim = seconds();
        ctl = new AbortController();
        busy(true);
        const t0 = performance.now();
        const tick = () => { status.textContent = `Running… ${((performance.now() - t0) / 1000).toFixed(1)} s of ${lim} s`; };
        tick();
        timer = setInterval(tick, 200);
        grid = new Grid('Query result');
        out.replaceChildren(grid.el);
        let n = 0, cols = null, error = null, capped = false, stats = null;
        readBox.replaceChildren();
        try {
            const res = await api('/v1/query', { method: 'POST', signal: ctl.signal,
                body: JSON.stringify({ sql, format: 'ndjson', timeout_ms: lim * 1000, limit: MAX_GRID_ROWS + 1, stats: true }) });
            if (!res.ok) {
                const b = await res.json().catch(() => null);
                throw new Error((b && b.error) || `${res.status} ${res.statusText}`);
            }
            await readNdjson(res, (objs) => {
                const batch = [];
                for (const o of objs) {
                    if (o._sluice_stats && Object.keys(o).length === 1) { stats = o._sluice_stats; continue; }
                    if (!cols) {
                        cols = Object.keys(o);
                        grid.setColumns(cols);
                    }
                    const keys = Object.keys(o);
                    if (keys.length === 1 && keys[0] === 'error' && cols.length !== 1) { error = o.error; continue; }
                    if (n >= MAX_GRID_ROWS) { capped = true; continue; }
                    batch.push(cols.map((c) => o[c]));
                    n++;
                }
                grid.append(batch);
            });
            if (!cols) grid.setColumns([]);
            const secs = ((performance.now() - t0) / 1000).toFixed(2);
            if (error) throw new Error(error);
            status.textContent = `${num(n)} row${n === 1 ? '' : 's'} in ${secs} s` +
                (capped ? ` (the grid shows the first ${num(MAX_GRID_ROWS)}; Download CSV has all)` : '');
            status.dataset.rows = String(n);
            if (stats) showStats(stats);
        } catch (e) {
            if (e.name === 'AbortError') status.textContent = `Cancelled after ${num(n)} rows.`;
            else { status.textContent = ''; out.prepend(h('p', { class: 'error', role: 'alert' }, String(e.message || e))); }
        } finally {
            clearInterval(timer);
            ctl = null;
            busy(false);
            grid.schedule();
        }
    }

    function cancel() {
        if (ctl) ctl.abort(); // the server stops the query when the connection closes
    }

    async function download(format) {
        try {
            const t = await apiJson('/v1/downloads', { method: 'POST',
                body: JSON.stringify({ sql: ed.ta.value, format, timeout_ms: 6 * 3600 * 1000 }) });
            const a = h('a', { href: t.url, download: `result.${format}`, class: 'hidden' });
            document.body.append(a);
            a.click();
            a.remove();
            status.textContent = 'Download started: the server streams the whole result to the file.';
        } catch (e) {
            out.prepend(h('p', { class: 'error', role: 'alert' }, String(e.message || e)));
        }
    }

    ed.ta.focus();
    return () => cancel();
}
