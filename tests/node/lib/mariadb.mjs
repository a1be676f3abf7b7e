/* A private MariaDB server for a test: mariadb-install-db into <dir>/data
 * (root@localhost by its empty password, no socket-only auth), then mariadbd
 * with no option files (--no-defaults), its socket in <dir>, TCP on
 * 127.0.0.1 and a free port, grants enforced (not --skip-grant-tables), and
 * every statement in the general log <dir>/general.log.  Runs as the mysql
 * user when the test is root.  Ready when mariadb-admin ping answers;
 * killed by PID at exit; restart() kills it (-9) and starts it again on the same data.  null when MariaDB is not installed
 * (scripts/deps.sh --test installs it). */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { run } from './common.mjs';

const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL = '/usr/bin/mariadb-install-db';
const CLIENT = '/usr/bin/mariadb';
const ADMIN = '/usr/bin/mariadb-admin';

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
}

export async function startMariadb(dir) {
    if (![MARIADBD, INSTALL, CLIENT, ADMIN].every((f) => fs.existsSync(f))) return null;
    fs.mkdirSync(dir, { recursive: true });
    for (let d = dir; d !== '/' && d !== path.dirname(d); d = path.dirname(d)) {
        try { fs.chmodSync(d, fs.statSync(d).mode | 0o055); } catch { }
        if (d === '/tmp') break;
    }
    const root = process.getuid() === 0;
    const data = path.join(dir, 'data'), sock = path.join(dir, 'mysqld.sock');
    const log = path.join(dir, 'general.log'), errlog = path.join(dir, 'error.log');
    fs.mkdirSync(data);
    if (root) fs.chownSync(dir, 0, 0), await run('chown', ['-R', 'mysql:mysql', dir]);
    const user = root ? ['--user=mysql'] : [];
    let r = await run(INSTALL, ['--no-defaults', `--datadir=${data}`, ...user,
        '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve']);
    if (r.status !== 0) throw new Error('mariadb-install-db: ' + r.stderr + r.stdout);
    const port = await freePort();
    let child = null;
    const stop = () => { try { if (child) process.kill(child.pid, 'SIGKILL'); } catch { } };
    process.on('exit', stop);
    const base = ['--no-defaults', `--socket=${sock}`, '-uroot'];
    const start = async () => {
        child = spawn(MARIADBD, ['--no-defaults', `--datadir=${data}`, `--socket=${sock}`,
            `--port=${port}`, '--bind-address=127.0.0.1', `--pid-file=${path.join(dir, 'mysqld.pid')}`,
            `--log-error=${errlog}`, '--general-log=1', `--general-log-file=${log}`, `--tmpdir=${dir}`,
            '--skip-name-resolve', '--innodb-buffer-pool-size=32M', '--skip-log-bin', ...user],
        { stdio: 'ignore' });
        let up = false;
        for (let i = 0; i < 300 && !up && child.exitCode === null; i++) {
            up = (await run(ADMIN, [...base, 'ping'])).status === 0;
            if (!up) await new Promise((res) => setTimeout(res, 100));
        }
        if (!up) {
            stop();
            throw new Error('mariadbd did not start: ' + (fs.existsSync(errlog) ? fs.readFileSync(errlog, 'utf8') : ''));
        }
    };
    await start();
    /* kill -9 the server and start it again on the same data and port (crash recovery) */
    const restart = async () => {
        const c = child, gone = new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)));
        stop();
        await gone;
        await start();
    };
    /* SQL as root through the socket: the rows of --batch output (tabs
     * between fields, \t \n \\ \0 escaped, NULL as "NULL"); throws on error */
    const sql = async (db, text) => {
        const res = await run(CLIENT, [...base, '--batch', '--skip-column-names', ...(db ? [db] : [])],
            { input: text });
        if (res.status !== 0) throw new Error('mariadb: ' + res.stderr);
        return res.stdout.toString('utf8');
    };
    return { port, socket: sock, sql, stop, restart, log, errlog, get pid() { return child.pid; } };
}
