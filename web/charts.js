// Small SVG charts for the report, no library: bars (side by side or
// stacked) and lines, over one band per interval, with an optional target
// line. Every bar and point carries data-series, data-bucket and
// data-value, so a test can read what was drawn.

const SVG = 'http://www.w3.org/2000/svg';
const W = 560, H = 250;
const M = {left: 52, right: 10, top: 12, bottom: 30};
const MAX_LABELS = 8;

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/* A round step for about four grid lines up to peak (whole numbers for
 * counts), and the axis's end: the first multiple of it at or above. */
function axis(peak, whole, fixedMax) {
  if (fixedMax) return {step: fixedMax / 4, max: fixedMax};
  const top = peak > 0 ? peak : whole ? 4 : 1;
  const raw = top / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  const factors = whole ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10];
  const step = Math.max(whole ? 1 : 0, factors.map(f => f * p).find(x => x >= raw));
  return {step, max: Math.ceil(top / step) * step};
}

function frame(svg, labels, scale, yFormat) {
  const plotW = W - M.left - M.right, plotH = H - M.top - M.bottom;
  const y = v => M.top + plotH - (v / scale.max) * plotH;
  const band = plotW / Math.max(labels.length, 1);
  for (let v = 0; v <= scale.max + scale.step / 2; v += scale.step) {
    svg.append(el('line', {class: 'grid', x1: M.left, x2: W - M.right, y1: y(v), y2: y(v)}));
    svg.append(el('text', {class: 'tick y', x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end'}, yFormat(v)));
  }
  const every = Math.ceil(labels.length / MAX_LABELS);
  labels.forEach((label, i) => {
    if (i % every !== 0) return;
    svg.append(el('text', {class: 'tick x', x: M.left + band * (i + 0.5), y: H - M.bottom + 18, 'text-anchor': 'middle'}, label));
  });
  svg.append(el('line', {class: 'axis', x1: M.left, x2: W - M.right, y1: y(0), y2: y(0)}));
  return {y, band};
}

function legend(series) {
  const ul = document.createElement('ul');
  ul.className = 'legend';
  for (const s of series) {
    const li = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = `swatch ${s.dashed ? 'dashed' : ''}`;
    swatch.style.setProperty('--c', s.color);
    li.append(swatch, s.name);
    ul.append(li);
  }
  return ul;
}

function figure(key, title, svg, series) {
  const fig = document.createElement('figure');
  fig.className = 'chart';
  fig.dataset.chart = key;
  const cap = document.createElement('figcaption');
  cap.textContent = title;
  fig.append(cap, svg, legend(series));
  return fig;
}

function tooltip(node, text) {
  node.append(el('title', {}, text));
  return node;
}

/* spec: {key, title, labels, series: [{key, name, color, values}],
 * stacked, yFormat, whole (counts: whole-number grid lines), yMax (a
 * fixed top, 1 for rates)}. Missing values are drawn as 0. */
export function barChart(spec) {
  const {labels, series, stacked} = spec;
  const totals = labels.map((_, i) => series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  const peak = stacked ? Math.max(0, ...totals) : Math.max(0, ...series.flatMap(s => s.values.map(v => v ?? 0)));
  const svg = el('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': spec.title});
  const {y, band} = frame(svg, labels, axis(peak, spec.whole, spec.yMax), spec.yFormat);
  const inner = Math.min(band * 0.8, 140); /* one interval: a bar, not a wall */
  const width = stacked ? inner : inner / series.length;
  labels.forEach((label, i) => {
    let base = 0;
    series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      const x = M.left + band * i + (band - inner) / 2 + (stacked ? 0 : k * width);
      const top = y(base + v), bottom = y(base);
      const rect = el('rect', {
        class: 'bar', x, y: top, width: Math.max(width - 1, 0.5), height: Math.max(bottom - top, 0),
        fill: s.color, 'data-series': s.key, 'data-bucket': i, 'data-value': v,
      });
      svg.append(tooltip(rect, `${label} · ${s.name}: ${spec.yFormat(v)}`));
      if (stacked) base += v;
    });
  });
  return figure(spec.key, spec.title, svg, series);
}

/* spec as for barChart; a null value breaks the line (a rate of an
 * interval without contacts is undefined, not 0). target: a dashed
 * horizontal line {name, value, color}. */
export function lineChart(spec) {
  const {labels, series, target} = spec;
  const peak = Math.max(0, target?.value ?? 0, ...series.flatMap(s => s.values.map(v => v ?? 0)));
  const svg = el('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': spec.title});
  const {y, band} = frame(svg, labels, axis(peak, spec.whole, spec.yMax), spec.yFormat);
  const x = i => M.left + band * (i + 0.5);
  if (target && target.value != null) {
    svg.append(tooltip(el('line', {
      class: 'target', x1: M.left, x2: W - M.right, y1: y(target.value), y2: y(target.value),
      stroke: target.color, 'data-series': 'target', 'data-value': target.value,
    }), `${target.name}: ${spec.yFormat(target.value)}`));
  }
  for (const s of series) {
    let run = [];
    const flush = () => {
      if (run.length > 1) svg.append(el('polyline', {class: 'line', points: run.join(' '), stroke: s.color, 'data-series': s.key}));
      run = [];
    };
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) return flush();
      run.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
      const dot = el('circle', {class: 'point', cx: x(i), cy: y(v), r: 2.5, fill: s.color,
        'data-series': s.key, 'data-bucket': i, 'data-value': v});
      svg.append(tooltip(dot, `${labels[i]} · ${s.name}: ${spec.yFormat(v)}`));
    });
    flush();
  }
  const shown = target ? [...series, {name: target.name, color: target.color, dashed: true}] : series;
  return figure(spec.key, spec.title, svg, shown);
}

/* A chart's place when the report cannot draw it (a grouping without
 * those columns). */
export function unavailable(key, title, reason) {
  const fig = document.createElement('figure');
  fig.className = 'chart unavailable';
  fig.dataset.chart = key;
  fig.dataset.unavailable = 'true';
  const cap = document.createElement('figcaption');
  cap.textContent = title;
  const p = document.createElement('p');
  p.textContent = reason;
  fig.append(cap, p);
  return fig;
}
