// A small line chart drawn as inline SVG (no dependency, no build step).
// drawChart(figure, opts) fills a <figure> with an <svg role="img"> and a
// caption that says in words what the chart shows, so screen readers (and
// anyone who prefers numbers) get the same information as the picture.
//
// opts: {
//   values: [number],   one point per step, oldest first (null: no data)
//   stepS: number,      seconds between points
//   end: ms,            time of the last point
//   title: string,      what is drawn ("Queue length")
//   fmt: (v) => string, a value in words/units for labels and the summary
//   integer: boolean,   values are counts: draw steps, ticks on whole numbers
//   seconds: boolean,   values are durations: axis in round seconds/minutes
// }
const NS = 'http://www.w3.org/2000/svg';
const W = 600;
const H = 170;
const PAD = { l: 54, r: 12, t: 10, b: 24 };

function svgEl(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text != null) e.textContent = text;
  return e;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// Round upper bounds for a duration axis (seconds), each with a round half.
const SECONDS = [10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400];
export function axisSeconds(s) {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${+(s / 60).toFixed(1)} min`;
  return `${+(s / 3600).toFixed(1)} h`;
}

// A round upper bound for the y axis: 1, 2, 5, 10, 20, 50... (at least 1;
// at least 2 for counts, so the middle line is a whole number or blank).
export function niceMax(v, integer, seconds) {
  if (seconds) return SECONDS.find((m) => v <= m) || Math.ceil(v / 86400) * 86400;
  if (!(v > 0)) return integer ? 2 : 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return Math.max(m * p, integer ? 2 : 0);
  return 10 * p;
}

// The words under the chart: now, peak and when, average, over what time.
export function summarise({ values, stepS, end, title, fmt }) {
  const pts = values.map((v, i) => ({ v, t: end - (values.length - 1 - i) * stepS * 1000 })).filter((p) => p.v != null);
  if (!pts.length) return `${title}: no data yet.`;
  // Each point closes one step: n points cover n steps.
  const span = Math.round((values.length * stepS) / 60);
  const last = pts[pts.length - 1];
  let peak = pts[0];
  for (const p of pts) if (p.v > peak.v) peak = p;
  const avg = pts.reduce((s, p) => s + p.v, 0) / pts.length;
  const over = span >= 1 ? `over the last ${span === 60 ? 'hour' : span + ' min'} (${clock(end - values.length * stepS * 1000)}–${clock(end)})` : `at ${clock(last.t)}`;
  // The series is sampled once a minute: its last point is that minute's
  // reading, not "now" (the tiles are now).
  return `${title} ${over}: ${fmt(last.v)} at ${clock(last.t)}, peak ${fmt(peak.v)} at ${clock(peak.t)}, average ${fmt(Math.round(avg * 10) / 10)}.`;
}

export function drawChart(figure, opts) {
  const { values, stepS, end, fmt, integer, seconds } = opts;
  const summary = summarise(opts);
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary, class: 'chart-svg', focusable: 'false' });
  svg.append(svgEl('title', {}, summary));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const n = values.length;
  const max = niceMax(Math.max(0, ...values.filter((v) => v != null)), integer, seconds);
  const x = (i) => PAD.l + (n <= 1 ? iw : (i / (n - 1)) * iw);
  const y = (v) => PAD.t + ih - (v / max) * ih;

  // Grid and y labels: 0, half, max.
  const grid = svgEl('g', { class: 'grid', 'aria-hidden': 'true' });
  for (const v of [0, max / 2, max]) {
    grid.append(svgEl('line', { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v) }));
    const label = integer && !Number.isInteger(v) ? '' : seconds ? axisSeconds(v) : fmt(v);
    grid.append(svgEl('text', { x: PAD.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, label));
  }
  // X labels: the first, middle and last point's clock time.
  if (n > 0) {
    const idx = n > 2 ? [0, Math.floor((n - 1) / 2), n - 1] : [n - 1];
    for (const i of idx) {
      const anchor = i === 0 && n > 1 ? 'start' : i === n - 1 ? 'end' : 'middle';
      grid.append(svgEl('text', { x: x(i), y: H - 6, 'text-anchor': anchor }, clock(end - (n - 1 - i) * stepS * 1000)));
    }
  }
  svg.append(grid);

  // The line (steps for counts), and the area under it; null points break it.
  let d = '';
  let area = '';
  let run = [];
  const flush = () => {
    if (!run.length) return;
    let seg = `M${x(run[0].i)},${y(run[0].v)}`;
    for (let k = 1; k < run.length; k++) {
      const p = run[k];
      seg += integer ? `H${x(p.i)}V${y(p.v)}` : `L${x(p.i)},${y(p.v)}`;
    }
    d += seg;
    area += `${seg}V${y(0)}H${x(run[0].i)}Z`;
    run = [];
  };
  values.forEach((v, i) => { if (v == null) flush(); else run.push({ i, v }); });
  flush();
  if (area) svg.append(svgEl('path', { d: area, class: 'area', 'aria-hidden': 'true' }));
  if (d) svg.append(svgEl('path', { d, class: 'line', 'aria-hidden': 'true' }));
  // The latest point, marked.
  for (let i = n - 1; i >= 0; i--) {
    if (values[i] == null) continue;
    svg.append(svgEl('circle', { cx: x(i), cy: y(values[i]), r: 3.5, class: 'dot', 'aria-hidden': 'true' }));
    break;
  }

  let cap = figure.querySelector('figcaption');
  if (!cap) { cap = document.createElement('figcaption'); }
  cap.textContent = summary;
  const old = figure.querySelector('svg');
  const heading = figure.querySelector('h3, h4');
  if (old) old.replaceWith(svg); else if (heading) heading.after(svg); else figure.prepend(svg);
  figure.append(cap);
  figure.dataset.points = String(values.filter((v) => v != null).length);
  return summary;
}
