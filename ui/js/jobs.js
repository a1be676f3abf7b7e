// Jobs: every job (GET /v1/jobs: schedule, next run, runs by state, the
// last run), one job's run history (GET /v1/jobs/{job}/runs) with errors and
// each run's log (GET /v1/jobs/{job}/runs/{id}/log),
// and the forms that start a run or a backfill (POST /v1/jobs/{job}/runs,
// a write token).
import { apiJson, h, num, table } from './api.js';
import { failed } from './saved.js';

const when = (ms) => (ms ? new Date(ms).toISOString().slice(0, 19).replace('T', ' ') : '—');
export const duration = (r) => (r.started_ms && r.finished_ms ? `${((r.finished_ms - r.started_ms) / 1000).toFixed(1)} s` : '—');
export const stateCell = (st) => h('span', { class: `state-${st}` }, st);

export function runsTable(label, runs, withJob, onLog) {
    return table(label, [
        ...(withJob ? [{ label: 'Job', render: (r) => h('a', { href: `/jobs/${encodeURIComponent(r.job)}` }, r.job) }] : []),
        { label: 'Run', num: 1, render: (r) => r.id },
        { label: 'Window', render: (r) => r.window_start || '—' },
        { label: 'State', render: (r) => stateCell(r.state) },
        { label: 'Trigger', render: (r) => r.trigger + (r.backfill ? ` (${r.backfill})` : '') },
        { label: 'Attempt', num: 1, render: (r) => r.attempt },
        { label: 'Started', render: (r) => when(r.started_ms) },
        { label: 'Duration', num: 1, render: duration },
        { label: 'Rows', num: 1, render: (r) => num(r.rows) },
        { label: 'Error', render: (r) => h('span', { class: 'wrap' }, r.error || '') },
        ...(onLog ? [{ label: 'Log', render: (r) => h('button', { type: 'button', class: 'quiet', id: `log-${r.id}`,
            'aria-label': `Log of run ${r.id}`, onclick: () => onLog(r) }, 'Log') }] : []),
    ], runs, (r) => ({ dataset: { run: r.id, state: r.state } }));
}

export function jobsList(el) {
    el.append(h('h1', null, 'Jobs'));
    apiJson('/v1/jobs').then((jobs) => {
        if (!jobs.length) return el.append(h('p', null, 'No jobs in the configuration.'));
        el.append(h('div', { class: 'scroll-x' }, table('Jobs', [
            { label: 'Job', render: (j) => h('a', { href: `/jobs/${encodeURIComponent(j.name)}` }, j.name) },
            { label: 'Kind', render: (j) => j.kind },
            { label: 'Schedule', render: (j) => j.schedule || (j.every_ms ? `every ${j.every_ms / 1000} s` : 'manual') },
            { label: 'Window', render: (j) => j.window },
            { label: 'Next run', render: (j) => j.next_fire || '—' },
            { label: 'Last run', render: (j) => (j.last_run ? stateCell(j.last_run.state) : '—') },
            { label: 'Duration', num: 1, render: (j) => (j.last_run ? duration(j.last_run) : '—') },
            { label: 'Rows', num: 1, render: (j) => (j.last_run ? num(j.last_run.rows) : '—') },
            { label: 'Failed runs', num: 1, render: (j) => num((j.runs.failed || 0) + (j.runs.dead || 0)) },
            { label: 'Last error', render: (j) => h('span', { class: 'wrap' }, (j.last_run && j.last_run.error) || '') },
        ], jobs, (j) => ({ dataset: { job: j.name, state: j.last_run ? j.last_run.state : '' } }))));
    }).catch((e) => failed(el, e));
}

export function jobPage(el, name) {
    el.append(h('p', { class: 'crumbs' }, h('a', { href: '/jobs' }, 'Jobs'), ' / ', name), h('h1', null, name));
    const msgs = h('div'), hist = h('div', { id: 'job-runs' });
    const logBox = h('section', { id: 'run-log', 'aria-label': 'Run log', 'aria-live': 'polite' });
    const showLog = (r) => apiJson(`/v1/jobs/${encodeURIComponent(name)}/runs/${r.id}/log`).then((l) => {
        logBox.replaceChildren(h('h2', null, `Log of run ${r.id}`), ...(l.attempts.length ? l.attempts.map((a) =>
            h('div', { dataset: { attempt: a.attempt } }, h('h3', null, `Attempt ${a.attempt} (${when(a.created_ms)})`),
                h('pre', { class: 'code log' }, a.text))) : [h('p', null, 'Nothing was logged.')]));
        logBox.scrollIntoView({ block: 'nearest' });
    }).catch((e) => { logBox.replaceChildren(); failed(logBox, e); });
    const win = h('input', { id: 'run-window', placeholder: 'YYYY-MM-DD', size: 22 });
    const force = h('input', { id: 'run-force', type: 'checkbox' });
    const from = h('input', { id: 'bf-from', placeholder: 'YYYY-MM-DD', size: 14 }), to = h('input', { id: 'bf-to', placeholder: 'YYYY-MM-DD', size: 14 });
    const par = h('input', { id: 'bf-parallel', type: 'number', min: '1', max: '64', value: '2' });
    const serial = h('input', { id: 'bf-serial', type: 'checkbox' });
    const post = async (body) => {
        msgs.replaceChildren();
        try {
            const r = await apiJson(`/v1/jobs/${encodeURIComponent(name)}/runs`, { method: 'POST', body: JSON.stringify(body) });
            msgs.append(h('p', { role: 'status' }, `Started: ${JSON.stringify(r).slice(0, 200)}`));
            load();
        } catch (e) { failed(msgs, e); }
    };
    el.append(msgs,
        h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); post({ window: win.value.trim(), force: force.checked }); } },
            h('label', { for: 'run-window' }, 'Run the window'), win, h('label', { for: 'run-force' }, force, ' again if done'),
            h('button', { type: 'submit', id: 'run-trigger' }, 'Run')),
        h('form', { class: 'toolbar', onsubmit: (e) => {
            e.preventDefault();
            post({ backfill: { from: from.value.trim(), to: to.value.trim(), ...(serial.checked ? { serial: true } : { parallel: Number(par.value) || 1 }) } });
        } }, h('label', { for: 'bf-from' }, 'Backfill from'), from, h('label', { for: 'bf-to' }, 'to'), to,
            h('label', { for: 'bf-parallel' }, 'in parallel'), par, h('label', { for: 'bf-serial' }, serial, ' one at a time'),
            h('button', { type: 'submit', id: 'bf-start' }, 'Start backfill')),
        h('h2', null, 'Run history'), hist, logBox);
    let timer = null;
    function load() {
        apiJson(`/v1/jobs/${encodeURIComponent(name)}/runs?limit=100`).then((runs) => {
            hist.replaceChildren(runs.length ? h('div', { class: 'scroll-x' }, runsTable(`Runs of ${name}`, runs, false, showLog)) : h('p', null, 'No runs yet.'));
        }).catch((e) => { hist.replaceChildren(); failed(hist, e); });
    }
    load();
    timer = setInterval(load, 5000); // a running backfill's progress
    return () => clearInterval(timer);
}
