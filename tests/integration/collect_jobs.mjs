// kind collect end to end: `sluice serve` collects the mock's paginated fb
// insights (tests/mock/admedia.mjs) for 4 accounts x 3 days, accounts and
// their token references from accounts.sql, tokens from secret files,
// throttled by a pool under the medium's limit:
//   - every (account, day) slice of the lake table equals what the mock last
//     served for it (rows and install sums, per account and day);
//   - acc13 (the mock answers 500) fails alone, with the status in its runs;
//   - the mock counted no rate-limit violation;
//   - raw files and a Redshift manifest are stored per run;
//   - a forced re-collection restates the numbers: the slice is replaced
//     (the new truth, no doubled rows);
//   - every stored raw file and manifest of a succeeded run is announced
//     exactly once on the stream fb_insights.files, also when the server
//     stopped between appending announcements and marking them sent;
//   - no token value in the run history or the log.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startAdMedia } from '../mock/admedia.mjs';
import { Reporter, Server, makeTmp, sleep, sluice } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('collect');
const DATA = path.join(T, 'data');
const ACCOUNTS = ['acc01', 'acc02', 'acc07', 'acc13'];
const DAYS = ['2022-09-08', '2022-09-09', '2022-09-10'];
const m = await startAdMedia({ port: 0, seed: 3, accounts: 13, rows: { fb: [30, 60], gads: [20, 30], yt: [10, 20] } });
const server = new Server(T);
try {
    fs.mkdirSync(path.join(T, 'secrets'));
    const values = [];
    for (const id of ACCOUNTS) {
        const a = m.accounts.find((x) => x.id === id);
        fs.writeFileSync(path.join(T, 'secrets', `fb_${id}`), a.fb_token + '\n');
        values.push(`('${id}', 'fb_${id}')`);
    }
    fs.writeFileSync(path.join(T, 'sluice.yaml'), `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 4
secrets_dir: ${T}/secrets
query: {write_tokens: [wtok]}
scheduler: {tick: 100ms, task_timeout: 5s, heartbeat: 500ms}
pools:
  fb: {rate: 8/s, burst: 3}
jobs:
  fb_insights:
    kind: collect
    window: day
    pool: fb
    max_active: 8
    retries: 1
    retry_delay: 0s
    accounts:
      sql: "SELECT column1 AS id, column2 AS token_ref FROM (VALUES ${values.join(', ')})"
    request:
      url: "{{params.base}}/fb/v1/act_{{account}}/insights"
      params: {since: "{{ds}}", until: "{{ds}}", limit: "25"}
    auth: {type: bearer, token: "{{account_secret.token_ref}}"}
    pagination: {type: next_url, path: paging.next, max_pages: 50}
    report: {format: json, records: data, call_retries: 1}
    table: t1_fb_insights_daily
    params: {base: "${m.url}"}
`);
    const check = await sluice(['config', '--check', path.join(T, 'sluice.yaml')]);
    check.status === 0 ? R.ok('config_accepts_collect_job') : R.fail('config_accepts_collect_job', check.stderr);
    await server.start();
    const post = (body) => fetch(`${server.url}/v1/jobs/fb_insights/runs`, {
        method: 'POST', headers: { authorization: 'Bearer wtok', 'content-type': 'application/json' },
        body: JSON.stringify(body) }).then(async (r) => ({ code: r.status, body: await r.text() }));
    const runs = async () => JSON.parse((await sluice(['runs', 'fb_insights', '-c',
        path.join(T, 'sluice.yaml'), '--format', 'json', '--limit', '1000'])).stdout.toString() || '[]');
    const settled = async (n, ms = 60000) => {
        for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) {
            const v = await runs();
            if (v.length >= n && v.every((r) => ['succeeded', 'failed', 'dead'].includes(r.state))) return v;
        }
        return runs();
    };
    const b = await post({ backfill: { from: DAYS[0], to: '2022-09-11', parallel: 12, name: 'b1' } });
    b.code === 201 ? R.ok('backfill_accepted') : R.fail('backfill_accepted', JSON.stringify(b));
    let v = await settled(ACCOUNTS.length * DAYS.length);
    const ok = v.filter((r) => r.state === 'succeeded'), bad = v.filter((r) => r.state !== 'succeeded');
    ok.length === 9 && ok.every((r) => r.account !== 'acc13')
        ? R.ok('accounts_collected') : R.fail('accounts_collected', JSON.stringify(v.map((r) => [r.account, r.state, r.error])).slice(0, 1500));
    bad.length === 3 && bad.every((r) => r.account === 'acc13' && /500/.test(r.error))
        ? R.ok('failing_account_fails_alone_with_its_status') : R.fail('failing_account_fails_alone_with_its_status', JSON.stringify(bad).slice(0, 800));

    const lake = async () => {
        const q = await sluice(['sql', '--data', DATA, '-F', 'json',
            'SELECT account, dt, count(*) AS n, sum(install) AS install FROM t1_fb_insights_daily GROUP BY 1, 2 ORDER BY 1, 2']);
        return q.status === 0 ? JSON.parse(q.stdout.toString()) : q.stderr;
    };
    const truth = () => m.truth('fb').slices.filter((s) => s.account !== 'acc13')
        .map((s) => ({ account: s.account, dt: s.day, n: s.rows, install: s.install }))
        .sort((a, b) => (a.account + a.dt).localeCompare(b.account + b.dt));
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    let l = await lake(), t = truth();
    same(l, t) ? R.ok('lake_equals_mock_truth_per_account_and_day') : R.fail('lake_equals_mock_truth_per_account_and_day', `lake ${JSON.stringify(l).slice(0, 600)}\ntruth ${JSON.stringify(t).slice(0, 600)}`);
    const st = m.stats().media.fb;
    st.violations === 0 ? R.ok('no_rate_limit_violation') : R.fail('no_rate_limit_violation', JSON.stringify(st));

    const rawDir = path.join(DATA, 'lake', 'raw', 'fb_insights', 'acc01', '2022-09-10');
    const files = fs.existsSync(rawDir) ? fs.readdirSync(rawDir) : [];
    const man = files.find((f) => f.endsWith('.manifest.json'));
    const parts = files.filter((f) => f.endsWith('.json.gz'));
    let manOk = false;
    if (man) {
        const j = JSON.parse(fs.readFileSync(path.join(rawDir, man), 'utf8'));
        manOk = j.entries.length === parts.length && parts.length >= 2 &&
            j.entries.every((e) => e.mandatory === true && e.meta.content_length > 0);
    }
    manOk ? R.ok('raw_files_and_manifest_stored') : R.fail('raw_files_and_manifest_stored', files.join(' '));

    const before = l.find((r) => r.account === 'acc02' && r.dt === '2022-09-09');
    const f = await post({ window: '2022-09-09', force: true });
    f.code === 201 ? R.ok('forced_recollection_accepted') : R.fail('forced_recollection_accepted', JSON.stringify(f));
    v = await settled(ACCOUNTS.length * DAYS.length + ACCOUNTS.length);
    l = await lake(), t = truth();
    const after = Array.isArray(l) ? l.find((r) => r.account === 'acc02' && r.dt === '2022-09-09') : null;
    same(l, t) && after && before && after.install > before.install
        ? R.ok('restated_day_replaces_its_slice') : R.fail('restated_day_replaces_its_slice', `before ${JSON.stringify(before)} after ${JSON.stringify(after)}\nlake ${JSON.stringify(l).slice(0, 400)}\ntruth ${JSON.stringify(t).slice(0, 400)}`);

    const met = await (await fetch(`${server.url}/metrics`)).text();
    const mv = (n) => Number((met.match(new RegExp(`^${n}\\{job="fb_insights"\\} (\\d+)`, 'm')) || [])[1] ?? -1);
    const lakeRows = Array.isArray(l) ? l.reduce((a, r) => a + r.n, 0) : 0;
    const served = m.stats().media.fb;
    mv('sluice_collect_calls_total') > 0 && mv('sluice_collect_records_total') >= lakeRows &&
        mv('sluice_collect_pages_total') > 0 && mv('sluice_collect_bytes_total') > 0
        ? R.ok('collect_metrics_per_job') : R.fail('collect_metrics_per_job', met.split('\n').filter((x) => /collect/.test(x)).join('\n') + JSON.stringify(served));

    // every stored file of every succeeded run is announced once on fb_insights.files
    let readErr = '';
    const announced = async () => {
        const r = await sluice(['read', '--data', DATA, 'fb_insights.files']);
        if (r.status !== 0) readErr = r.stderr.toString();
        return r.status === 0 ? r.stdout.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
    };
    const expectFiles = async () => {
        const want = new Set();
        for (const r of (await runs()).filter((x) => x.state === 'succeeded')) {
            const dir = path.join(DATA, 'lake', 'raw', 'fb_insights', r.account, r.window_start.slice(0, 10));
            for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : [])
                if (f.startsWith(`run${r.id}-`) || f === `run${r.id}.manifest.json`)
                    want.add(`raw/fb_insights/${r.account}/${r.window_start.slice(0, 10)}/${f}`);
        }
        return want;
    };
    const filesOk = async (label, ms = 10000) => {
        let got = [], want = new Set();
        for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) {
            got = await announced();
            want = await expectFiles();
            if (got.length >= want.size) break;
        }
        const keys = got.map((g) => g.key), ids = got.map((g) => g.outbox_id);
        const rowsOk = got.filter((g) => g.kind === 'raw').every((g) => g.rows >= 0 && g.bytes > 0) &&
            got.filter((g) => g.kind === 'manifest').every((g) => g.rows === -1);
        const ok = keys.length === want.size && new Set(keys).size === keys.length &&
            new Set(ids).size === ids.length && keys.every((k) => want.has(k)) && rowsOk &&
            got.every((g) => g.job === 'fb_insights' && ACCOUNTS.includes(g.account) && g.url.endsWith(g.key));
        ok ? R.ok(label) : R.fail(label, `announced ${keys.length} (${new Set(keys).size} distinct), stored ${want.size}\n${JSON.stringify(got.slice(0, 3))}\n${readErr}\n${server.log().split('\n').filter((l) => /outbox|files/.test(l)).slice(0, 10).join('\n')}`);
        return got;
    };
    const got = await filesOk('committed_files_announced_once_on_job_files_stream');
    // a stop between the append and its mark: the restarted sender finds the
    // records in the stream and does not append them again
    await server.stop();
    const un = spawnSync('python3', ['-c', `import sqlite3,sys
c = sqlite3.connect(sys.argv[1])
n = c.execute("UPDATE outbox SET sent_offset = NULL WHERE id IN (SELECT id FROM outbox ORDER BY id DESC LIMIT 3)").rowcount
c.commit(); print(n)`, path.join(DATA, 'catalog.db')]);
    un.stdout.toString().trim() === '3' ? R.ok('outbox_unmarked_for_the_restart') : R.fail('outbox_unmarked_for_the_restart', un.stderr.toString());
    await server.start();
    const pending = () => spawnSync('python3', ['-c', `import sqlite3,sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM outbox WHERE sent_offset IS NULL").fetchone()[0])`,
        path.join(DATA, 'catalog.db')]).stdout.toString().trim();
    for (const end = Date.now() + 10000; Date.now() < end && pending() !== '0'; await sleep(100));
    const again = await announced();
    again.length === got.length ? R.ok('outbox_reconciled_after_restart_not_resent') : R.fail('outbox_reconciled_after_restart_not_resent', `${got.length} before, ${again.length} after`);

    const tokens = ACCOUNTS.map((id) => m.accounts.find((x) => x.id === id).fb_token);
    const hist = JSON.stringify(await runs()) + server.log();
    tokens.every((tk) => !hist.includes(tk)) ? R.ok('tokens_never_in_runs_or_log') : R.fail('tokens_never_in_runs_or_log', 'a token appears');
    const code = await server.stop();
    code === 0 ? R.ok('clean_stop') : R.fail('clean_stop', `exit ${code}`);
    /AddressSanitizer|runtime error/.test(server.log()) ? R.fail('no_sanitizer_reports', server.log().slice(-2000)) : R.ok('no_sanitizer_reports');
} catch (e) {
    R.fail('collect_jobs', e.stack + '\n' + server.log().slice(-3000));
} finally {
    await server.stop('SIGKILL');
    await m.close();
}
process.exitCode = R.failed ? 1 : 0;
