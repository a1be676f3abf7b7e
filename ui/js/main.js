// The console's shell: routes (history API), navigation, the token button.
import { askToken } from './api.js';
import { tablesList, tableDetail } from './tables.js';
import { queryPage } from './query.js';
import { savedList, savedPage } from './saved.js';
import { dashList, dashPage } from './dash.js';
import { jobsList, jobPage } from './jobs.js';
import { homePage } from './home.js';
import { alertsPage } from './alerts.js';

const routes = [
    [/^\/$/, 'home', (el) => homePage(el)],
    [/^\/tables\/?$/, 'tables', (el) => tablesList(el)],
    [/^\/saved\/?$/, 'saved', (el) => savedList(el)],
    [/^\/saved\/new$/, 'saved', (el) => savedPage(el, 0)],
    [/^\/saved\/(\d+)$/, 'saved', (el, m) => savedPage(el, Number(m[1]))],
    [/^\/dashboards\/?$/, 'dashboards', (el) => dashList(el)],
    [/^\/dashboards\/(\d+)$/, 'dashboards', (el, m) => dashPage(el, Number(m[1]), new URLSearchParams(location.search))],
    [/^\/jobs\/?$/, 'jobs', (el) => jobsList(el)],
    [/^\/alerts\/?$/, 'alerts', (el) => alertsPage(el)],
    [/^\/jobs\/([^/]+)$/, 'jobs', (el, m) => jobPage(el, decodeURIComponent(m[1]))],
    [/^\/tables\/([^/]+)$/, 'tables', (el, m) => tableDetail(el, decodeURIComponent(m[1]))],
    [/^\/query\/?$/, 'query', (el) => queryPage(el, new URLSearchParams(location.search))],
];

let leave = null; // the current page's clean-up (a running query is cancelled)

export function navigate(path) {
    history.pushState(null, '', path);
    render();
}

function render() {
    const main = document.getElementById('main');
    if (leave) { try { leave(); } catch { } leave = null; }
    main.replaceChildren();
    const r = routes.find(([re]) => re.test(location.pathname));
    for (const a of document.querySelectorAll('nav a[data-nav]')) {
        if (r && a.dataset.nav === r[1]) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
    }
    if (!r) {
        main.append(Object.assign(document.createElement('h1'), { textContent: 'Not found' }));
        return;
    }
    document.title = `${r[1][0].toUpperCase()}${r[1].slice(1)} · sluice`;
    const out = r[2](main, location.pathname.match(r[0]));
    if (typeof out === 'function') leave = out;
}

// Links inside the app navigate without a reload.
document.addEventListener('click', (e) => {
    const a = e.target.closest('a[href]');
    if (!a || a.target || a.hasAttribute('download') || e.ctrlKey || e.metaKey || e.shiftKey || e.button) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/v1/')) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
});
window.addEventListener('popstate', render);
document.getElementById('change-token').addEventListener('click', async () => {
    await askToken('Enter the token to use from now on.');
    render();
});
render();
