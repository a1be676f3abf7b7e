// A virtualised result grid: only the rows in view (plus a margin) are in
// the DOM, so a million rows scroll like ten.  Rows are arrays; append()
// adds more while a query streams.  Keyboard: arrows, Page Up/Down,
// Home/End move the active row (aria-activedescendant).
const ROW_H = 26;
const OVERSCAN = 10;
let gridSeq = 0;

export class Grid {
    constructor(label) {
        this.id = `grid${++gridSeq}`;
        this.cols = [];
        this.rows = [];
        this.active = -1;
        this.el = document.createElement('div');
        this.el.className = 'grid';
        this.el.setAttribute('role', 'grid');
        this.el.setAttribute('aria-label', label);
        this.el.setAttribute('aria-readonly', 'true');
        this.el.tabIndex = 0;
        this.head = document.createElement('div');
        this.head.className = 'grid-head';
        this.head.setAttribute('role', 'rowgroup');
        this.body = document.createElement('div');
        this.body.className = 'grid-body';
        this.spacer = document.createElement('div');
        this.spacer.className = 'grid-spacer';
        this.win = document.createElement('div');
        this.win.className = 'grid-rows';
        this.win.setAttribute('role', 'rowgroup');
        this.spacer.append(this.win);
        this.body.append(this.spacer);
        this.el.append(this.head, this.body);
        this.body.addEventListener('scroll', () => this.schedule());
        this.el.addEventListener('keydown', (e) => this.key(e));
        this.pending = false;
    }

    setColumns(cols) {
        this.cols = cols;
        this.widths = cols.map((c) => Math.min(360, Math.max(80, c.length * 9 + 24)));
        this.template = this.widths.map((w) => `${w}px`).join(' ');
        const row = document.createElement('div');
        row.className = 'grid-row';
        row.setAttribute('role', 'row');
        row.setAttribute('aria-rowindex', '1');
        row.style.gridTemplateColumns = this.template;
        cols.forEach((c, i) => {
            const cell = document.createElement('div');
            cell.setAttribute('role', 'columnheader');
            cell.setAttribute('aria-colindex', String(i + 1));
            cell.textContent = c;
            row.append(cell);
        });
        this.head.replaceChildren(row);
        this.el.setAttribute('aria-colcount', String(cols.length));
        this.spacer.style.width = `${this.widths.reduce((a, b) => a + b, 0)}px`;
        this.head.style.width = this.spacer.style.width;
    }

    /* Widen columns to fit the first rows' values (once, after the first batch). */
    fit() {
        if (this.fitted || !this.rows.length) return;
        this.fitted = true;
        const n = Math.min(this.rows.length, 200);
        for (let r = 0; r < n; r++)
            this.rows[r].forEach((v, i) => {
                const w = Math.min(360, String(v ?? 'NULL').length * 8 + 24);
                if (w > this.widths[i]) this.widths[i] = w;
            });
        this.template = this.widths.map((w) => `${w}px`).join(' ');
        this.head.firstChild.style.gridTemplateColumns = this.template;
        this.spacer.style.width = `${this.widths.reduce((a, b) => a + b, 0)}px`;
        this.head.style.width = this.spacer.style.width;
        this.drawn = null;
    }

    append(rows) {
        for (const r of rows) this.rows.push(r);
        this.fit();
        this.schedule();
    }

    schedule() {
        if (this.pending) return;
        this.pending = true;
        requestAnimationFrame(() => { this.pending = false; this.draw(); });
    }

    draw() {
        const n = this.rows.length;
        this.el.setAttribute('aria-rowcount', String(n + 1));
        this.el.dataset.rows = String(n);
        this.spacer.style.height = `${n * ROW_H}px`;
        this.body.style.height = n < 16 ? `${Math.max(n, 1) * ROW_H + 18}px` : ''; // small results stay small
        this.head.style.transform = `translateX(${-this.body.scrollLeft}px)`;
        const top = this.body.scrollTop, h = this.body.clientHeight || 400;
        const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
        const last = Math.min(n, Math.ceil((top + h) / ROW_H) + OVERSCAN);
        const key = `${first}:${last}:${this.active}`;
        if (this.drawn === key) return;
        this.drawn = key;
        this.win.style.transform = `translateY(${first * ROW_H}px)`;
        const frag = document.createDocumentFragment();
        for (let r = first; r < last; r++) frag.append(this.rowEl(r));
        this.win.replaceChildren(frag);
        this.el.dataset.first = String(first);
        this.el.dataset.last = String(last);
    }

    rowEl(r) {
        const row = document.createElement('div');
        row.className = r === this.active ? 'grid-row active' : 'grid-row';
        row.id = `${this.id}-r${r}`;
        row.setAttribute('role', 'row');
        row.setAttribute('aria-rowindex', String(r + 2));
        row.dataset.row = String(r);
        row.style.gridTemplateColumns = this.template;
        this.rows[r].forEach((v, i) => {
            const cell = document.createElement('div');
            cell.setAttribute('role', 'gridcell');
            cell.setAttribute('aria-colindex', String(i + 1));
            if (v === null) { cell.className = 'null'; cell.textContent = 'NULL'; }
            else cell.textContent = typeof v === 'object' ? JSON.stringify(v) : String(v);
            row.append(cell);
        });
        return row;
    }

    key(e) {
        const page = Math.max(1, Math.floor((this.body.clientHeight || 400) / ROW_H) - 1);
        const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
        let a = this.active;
        if (e.key in moves) a = Math.max(0, a + moves[e.key]);
        else if (e.key === 'Home') a = 0;
        else if (e.key === 'End') a = this.rows.length - 1;
        else return;
        e.preventDefault();
        this.active = Math.min(a, this.rows.length - 1);
        if (this.active < 0) return;
        const y = this.active * ROW_H, h = this.body.clientHeight;
        if (y < this.body.scrollTop) this.body.scrollTop = y;
        else if (y + ROW_H > this.body.scrollTop + h) this.body.scrollTop = y + ROW_H - h;
        this.drawn = null;
        this.draw();
        this.el.setAttribute('aria-activedescendant', `${this.id}-r${this.active}`);
    }
}
