// DEV ONLY (not committed): renders a walk-forward report from a real CLI report via a routed API answer.
import fs from 'node:fs';
import { chromium } from 'playwright-core';
const [base, file, out, width = '1280'] = process.argv.slice(2);
const result = JSON.parse(fs.readFileSync(file, 'utf8'));
const run = { id: 'dev1', status: 'Completed', strategy: result.strategy, dataset: result.dataset, timeframe: result.timeframe,
  request: { strategy: 'sma-cross', dataset: 'spy-1d', axes: { fast: { min: 5, max: 20, step: 5 }, slow: [20, 40, 60] }, constraints: ['fast<slow'], folds: 6, oosFraction: 0.25, criteria: { maxDrawdownPct: 30 } },
  submittedAtMs: Date.now(), startedAtMs: Date.now() - 5000, finishedAtMs: Date.now(), totalFolds: 6, totalCombinations: 60, processedCombinations: 60, result };
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const page = await (await browser.newContext({ viewport: { width: Number(width), height: 900 } })).newPage();
page.on('console', (m) => console.log('console', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror', e.message));
await page.route(/\/api\/walkforwards\/dev1(\/status)?$/, (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(run) }));
await page.goto(`${base}/#/walkforwards/dev1`);
await page.waitForSelector('[data-testid="walkforward-report"]');
await page.waitForTimeout(1500);
await page.mouse.move(0, 0);
await page.screenshot({ path: out, fullPage: true });
await page.locator('section.card', { has: page.locator('[data-testid="oos-equity-chart"]') }).screenshot({ path: out.replace('.png', '-equity.png') });
await page.locator('section.card', { has: page.locator('[data-testid="folds-table"]') }).screenshot({ path: out.replace('.png', '-folds.png') });
const sw = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
console.log('scroll', sw);
await page.goto(`${base}/#/new`);
await page.waitForSelector('form.run-form');
await page.check('#kind-walkforward');
await page.selectOption('select[name="dataset"]', 'spy-1d');
await page.waitForTimeout(300);
await page.screenshot({ path: out.replace('.png', '-form.png'), fullPage: true });
await browser.close();
