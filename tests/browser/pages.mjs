// Opens kicd's wallboard and report in Debian's chromium (never a
// downloaded browser), reads back every number they show (its text and
// the raw data-value beside it), checks the charts were drawn, downloads
// the CSV, saves screenshots, and prints what it read as one JSON object.
// The numbers are judged by tests/integration/test_browser.c, which knows
// what kicd should say; this script fails only when a page does not work
// (an uncaught error, a timeout, a missing chart, a token in a URL).
//
//   node pages.mjs --base http://127.0.0.1:PORT --token T --out DIR
//                  [--agent-token T] [--report QUERY]... [--chromium PATH] [--tz ZONE]
//
// QUERY is the report page's own query string, e.g.
// "from=2026-11-16&to=2026-11-22&interval=1d&group_by=queue".
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {chromium} from 'playwright-core';

const TIMEOUT_MS = 20000;

const {values: opt} = parseArgs({
  options: {
    base: {type: 'string'},
    token: {type: 'string'},
    'agent-token': {type: 'string'},
    out: {type: 'string'},
    report: {type: 'string', multiple: true, default: []},
    chromium: {type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium'},
    tz: {type: 'string', default: process.env.TZ || 'Europe/Amsterdam'},
  },
});
for (const required of ['base', 'token', 'out']) {
  if (!opt[required]) fail(`--${required} is required`);
}

function fail(message) {
  console.error(`pages.mjs: ${message}`);
  process.exit(1);
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

/* ---- the browser ---- */

/* The flags that keep Debian's chromium quiet on a machine without
 * internet access (no background or component traffic), headless and,
 * as root, without the sandbox. launch() gives it a fresh profile. */
async function launch() {
  check(fs.existsSync(opt.chromium), `${opt.chromium} not found: run scripts/bootstrap`);
  return chromium.launch({
    executablePath: opt.chromium,
    headless: true,
    chromiumSandbox: false,
    args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/* A page that records what would make the run invalid: uncaught errors
 * and any request whose address carries the token. */
async function open(context, problems) {
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('pageerror', err => problems.push(`page error: ${err.message}`));
  page.on('request', req => {
    for (const token of [opt.token, opt['agent-token']]) {
      if (token && req.url().includes(token)) problems.push(`token sent in a URL: ${req.url()}`);
    }
  });
  return page;
}

async function screenshot(page, name, shots) {
  const file = path.join(opt.out, name);
  await page.screenshot({path: file, fullPage: true});
  shots.push(file);
}

/* ---- reading the pages ---- */

/* Every element with data-metric, as {metric, value, text, ...its other
 * data- attributes}; value is the JSON that data-value holds. */
function readMetrics(page, root) {
  return page.$$eval(`${root} [data-metric]`, els => els.map(el => {
    const {metric, value, ...rest} = el.dataset;
    return {metric, value: JSON.parse(value), text: el.textContent, ...rest};
  }));
}

async function waitForUpdate(page) {
  await page.waitForFunction(() => Number(document.body.dataset.updates || 0) >= 1);
  await page.waitForSelector('body[data-connection="live"]');
}

async function wallboard(context, lang, problems, shots) {
  const page = await open(context, problems);
  const suffix = lang === 'en' ? '?lang=en' : '';
  await page.goto(`${opt.base}/wallboard${suffix}#token=${opt.token}`);
  await waitForUpdate(page);
  const result = {
    lang: await page.evaluate(() => document.documentElement.lang),
    address_has_token: page.url().includes(opt.token),
    updated: await page.textContent('#updated'),
    connection: await page.getAttribute('#connection', 'data-connection'),
    metrics: await readMetrics(page, '#board'),
  };
  await screenshot(page, `wallboard-${lang}.png`, shots);
  await page.close();
  return result;
}

/* A refused token shows the form with the reason; a good one typed into
 * it brings the board up. */
async function wallboardSignIn(context, badToken, problems, shots) {
  const page = await open(context, problems);
  await page.goto(`${opt.base}/wallboard#token=${badToken}`);
  await page.waitForSelector('#token-form:not([hidden])');
  const message = await page.textContent('[data-auth-message]');
  await screenshot(page, `wallboard-refused-${badToken === opt['agent-token'] ? 403 : 401}.png`, shots);
  await page.fill('#token-form input', opt.token);
  await page.click('#token-form button');
  await waitForUpdate(page);
  await page.close();
  return {message};
}

/* The stream ends after one snapshot (the first stream is answered by
 * this script with what GET /api/v1/live says, then closed): the board
 * keeps the numbers but shows it is disconnected, then reconnects by
 * itself to the real stream. */
async function wallboardReconnect(context, problems, shots) {
  const live = await fetch(`${opt.base}/api/v1/live`, {headers: {Authorization: `Bearer ${opt.token}`}});
  check(live.ok, `GET /api/v1/live: HTTP ${live.status}`);
  const snapshot = JSON.stringify(await live.json());
  const page = await open(context, problems);
  await page.route('**/api/v1/live/stream*', route => route.fulfill({
    status: 200, contentType: 'text/event-stream', body: `event: stats\ndata: ${snapshot}\n\n`,
  }), {times: 1});
  await page.goto(`${opt.base}/wallboard#token=${opt.token}`);
  await page.waitForSelector('body[data-connection="disconnected"]');
  const text = await page.textContent('#connection');
  const shown = await readMetrics(page, '#board');
  await screenshot(page, 'wallboard-disconnected.png', shots);
  await page.waitForFunction(() => Number(document.body.dataset.updates) >= 2);
  await page.waitForSelector('body[data-connection="live"]');
  await page.close();
  return {disconnected_text: text, metrics_while_disconnected: shown.length, reconnected: true};
}

/* What each chart drew: per series, the values of its bars or points by
 * interval; the number of intervals (x-axis bands) it spans. */
function readCharts(page) {
  return page.$$eval('[data-chart]', figs => Object.fromEntries(figs.map(fig => {
    if (fig.dataset.unavailable) return [fig.dataset.chart, {unavailable: true}];
    const svg = fig.querySelector('svg');
    const series = {};
    for (const el of fig.querySelectorAll('[data-series][data-bucket]')) {
      (series[el.dataset.series] ??= {})[el.dataset.bucket] = Number(el.dataset.value);
    }
    const target = fig.querySelector('.target');
    return [fig.dataset.chart, {
      svg: Boolean(svg),
      elements: svg ? svg.querySelectorAll('rect.bar, circle.point, polyline.line').length : 0,
      series,
      target: target ? Number(target.dataset.value) : null,
    }];
  })));
}

async function downloadCsv(page, n) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const file = path.join(opt.out, `report-${n}.csv`);
  await download.saveAs(file);
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter(l => l !== '');
  return {file, filename: download.suggestedFilename(), header: lines[0].split(','), rows: lines.length - 1};
}

async function report(context, query, n, problems, shots) {
  const page = await open(context, problems);
  await page.goto(`${opt.base}/report?${query}#token=${opt.token}`);
  await page.waitForSelector('body[data-report="ready"], body[data-report="error"]');
  const state = await page.evaluate(() => document.body.dataset.report);
  check(state === 'ready', `report ${query}: ${await page.textContent('#report-status')}`);
  const cells = await readMetrics(page, '#report-table');
  const rows = [];
  for (const {row, metric, value, text} of cells) (rows[Number(row)] ??= {})[metric] = {value, text};
  const result = {
    query,
    columns: await page.$$eval('#report-table thead th', ths => ths.map(th => th.dataset.column)),
    rows,
    charts: await readCharts(page),
    csv: await downloadCsv(page, n),
  };
  for (const [name, chart] of Object.entries(result.charts)) {
    check(chart.unavailable || (chart.svg && chart.elements > 0), `report ${query}: chart ${name} drew nothing`);
  }
  await screenshot(page, `report-${n}.png`, shots);
  await page.close();
  return result;
}

/* ---- the run ---- */

/* Whatever pages are still open when something failed, as they were. */
async function failureShots(browser) {
  const pages = browser.contexts().flatMap(c => c.pages());
  for (const [i, page] of pages.entries()) {
    await page.screenshot({path: path.join(opt.out, `failure-${i + 1}.png`), fullPage: true}).catch(() => {});
  }
}

async function run() {
  fs.mkdirSync(opt.out, {recursive: true});
  const browser = await launch();
  const problems = [], shots = [];
  /* the language's own locale, as a Dutch or English browser would be */
  const context = locale => browser.newContext({
    locale, timezoneId: opt.tz, viewport: {width: 1600, height: 1000}, acceptDownloads: true,
  });
  try {
    const nl = await context('nl-NL'), en = await context('en-GB');
    const out = {
      wallboard: await wallboard(nl, 'nl', problems, shots),
      wallboard_en: await wallboard(en, 'en', problems, shots),
      refused_401: await wallboardSignIn(nl, 'kic_not_a_token', problems, shots),
      refused_403: opt['agent-token'] ? await wallboardSignIn(nl, opt['agent-token'], problems, shots) : null,
      reconnect: await wallboardReconnect(nl, problems, shots),
      reports: [],
    };
    for (const [i, query] of opt.report.entries()) out.reports.push(await report(nl, query, i + 1, problems, shots));
    out.screenshots = shots;
    check(problems.length === 0, problems.join('\n'));
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } catch (err) {
    await failureShots(browser);
    throw err;
  } finally {
    await browser.close();
  }
}

run().catch(err => fail(err.stack || String(err)));

process.on('unhandledRejection', err => fail(String(err)));
