// kind collect when a report has no records (an account without data that
// day): the run succeeds; before the table exists nothing is created; once it
// exists, an empty answer empties the (account, day) slice it replaces (a
// day whose rows all disappeared must not keep yesterday's numbers).  The
// server here answers {"data": [...]} with whatever the test set for the day.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { Reporter, Server, makeTmp, sleep, sluice } from '../node/lib/common.mjs';

const R = new Reporter();
const T = makeTmp('cempty');
const DATA = path.join(T, 'data');
const CFG = path.join(T, 'sluice.yaml');
const rows = {}; // day -> records
const api = http.createServer((req, res) => {
    const day = new URL(req.url, 'http://x').searchParams.get('day');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: rows[day] ?? [] }));
});
await new Promise((ok) => api.listen(0, '127.0.0.1', ok));
const server = new Server(T);
try {
    fs.writeFileSync(CFG, `data_dir: ${DATA}
listen: 127.0.0.1:0
limits: {min_free_disk: 0}
workers: 2
query: {write_tokens: [wtok]}
scheduler: {tick: 100ms, task_timeout: 5s, heartbeat: 500ms}
jobs:
  rep:
    kind: collect
    window: day
    retries: 0
    accounts: {list: [a1]}
    request: {url: "http://127.0.0.1:${api.address().port}/r", params: {day: "{{ds}}"}}
    report: {format: json, records: data}
    table: t1_rep_timeseries_daily
`);
    await server.start();
    const post = (body) => fetch(`${server.url}/v1/jobs/rep/runs`, {
        method: 'POST', headers: { authorization: 'Bearer wtok', 'content-type': 'application/json' },
        body: JSON.stringify(body) }).then((r) => r.status);
    const runs = async () => JSON.parse((await sluice(['runs', 'rep', '-c', CFG, '--format', 'json'])).stdout.toString() || '[]');
    const settled = async (n) => {
        for (const end = Date.now() + 30000; Date.now() < end; await sleep(100)) {
            const v = await runs();
            if (v.length >= n && v.every((r) => ['succeeded', 'failed', 'dead'].includes(r.state))) return v;
        }
        return runs();
    };
    const count = async (day) => {
        const q = await sluice(['sql', '--data', DATA, '-F', 'csv', `SELECT count(*) FROM t1_rep_timeseries_daily WHERE dt = '${day}'`]);
        return q.status === 0 ? q.stdout.toString().trim().split('\n').pop() : q.stderr.toString();
    };
    await post({ window: '2024-05-01' });
    let v = await settled(1);
    v[0]?.state === 'succeeded' ? R.ok('empty_report_before_the_table_succeeds') : R.fail('empty_report_before_the_table_succeeds', JSON.stringify(v));
    const t = await sluice(['tables', '--data', DATA]);
    !t.stdout.toString().includes('t1_rep_timeseries_daily') ? R.ok('no_table_created_for_nothing') : R.fail('no_table_created_for_nothing', t.stdout.toString());
    rows['2024-05-02'] = [{ campaign: 'c1', install: 3 }, { campaign: 'c2', install: 4 }];
    await post({ window: '2024-05-02' });
    v = await settled(2);
    (await count('2024-05-02')) === '2' ? R.ok('records_land') : R.fail('records_land', JSON.stringify(v));
    rows['2024-05-02'] = [];
    await post({ window: '2024-05-02', force: true });
    v = await settled(3);
    const last = v.sort((a, b) => b.id - a.id)[0];
    last?.state === 'succeeded' && (await count('2024-05-02')) === '0'
        ? R.ok('empty_report_empties_its_slice') : R.fail('empty_report_empties_its_slice', `${await count('2024-05-02')} ${JSON.stringify(last)}`);
    const code = await server.stop();
    code === 0 ? R.ok('clean_stop') : R.fail('clean_stop', `exit ${code}`);
    /AddressSanitizer|runtime error/.test(server.log()) ? R.fail('no_sanitizer_reports', server.log().slice(-2000)) : R.ok('no_sanitizer_reports');
} catch (e) {
    R.fail('collect_empty', e.stack + '\n' + server.log().slice(-3000));
} finally {
    await server.stop('SIGKILL');
    api.close();
}
process.exitCode = R.failed ? 1 : 0;
