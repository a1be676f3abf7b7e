// Charts of a query's result, drawn as SVG by this file (no library):
// line, area, bar (grouped) and stacked bar over an x column (time or
// category) with one series per y column; pie (x: the slices, y: their
// sizes); scatter (x and y both numeric, one series per further y); a
// table; and a counter (the first row's first y value, and its change
// against the `compare` column: this period vs the previous one).
// Every data point is an element with data-x / data-y / data-series, so
// tests (and people) read the values, not pixels.
import { h, table, num } from './api.js';

const NS = 'http://www.w3.org/2000/svg';
const COLORS = ['#1f5f8b', '#d9822b', '#2e8b57', '#a4161a', '#6a3d9a', '#7a828c'];
const W = 640, H = 260, PAD = { l: 56, r: 12, t: 12, b: 36 };

function s(tag, attrs, ...kids) {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
    for (const c of kids) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
}

/* The columns a chart uses: x (default the first) and y (default the numeric others). */
export function chartColumns(spec, cols, rows) {
    const x = spec.x && cols.includes(spec.x) ? spec.x : cols[0];
    let y = Array.isArray(spec.y) ? spec.y : spec.y ? [spec.y] : [];
    y = y.filter((c) => cols.includes(c));
    if (!y.length) y = cols.filter((c) => c !== x && rows.some((r) => typeof r[c] === 'number'));
    return { x, y };
}

function niceMax(v) {
    if (v <= 0) return 1;
    const p = 10 ** Math.floor(Math.log10(v)), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function axes(svg, xs, max, band) {
    const ih = H - PAD.t - PAD.b, iw = W - PAD.l - PAD.r;
    for (let i = 0; i <= 4; i++) {
        const yv = (max * i) / 4, yy = PAD.t + ih - (ih * i) / 4;
        svg.append(s('line', { x1: PAD.l, x2: W - PAD.r, y1: yy, y2: yy, class: 'grid-line' }),
            s('text', { x: PAD.l - 6, y: yy + 4, 'text-anchor': 'end', class: 'tick' }, num(yv)));
    }
    const longest = Math.max(1, ...xs.map((v) => String(v ?? '∅').length)); /* labels that fit side by side */
    const fit = Math.max(2, Math.min(8, Math.floor((W - PAD.l - PAD.r) / (longest * 7 + 12))));
    const every = Math.max(1, Math.ceil(xs.length / fit));
    xs.forEach((xv, i) => {
        if (i % every) return;
        const xx = PAD.l + (band ? (i + 0.5) * (iw / xs.length) : xs.length > 1 ? (i * iw) / (xs.length - 1) : iw / 2);
        const anchor = band || xs.length < 2 ? 'middle' : i === 0 ? 'start' : i === xs.length - 1 ? 'end' : 'middle';
        svg.append(s('text', { x: xx, y: H - PAD.b + 16, 'text-anchor': anchor, class: 'tick' }, String(xv ?? '∅')));
    });
}

function xyChart(type, cols, rows) {
    const { x, y } = cols;
    const xs = rows.map((r) => r[x]);
    const vals = y.map((c) => rows.map((r) => Number(r[c]) || 0));
    const stacked = type === 'stacked';
    const stackMax = stacked ? Math.max(0, ...xs.map((_, i) => vals.reduce((a, vs) => a + Math.max(0, vs[i]), 0)))
                             : Math.max(0, ...vals.flat());
    const max = niceMax(stackMax);
    const ih = H - PAD.t - PAD.b, iw = W - PAD.l - PAD.r;
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'data-type': type,
        'aria-label': `${type} chart of ${y.join(', ')} by ${x}` });
    axes(svg, xs, max, type === 'bar' || stacked);
    const base = xs.map(() => 0); /* stacked: the top of the series below */
    const yOf = (v) => PAD.t + ih - (ih * v) / max;
    vals.forEach((vs, k) => {
        const color = COLORS[k % COLORS.length], series = y[k];
        const g = s('g', { 'data-series': series });
        if (stacked) {
            const bw = iw / Math.max(1, xs.length);
            vs.forEach((v, i) => {
                const v0 = base[i], v1 = v0 + Math.max(0, v);
                base[i] = v1;
                g.append(s('rect', { x: PAD.l + i * bw + bw * 0.1, y: yOf(v1), width: bw * 0.8, height: yOf(v0) - yOf(v1),
                    fill: color, class: 'point', 'data-x': xs[i], 'data-y': v, 'data-series': series }, s('title', null, `${xs[i]}, ${series}: ${v}`)));
            });
        } else if (type === 'bar') {
            const bw = iw / Math.max(1, xs.length), w = (bw * 0.8) / y.length;
            vs.forEach((v, i) => g.append(s('rect', { x: PAD.l + i * bw + bw * 0.1 + k * w, y: yOf(v), width: w, height: PAD.t + ih - yOf(v),
                fill: color, class: 'point', 'data-x': xs[i], 'data-y': v, 'data-series': series }, s('title', null, `${xs[i]}: ${v}`))));
        } else {
            const xOf = (i) => PAD.l + (xs.length > 1 ? (i * iw) / (xs.length - 1) : iw / 2);
            const pts = vs.map((v, i) => `${xOf(i).toFixed(1)},${yOf(v).toFixed(1)}`);
            if (type === 'area' && pts.length)
                g.append(s('polygon', { points: `${xOf(0)},${yOf(0)} ${pts.join(' ')} ${xOf(vs.length - 1)},${yOf(0)}`,
                    fill: color, 'fill-opacity': 0.25 }));
            g.append(s('polyline', { points: pts.join(' '), fill: 'none', stroke: color, 'stroke-width': 2 }));
            vs.forEach((v, i) => g.append(s('circle', { cx: xOf(i), cy: yOf(v), r: 3, fill: color, class: 'point',
                'data-x': xs[i], 'data-y': v, 'data-series': series }, s('title', null, `${xs[i]}: ${v}`))));
        }
        svg.append(g);
    });
    const legend = h('p', { class: 'legend' }, y.map((c, k) => h('span', null, h('i', { class: `sw sw${k % COLORS.length}` }), c)));
    return h('figure', { class: 'chart-box' }, svg, legend);
}

/* Pie: one slice per row, x the label, y[0] the size (negative sizes count 0). */
function pieChart(cols, rows) {
    const { x, y } = cols, R = 110, cx = 130, cy = 125;
    const vals = rows.map((r) => Math.max(0, Number(r[y[0]]) || 0)), total = vals.reduce((a, v) => a + v, 0);
    const svg = s('svg', { viewBox: '0 0 460 250', class: 'chart', role: 'img', 'data-type': 'pie', 'aria-label': `pie chart of ${y[0]} by ${x}` });
    let a0 = -Math.PI / 2;
    const legend = h('p', { class: 'legend' });
    rows.forEach((r, i) => {
        const v = vals[i], frac = total ? v / total : 0, a1 = a0 + frac * 2 * Math.PI, color = COLORS[i % COLORS.length];
        const p0 = [cx + R * Math.cos(a0), cy + R * Math.sin(a0)], p1 = [cx + R * Math.cos(a1), cy + R * Math.sin(a1)];
        const d = frac >= 0.9999 ? `M ${cx - R} ${cy} a ${R} ${R} 0 1 0 ${2 * R} 0 a ${R} ${R} 0 1 0 ${-2 * R} 0`
            : `M ${cx} ${cy} L ${p0[0].toFixed(1)} ${p0[1].toFixed(1)} A ${R} ${R} 0 ${a1 - a0 > Math.PI ? 1 : 0} 1 ${p1[0].toFixed(1)} ${p1[1].toFixed(1)} Z`;
        svg.append(s('path', { d, fill: color, class: 'point', 'data-x': r[x], 'data-y': Number(r[y[0]]) || 0, 'data-series': y[0],
            'data-share': frac.toFixed(4) }, s('title', null, `${r[x]}: ${r[y[0]]} (${(frac * 100).toFixed(1)}%)`)));
        legend.append(h('span', null, h('i', { class: `sw sw${i % COLORS.length}` }), `${r[x] ?? '∅'} ${(frac * 100).toFixed(1)}%`));
        a0 = a1;
    });
    return h('figure', { class: 'chart-box' }, svg, legend);
}

/* Scatter: x numeric on the horizontal axis, each y a series of points. */
function scatterChart(cols, rows) {
    const { x, y } = cols, ih = H - PAD.t - PAD.b, iw = W - PAD.l - PAD.r;
    const xv = rows.map((r) => Number(r[x]) || 0), lo = Math.min(0, ...xv), hi = niceMax(Math.max(0, ...xv));
    const max = niceMax(Math.max(0, ...y.flatMap((c) => rows.map((r) => Number(r[c]) || 0))));
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'data-type': 'scatter', 'aria-label': `scatter chart of ${y.join(', ')} against ${x}` });
    axes(svg, [lo, (lo + hi) / 2, hi].map((v) => num(v)), max, false);
    const xOf = (v) => PAD.l + (iw * (v - lo)) / (hi - lo || 1), yOf = (v) => PAD.t + ih - (ih * v) / max;
    y.forEach((c, k) => {
        const g = s('g', { 'data-series': c });
        rows.forEach((r, i) => g.append(s('circle', { cx: xOf(xv[i]).toFixed(1), cy: yOf(Number(r[c]) || 0).toFixed(1), r: 3, fill: COLORS[k % COLORS.length],
            'fill-opacity': 0.7, class: 'point', 'data-x': r[x], 'data-y': Number(r[c]) || 0, 'data-series': c }, s('title', null, `${r[x]}, ${r[c]}`))));
        svg.append(g);
    });
    return h('figure', { class: 'chart-box' }, svg, h('p', { class: 'legend' }, y.map((c, k) => h('span', null, h('i', { class: `sw sw${k % COLORS.length}` }), c))));
}

/* Counter: the first row's value, and its change against spec.compare. */
function counter(spec, cols, cc, rows) {
    const col = cc.y[0] ?? cols[0], v = rows.length ? rows[0][col] : null;
    const prev = spec.compare && rows.length ? rows[0][spec.compare] : null;
    const change = typeof v === 'number' && typeof prev === 'number' && prev !== 0 ? (v - prev) / Math.abs(prev) : null;
    return h('div', { class: 'counter', 'data-value': v ?? '', 'data-change': change === null ? '' : change.toFixed(4), role: 'img',
        'aria-label': `${col}: ${v ?? 'no value'}` + (change === null ? '' : `, ${(change * 100).toFixed(1)}% against ${spec.compare}`) },
        h('span', { class: 'counter-value' }, v === null || v === undefined ? '—' : typeof v === 'number' ? num(v) : String(v)),
        change === null ? null : h('span', { class: `counter-change ${change >= 0 ? 'up' : 'down'}` },
            `${change >= 0 ? '▲' : '▼'} ${(Math.abs(change) * 100).toFixed(1)}% vs ${spec.compare}`),
        h('span', { class: 'counter-label' }, col));
}

export const CHART_POINTS = 500, TABLE_ROWS = 1000;
const BUCKETED = ['line', 'area', 'bar', 'stacked'];

/* The rows a chart draws, fetched with run(body) (a query request): at most
 * CHART_POINTS + 1 rows; a line, area or bar chart over more (with x and y
 * named) is fetched again aggregated on the server ("bucket": time by
 * second .. year, numbers by range), so a million source rows arrive as a
 * few hundred points.  {rows, cols, note}: note says what was done. */
export async function chartRows(spec, body, run) {
    const type = (spec && spec.type) || 'table';
    const cap = type === 'table' ? TABLE_ROWS : type === 'counter' ? 1 : CHART_POINTS;
    const r = await run({ ...body, limit: cap + (type === 'counter' ? 0 : 1) });
    if (r.rows.length <= cap || type === 'counter') return { ...r, note: '' };
    const y = Array.isArray(spec.y) ? spec.y : spec.y ? [spec.y] : [];
    if (!BUCKETED.includes(type) || !spec.x || !y.length)
        return { rows: r.rows.slice(0, cap), cols: r.cols, note: `the first ${cap} rows` };
    const b = await run({ ...body, bucket: { x: spec.x, y, points: CHART_POINTS, agg: spec.agg || 'sum' } });
    return { ...b, note: `more than ${cap} rows: ${spec.agg || 'sum'} of ${y.join(', ')} by ${spec.x}, aggregated on the server to ${b.rows.length} points` };
}

/* A chart element for spec ({type, x, y}) over rows (objects of cols). */
export function chart(spec, cols, rows) {
    const type = (spec && spec.type) || 'table';
    if (type === 'table' || !cols.length)
        return h('div', { class: 'scroll-box' }, table('Result', cols.map((c) => ({ label: c, render: (r) => r[c] ?? '' })), rows));
    const cc = chartColumns(spec, cols, rows);
    if (type === 'counter') return counter(spec, cols, { ...cc, y: cc.y.filter((c) => c !== spec.compare) }, rows);
    if (!cc.y.length) return h('p', { class: 'note' }, 'No numeric column to chart.');
    if (type === 'pie') return pieChart(cc, rows);
    if (type === 'scatter') return scatterChart(cc, rows);
    return xyChart(type, cc, rows);
}
