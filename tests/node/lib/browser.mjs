// Real Chromium for the console's tests: Debian's chromium (or $CHROMIUM)
// driven by playwright-core (pinned in tests/node/package.json).
// launchBrowser() -> {browser, page, errors} or null when either is
// missing; errors collects console errors and uncaught page errors (the
// browser's own "status of 401" lines excepted: a 401 is how the server
// asks for a token).
import fs from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(opts = {}) {
    let chromium;
    try { ({ chromium } = await import('playwright-core')); } catch { return null; }
    if (!fs.existsSync(CHROMIUM)) return null;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 }, ...opts });
    const page = await context.newPage();
    const errors = [];
    page.on('console', (m) => {
        if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    return { browser, context, page, errors };
}
