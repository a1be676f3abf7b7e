// Charts of a query's result, drawn as SVG by this file (no library):
// line, area and bar over an x column (time or category) with one series
// per y column, a table, and a counter (the first row's first y value).
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
    const every = Math.max(1, Math.ceil(xs.length / 8));
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
    const stackMax = Math.max(0, ...vals.flat());
    const max = niceMax(stackMax);
    const ih = H - PAD.t - PAD.b, iw = W - PAD.l - PAD.r;
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'data-type': type,
        'aria-label': `${type} chart of ${y.join(', ')} by ${x}` });
    axes(svg, xs, max, type === 'bar');
    const yOf = (v) => PAD.t + ih - (ih * v) / max;
    vals.forEach((vs, k) => {
        const color = COLORS[k % COLORS.length], series = y[k];
        const g = s('g', { 'data-series': series });
        if (type === 'bar') {
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

/* A chart element for spec ({type, x, y}) over rows (objects of cols). */
export function chart(spec, cols, rows) {
    const type = (spec && spec.type) || 'table';
    if (type === 'table' || !cols.length)
        return h('div', { class: 'scroll-box' }, table('Result', cols.map((c) => ({ label: c, render: (r) => r[c] ?? '' })), rows));
    const cc = chartColumns(spec, cols, rows);
    if (type === 'counter') {
        const v = rows.length ? rows[0][cc.y[0] ?? cols[0]] : null;
        return h('div', { class: 'counter', 'data-value': v ?? '', role: 'img', 'aria-label': `${cc.y[0] ?? cols[0]}: ${v ?? 'no value'}` },
            h('span', { class: 'counter-value' }, v === null || v === undefined ? '—' : typeof v === 'number' ? num(v) : String(v)),
            h('span', { class: 'counter-label' }, cc.y[0] ?? cols[0]));
    }
    if (!cc.y.length) return h('p', { class: 'note' }, 'No numeric column to chart.');
    return xyChart(type, cc, rows);
}
