// The supervisors' wallboard: today's live snapshot, in total and per
// queue, from GET /api/v1/live/stream. EventSource cannot send the
// Authorization header, so the stream is read with fetch() and parsed
// here; when it ends or goes quiet the page says so and reconnects with
// back-off.
import {t, translatePage, format, formatTime} from '/static/i18n.js';
import {apiFetch, AuthError, withToken} from '/static/auth.js';
import {readEvents} from '/static/sse.js';

/* What the board shows, in order: the snapshot's field (a dotted path
 * into a total or a queue object) and how it is formatted. */
const HEADLINE = [
  ['waiting', 'count'],
  ['longest_wait_s', 'duration'],
  ['service_level', 'rate'],
  ['handled_independently_rate', 'rate'],
  ['fcr_provisional_rate', 'rate'],
];
const AGENTS = [
  ['agents.available', 'count'],
  ['agents.ringing', 'count'],
  ['agents.on_call', 'count'],
  ['agents.acw', 'count'],
  ['agents.break', 'count'],
];
const TODAY = [
  ['offered', 'count'],
  ['answered', 'count'],
  ['abandoned', 'count'],
  ['callbacks_open', 'count'],
  ['callbacks_overdue', 'count'],
];

/* The server sends a keep-alive every 15 s: this long without a byte
 * means the connection is dead even if TCP has not noticed. */
const QUIET_MS = 40000;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];

let updates = 0;

function value(obj, path) {
  return path.split('.').reduce((o, k) => (o == null ? null : o[k]), obj) ?? null;
}

/* One number: its formatted text, the raw JSON value beside it, and the
 * names tests read it by. */
function number(el, snap, [path, kind], queue) {
  const v = value(snap, path);
  el.textContent = format[kind](v);
  el.dataset.metric = path;
  el.dataset.scope = queue === undefined ? 'total' : 'queue';
  if (queue !== undefined) el.dataset.queue = queue;
  el.dataset.value = JSON.stringify(v);
  return el;
}

function make(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/* Below the target is the one thing a supervisor must see from across
 * the room: the tile (or cell) turns red and says so. */
function markServiceLevel(el, v, target) {
  const below = v !== null && target != null && v < target;
  el.classList.toggle('below', below);
  el.classList.toggle('on-target', v !== null && !below);
  el.dataset.below = String(below);
}

function tile(snap, metric, target, extraClass = '') {
  const box = make('div', `tile ${extraClass}`);
  box.append(make('div', 'label', t(metric[0])));
  const num = number(make('div', 'num'), snap, metric);
  box.append(num);
  if (metric[0] === 'service_level') {
    markServiceLevel(box, value(snap, 'service_level'), target);
    num.dataset.below = box.dataset.below;
    const note = make('div', 'target');
    const below = box.dataset.below === 'true';
    note.textContent = `${t('target')} ${format.rate(target ?? null)}${below ? ' · ' + t('below_target') : ''}`;
    box.append(note);
  }
  return box;
}

function renderTotal(snap, target) {
  const tiles = document.getElementById('total-tiles');
  const groups = [
    ['headline', HEADLINE],
    ['agents', AGENTS],
    ['today', TODAY],
  ];
  tiles.replaceChildren(...groups.map(([name, metrics]) => {
    const row = make('div', `tile-row ${name}`);
    row.append(...metrics.map(m => tile(snap.total, m, target, m[0].replace('.', '-'))));
    return row;
  }));
}

/* The queue table's columns under their group headings; the short
 * labels keep sixteen columns readable on one screen. */
const COLUMN_GROUPS = [
  ['now', [['waiting', 'count'], ['longest_wait_s', 'duration']]],
  ['agents', AGENTS],
  ['today', [['service_level', 'rate'], ['handled_independently_rate', 'rate'], ['fcr_provisional_rate', 'rate'],
    ['offered', 'count'], ['answered', 'count'], ['abandoned', 'count']]],
  ['callbacks', [['callbacks_open', 'count'], ['callbacks_overdue', 'count']]],
];
const COLUMNS = COLUMN_GROUPS.flatMap(([, metrics]) => metrics);

function queueHead() {
  const groups = make('tr', 'groups');
  const names = make('tr');
  const corner = make('th', 'name', t('queue'));
  corner.rowSpan = 2;
  groups.append(corner);
  for (const [group, metrics] of COLUMN_GROUPS) {
    const th = make('th', 'group-start', t(`group_${group}`));
    th.colSpan = metrics.length;
    groups.append(th);
    names.append(...metrics.map(([path], i) => make('th', i === 0 ? 'group-start' : '', t(`short.${path}`))));
  }
  return [groups, names];
}

function renderQueues(snap, target) {
  const table = document.getElementById('queues');
  table.tHead.replaceChildren(...queueHead());
  const rows = (snap.queues ?? []).map(q => {
    const tr = make('tr');
    tr.dataset.queue = q.queue;
    tr.append(make('th', 'name', q.queue));
    for (const [, metrics] of COLUMN_GROUPS) {
      metrics.forEach((metric, i) => {
        const td = number(make('td', i === 0 ? 'group-start' : ''), q, metric, q.queue);
        if (metric[0] === 'service_level') markServiceLevel(td, value(q, 'service_level'), target);
        tr.append(td);
      });
    }
    return tr;
  });
  if (rows.length === 0) {
    const tr = make('tr');
    const td = make('td', 'empty', t('no_queues'));
    td.colSpan = COLUMNS.length + 1;
    tr.append(td);
    rows.push(tr);
  }
  table.tBodies[0].replaceChildren(...rows);
}

function render(snap) {
  const target = snap.targets?.service_level ?? null;
  renderTotal(snap, target);
  renderQueues(snap, target);
  const updated = document.getElementById('updated');
  const at = new Date(snap.at);
  updated.dateTime = snap.at;
  updated.textContent = formatTime(Number.isNaN(at.getTime()) ? new Date() : at);
}

/* kicd pushes changes, not the clock: a caller still waiting waits on
 * between updates, so the board adds the time since the snapshot came
 * to the longest waits, every second while it is live. */
let latest = null;

function aged(snap, seconds) {
  const age = s => (s && s.waiting > 0 && typeof s.longest_wait_s === 'number'
    ? {...s, longest_wait_s: s.longest_wait_s + seconds} : s);
  return {...snap, total: age(snap.total), queues: (snap.queues ?? []).map(age)};
}

function show(snap) {
  latest = {snap, came: performance.now()};
  render(snap);
  updates += 1;
  document.body.dataset.updates = String(updates);
}

setInterval(() => {
  if (latest && document.body.dataset.connection === 'live' && latest.snap.total?.waiting > 0)
    render(aged(latest.snap, (performance.now() - latest.came) / 1000));
}, 1000);

function showConnection(state, retryMs) {
  const el = document.getElementById('connection');
  el.dataset.connection = state;
  document.body.dataset.connection = state;
  el.textContent =
    state === 'disconnected' ? t('state_disconnected', Math.ceil(retryMs / 1000)) : t(`state_${state}`);
}

/* One connection: resolves when the stream ends or goes quiet, throws
 * AuthError on 401/403. Whether it delivered anything is returned, so
 * the back-off starts again from its shortest step after a good run. */
async function followStream() {
  const quiet = new AbortController();
  let timer = setTimeout(() => quiet.abort(), QUIET_MS);
  const alive = () => {
    clearTimeout(timer);
    timer = setTimeout(() => quiet.abort(), QUIET_MS);
  };
  let delivered = false;
  try {
    const resp = await apiFetch('/api/v1/live/stream', {signal: quiet.signal, headers: {Accept: 'text/event-stream'}});
    await readEvents(resp.body, alive, ev => {
      if (ev.event !== 'stats') return;
      show(JSON.parse(ev.data));
      showConnection('live');
      delivered = true;
    });
  } catch (err) {
    if (err instanceof AuthError) {
      showConnection('signed_out');
      throw err;
    }
    console.warn('wallboard stream:', err);
  } finally {
    clearTimeout(timer);
  }
  return delivered;
}

async function waitCountingDown(ms) {
  for (let left = ms; left > 0; left -= 1000) {
    showConnection('disconnected', left);
    await new Promise(resolve => setTimeout(resolve, Math.min(1000, left)));
  }
  showConnection('connecting');
}

/* Follows the stream for good; only a refused token ends it. */
async function run() {
  let step = 0;
  showConnection('connecting');
  for (;;) {
    if (await followStream()) step = 0;
    await waitCountingDown(BACKOFF_MS[Math.min(step, BACKOFF_MS.length - 1)]);
    step += 1;
  }
}

translatePage();
document.title = t('wallboard_title');
withToken(run);
