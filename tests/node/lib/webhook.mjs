/* A local Slack-compatible webhook receiver for the alert tests: each POST's
 * path, content type and JSON body kept in order (got); refuse(status)
 * makes it answer that status instead (0: accept again). */
import http from 'node:http';

export async function startWebhook() {
    const got = [];
    let refusing = 0;
    const server = http.createServer((req, res) => {
        let b = '';
        req.on('data', (d) => (b += d));
        req.on('end', () => {
            if (refusing) { res.writeHead(refusing); res.end('down'); return; }
            got.push({ path: req.url, type: req.headers['content-type'], body: JSON.parse(b) });
            res.writeHead(200); res.end('ok');
        });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const port = server.address().port;
    return {
        got, port, url: `http://127.0.0.1:${port}`,
        refuse(status) { refusing = status; },
        close() { server.close(); },
    };
}
