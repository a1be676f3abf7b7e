/* A private PostgreSQL 15 cluster for a test: initdb in <dir>/data, listening
 * on 127.0.0.1 and a free port with its socket in <dir>, trust for the role
 * postgres over TCP and passwords (scram) for every other role, every
 * statement logged (log_statement=all) to <dir>/pg.log.  Stopped by PID
 * (pg_ctl stop -m immediate) at exit; stop() then start() (or restart()) brings it
 * back on the same data and port.  null when PostgreSQL 15 is not
 * installed (scripts/deps.sh --test installs it). */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { run } from './common.mjs';

const PGBIN = '/usr/lib/postgresql/15/bin';

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
}

export async function startPg(dir) {
    if (!fs.existsSync(path.join(PGBIN, 'initdb'))) return null;
    fs.mkdirSync(dir, { recursive: true });
    for (let d = dir; d !== '/' && d !== path.dirname(d); d = path.dirname(d)) {
        try { fs.chmodSync(d, fs.statSync(d).mode | 0o055); } catch { }
        if (d === '/tmp') break;
    }
    const root = process.getuid() === 0;
    if (root) execFileSync('chown', ['postgres', dir]);
    const as = (cmd, args) => (root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
    const port = await freePort();
    const data = path.join(dir, 'data'), log = path.join(dir, 'pg.log');
    let [c, a] = as(path.join(PGBIN, 'initdb'), ['-D', data, '-U', 'postgres', '-E', 'UTF8',
        '--locale=C.UTF-8', '--auth-local=trust', '--auth-host=scram-sha-256']);
    let r = await run(c, a);
    if (r.status !== 0) throw new Error('initdb: ' + r.stderr + r.stdout);
    const hba = path.join(data, 'pg_hba.conf');
    const lines = fs.readFileSync(hba, 'utf8').split('\n').filter((l) => !l.startsWith('host'));
    lines.push('host all postgres 127.0.0.1/32 trust', 'host all all 127.0.0.1/32 scram-sha-256', '');
    fs.writeFileSync(hba, lines.join('\n'));
    const start = async () => {
        const [sc, sa] = as(path.join(PGBIN, 'pg_ctl'), ['-D', data, '-l', log, '-w', '-t', '30', '-o',
            `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c log_statement=all`, 'start']);
        const sr = await run(sc, sa);
        if (sr.status !== 0) throw new Error('pg_ctl start: ' + sr.stderr + (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''));
    };
    await start();
    const stop = () => {
        const [sc, sa] = as(path.join(PGBIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
        try { execFileSync(sc, sa, { stdio: 'ignore' }); } catch { }
    };
    process.on('exit', stop);
    /* psql as postgres: the output of -At (rows, '|' between fields); throws on error */
    const psql = async (db, sql) => {
        const res = await run(path.join(PGBIN, 'psql'), ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1',
            '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db], { input: sql });
        if (res.status !== 0) throw new Error('psql: ' + res.stderr);
        return res.stdout.toString('utf8');
    };
    for (let i = 0; i < 100; i++) {
        const ok = await run(path.join(PGBIN, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)]);
        if (ok.status === 0) break;
        await new Promise((res) => setTimeout(res, 100));
    }
    /* stop (immediate: a crash, connections cut) and start again on the same data and port */
    const restart = async () => { stop(); await start(); };
    return { port, psql, stop, start, restart, log, createdb: (db) => psql('postgres', `CREATE DATABASE ${db}`) };
}
