// The management report: a period (whole days in the browser's time
// zone, sent as tz), an interval and at most one grouping, fetched from
// GET /api/v1/report; a table of the main metrics, a CSV download of the
// same query, and charts per interval in which intervals the server has
// no row for count as zero.
import {t, translatePage, format, formatDate, formatTime, lang} from '/static/i18n.js';
import {apiFetch, withToken} from '/static/auth.js';
import {barChart, lineChart, unavailable} from '/static/charts.js';

const INTERVALS = ['15m', '30m', '1h', '1d', '1w', '1mo', 'all'];
const DIMS = ['queue', 'location', 'agent', 'category', 'caller_type', 'channel', 'direction', 'team'];

/* The table's metric columns, shown when the answer has them. */
const TABLE = [
  ['offered', 'count'], ['answered', 'count'], ['abandoned', 'count'],
  ['service_level', 'rate'], ['abandon_rate', 'rate'], ['asa_s', 'duration'],
  ['talk_avg_s', 'duration'], ['acw_avg_s', 'duration'], ['aht_s', 'duration'],
  ['handled_independently_rate', 'rate'], ['transfer_rate', 'rate'], ['repeat_rate', 'rate'],
  ['fcr_rate', 'rate'], ['fcr_provisional_rate', 'rate'],
  ['callbacks_requested', 'count'], ['callbacks_completed', 'count'],
  ['callbacks_open', 'count'], ['callbacks_overdue', 'count'],
  ['agents_needed', 'count'], ['agents_present', 'decimal'], ['occupancy', 'rate'],
];

/* Summed over the groups of one interval for the charts; rates are
 * derived again from these sums, as the server derives them. */
const SUMMED = ['offered', 'answered', 'short_abandoned', 'answered_in_sl', 'transferred',
  'acw_s', 'acw_n', 'callbacks_open', 'callbacks_completed', 'callbacks_cancelled',
  'agents_needed', 'agents_present'];

/* Beyond this many intervals a chart is unreadable and slow to draw. */
const MAX_BUCKETS = 1500;
const MS = {'15m': 15 * 60000, '30m': 30 * 60000, '1h': 3600000};

const COLORS = {offered: '#8aa4c8', answered: '#0b4f9c', sl: '#0b4f9c', target: '#d62d2d',
  acw: '#7b3fb5', handled: '#1f9d55', transferred: '#e08a00', open: '#d62d2d', closed: '#1f9d55',
  needed: '#e08a00', present: '#0b4f9c'};

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/* ---- dates ---- */

function pad(n) {
  return String(n).padStart(2, '0');
}

function isoDate(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/* Local midnight of a YYYY-MM-DD, days later. */
function midnight(ymd, days = 0) {
  const [y, m, d] = ymd.split('-').map(Number);
  return new Date(y, m - 1, d + days);
}

/* RFC 3339 with the browser's offset at that moment. */
function rfc3339(d) {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${isoDate(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

function truncate(d, interval) {
  const r = new Date(d);
  if (interval in MS) {
    const minutes = interval === '1h' ? 60 : MS[interval] / 60000;
    r.setMinutes(Math.floor(r.getMinutes() / minutes) * minutes, 0, 0);
    return r;
  }
  r.setHours(0, 0, 0, 0);
  if (interval === '1w') r.setDate(r.getDate() - ((r.getDay() + 6) % 7)); /* weeks start on Monday */
  if (interval === '1mo') r.setDate(1);
  return r;
}

function next(d, interval) {
  if (interval in MS) return new Date(d.getTime() + MS[interval]);
  if (interval === '1d') return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1);
  if (interval === '1w') return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 7);
  return new Date(d.getFullYear(), d.getMonth() + 1, 1);
}

/* The interval starts of [from, to), at most limit + 1 of them. */
function bucketStarts(from, to, interval, limit) {
  const out = [];
  for (let d = truncate(from, interval); d < to && out.length <= limit; d = next(d, interval)) out.push(d);
  return out;
}

function bucketLabel(d, interval, manyDays) {
  if (interval in MS) {
    const time = formatTime(d, false);
    return manyDays ? `${formatDate(d, {day: 'numeric', month: 'numeric'})} ${time}` : time;
  }
  if (interval === '1mo') return formatDate(d, {month: 'short', year: 'numeric'});
  if (interval === '1w') return formatDate(d, {day: 'numeric', month: 'numeric'});
  return formatDate(d, {weekday: 'short', day: 'numeric', month: 'numeric'});
}

function intervalText(iso, interval) {
  const d = new Date(iso);
  if (interval in MS) return `${formatDate(d, {weekday: 'short', day: 'numeric', month: 'numeric', year: 'numeric'})} ${formatTime(d, false)}`;
  if (interval === '1mo') return formatDate(d, {month: 'long', year: 'numeric'});
  return formatDate(d, {weekday: 'short', day: 'numeric', month: 'numeric', year: 'numeric'});
}

/* ---- the period form and the query ---- */

function defaults() {
  const p = new URLSearchParams(location.search);
  const today = isoDate(new Date());
  const weekAgo = isoDate(midnight(today, -6));
  return {
    from: p.get('from') || weekAgo,
    to: p.get('to') || today,
    interval: INTERVALS.includes(p.get('interval')) ? p.get('interval') : '1d',
    group_by: DIMS.includes(p.get('group_by')) ? p.get('group_by') : '',
  };
}

function fillForm(form, q) {
  const interval = form.elements.interval, group = form.elements.group_by;
  interval.replaceChildren(...INTERVALS.map(i => new Option(t(`interval.${i}`), i)));
  group.replaceChildren(new Option(t('group_none'), ''), ...DIMS.map(d => new Option(t(`dim.${d}`), d)));
  form.elements.from.value = q.from;
  form.elements.to.value = q.to;
  interval.value = q.interval;
  group.value = q.group_by;
}

function readForm(form) {
  const f = form.elements;
  return {from: f.from.value, to: f.to.value, interval: f.interval.value, group_by: f.group_by.value};
}

/* The page's own address keeps the choice (bookmarkable, reloadable). */
function pageQuery(q) {
  const p = new URLSearchParams({from: q.from, to: q.to, interval: q.interval});
  if (q.group_by) p.set('group_by', q.group_by);
  if (lang !== 'nl') p.set('lang', lang);
  return p;
}

function apiQuery(q, fmt) {
  const p = new URLSearchParams({
    from: rfc3339(midnight(q.from)),
    to: rfc3339(midnight(q.to, 1)),
    interval: q.interval,
    tz: zone,
  });
  if (q.group_by) p.set('group_by', q.group_by);
  if (fmt) p.set('format', fmt);
  return p;
}

/* ---- the table ---- */

function cell(tag, text, attrs = {}) {
  const c = document.createElement(tag);
  c.textContent = text;
  for (const [k, v] of Object.entries(attrs)) c.dataset[k] = v;
  return c;
}

function capital(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function renderTable(report, q) {
  const cols = report.columns;
  const idx = Object.fromEntries(cols.map((c, i) => [c, i]));
  const dims = cols.filter(c => DIMS.includes(c));
  const metrics = TABLE.filter(([name]) => name in idx);
  const table = document.getElementById('report-table');
  const head = document.createElement('tr');
  head.append(...dims.map(d => cell('th', capital(t(`dim.${d}`)), {column: d})));
  if ('interval_start' in idx) head.append(cell('th', t('interval_start'), {column: 'interval_start'}));
  head.append(...metrics.map(([name]) => cell('th', t(name), {column: name})));
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(...report.rows.map((row, r) => {
    const tr = document.createElement('tr');
    for (const d of dims) {
      const v = row[idx[d]];
      tr.append(cell('th', v ?? '—', {row: r, metric: d, value: JSON.stringify(v)}));
    }
    if ('interval_start' in idx) {
      const v = row[idx.interval_start];
      tr.append(cell('td', intervalText(v, q.interval), {row: r, metric: 'interval_start', value: JSON.stringify(v)}));
    }
    for (const [name, kind] of metrics) {
      const v = row[idx[name]];
      const td = cell('td', format[kind](v), {row: r, metric: name, value: JSON.stringify(v)});
      if (name === 'service_level' && v !== null && v < report.targets?.service_level) td.classList.add('below');
      tr.append(td);
    }
    return tr;
  }));
}

/* ---- the charts ---- */

/* The rows summed per interval; every interval of the period is there,
 * with zeros where the server had no row. */
function perInterval(report, q) {
  const idx = Object.fromEntries(report.columns.map((c, i) => [c, i]));
  const keyOf = iso => (iso === undefined ? 'all' : Date.parse(iso));
  const sums = new Map();
  const labelOf = new Map();
  const from = midnight(q.from), to = midnight(q.to, 1);
  if (q.interval === 'all') {
    sums.set('all', {});
    labelOf.set('all', t('whole_period'));
  } else {
    const manyDays = to - from > 86400000 * 1.5;
    for (const d of bucketStarts(from, to, q.interval, MAX_BUCKETS)) {
      sums.set(d.getTime(), {});
      labelOf.set(d.getTime(), bucketLabel(d, q.interval, manyDays));
    }
  }
  for (const row of report.rows) {
    const key = keyOf('interval_start' in idx ? row[idx.interval_start] : undefined);
    if (!sums.has(key)) {
      sums.set(key, {});
      labelOf.set(key, bucketLabel(new Date(key), q.interval, true));
    }
    const s = sums.get(key);
    for (const name of SUMMED) if (name in idx) s[name] = (s[name] ?? 0) + (row[idx[name]] ?? 0);
  }
  const keys = [...sums.keys()].sort((a, b) => (a === 'all' ? 0 : a - b));
  return {keys, labels: keys.map(k => labelOf.get(k)), sums: keys.map(k => sums.get(k)), has: idx};
}

const ratio = (a, b) => (b > 0 ? a / b : null);

function renderCharts(report, q) {
  const box = document.getElementById('charts');
  const data = perInterval(report, q);
  if (data.keys.length > MAX_BUCKETS) {
    box.replaceChildren(cell('p', t('too_many_intervals'), {chartsUnavailable: 'true'}));
    return;
  }
  const {labels, sums, has} = data;
  const col = name => sums.map(s => s[name] ?? 0);
  const target = report.targets?.service_level ?? null;
  const charts = [
    barChart({key: 'volume', title: t('chart_volume'), labels, whole: true, yFormat: format.count, series: [
      {key: 'offered', name: t('offered'), color: COLORS.offered, values: col('offered')},
      {key: 'answered', name: t('answered'), color: COLORS.answered, values: col('answered')},
    ]}),
    lineChart({key: 'service_level', title: t('chart_service_level'), labels, yFormat: format.rate, yMax: 1,
      series: [{key: 'service_level', name: t('service_level'), color: COLORS.sl,
        values: sums.map(s => ratio(s.answered_in_sl ?? 0, (s.offered ?? 0) - (s.short_abandoned ?? 0)))}],
      target: {name: t('series_target'), value: target, color: COLORS.target}}),
    lineChart({key: 'acw', title: t('chart_acw'), labels, yFormat: format.duration, series: [
      {key: 'acw_avg_s', name: t('acw_avg_s'), color: COLORS.acw, values: sums.map(s => ratio(s.acw_s ?? 0, s.acw_n ?? 0))},
    ]}),
    barChart({key: 'handled', title: t('chart_handled'), labels, stacked: true, whole: true, yFormat: format.count, series: [
      {key: 'handled', name: t('series_handled'), color: COLORS.handled, values: sums.map(s => (s.answered ?? 0) - (s.transferred ?? 0))},
      {key: 'transferred', name: t('series_transferred'), color: COLORS.transferred, values: col('transferred')},
    ]}),
    'callbacks_open' in has
      ? barChart({key: 'callbacks', title: t('chart_callbacks'), labels, stacked: true, whole: true, yFormat: format.count, series: [
        {key: 'open', name: t('series_open'), color: COLORS.open, values: col('callbacks_open')},
        {key: 'closed', name: t('series_closed'), color: COLORS.closed,
          values: sums.map(s => (s.callbacks_completed ?? 0) + (s.callbacks_cancelled ?? 0))},
      ]})
      : unavailable('callbacks', t('chart_callbacks'), t('chart_not_for_grouping')),
    'agents_present' in has
      ? lineChart({key: 'agents', title: t('chart_agents'), labels, yFormat: format.decimal, series: [
        {key: 'agents_needed', name: t('agents_needed'), color: COLORS.needed, values: col('agents_needed')},
        {key: 'agents_present', name: t('agents_present'), color: COLORS.present, values: col('agents_present')},
      ]})
      : unavailable('agents', t('chart_agents'), t('chart_not_for_grouping')),
  ];
  box.replaceChildren(...charts);
}

/* ---- loading ---- */

function status(text, state) {
  const el = document.getElementById('report-status');
  el.textContent = text;
  document.body.dataset.report = state;
}

async function load(q) {
  status(t('loading'), 'loading');
  try {
    const resp = await apiFetch(`/api/v1/report?${apiQuery(q)}`);
    const report = await resp.json();
    renderTable(report, q);
    renderCharts(report, q);
    status(report.rows.length === 0 ? t('no_rows') : '', 'ready');
  } catch (err) {
    status(err.message, 'error');
    throw err;
  }
}

/* The CSV of the chosen query, fetched with the token (a plain link
 * cannot send it) and handed to the browser as a download. */
async function downloadCsv(q) {
  const resp = await apiFetch(`/api/v1/report?${apiQuery(q, 'csv')}`);
  const name = /filename="([^"]+)"/.exec(resp.headers.get('Content-Disposition') ?? '')?.[1] ?? 'kic-report.csv';
  const url = URL.createObjectURL(await resp.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function chosen(form) {
  const q = readForm(form);
  if (!q.from || !q.to || q.to < q.from) {
    status(t('bad_period'), 'error');
    return null;
  }
  history.replaceState(null, '', `/report?${pageQuery(q)}`);
  return q;
}

function main() {
  translatePage();
  document.title = t('report_title');
  const form = document.getElementById('period');
  fillForm(form, defaults());
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    const q = chosen(form);
    if (q) withToken(() => load(q)).catch(() => {});
  });
  document.getElementById('csv').addEventListener('click', () => {
    const q = chosen(form);
    if (q) withToken(() => downloadCsv(q)).catch(err => status(err.message, 'error'));
  });
  withToken(() => load(readForm(form))).catch(() => {});
}

main();
