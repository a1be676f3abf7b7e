/* The column-naming rule: which column a record key lands in (docs/lake.md,
 * "Column names").  One rule for every writer and reader of lake tables: the
 * sink, CREATE TABLE AS / INSERT, the journal tail and the SQL declaration.
 *
 *   base(key):  printable UTF-8 is kept; bytes 0x00-0x1f, 0x7f and the C1
 *               controls (U+0080-U+009F) become "\xNN" (each byte); the empty
 *               key is "_empty"; a name over LK_NAME_BASE bytes keeps its first
 *               bytes (whole characters and escapes) and ends in "_" + 8 hex
 *               digits of the key's hash, LK_NAME_BASE bytes in all.
 *   candidates: base, base_2, base_3, ... (LK_NAME_TRIES suffixes)
 *   column:     the first candidate that names an existing column (exactly;
 *               ASCII case-insensitively when the sink is case-insensitive),
 *               or is free; a candidate equal (ASCII case-insensitively) to a
 *               reserved name (_ingest_ts, partition columns) or to another
 *               column's spelling is skipped.
 *
 * Names are unique under ASCII case folding (SQLite, DuckDB and Hive compare
 * identifiers that way), so every table can be declared.  The answer depends
 * only on the set of names a table has, and columns are never removed, so a
 * key keeps its column for good, across restarts, in every writer. */
#include "lake/lake.h"
#include "util/util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

typedef struct ent {
    char *name;
    size_t n;
    int idx;   /* column index, -1 reserved */
} ent;

struct lk_names {
    int case_insensitive;
    ent *v;
    int n, cap;
    uint32_t *slots; /* hash of the folded name -> entry + 1 */
    uint32_t mask;
};

static char fold(char c) { return (char)(c >= 'A' && c <= 'Z' ? c + 32 : c); }

static uint64_t fold_hash(const char *k, size_t n)
{
    char buf[256];
    uint64_t h = 0;
    for (size_t done = 0; done < n;) { /* fold ASCII case in chunks */
        size_t m = n - done < sizeof buf ? n - done : sizeof buf;
        for (size_t i = 0; i < m; i++) buf[i] = fold(k[done + i]);
        h = XXH3_64bits_withSeed(buf, m, h);
        done += m;
    }
    return h;
}

static int fold_eq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn) return 0;
    for (size_t i = 0; i < an; i++)
        if (fold(a[i]) != fold(b[i])) return 0;
    return 1;
}

lk_names *lk_names_create(int case_insensitive)
{
    lk_names *m = ut_calloc(1, sizeof *m);
    m->case_insensitive = case_insensitive;
    return m;
}

void lk_names_destroy(lk_names *m)
{
    if (!m) return;
    for (int i = 0; i < m->n; i++) free(m->v[i].name);
    free(m->v);
    free(m->slots);
    free(m);
}

static void rehash(lk_names *m)
{
    uint32_t nslots = 64;
    while (nslots < (uint32_t)m->n * 3) nslots *= 2;
    free(m->slots);
    m->slots = ut_calloc(nslots, sizeof *m->slots);
    m->mask = nslots - 1;
    for (int i = 0; i < m->n; i++) {
        uint32_t h = (uint32_t)fold_hash(m->v[i].name, m->v[i].n) & m->mask;
        while (m->slots[h]) h = (h + 1) & m->mask;
        m->slots[h] = (uint32_t)i + 1;
    }
}

/* The entry whose name folds to the same as name, or NULL (names are unique
 * under folding, so there is at most one). */
static const ent *find_folded(const lk_names *m, const char *name, size_t n)
{
    if (!m->slots) return NULL;
    uint32_t h = (uint32_t)fold_hash(name, n) & m->mask;
    while (m->slots[h]) {
        const ent *e = &m->v[m->slots[h] - 1];
        if (fold_eq(e->name, e->n, name, n)) return e;
        h = (h + 1) & m->mask;
    }
    return NULL;
}

int lk_names_take(lk_names *m, const char *name, size_t n, int idx)
{
    if (find_folded(m, name, n)) return -1;
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 32;
        m->v = ut_realloc(m->v, (size_t)m->cap * sizeof *m->v);
    }
    m->v[m->n++] = (ent){ut_strndup(name, n), n, idx};
    if (!m->slots || (uint32_t)m->n * 3 > (m->mask + 1) * 2) {
        rehash(m);
    } else {
        uint32_t h = (uint32_t)fold_hash(name, n) & m->mask;
        while (m->slots[h]) h = (h + 1) & m->mask;
        m->slots[h] = (uint32_t)m->n;
    }
    return 0;
}

void lk_names_truncate(lk_names *m, int n)
{
    assert(n >= 0 && n <= m->n);
    for (int i = n; i < m->n; i++) free(m->v[i].name);
    m->n = n;
    rehash(m);
}

int lk_names_count(const lk_names *m) { return m->n; }

int lk_names_find(const lk_names *m, const char *name, size_t n)
{
    const ent *e = find_folded(m, name, n);
    if (!e || e->idx < 0) return -1;
    if (!m->case_insensitive && (e->n != n || memcmp(e->name, name, n))) return -1;
    return e->idx;
}

/* ---- base names --------------------------------------------------------------------- */

/* Bytes of the printable UTF-8 character at s[0..n), 0 if it must be escaped. */
static size_t printable_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80) return c >= 0x20 && c != 0x7f;
    size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (!k || k > n) return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if (c == 0xc2 && s[1] < 0xa0) return 0; /* C1 controls */
    return k;
}

int lk_colname_printable(const char *key, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n;) {
        size_t k = printable_len((const unsigned char *)key + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

size_t lk_colname_base(const char *key, size_t n, char *out)
{
    if (n == 0) {
        memcpy(out, "_empty", 7);
        return 6;
    }
    if (n <= LK_NAME_BASE && lk_colname_printable(key, n)) {
        memcpy(out, key, n);
        out[n] = 0;
        return n;
    }
    const size_t keep = LK_NAME_BASE - 9; /* room for "_" + 8 hex digits */
    size_t o = 0, i = 0;
    int cut = 0;
    while (i < n) {
        const unsigned char *s = (const unsigned char *)key + i;
        size_t k = printable_len(s, n - i);
        size_t w = k ? k : 4;
        if (o + w > LK_NAME_BASE) {
            cut = 1;
            break;
        }
        if (k) memcpy(out + o, s, k);
        else snprintf(out + o, 5, "\\x%02x", s[0]);
        o += w;
        i += k ? k : 1;
    }
    if (cut) { /* too long: a prefix of whole characters and the key's hash */
        while (o > keep) { /* drop whole characters / escapes from the end */
            size_t j = o - 1;
            while (j > 0 && ((unsigned char)out[j] & 0xc0) == 0x80) j--;
            if (j >= 3 && out[j - 3] == '\\' && out[j - 2] == 'x' && j + 1 == o) j -= 3;
            o = j;
        }
        o += (size_t)snprintf(out + o, 10, "_%08x", (unsigned)(XXH3_64bits(key, n) & 0xffffffffu));
    }
    out[o] = 0;
    return o;
}

/* ---- resolution ---------------------------------------------------------------------- */

int lk_names_resolve(const lk_names *m, const char *key, size_t n, char *out, size_t *outn)
{
    char base[LK_NAME_MAX + 1], cand[LK_NAME_MAX + 1];
    size_t bn = lk_colname_base(key, n, base);
    memcpy(cand, base, bn + 1);
    size_t cn = bn;
    for (int k = 1; k <= LK_NAME_TRIES + 1; k++) { /* base, base_2, ..., base_<TRIES + 1> */
        if (k > 1) cn = (size_t)snprintf(cand, sizeof cand, "%s_%d", base, k);
        const ent *e = find_folded(m, cand, cn);
        if (!e) {
            if (out) memcpy(out, cand, cn + 1);
            if (outn) *outn = cn;
            return -1;
        }
        if (e->idx >= 0 && (m->case_insensitive || (e->n == cn && !memcmp(e->name, cand, cn))))
            return e->idx;
    }
    if (out) out[0] = 0; /* every candidate taken: no column */
    if (outn) *outn = 0;
    return -1;
}

/* ---- names derived from a stream or table ------------------------------------------------ */

/* prefix + suffix into out[cap] (cap - 1 bytes at most): when it does not
 * fit, the prefix is cut and "-" / "_" + 8 hex digits of its hash added. */
static void derived(const char *prefix, const char *suffix, char sep, char *out, size_t cap)
{
    size_t pn = strlen(prefix), sn = strlen(suffix);
    assert(cap > sn + 10);
    size_t o = pn;
    if (pn + sn < cap) {
        memcpy(out, prefix, pn);
    } else {
        o = cap - 1 - sn - 9;
        memcpy(out, prefix, o);
        char h[16];
        snprintf(h, sizeof h, "%c%08x", sep, (unsigned)(XXH3_64bits(prefix, pn) & 0xffffffffu));
        memcpy(out + o, h, 9);
        o += 9;
    }
    memcpy(out + o, suffix, sn + 1);
}

void lk_errors_stream_name(const char *stream, char *out)
{
    /* never shortened: a hashed short form could equal another stream's own
     * name, and two writers would then share one journal */
    assert(strlen(stream) <= LK_STREAM_NAME_MAX);
    snprintf(out, LK_ERRORS_STREAM_MAX + 1, "%s.errors", stream);
}

void lk_errors_table_name(const char *table, char *out)
{
    derived(table, "_errors", '_', out, LK_TABLE_NAME_MAX + 1);
}
