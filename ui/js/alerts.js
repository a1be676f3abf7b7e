// Alerts: the alert jobs (a SELECT and a condition on a schedule) with
// their state, and the built-in alerts of the server (failed job runs,
// schema changes, sink lag) with the last notices they sent
// (GET /v1/alerts, refreshed every 5 s).  "Check now" starts an alert job's
// run (POST /v1/jobs/{job}/runs, a write token).
import { apiJson, h, table } from './api.js';
import { failed } from './saved.js';
import { stateCell } from './jobs.js';

const REFRESH_MS = 5000;
const when = (ms) => (ms ? new Date(ms).toISOString().slice(0, 19).replace('T', ' ') : '—');
const every = (ms) => (ms % 60000 === 0 ? `${ms / 60000} min` : `${ms / 1000} s`);
const badge = (st) => h('span', { class: `alert-${st}` }, st);

function jobsTable(jobs, check) {
    return table('Alert jobs', [
        { label: 'Alert', render: (j) => h('a', { href: `/jobs/${encodeURIComponent(j.name)}` }, j.name) },
        { label: 'Condition', render: (j) => h('code', null, j.condition) },
        { label: 'Schedule', render: (j) => j.schedule || (j.every_ms ? `every ${every(j.every_ms)}` : 'manual') },
        { label: 'State', render: (j) => badge(j.state) },
        { label: 'Since', render: (j) => (j.state === 'triggered' ? when(j.since_ms) : '—') },
        { label: 'Last notice', render: (j) => when(j.notified_ms) },
        { label: 'Last check', render: (j) => (j.last_run ? stateCell(j.last_run.state) : '—') },
        { label: 'Error', render: (j) => h('span', { class: 'wrap' }, (j.last_run && j.last_run.error) || '') },
        { label: 'Check', render: (j) => h('button', { type: 'button', class: 'quiet', id: `check-${j.name}`,
            'aria-label': `Check ${j.name} now`, onclick: () => check(j.name) }, 'Check now') },
    ], jobs, (j) => ({ dataset: { alert: j.name, state: j.state } }));
}

function builtinBox(b) {
    const checks = table('Built-in alerts', [
        { label: 'Check', render: (c) => c.name + (c.stream ? ` (${c.stream})` : '') },
        { label: 'Enabled', render: (c) => (c.enabled ? 'yes' : 'no') },
        { label: 'State', render: (c) => badge(c.state) },
        { label: 'Since', render: (c) => (c.state === 'triggered' ? when(c.since_ms) : '—') },
        { label: 'Detail', render: (c) => h('span', { class: 'wrap' }, c.detail || '') },
    ], b.checks, (c) => ({ dataset: { check: c.name + (c.stream ? `:${c.stream}` : ''), state: c.state } }));
    const notices = b.notices.length ? table('Notices sent', [
        { label: 'When', render: (n) => when(n.at_ms) },
        { label: 'Alert', render: (n) => n.alert },
        { label: 'Text', render: (n) => h('span', { class: 'wrap' }, n.text) },
        { label: 'Delivered', render: (n) => (n.delivered ? 'yes' : h('span', { class: 'state-failed' }, 'no: sent again at the next check')) },
    ], b.notices, (n) => ({ dataset: { notice: n.alert, delivered: n.delivered } })) : h('p', null, 'No notices yet.');
    return [
        h('p', { class: 'note', id: 'builtin-settings' }, `Checked every ${every(b.every_ms)}; notices go to ` +
            (b.webhook ? 'the configured webhook' : 'the log only (alerts.webhook is not set)') +
            (b.last_check_ms ? `; last check ${when(b.last_check_ms)}` : '') +
            (b.sink_lag ? `; sink lag over ${b.sink_lag} records for ${every(b.sink_lag_for_ms)} triggers` : '; no sink lag check') + '.'),
        b.last_error ? h('p', { class: 'error' }, `Last error: ${b.last_error}`) : null,
        h('div', { class: 'scroll-x' }, checks),
        h('h2', null, 'Recent notices'),
        h('div', { class: 'scroll-x', id: 'alert-notices' }, notices),
    ];
}

export function alertsPage(el) {
    el.append(h('h1', null, 'Alerts'));
    const msgs = h('div', { id: 'alert-msgs' });
    const jobsBox = h('section', { id: 'alert-jobs', 'aria-label': 'Alert jobs' }, h('p', { class: 'note' }, 'Loading…'));
    const builtin = h('section', { id: 'alert-builtin', 'aria-label': 'Built-in alerts' });
    el.append(msgs, h('h2', null, 'Alert jobs'), jobsBox, h('h2', null, 'Built-in alerts'), builtin);
    async function check(name) {
        msgs.replaceChildren();
        try {
            const day = new Date().toISOString().slice(0, 10);
            const r = await apiJson(`/v1/jobs/${encodeURIComponent(name)}/runs`, { method: 'POST', body: JSON.stringify({ window: day, force: true }) });
            msgs.append(h('p', { role: 'status' }, `Checking ${name}: run ${r.run}.`));
            setTimeout(load, 1000);
        } catch (e) { failed(msgs, e); }
    }
    function load() {
        apiJson('/v1/alerts').then((a) => {
            jobsBox.replaceChildren(a.jobs.length ? h('div', { class: 'scroll-x' }, jobsTable(a.jobs, check))
                : h('p', null, 'No alert jobs in the configuration (kind: alert, see docs/jobs.md).'));
            builtin.replaceChildren(...builtinBox(a.builtin).filter(Boolean));
        }).catch((e) => { jobsBox.replaceChildren(); failed(jobsBox, e); });
    }
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => clearInterval(timer);
}
