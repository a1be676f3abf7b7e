// Completion of table and column names in the SQL editor: the word before
// the caret is matched against the lake's tables and the columns of the
// tables the statement names.  Ctrl+Space opens the list; it also opens
// after two letters.  Up/Down choose, Enter or Tab insert, Escape closes.
import { apiJson } from './api.js';

export function attachCompletion(ta, container) {
    let tables = null;
    const columns = new Map(); // table -> [names] (or a pending promise)
    let items = [], active = 0;
    const list = document.createElement('ul');
    list.id = 'sql-complete';
    list.className = 'complete hidden';
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', 'Completions');
    container.append(list);
    ta.setAttribute('role', 'combobox');
    ta.setAttribute('aria-autocomplete', 'list');
    ta.setAttribute('aria-controls', list.id);
    ta.setAttribute('aria-expanded', 'false');

    apiJson('/v1/tables').then((t) => { tables = t.map((x) => x.name); }).catch(() => { tables = []; });

    function wordBefore() {
        const upto = ta.value.slice(0, ta.selectionStart);
        const m = /[A-Za-z_][A-Za-z0-9_]*$/.exec(upto);
        return m ? m[0] : '';
    }
    function namedTables() {
        const words = new Set((ta.value.match(/[A-Za-z_][A-Za-z0-9_]*/g) || []).map((w) => w.toLowerCase()));
        return (tables || []).filter((t) => words.has(t.toLowerCase()));
    }
    function loadColumns(t) {
        if (columns.has(t)) return;
        columns.set(t, []);
        apiJson(`/v1/tables/${encodeURIComponent(t)}?files=0`)
            .then((d) => { columns.set(t, d.columns.map((c) => c.name)); })
            .catch(() => {});
    }
    function close() {
        items = [];
        list.classList.add('hidden');
        list.replaceChildren();
        ta.setAttribute('aria-expanded', 'false');
        ta.removeAttribute('aria-activedescendant');
    }
    function show(force) {
        const w = wordBefore();
        if (!force && w.length < 2) return close();
        const named = namedTables();
        named.forEach(loadColumns);
        const cand = new Map();
        for (const t of tables || []) cand.set(t, 'table');
        for (const t of named) for (const c of columns.get(t) || []) if (!cand.has(c)) cand.set(c, t);
        const lw = w.toLowerCase();
        items = [...cand].filter(([n]) => n.toLowerCase().startsWith(lw) && n !== w).slice(0, 12);
        if (!items.length) return close();
        active = 0;
        render();
    }
    function render() {
        list.replaceChildren(...items.map(([n, from], i) => {
            const li = document.createElement('li');
            li.id = `sql-complete-${i}`;
            li.setAttribute('role', 'option');
            li.setAttribute('aria-selected', String(i === active));
            li.dataset.value = n;
            li.textContent = n;
            const k = document.createElement('span');
            k.className = 'kind';
            k.textContent = from === 'table' ? 'table' : `column of ${from}`;
            li.append(k);
            li.addEventListener('mousedown', (e) => { e.preventDefault(); active = i; accept(); });
            return li;
        }));
        list.classList.remove('hidden');
        ta.setAttribute('aria-expanded', 'true');
        ta.setAttribute('aria-activedescendant', `sql-complete-${active}`);
    }
    function accept() {
        const w = wordBefore();
        const [n] = items[active];
        const at = ta.selectionStart;
        ta.setRangeText(n, at - w.length, at, 'end');
        close();
        ta.dispatchEvent(new Event('input'));
    }
    ta.addEventListener('keydown', (e) => {
        if (e.key === ' ' && e.ctrlKey) { e.preventDefault(); show(true); return; }
        if (!items.length) return;
        if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
            e.preventDefault();
            active = (active + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
            render();
        } else if ((e.key === 'Enter' && !e.ctrlKey && !e.metaKey) || e.key === 'Tab') {
            e.preventDefault();
            accept();
        } else if (e.key === 'Escape') {
            e.preventDefault();
            close();
        }
    });
    ta.addEventListener('input', (e) => { if (e.isTrusted) show(false); });
    ta.addEventListener('blur', close);
}
