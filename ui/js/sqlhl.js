// A small SQL highlighter: keywords, strings, quoted names, numbers,
// comments.  Returns DOM nodes (text only), for the editor's overlay.
const KEYWORDS = new Set(`select from where group by order having limit offset as and or not in is null
like glob between case when then else end join left right inner outer full cross on using union all
distinct with recursive insert into values create table view partition drop explain asc desc exists
cast true false over window filter count sum avg min max coalesce date interval any some except
intersect natural replace update delete set default primary key if`.split(/\s+/));

const TOKEN = /(--[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|('(?:[^']|'')*'?)|("(?:[^"]|"")*"?|`[^`]*`?)|(\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)/g;

export function highlight(sql) {
    const out = [];
    let last = 0;
    for (const m of sql.matchAll(TOKEN)) {
        if (m.index > last) out.push(document.createTextNode(sql.slice(last, m.index)));
        let cls = null;
        if (m[1]) cls = 'tok-comment';
        else if (m[2]) cls = 'tok-string';
        else if (m[3]) cls = 'tok-ident';
        else if (m[4]) cls = 'tok-number';
        else if (KEYWORDS.has(m[5].toLowerCase())) cls = 'tok-keyword';
        if (cls) {
            const s = document.createElement('span');
            s.className = cls;
            s.textContent = m[0];
            out.push(s);
        } else {
            out.push(document.createTextNode(m[0]));
        }
        last = m.index + m[0].length;
    }
    if (last < sql.length) out.push(document.createTextNode(sql.slice(last)));
    out.push(document.createTextNode('\n')); // keeps the last line's height
    return out;
}
