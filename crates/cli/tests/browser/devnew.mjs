// DEV ONLY: time the first #/new on a fresh server, logging requests.
import { chromium } from 'playwright-core';
const [base] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const page = await (await browser.newContext()).newPage();
const t0 = Date.now();
page.on('request', (r) => console.log(Date.now() - t0, 'req', r.url()));
page.on('requestfinished', (r) => console.log(Date.now() - t0, 'done', r.url()));
page.on('requestfailed', (r) => console.log(Date.now() - t0, 'FAILED', r.url(), r.failure()?.errorText));
page.on('console', (m) => console.log('console', m.text()));
await page.goto(`${base}/#/new`);
await page.waitForSelector('form.run-form', { timeout: 60000 });
console.log('form after', Date.now() - t0);
await browser.close();
