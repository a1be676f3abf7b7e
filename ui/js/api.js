// Talking to the server: every call goes through api(), which sends the
// token (kept in sessionStorage) as a Bearer token and, on 401, asks for a
// token again and retries.  h() builds DOM nodes; data only ever becomes
// text (textContent), never markup.
const KEY = 'sluice.token';

export const token = () => sessionStorage.getItem(KEY) || '';

let asking = null;
export function askToken(message) {
    if (asking) return asking;
    const dlg = document.getElementById('token-dialog');
    const form = document.getElementById('token-form');
    const input = document.getElementById('token-input');
    document.getElementById('token-msg').textContent = message;
    asking = new Promise((resolve) => {
        form.onsubmit = (e) => {
            e.preventDefault();
            sessionStorage.setItem(KEY, input.value.trim());
            input.value = '';
            dlg.close();
            asking = null;
            resolve();
        };
    });
    dlg.oncancel = (e) => e.preventDefault(); // a token is needed to go on
    if (!dlg.open) dlg.showModal();
    input.focus();
    return asking;
}

// CSRF: a request that changes something carries X-Sluice-CSRF, the value
// of the sluice_csrf cookie that GET /v1/session sets (double submit).
let csrf = null;
const csrfToken = () => (csrf ??= fetch('/v1/session').then((r) => r.json()).then((b) => b.csrf)
    .catch((e) => { csrf = null; throw e; }));

export async function api(path, opts = {}) {
    const method = (opts.method || 'GET').toUpperCase();
    for (;;) {
        const headers = { ...(opts.headers || {}) };
        const t = token();
        if (t) headers.Authorization = 'Bearer ' + t;
        if (method !== 'GET' && method !== 'HEAD') headers['X-Sluice-CSRF'] = await csrfToken();
        const res = await fetch(path, { ...opts, headers });
        if (res.status !== 401) return res;
        await askToken(t ? 'The server refused that token. Enter another one.'
                         : 'This server needs an access token.');
    }
}

export async function apiJson(path, opts) {
    const res = await api(path, opts);
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new Error((body && body.error) || `${res.status} ${res.statusText}`);
    return body;
}

/* h('a', {href: '/x', class: 'y', onclick: f, dataset: {k: 'v'}}, 'text', node, ...) */
export function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === undefined || v === null || v === false) continue;
        if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
        else if (k === 'dataset') Object.assign(el.dataset, v);
        else if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
        if (c === null || c === undefined || c === false) continue;
        el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
}

export function bytes(n) {
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = Number(n), i = 0;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return i ? `${v.toFixed(1)} ${u[i]}` : `${v} B`;
}

export const num = (n) => Number(n).toLocaleString('en-US');

/* A simple table: cols [{key, label, num, render}], rows of objects. */
export function table(label, cols, rows, rowAttrs) {
    return h('table', { class: 'data', 'aria-label': label },
        h('thead', null, h('tr', null, cols.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
        h('tbody', null, rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : null,
            cols.map((c) => h('td', { class: c.num ? 'num' : null }, c.render ? c.render(r) : r[c.key]))))));
}
