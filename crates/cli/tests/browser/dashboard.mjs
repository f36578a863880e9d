// Browser tests of the atf dashboard, in headless Debian chromium driven by
// playwright-core (which never downloads a browser here).
//
//   node dashboard.mjs http://127.0.0.1:PORT SCREENSHOT_DIR [TOKEN_URL TOKEN]
//
// Runs every scenario against the server at the URL (a fresh `atf serve`
// started by crates/cli/tests/browser.rs), saves screenshots, and exits 1
// naming each failed scenario. A missing browser is a failure, never a
// skip. TOKEN_URL is a second server started with `--api-token TOKEN`
// (browser.rs always passes one); without it the token scenario is not
// run and the summary says so.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, shotDir, guarded, token] = process.argv.slice(2);
if (!base || !shotDir) {
  console.error('usage: node dashboard.mjs http://127.0.0.1:PORT SCREENSHOT_DIR');
  process.exit(2);
}
const CHROMIUM = process.env.ATF_CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 812 };
const TIMEOUT = 30_000;

fs.mkdirSync(shotDir, { recursive: true });
for (const old of fs.readdirSync(shotDir).filter((f) => f.startsWith('failure-'))) fs.rmSync(path.join(shotDir, old));

// ---------------------------------------------------------------- helpers

/** An optimization that runs for minutes (half a million trials). */
const BIG_GRID = {
  strategy: 'sma-cross', dataset: 'spy-1m', constraints: ['fast < slow'],
  axes: { fast: { min: 2, max: 1000, step: 1 }, slow: { min: 3, max: 1001, step: 1 } },
};


/** Console errors and page errors of every page, checked at the end. */
const problems = [];
/** API refusals a scenario provokes on purpose (the browser logs them). */
const expectedRefusals = [];

function watch(page, scenario) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (expectedRefusals.some((r) => r.scenario === scenario && r.pattern.test(text))) return;
    problems.push(`${scenario}: console error: ${text} (${msg.location()?.url ?? ''})`);
  });
  page.on('pageerror', (err) => problems.push(`${scenario}: uncaught: ${err.message}`));
}

async function newPage(browser, scenario, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  watch(page, scenario);
  // every text the progress line shows, in order
  await page.addInitScript(() => {
    window.__progressTexts = [];
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="progress-text"]')?.textContent;
      const seen = window.__progressTexts;
      if (text && seen[seen.length - 1] !== text) seen.push(text);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  return page;
}

/** A percentage as the dashboard writes it (format.js `pct`). */
function pctText(n) {
  return `${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} %`;
}

async function shot(page, name) {
  await page.mouse.move(0, 0); // no crosshair or hover in the picture
  await page.screenshot({ path: path.join(shotDir, `${name}.png`), fullPage: true });
}

async function api(method, route, body, server = { url: base }) {
  const headers = body ? { 'content-type': 'application/json' } : {};
  if (server.token) headers.authorization = `Bearer ${server.token}`;
  const res = await fetch(`${server.url}${route}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function waitForStatus(kind, id, wanted) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const s = await api('GET', `/api/${kind}/${id}/status`);
    if (wanted.includes(s.status)) return s;
    if (Date.now() > deadline) throw new Error(`${kind} ${id} is still ${s.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Number of strongly coloured pixels in the canvases under `selector`. */
async function colouredPixels(page, selector) {
  return page.evaluate((sel) => {
    let n = 0;
    for (const canvas of document.querySelectorAll(`${sel} canvas`)) {
      if (!canvas.width || !canvas.height) continue;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
        if (a > 128 && Math.max(r, g, b) - Math.min(r, g, b) > 60) n += 1;
      }
    }
    return n;
  }, selector);
}

async function expectDrawn(page, selector, what) {
  await page.waitForSelector(`${selector} canvas`);
  // the charts draw on the next animation frames
  const deadline = Date.now() + 10_000;
  let n = 0;
  while (Date.now() < deadline) {
    n = await colouredPixels(page, selector);
    if (n > 200) return n;
    await page.waitForTimeout(100);
  }
  throw new Error(`${what} is not drawn (${n} coloured pixels in ${selector})`);
}

/** The numbers in the column headed `header` of table `testid`. */
async function columnNumbers(page, testid, header) {
  return page.locator(`[data-testid="${testid}"] table`).evaluate((table, name) => {
    const i = [...table.tHead.rows[0].cells].findIndex((th) => th.textContent.replace(/[▲▼]/g, '').trim() === name);
    if (i < 0) throw new Error(`no column ${name}`);
    return [...table.tBodies[0].rows].filter((tr) => !tr.classList.contains('row-extra'))
      .map((tr) => Number.parseFloat(tr.cells[i].textContent.replace(/,/g, '')));
  }, header);
}

async function noHorizontalScroll(page, where) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `${where}: the page scrolls sideways at ${width} px (content ${scroll} px wide)`);
}

/** Sets a parameter row of the new-run form to a range axis. */
async function setRange(page, name, min, max, step) {
  await page.selectOption(`select[name="${name}.mode"]`, 'range');
  await page.fill(`input[name="${name}.min"]`, String(min));
  await page.fill(`input[name="${name}.max"]`, String(max));
  await page.fill(`input[name="${name}.step"]`, String(step));
}

async function chooseRun(page, { kind, strategy = 'sma-cross', dataset = 'spy-1m', timeframe = '' }) {
  await page.goto(`${base}/#/new`);
  await page.waitForSelector('form.run-form');
  await page.check(`#kind-${kind}`);
  await page.selectOption('select[name="strategy"]', strategy);
  await page.selectOption('select[name="dataset"]', dataset);
  await page.selectOption('select[name="timeframe"]', timeframe);
}

// -------------------------------------------------------------- scenarios

const scenarios = {
  async 'a backtest submitted from the form shows its progress, then its report with charts'(browser, name) {
    const page = await newPage(browser, name);
    await chooseRun(page, { kind: 'backtest', timeframe: '1h' });
    await page.fill('input[name="fast.value"]', '10');
    await page.fill('input[name="slow.value"]', '30');
    await page.fill('input[name="commissionPct"]', '0.1');
    await page.click('[data-testid="submit-run"]');
    await page.waitForURL(/#\/backtests\/[\w-]+$/);
    await page.waitForSelector('[data-testid="backtest-report"]');
    const texts = await page.evaluate(() => window.__progressTexts);
    assert.ok(texts.length >= 2, `the progress text never changed: ${JSON.stringify(texts)}`);
    assert.match(texts[0], /^Processed 0 \/ [\d,]+ Bars$/);
    assert.match(texts.at(-1), /^Processed ([\d,]+) \/ \1 Bars$/);
    await page.waitForSelector('[data-testid="progress-panel"] .badge-completed');
    await expectDrawn(page, '[data-testid="equity-chart"]', 'the equity chart');
    await expectDrawn(page, '[data-testid="drawdown-chart"]', 'the drawdown chart');
    await expectDrawn(page, '[data-testid="price-chart"]', 'the price chart');
    const trades = await page.locator('[data-testid="trades-table"] tbody tr').count();
    assert.ok(trades > 0, 'no trades listed');
    const metrics = await page.locator('[data-testid="metrics"]').innerText();
    assert.match(metrics, /Net profit/);
    assert.equal(await page.locator('[data-testid="cancel-run"]').isVisible(), false, 'Cancel is offered on an ended run');
    await shot(page, 'backtest-report');
    await page.context().close();
  },

  async 'an optimization shows live progress (also in the runs list) and is cancelled from its page'(browser, name) {
    const page = await newPage(browser, name);
    await chooseRun(page, { kind: 'optimization' });
    await setRange(page, 'fast', 2, 1000, 1);
    await setRange(page, 'slow', 3, 2001, 1);
    const grid = page.locator('[data-testid="grid-size"]');
    await grid.filter({ hasText: 'above the limit of 1,000,000' }).waitFor();
    assert.equal(await page.locator('[data-testid="submit-run"]').isDisabled(), true, 'a grid above the limit can be submitted');
    await page.fill('input[name="slow.max"]', '1001');
    await grid.filter({ hasText: '999 × 999 = 998,001 combinations' }).waitFor();
    await page.fill('textarea[name="constraints"]', 'fast < slow');
    await shot(page, 'new-run-form');
    await page.click('[data-testid="submit-run"]');
    await page.waitForURL(/#\/optimizations\/[\w-]+$/);
    const runUrl = page.url();
    const progress = page.locator('[data-testid="progress-text"]');
    await progress.filter({ hasText: /^Processed [1-9][\d,]* \/ 998,001 Combinations$/ }).waitFor();
    const first = await progress.textContent();
    await page.waitForFunction((t) => document.querySelector('[data-testid="progress-text"]').textContent !== t, first);
    assert.match(await page.locator('[data-testid="progress-extra"]').textContent(), /Failed: 0/);
    assert.match(await page.locator('[data-testid="elapsed"]').textContent(), /\d/);
    await page.locator('[data-testid="update-mode"]', { hasText: 'connected' }).waitFor();

    await page.click('a[data-nav="runs"]');
    const row = page.locator('[data-testid="runs-table"] tbody tr', { has: page.locator('.badge-running') });
    await row.locator('[role="progressbar"]').waitFor();
    const before = await row.locator('.progress-text').textContent();
    await page.waitForFunction((t) => document.querySelector('[data-testid="runs-table"] tbody tr .progress-text')?.textContent !== t, before);

    await page.goto(runUrl);
    await page.click('[data-testid="cancel-run"]');
    const dialog = page.locator('[data-testid="confirm-dialog"]');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Keep running' }).click();
    await dialog.waitFor({ state: 'detached' });
    await shot(page, 'optimization-progress');
    await page.click('[data-testid="cancel-run"]');
    await dialog.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('[data-testid="progress-panel"] [data-testid="status-badge"]', { hasText: 'Cancelled' }).waitFor();
    await page.locator('.notice', { hasText: 'Cancelled' }).first().waitFor();
    assert.equal(await page.locator('[data-testid="cancel-run"]').isVisible(), false);
    await page.context().close();
  },

  async 'a search of a space above the grid limit runs within its budget and shows its generation'(browser, name) {
    const page = await newPage(browser, name);
    await chooseRun(page, { kind: 'optimization', timeframe: '1h' });
    await setRange(page, 'fast', 2, 1000, 1);
    await setRange(page, 'slow', 3, 2001, 1);
    const grid = page.locator('[data-testid="grid-size"]');
    await grid.filter({ hasText: 'above the limit of 1,000,000' }).waitFor();
    await page.selectOption('select[name="method"]', 'genetic');
    await page.fill('input[name="budget"]', '40');
    // a seed whose trials trade (on 1h bars most of this space never does)
    await page.fill('input[name="seed"]', '3');
    await grid.filter({ hasText: 'a genetic search evaluates 40 of them' }).waitFor();
    assert.equal(await page.locator('[data-testid="submit-run"]').isDisabled(), false, 'a search above the grid limit cannot be submitted');
    await page.click('[data-testid="submit-run"]');
    await page.waitForURL(/#\/optimizations\/[\w-]+$/);
    await page.locator('[data-testid="progress-text"]', { hasText: /^Processed 40 \/ 40 Trials$/ }).waitFor();
    assert.match(await page.locator('[data-testid="progress-extra"]').textContent(), /^Generation [1-9]\d* · Failed: 0/);
    // its report: the fitness of the 40 trials in evaluation order under the best so far
    await page.waitForSelector('[data-testid="optimization-report"]');
    const chart = page.locator('[data-testid="convergence-chart"]');
    await chart.waitFor();
    const note = await page.locator('[data-testid="convergence-note"]').textContent();
    assert.match(note, /^Best \w+ -?[\d.,]+, first reached by trial \d+ of 40\./, note);
    // a mark per trial with a fitness (no trades: no Sharpe ratio, no mark), the rest said
    const id = page.url().split('/').pop();
    const conv = await api('GET', `/api/optimizations/${id}/convergence?points=1500`);
    const withFitness = conv.points.filter((p) => p.low != null).length;
    const marks = await page.locator('[data-testid="convergence-trials"] circle, [data-testid="convergence-trials"] line').count();
    assert.ok(withFitness > 0 && marks === withFitness, `${marks} trial marks for ${withFitness} trials with a fitness`);
    if (withFitness < 40) assert.ok(note.includes(`${40 - withFitness} trials without a`), note);
    assert.match(await page.locator('[data-testid="convergence-best"]').getAttribute('d'), /^M[\d.]+ [\d.]+ H/);
    assert.match(await page.locator('[data-testid="convergence"] p').first().textContent(), /^Genetic search, \d+ generations: budget 40\./);
    // the running best never falls: its step line only rises on screen (y shrinks)
    const ys = (await page.locator('[data-testid="convergence-best"]').getAttribute('d')).match(/V[\d.]+/g)?.map((v) => Number(v.slice(1))) ?? [];
    assert.ok(ys.every((y, i) => i === 0 || y <= ys[i - 1]), `running best falls: ${ys}`);
    // the heatmap over the parameter values the search evaluated
    await expectDrawn(page, '[data-testid="heatmap"]', 'the heatmap of a search');
    const heatLabel = await page.locator('[data-testid="heatmap-canvas"]').getAttribute('aria-label');
    assert.match(heatLabel, /best at fast=\d+, slow=\d+/, heatLabel);
    assert.match(await page.locator('[data-testid="heatmap"] ~ p').textContent(), /the axes show only the values its 40 evaluated trials took/);
    await shot(page, 'optimization-search-report');
    await page.context().close();
  },

  async 'a completed optimization report: heatmap, sortable trials, backtest a row'(browser, name) {
    expectedRefusals.push({ scenario: name, pattern: /Failed to load resource: the server responded with a status of 422/ });
    const page = await newPage(browser, name);
    await chooseRun(page, { kind: 'optimization', timeframe: '1h' });
    await setRange(page, 'fast', 2, 20, 2);
    await page.selectOption('select[name="slow.mode"]', 'list');
    await page.fill('input[name="slow.list"]', '20, 30, 40');
    await page.fill('textarea[name="constraints"]', 'fast < slow');
    await page.locator('[data-testid="grid-size"]', { hasText: '10 × 3 = 30 combinations' }).waitFor();
    await page.click('[data-testid="submit-run"]');
    await page.waitForURL(/#\/optimizations\/[\w-]+$/);
    await page.waitForSelector('[data-testid="optimization-report"]');
    assert.equal(await page.locator('[data-testid="convergence"]').count(), 0, 'a grid has no evaluation order to plot');
    // is the winner real: the deflated Sharpe ratio over the 29 trials that ran
    await page.locator('[data-testid="robustness"] .metric', { hasText: 'Deflated Sharpe ratio' })
      .filter({ hasText: '(N = 29)' }).waitFor();
    await page.locator('[data-testid="robustness"] p', { hasText: 'after selection' }).waitFor();
    // PBO from the trials' block sums, with its splits
    await page.locator('[data-testid="robustness"] .metric', { hasText: 'Probability of backtest overfitting' })
      .filter({ hasText: '(12,870 splits)' }).waitFor();
    await page.locator('[data-testid="pbo-note"]', { hasText: 'CSCV over 29 trials' }).waitFor();
    await expectDrawn(page, '[data-testid="heatmap"]', 'the heatmap');
    // the heatmap outlines the winner (rank 1) and its neighbours
    const heatLabel = await page.locator('[data-testid="heatmap-canvas"]').getAttribute('aria-label');
    assert.match(heatLabel, /the winner \(fast=\d+, slow=\d+\) and its neighbours outlined/, heatLabel);
    const rows = page.locator('[data-testid="trials-table"] tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 25);
    // sort by net profit, best first, then worst first
    const profits = () => columnNumbers(page, 'trials-table', 'Net profit');
    await page.click('[data-sort-key="netProfit"]');
    await page.locator('th[aria-sort="descending"]', { hasText: 'Net profit' }).waitFor();
    let p = await profits();
    assert.deepEqual(p, [...p].sort((a, b) => b - a), `not sorted by net profit, descending: ${p}`);
    await page.click('[data-sort-key="netProfit"]');
    await page.locator('th[aria-sort="ascending"]', { hasText: 'Net profit' }).waitFor();
    p = await profits();
    assert.deepEqual(p, [...p].sort((a, b) => a - b), `not sorted by net profit, ascending: ${p}`);
    await page.click('[data-sort-key="rank"]');
    await page.locator('th[aria-sort="ascending"]', { hasText: 'Rank' }).waitFor();
    await page.click('.pager >> text=Next →');
    await page.locator('.pager-info', { hasText: '26–29 of 29' }).waitFor();
    await page.click('.pager >> text=← Previous');
    await page.locator('.pager-info', { hasText: '1–25 of 29' }).waitFor();
    await shot(page, 'optimization-report');
    // a server that refuses the order: the page is sorted in the browser, and says so
    await page.route(/\/trials\?.*sort=winRate/, (route) => route.fulfill({
      status: 422,
      contentType: 'application/problem+json',
      body: JSON.stringify({ type: 'about:blank', title: 'Invalid request', status: 422, detail: 'sort: unknown sort', field: 'sort' }),
    }));
    await page.click('[data-sort-key="winRate"]');
    await page.locator('.notice', { hasText: 'within this page only' }).waitFor();
    const wins = await columnNumbers(page, 'trials-table', 'Win %');
    assert.deepEqual(wins, [...wins].sort((a, b) => b - a), `not sorted by win rate within the page: ${wins}`);
    await page.click('[data-sort-key="rank"]');
    await page.locator('th[aria-sort="ascending"]', { hasText: 'Rank' }).waitFor();
    // "Backtest these parameters" on the best trial opens its backtest
    const best = await page.locator('[data-testid="trials-table"] tbody tr').first().locator('td').allTextContents();
    await page.locator('[data-testid="backtest-trial"]').first().click();
    await page.waitForURL(/#\/backtests\/[\w-]+$/);
    await page.waitForSelector('[data-testid="backtest-report"]');
    const params = await page.locator('.run-params').first().textContent();
    assert.ok(params.includes(`fast=${best[1]}`) && params.includes(`slow=${best[2]}`), `the backtest is not of the trial's parameters: ${params} vs ${best}`);
    await page.context().close();
  },

  async 'a walk-forward submitted from the form: folds progress, then criteria marks, folds and equity charts'(browser, name) {
    const page = await newPage(browser, name);
    await chooseRun(page, { kind: 'walkforward', dataset: 'spy-1d' });
    await setRange(page, 'fast', 5, 20, 5);
    await page.selectOption('select[name="slow.mode"]', 'list');
    await page.fill('input[name="slow.list"]', '20, 40, 60');
    await page.fill('textarea[name="constraints"]', 'fast < slow');
    await page.fill('input[name="folds"]', '6');
    await page.fill('input[name="oosFraction"]', '0.25');
    // the folds the windows make, before submitting, and the work they hold
    await page.locator('[data-testid="folds-plan"]', { hasText: /^6 folds: in-sample \d+ d, out-of-sample \d+ d$/ }).waitFor();
    await page.locator('[data-testid="grid-size"]', { hasText: '4 × 3 = 12 combinations per fold × 6 folds = 72' }).waitFor();
    // a criterion changed from its default reaches the report
    await page.fill('input[name="criteria.maxDrawdownPct"]', '30');
    await shot(page, 'walkforward-form');
    await page.click('[data-testid="submit-run"]');
    await page.waitForURL(/#\/walkforwards\/[\w-]+$/);
    const id = page.url().split('/').pop();
    await page.waitForSelector('[data-testid="walkforward-report"]');
    const texts = await page.evaluate(() => window.__progressTexts);
    assert.match(texts.at(-1), /^Processed 72 \/ 72 Combinations$/, JSON.stringify(texts));
    assert.match(await page.locator('[data-testid="progress-extra"]').textContent(), /^Folds: 6 \/ 6 done · Failed trials: 0$/);
    await page.waitForSelector('[data-testid="progress-panel"] .badge-completed');

    const run = await api('GET', `/api/walkforwards/${id}`);
    const r = run.result;
    // one row per fold, each with its windows and its winner's parameters
    const rows = page.locator('[data-testid="folds-table"] tbody tr');
    assert.equal(await rows.count(), r.folds.length);
    assert.equal(r.folds.length, 6);
    const fast = await columnNumbers(page, 'folds-table', 'fast');
    assert.deepEqual(fast, r.folds.map((f) => f.winner.params.fast));
    assert.match(await rows.first().textContent(), /IS\s*\d{4}-\d\d-\d\d → \d{4}-\d\d-\d\dOOS/);
    // a mark per criterion, as the report measured it; the verdict follows them
    const marks = page.locator('[data-testid="criterion-mark"]');
    assert.equal(await marks.count(), 4);
    assert.deepEqual(await marks.evaluateAll((els) => els.map((e) => e.dataset.passed === 'true')), r.checks.map((c) => c.passed));
    assert.deepEqual(await marks.allTextContents(), r.checks.map((c) => (c.passed ? '✓ Pass' : '✗ Fail')));
    await page.locator('[data-testid="criteria-table"] td', { hasText: 'drawdown ≤ 30 %' }).waitFor();
    assert.match(await page.locator('[data-testid="verdict"]').textContent(), r.passed ? /^✓PASS/ : /^✗FAIL/);
    const wfe = await page.locator('[data-testid="wfe"] .metric-value').textContent();
    assert.equal(wfe, r.wfePct == null ? '— (undefined)' : `${r.wfePct.toFixed(1)} %`);
    await expectDrawn(page, '[data-testid="oos-equity-chart"]', 'the stitched out-of-sample equity');
    await expectDrawn(page, '[data-testid="is-equity-chart"]', 'the in-sample equity of the winners');
    await page.locator('[data-testid="stability"] tbody tr', { hasText: 'fast' }).waitFor();
    await shot(page, 'walkforward-report');

    // listed among the runs, and found by its kind
    await page.goto(`${base}/#/runs?kind=walkforward`);
    const listed = page.locator(`[data-testid="runs-table"] tbody tr[data-run-id="${id}"]`);
    await listed.waitFor();
    assert.equal(await listed.locator('.kind').textContent(), 'Walk-forward');
    const kinds = await page.locator('[data-testid="runs-table"] .kind').allTextContents();
    assert.ok(kinds.every((k) => k === 'Walk-forward'), `kind filter shows ${kinds}`);
    // its result: the verdict and the stitched out-of-sample account, as the report has them
    const line = await listed.locator('[data-testid="walkforward-result"]').innerText();
    const listedWfe = r.wfePct == null ? '—' : pctText(r.wfePct);
    assert.equal(line.replace(/\s*\n\s*/g, ' | '),
      `${r.passed ? '✓ passed' : '✗ failed'} · ${r.stitched.profitableFolds}/${r.stitched.folds} folds profitable | OOS ${pctText(r.stitched.totalReturnPct)}, DD ${pctText(r.stitched.maxDrawdownPct)} · WFE ${listedWfe}`);
    await listed.locator('a.run-link').click();
    await page.waitForURL(new RegExp(`#/walkforwards/${id}$`));
    await page.waitForSelector('[data-testid="walkforward-report"]');
    // "Run again with changes" starts from its windows, criteria and grid
    await page.click('text=Run again with changes');
    await page.waitForSelector('form.run-form');
    assert.equal(await page.isChecked('#kind-walkforward'), true);
    assert.equal(await page.inputValue('input[name="folds"]'), '6');
    assert.equal(await page.inputValue('input[name="oosFraction"]'), '0.25');
    assert.equal(await page.inputValue('input[name="criteria.maxDrawdownPct"]'), '30');
    assert.equal(await page.inputValue('input[name="criteria.minWfePct"]'), '');
    await page.locator('[data-testid="grid-size"]', { hasText: '4 × 3 = 12 combinations per fold × 6 folds = 72' }).waitFor();
    await page.context().close();
  },

  async 'a walk-forward is watched fold by fold and cancelled from its page'(browser, name) {
    // a million trials per fold, three folds: minutes of work
    const sub = await api('POST', '/api/walkforwards', { ...BIG_GRID, folds: 3, oosFraction: 0.3 });
    assert.equal(sub.totalFolds, 3);
    try {
      const total = sub.totalCombinations.toLocaleString('en-US');
      const page = await newPage(browser, name);
      await page.goto(`${base}/#/walkforwards/${sub.id}`);
      const progress = page.locator('[data-testid="progress-text"]');
      await progress.filter({ hasText: new RegExp(`^Processed [1-9][\\d,]* / ${total} Combinations$`) }).waitFor();
      const folds = await page.locator('[data-testid="progress-extra"]').textContent();
      const m = /^Folds: (\d) \/ 3 done · working on fold (\d) · Failed trials: 0$/.exec(folds);
      assert.ok(m && Number(m[2]) === Number(m[1]) + 1, `folds line: ${folds}`);
      await page.locator('[data-testid="update-mode"]', { hasText: 'connected' }).waitFor();
      await shot(page, 'walkforward-progress');
      await page.click('[data-testid="cancel-run"]');
      const dialog = page.locator('[data-testid="confirm-dialog"]');
      await dialog.locator('h2', { hasText: 'Cancel this walk-forward?' }).waitFor();
      await dialog.getByRole('button', { name: 'Cancel run' }).click();
      await page.locator('[data-testid="progress-panel"] [data-testid="status-badge"]', { hasText: 'Cancelled' }).waitFor();
      await page.locator('.notice', { hasText: 'Cancelled' }).first().waitFor();
      assert.equal(await page.locator('[data-testid="cancel-run"]').isVisible(), false);
      assert.equal((await api('GET', `/api/walkforwards/${sub.id}/status`)).status, 'Cancelled');
      await page.context().close();
    } finally {
      // never leave it running: it would hold the optimization lane for the scenarios after it
      await api('POST', `/api/walkforwards/${sub.id}/cancel`).catch(() => {});
    }
  },

  async 'a failed run shows its error and, expanded, its stack trace'(browser, name) {
    const sub = await api('POST', '/api/backtests', { strategy: 'fault-injection', dataset: 'spy-1m', params: { fault: 'panic', fault_bar: 100 } });
    await waitForStatus('backtests', sub.id, ['Failed']);
    const page = await newPage(browser, name);
    await page.goto(`${base}/#/backtests/${sub.id}`);
    const panel = page.locator('[data-testid="error-panel"]');
    await panel.waitFor();
    assert.match(await panel.locator('.error-message').textContent(), /injected panic at bar 100/);
    const trace = panel.locator('[data-testid="stack-trace"] pre');
    assert.equal(await trace.isVisible(), false, 'the stack trace is shown before it is asked for');
    await panel.locator('[data-testid="stack-trace"] summary').click();
    await trace.waitFor({ state: 'visible' });
    assert.match(await trace.textContent(), /fault_injection/);
    await shot(page, 'failed-backtest');

    // an optimization's failed trials are marked, each with its error and trace
    const opt = await api('POST', '/api/optimizations', {
      strategy: 'fault-injection', dataset: 'spy-1m', timeframe: '1h',
      params: { fault_bar: 100 }, axes: { fault: ['none', 'panic'], period: [10, 20] },
    });
    await waitForStatus('optimizations', opt.id, ['Completed']);
    await page.goto(`${base}/#/optimizations/${opt.id}`);
    await page.waitForSelector('[data-testid="trials-table"]');
    const failed = page.locator('[data-testid="trials-table"] tbody tr', { has: page.locator('.badge-failed') });
    assert.equal(await failed.count(), 2);
    const error = page.locator('[data-testid="trial-error"]').first();
    assert.match(await error.locator('summary').textContent(), /injected panic/);
    assert.equal(await error.locator('pre').isVisible(), false);
    await error.locator('summary').click();
    await error.locator('pre').waitFor({ state: 'visible' });
    assert.match(await error.locator('pre').textContent(), /fault_injection/);
    await page.context().close();
  },

  async 'an API validation error lands next to its field'(browser, name) {
    expectedRefusals.push({ scenario: name, pattern: /Failed to load resource: the server responded with a status of 422/ });
    const page = await newPage(browser, name);
    await chooseRun(page, { kind: 'backtest' });
    await page.fill('input[name="commissionPct"]', '50');
    await page.click('[data-testid="submit-run"]');
    const field = page.locator('[data-field="commissionPct"]');
    const error = field.locator('.field-error');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /commissionPct/);
    assert.equal(await field.locator('input').getAttribute('aria-invalid'), 'true');
    assert.ok(page.url().endsWith('#/new'), 'the form was left');
    // an axis refused by the API: next to that parameter's row
    await page.check('#kind-optimization');
    await page.fill('input[name="commissionPct"]', '0.1');
    await setRange(page, 'fast', 0, 10, 1);
    await page.click('[data-testid="submit-run"]');
    const axis = page.locator('[data-param="fast"] > .field-error');
    await axis.waitFor({ state: 'visible' });
    assert.match(await axis.textContent(), /axes\.fast/);
    assert.equal(await field.locator('.field-error').isVisible(), false, 'an old error stays shown');
    await shot(page, 'validation-error');
    // a walk-forward's windows refused by the API: next to the window field
    await page.check('#kind-walkforward');
    await setRange(page, 'fast', 5, 10, 5);
    await page.selectOption('select[name="dataset"]', 'spy-1m');
    await page.check('input[name="wf-by"][value="durations"]');
    await page.fill('input[name="inSample"]', '300d');
    await page.fill('input[name="outOfSample"]', '30d');
    await page.click('[data-testid="submit-run"]');
    const windows = page.locator('[data-field="inSample"] > .field-error');
    await windows.waitFor({ state: 'visible' });
    assert.match(await windows.textContent(), /do not fit the period/);
    assert.equal(await page.locator('[data-param="fast"] > .field-error').isVisible(), false, 'an old error stays shown');
    await page.context().close();
  },

  async 'progress falls back to polling when the event stream fails, and says so'(browser, name) {
    expectedRefusals.push({ scenario: name, pattern: /net::ERR_FAILED/ });
    const page = await newPage(browser, name);
    await page.route('**/events*', (route) => route.abort());
    const sub = await api('POST', '/api/optimizations', { ...BIG_GRID, maximize: 'sortino' });
    await page.goto(`${base}/#/optimizations/${sub.id}`);
    await page.locator('[data-testid="update-mode"]', { hasText: /unavailable.*checking every 30 s instead/ }).waitFor();
    await page.locator('[data-testid="progress-text"]', { hasText: /^Processed [\d,]+ \/ 998,001 Combinations$/ }).waitFor();
    await api('POST', `/api/optimizations/${sub.id}/cancel`);
    await waitForStatus('optimizations', sub.id, ['Cancelled']);
    await page.context().close();
  },

  async 'the runs list: newest first, status badges, filter, paging'(browser, name) {
    const page = await newPage(browser, name);
    await page.goto(`${base}/#/runs`);
    const rows = page.locator('[data-testid="runs-table"] tbody tr');
    await rows.first().waitFor();
    for (const status of ['completed', 'failed', 'cancelled']) {
      assert.ok(await page.locator(`[data-testid="runs-table"] .badge-${status}`).count() > 0, `no ${status} run listed`);
    }
    const submitted = await page.locator('[data-testid="runs-table"] time').evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute('datetime'))));
    assert.deepEqual(submitted, [...submitted].sort((a, b) => b - a), 'not newest first');
    await shot(page, 'runs-list');
    await page.selectOption('#runs-status', 'Failed');
    await page.waitForURL(/status=Failed/);
    await page.locator('[data-testid="runs-table"] tbody tr').first().waitFor();
    const badges = await page.locator('[data-testid="runs-table"] [data-testid="status-badge"]').allTextContents();
    assert.ok(badges.length > 0 && badges.every((b) => b === 'Failed'), `filter by Failed shows ${badges}`);
    await page.selectOption('#runs-kind', 'optimization');
    await page.waitForURL(/kind=optimization/);
    await page.locator('[data-testid="runs-table"] tbody tr').first().waitFor();
    const kinds = await page.locator('[data-testid="runs-table"] .kind').allTextContents();
    assert.ok(kinds.every((k) => k === 'Optimization'), `kind filter shows ${kinds}`);
    // paging: more runs than a page
    await Promise.all(Array.from({ length: 26 }, (_, i) => api('POST', '/api/backtests', {
      strategy: 'sma-cross', dataset: 'spy-1d', params: { fast: 2 + i, slow: 60 },
    })));
    await page.goto(`${base}/#/runs?kind=backtest`);
    await page.locator('.pager-info', { hasText: /^1–25 of \d+/ }).waitFor();
    await page.click('.pager >> text=Next →');
    await page.waitForURL(/offset=25/);
    await page.locator('.pager-info', { hasText: /^26–/ }).waitFor();
    await page.context().close();
  },

  async 'datasets: list, an upload refused with the import\'s reason, a good upload'(browser, name) {
    expectedRefusals.push({ scenario: name, pattern: /Failed to load resource: the server responded with a status of 422/ });
    const page = await newPage(browser, name);
    await page.goto(`${base}/#/datasets`);
    await page.locator('[data-testid="datasets-table"] tbody tr', { hasText: 'spy-1m' }).waitFor();
    await page.setInputFiles('input[name="file"]', { name: 'broken.csv', mimeType: 'text/csv', buffer: Buffer.from('this is not,a price file\n1,2\n') });
    await page.click('text=Upload and import');
    const refusal = page.locator('form.upload .field-error:visible, form.upload .notice-error');
    await refusal.first().waitFor();
    assert.ok((await refusal.first().textContent()).length > 10);
    // a good file: its import report, and it is listed
    const csv = 'time,open,high,low,close,volume\n2024-01-02 09:30:00,100.5,101,100,100.75,1000\n'
      + '2024-01-02 09:31:00,100.75,101.25,100.5,101,1200\n2024-01-02 09:32:00,101,101.5,100.75,101.25,900\n';
    await page.setInputFiles('input[name="file"]', { name: 'tiny.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.fill('input[name="name"]', 'tiny-1m');
    await page.fill('input[name="symbol"]', 'TINY');
    await page.click('text=Upload and import');
    await page.locator('[data-testid="upload-report"]', { hasText: 'Imported tiny-1m: 3 bars of TINY at 1m' }).waitFor();
    await page.locator('[data-testid="datasets-table"] tbody tr', { hasText: 'tiny-1m' }).waitFor();
    await page.context().close();
  },

  async 'a phone-width screen: no sideways scrolling, everything reachable'(browser, name) {
    const page = await newPage(browser, name, PHONE);
    const runs = await api('GET', '/api/backtests?status=Completed&limit=1');
    const opts = await api('GET', '/api/optimizations?status=Completed&limit=1');
    const wfs = await api('GET', '/api/walkforwards?status=Completed&limit=1');
    for (const hash of ['#/runs', '#/new', '#/datasets', `#/backtests/${runs.items[0].id}`, `#/optimizations/${opts.items[0].id}`, `#/walkforwards/${wfs.items[0].id}`]) {
      await page.goto(`${base}/${hash}`);
      await page.waitForSelector('.view > *');
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(300);
      await noHorizontalScroll(page, hash);
    }
    await page.goto(`${base}/#/new`);
    await page.check('#kind-optimization');
    await noHorizontalScroll(page, '#/new (optimization)');
    await shot(page, 'new-run-phone');
    await page.check('#kind-walkforward');
    await noHorizontalScroll(page, '#/new (walk-forward)');
    await page.context().close();
  },

  async 'keyboard: skip link, navigation and form reachable with Tab, focus visible'(browser, name) {
    const page = await newPage(browser, name);
    await page.goto(`${base}/#/runs`);
    await page.waitForSelector('[data-testid="runs-table"]');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none', 'no visible focus');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'New run');
    await page.keyboard.press('Enter');
    await page.waitForSelector('form.run-form');
    // every control of the form has a label
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('form.run-form input, form.run-form select, form.run-form textarea')]
      .filter((el) => !el.labels?.length && !el.getAttribute('aria-label')).map((el) => el.name));
    assert.deepEqual(unlabelled, []);
    for (let i = 0; i < 60; i += 1) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => document.activeElement?.dataset?.testid === 'submit-run')) return page.context().close();
    }
    throw new Error('the submit button is not reachable with Tab');
  },
};

if (guarded) {
  scenarios['a server that requires a token: asked for once, kept, sent to the event stream'] = async (browser, name) => {
    expectedRefusals.push({ scenario: name, pattern: /status of 401/ });
    const server = { url: guarded, token };
    const page = await newPage(browser, name);
    await page.goto(`${guarded}/#/runs`);
    const prompt = page.locator('[data-testid="prompt-dialog"]');
    await prompt.waitFor();
    await page.waitForTimeout(300);
    assert.equal(await prompt.count(), 1, 'asked more than once');
    await prompt.getByLabel('API token').fill(token);
    await prompt.getByRole('button', { name: 'Use token' }).click();
    await page.locator('[data-testid="runs-table"]').waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('atf.apiToken')), token);
    // a running optimization's page: the event stream carries the token
    const sub = await api('POST', '/api/optimizations', BIG_GRID, server);
    const stream = page.waitForRequest((r) => r.url().includes(`/events?access_token=${token}`));
    await page.goto(`${guarded}/#/optimizations/${sub.id}`);
    await stream;
    await page.locator('[data-testid="update-mode"]', { hasText: 'connected' }).waitFor();
    await page.locator('[data-testid="progress-text"]', { hasText: /^Processed [1-9][\d,]* \/ 998,001 Combinations$/ }).waitFor();
    // kept: a reload asks nothing
    await page.reload();
    await page.locator('[data-testid="progress-panel"]').waitFor();
    assert.equal(await prompt.count(), 0, 'asked again after a reload');
    await page.click('[data-testid="cancel-run"]');
    await page.locator('[data-testid="confirm-dialog"]').getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('[data-testid="progress-panel"] [data-testid="status-badge"]', { hasText: 'Cancelled' }).waitFor();
    await page.context().close();
  };
}

// ------------------------------------------------------------------- main

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS }).catch((e) => {
  console.error(`cannot start chromium at ${CHROMIUM}: ${e.message}`);
  process.exit(1);
});
const failures = [];
for (const [name, run] of Object.entries(scenarios)) {
  const started = Date.now();
  try {
    await run(browser, name);
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}\n     ${String(e.stack ?? e).split('\n').slice(0, 6).join('\n     ')}`);
    for (const ctx of browser.contexts()) {
      for (const page of ctx.pages()) await shot(page, `failure-${failures.length}`).catch(() => {});
      await ctx.close().catch(() => {});
    }
  }
}
await browser.close();
if (problems.length) {
  failures.push('no console errors');
  console.log(`FAIL no console errors\n     ${problems.join('\n     ')}`);
} else {
  console.log('ok   no console errors on any page');
}
if (!guarded) console.log('not run: the token scenario (no TOKEN_URL TOKEN given)');
console.log(`\n${Object.keys(scenarios).length + 1 - failures.length} passed, ${failures.length} failed; screenshots in ${shotDir}`);
process.exit(failures.length ? 1 : 0);
