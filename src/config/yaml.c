/* config loader: walks libyaml's event stream against the tables of
 * table.c.  The walk's depth is the tables' depth (a value of the wrong
 * shape is an error at once), so hostile nesting costs nothing here; every
 * message is "file:line: key.path: what", and the first problem ends the load. */
#include "config/cf_int.h"
#include "util/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define AT(obj, off) ((char *)(obj) + (off))
#define MAX_FIELDS 64
#define PATH_LEN 512
#define MAX_NESTING 64 /* lists and mappings inside each other */

typedef struct walker {
    yaml_parser_t p;
    const char *file;
    const uint8_t *buf;
    size_t len;
    char *err;
    size_t errlen;
} walker;

static int line_of(const yaml_event_t *ev) { return (int)ev->start_mark.line + 1; }

/* "file:line: path: message".  Returns -1. */
static int werr(walker *w, int line, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int werr(walker *w, int line, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (path && path[0]) return ut_err(w->err, w->errlen, "%s:%d: %s: %s", w->file, line, path, msg);
    return ut_err(w->err, w->errlen, "%s:%d: %s", w->file, line, msg);
}

/* Text for a message: at most 40 bytes, unprintables as '?'. */
static const char *shown(char out[48], const char *v, size_t n)
{
    size_t m = n > 40 ? 37 : n, o = 0;
    for (size_t i = 0; i < m; i++)
        out[o++] = (unsigned char)v[i] < 0x20 || (unsigned char)v[i] == 0x7f ? '?' : v[i];
    if (m < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = 0;
    return out;
}

/* Next event; syntax errors, anchors, aliases and tags are errors. */
static int next(walker *w, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&w->p, ev)) {
        const yaml_parser_t *p = &w->p;
        size_t line = p->problem_mark.line, col = p->problem_mark.column;
        if (p->error == YAML_READER_ERROR) { /* marks unset: count lines up to the offset */
            line = col = 0;
            for (size_t i = 0; i < p->problem_offset && i < w->len; i++, col++)
                if (w->buf[i] == '\n') line++, col = (size_t)-1;
        }
        return ut_err(w->err, w->errlen, "%s:%zu:%zu: YAML syntax error: %s%s%s", w->file, line + 1,
                      col + 1, p->problem ? p->problem : "malformed input",
                      p->context ? " " : "", p->context ? p->context : "");
    }
    const yaml_char_t *anchor = NULL, *tag = NULL;
    if (ev->type == YAML_ALIAS_EVENT) {
        werr(w, line_of(ev), NULL, "YAML aliases (*name) are not supported; write the value out");
        goto fail;
    }
    if (ev->type == YAML_SCALAR_EVENT) {
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
    } else if (ev->type == YAML_SEQUENCE_START_EVENT) {
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
    } else if (ev->type == YAML_MAPPING_START_EVENT) {
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
    }
    if (anchor) {
        werr(w, line_of(ev), NULL, "YAML anchors (&name) are not supported; write the value out");
        goto fail;
    }
    if (tag) {
        werr(w, line_of(ev), NULL, "YAML tags (!tag) are not supported");
        goto fail;
    }
    return 0;
fail:
    yaml_event_delete(ev);
    return -1;
}

static int is_null(const yaml_event_t *ev)
{
    if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    return n == 0 || (n == 1 && v[0] == '~') ||
           (n == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4)));
}

/* What a value of the wrong shape is, for "expected X, got Y". */
static const char *got(const yaml_event_t *ev, char q[64])
{
    if (ev->type == YAML_MAPPING_START_EVENT) return "a mapping";
    if (ev->type == YAML_SEQUENCE_START_EVENT) return "a list";
    if (is_null(ev)) return "an empty value";
    char s[48];
    snprintf(q, 64, "'%s'", shown(s, (const char *)ev->data.scalar.value, ev->data.scalar.length));
    return q;
}

static void join(char out[PATH_LEN], const char *path, const char *key)
{
    size_t o = 0;
    for (const char *s = path; *s && o < PATH_LEN - 1; s++) out[o++] = *s;
    if (path[0] && o < PATH_LEN - 1) out[o++] = '.';
    for (const char *s = key; *s && o < PATH_LEN - 1; s++) out[o++] = *s;
    out[o] = 0;
}

/* A table (other than t) below root declaring key, for "it belongs under". */
static const char *owner_of(const cf__table *root, const cf__table *t, const char *key)
{
    for (const cf__field *f = root->fields; f->name; f++) {
        if (root != t && !strcmp(f->name, key)) return root->path[0] ? root->path : "the top level";
        if (f->sub) {
            const char *o = owner_of(f->sub, t, key);
            if (o) return o;
        }
    }
    return NULL;
}

static int unknown_key(walker *w, const cf__table *t, const char *key, size_t n, int line,
                       const char *path)
{
    char s[48];
    const char *best = NULL;
    int bestd = 1 << 30;
    size_t kl = strlen(key);
    for (const cf__field *f = t->fields; f->name; f++) {
        int d = cf__edit_distance(key, f->name), fl = (int)strlen(f->name);
        int limit = fl / 3 < 1 ? 1 : fl / 3 > 3 ? 3 : fl / 3;
        if (d <= limit && d < bestd) best = f->name, bestd = d;
    }
    for (const cf__field *f = t->fields; !best && f->name; f++) {
        size_t fl = strlen(f->name), m = kl < fl ? kl : fl;
        if (m >= 4 && !strncmp(key, f->name, m)) best = f->name;
    }
    if (best)
        return werr(w, line, path, "unknown key '%s' (did you mean '%s'?)", shown(s, key, n), best);
    const char *o = kl == n ? owner_of(&cf__root, t, key) : NULL;
    if (o) return werr(w, line, path, "unknown key '%s' here (it belongs under %s)", key, o);
    return werr(w, line, path, "unknown key '%s'", shown(s, key, n));
}

static int walk_map(walker *w, const cf__table *t, void *obj, const char *path, int line);
static int walk_named(walker *w, const cf__field *f, void *obj, const char *path);

/* An identifier: [A-Za-z_][A-Za-z0-9_]*, 1..64 bytes. */
static int is_ident(const char *s, size_t n)
{
    if (n == 0 || n > 64 || (s[0] >= '0' && s[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == '_' || (s[i] >= '0' && s[i] <= '9') || ((s[i] | 0x20) >= 'a' &&
                                                                (s[i] | 0x20) <= 'z')))
            return 0;
    return 1;
}

/* A mapping of identifiers to scalars (MAPPING_START already read). */
static int walk_strmap(walker *w, const cf__field *f, void *obj, const char *path)
{
    cf_strmap *m = (cf_strmap *)AT(obj, f->offset);
    char q[64];
    yaml_event_t k, v;
    for (;;) {
        if (next(w, &k)) return -1;
        if (k.type == YAML_MAPPING_END_EVENT) break;
        int kl = line_of(&k), rc = -1;
        const char *key = (const char *)k.data.scalar.value;
        size_t n = k.type == YAML_SCALAR_EVENT ? k.data.scalar.length : 0;
        if (k.type != YAML_SCALAR_EVENT || !is_ident(key, n)) {
            werr(w, kl, path, "names must be identifiers ([A-Za-z_][A-Za-z0-9_]*, at most 64), "
                              "got %s", got(&k, q));
        } else if (cf_strmap_get(m, key)) {
            werr(w, kl, path, "duplicate name '%s'", key);
        } else if (m->n >= f->max) {
            werr(w, kl, path, "more than %lld entries (the limit)", (long long)f->max);
        } else if (next(w, &v) == 0) {
            if (v.type != YAML_SCALAR_EVENT || v.data.scalar.length > CF_MAX_STRING ||
                memchr(v.data.scalar.value, 0, v.data.scalar.length)) {
                werr(w, line_of(&v), path, "%s: expected a plain value of at most %d bytes, got "
                     "%s", key, CF_MAX_STRING, got(&v, q));
            } else {
                m->k = ut_realloc(m->k, sizeof(char *) * (size_t)(m->n + 1));
                m->v = ut_realloc(m->v, sizeof(char *) * (size_t)(m->n + 1));
                m->k[m->n] = ut_strndup(key, n);
                m->v[m->n++] = ut_strndup((const char *)v.data.scalar.value, v.data.scalar.length);
                rc = 0;
            }
            yaml_event_delete(&v);
        }
        yaml_event_delete(&k);
        if (rc) return -1;
    }
    yaml_event_delete(&k);
    return 0;
}

/* The value of field f (its first event is ev, owned by the caller). */
static int walk_value(walker *w, const cf__field *f, void *obj, yaml_event_t *ev, const char *path)
{
    char msg[400], q[64];
    int line = line_of(ev);
    yaml_event_t item;
    switch (f->type) {
    case CF_SECTION:
        if (f->sub->line_offset && (ev->type == YAML_MAPPING_START_EVENT || is_null(ev)))
            *(int *)AT(AT(obj, f->offset), f->sub->line_offset) = line; /* it was given */
        if (ev->type == YAML_MAPPING_START_EVENT)
            return walk_map(w, f->sub, AT(obj, f->offset), path, line);
        if (is_null(ev)) return 0;
        break;
    case CF_MAP:
        if (ev->type == YAML_MAPPING_START_EVENT) return walk_named(w, f, obj, path);
        if (is_null(ev)) return 0;
        break;
    case CF_STRLIST:
        if (is_null(ev)) return 0;
        if (ev->type != YAML_SEQUENCE_START_EVENT) break;
        for (;;) {
            if (next(w, &item)) return -1;
            if (item.type == YAML_SEQUENCE_END_EVENT) break;
            int il = line_of(&item);
            if (item.type != YAML_SCALAR_EVENT || is_null(&item)) {
                werr(w, il, path, "list items must be plain values, got %s", got(&item, q));
                yaml_event_delete(&item);
                return -1;
            }
            int rc = cf__set_scalar(f, obj, (const char *)item.data.scalar.value,
                                    item.data.scalar.length, msg, sizeof msg);
            yaml_event_delete(&item);
            if (rc) return werr(w, il, path, "%s", msg);
        }
        yaml_event_delete(&item);
        return 0;
    case CF_STRMAP:
        if (is_null(ev)) return 0;
        if (ev->type == YAML_MAPPING_START_EVENT) return walk_strmap(w, f, obj, path);
        break;
    default:
        if (ev->type != YAML_SCALAR_EVENT || is_null(ev)) break;
        if (cf__set_scalar(f, obj, (const char *)ev->data.scalar.value, ev->data.scalar.length, msg,
                           sizeof msg))
            return werr(w, line, path, "%s", msg);
        return 0;
    }
    if (f->type == CF_STRLIST && ev->type == YAML_SCALAR_EVENT) /* token lists: never echo */
        return werr(w, line, path, "expected %s, got a single value (write it as [value])",
                    cf__types[f->type].expected);
    return werr(w, line, path, "expected %s, got %s", cf__types[f->type].expected, got(ev, q));
}

/* A mapping (its MAPPING_START, at line, already read) against table t. */
static int walk_map(walker *w, const cf__table *t, void *obj, const char *path, int line)
{
    int seen[MAX_FIELDS] = {0};
    char sub[PATH_LEN], msg[400], q[64];
    yaml_event_t k, v;
    for (;;) {
        if (next(w, &k)) return -1;
        if (k.type == YAML_MAPPING_END_EVENT) break;
        int kl = line_of(&k);
        if (k.type != YAML_SCALAR_EVENT) {
            werr(w, kl, path, "keys must be plain strings, got %s", got(&k, q));
            goto fail;
        }
        const char *key = (const char *)k.data.scalar.value;
        size_t n = k.data.scalar.length;
        const cf__field *f = t->fields;
        int i = 0;
        for (; f->name && !(strlen(f->name) == n && !memcmp(f->name, key, n)); f++, i++) {
        }
        if (!f->name) {
            unknown_key(w, t, key, n, kl, path);
            goto fail;
        }
        if (i < MAX_FIELDS && seen[i]) {
            werr(w, kl, path, "duplicate key '%s' (first at line %d)", f->name, seen[i]);
            goto fail;
        }
        if (i < MAX_FIELDS) seen[i] = kl;
        yaml_event_delete(&k);
        join(sub, path, f->name);
        if (next(w, &v)) return -1;
        int rc = walk_value(w, f, obj, &v, sub);
        yaml_event_delete(&v);
        if (rc) return -1;
    }
    yaml_event_delete(&k);
    if (t->check && t->check(obj, msg, sizeof msg)) return werr(w, line, path, "%s", msg);
    return 0;
fail:
    yaml_event_delete(&k);
    return -1;
}

static int cmp_named(const void *a, const void *b, void *name_offset)
{
    size_t off = *(const size_t *)name_offset;
    return strcmp((const char *)a + off, (const char *)b + off);
}

/* A mapping of names to structs of f->sub (MAPPING_START already read). */
static int walk_named(walker *w, const cf__field *f, void *obj, const char *path)
{
    const cf__table *t = f->sub;
    char **items = (char **)AT(obj, f->offset);
    int *count = (int *)AT(obj, f->count_offset);
    int *lines = NULL, rc = -1;
    char sub[PATH_LEN], msg[400], q[64];
    yaml_event_t k, v;
    for (;;) {
        if (next(w, &k)) goto out;
        if (k.type == YAML_MAPPING_END_EVENT) break;
        int kl = line_of(&k);
        if (k.type != YAML_SCALAR_EVENT) {
            werr(w, kl, path, "names must be plain strings, got %s", got(&k, q));
            goto fail;
        }
        const char *name = (const char *)k.data.scalar.value;
        size_t n = k.data.scalar.length;
        if (ut_name_check(t->name_kind, name, n, msg, sizeof msg)) {
            werr(w, kl, path, "%s", msg);
            goto fail;
        }
        for (int i = 0; i < *count; i++)
            if (!strcmp(*items + (size_t)i * t->size + t->name_offset, name)) {
                werr(w, kl, path, "duplicate name '%s' (first at line %d)", name, lines[i]);
                goto fail;
            }
        if (*count >= f->max) {
            werr(w, kl, path, "more than %lld entries (the limit)", (long long)f->max);
            goto fail;
        }
        *items = ut_realloc(*items, t->size * (size_t)(*count + 1));
        lines = ut_realloc(lines, sizeof(int) * (size_t)(*count + 1));
        char *elem = *items + (size_t)*count * t->size;
        memset(elem, 0, t->size);
        cf__apply_defaults(t, elem);
        memcpy(elem + t->name_offset, name, n + 1);
        if (t->line_offset) *(int *)(elem + t->line_offset) = kl;
        lines[(*count)++] = kl;
        yaml_event_delete(&k);
        join(sub, path, elem + t->name_offset);
        if (next(w, &v)) goto out;
        int r = 0;
        if (v.type == YAML_MAPPING_START_EVENT) r = walk_map(w, t, elem, sub, line_of(&v));
        else if (!is_null(&v))
            r = werr(w, line_of(&v), sub, "expected %s, got %s", cf__types[CF_SECTION].expected,
                     got(&v, q));
        yaml_event_delete(&v);
        if (r) goto out;
    }
    yaml_event_delete(&k);
    if (*count > 1) {
        size_t off = t->name_offset;
        qsort_r(*items, (size_t)*count, t->size, cmp_named, &off);
    }
    rc = 0;
    goto out;
fail:
    yaml_event_delete(&k);
out:
    free(lines);
    return rc;
}

/* The document: empty, or one mapping at the top. */
static int walk_doc(walker *w, cf_config *c)
{
    yaml_event_t ev;
    char q[64];
    if (next(w, &ev)) return -1; /* STREAM_START */
    yaml_event_delete(&ev);
    if (next(w, &ev)) return -1;
    if (ev.type == YAML_STREAM_END_EVENT) goto done;
    yaml_event_delete(&ev); /* DOCUMENT_START */
    if (next(w, &ev)) return -1;
    int rc = 0;
    if (ev.type == YAML_MAPPING_START_EVENT) rc = walk_map(w, &cf__root, c, "", line_of(&ev));
    else if (!is_null(&ev))
        rc = werr(w, line_of(&ev), NULL,
                  "expected a mapping of keys at the top level (like 'listen: 127.0.0.1:8080'), "
                  "got %s",
                  got(&ev, q));
    yaml_event_delete(&ev);
    if (rc) return -1;
    if (next(w, &ev)) return -1; /* DOCUMENT_END */
    yaml_event_delete(&ev);
    if (next(w, &ev)) return -1;
    if (ev.type != YAML_STREAM_END_EVENT) {
        werr(w, line_of(&ev), NULL, "only one YAML document is allowed (remove the second '---')");
        yaml_event_delete(&ev);
        return -1;
    }
done:
    yaml_event_delete(&ev);
    return 0;
}

cf_config *cf_load_mem(const void *buf, size_t len, const char *name, char *err, size_t errlen)
{
    walker w = {.file = name, .buf = buf, .len = len, .err = err, .errlen = errlen};
    cf_config *c = ut_calloc(1, sizeof *c);
    int parser = 0;
    cf__apply_defaults(&cf__root, c);
    c->file = ut_strdup(name);
    if (len > CF_MAX_FILE_BYTES) {
        ut_err(err, errlen, "%s: file is bigger than %d bytes (the limit for config files)", name,
               CF_MAX_FILE_BYTES);
        goto fail;
    }
    if (!yaml_parser_initialize(&w.p)) {
        ut_err(err, errlen, "%s: cannot initialise the YAML parser", name);
        goto fail;
    }
    parser = 1;
    /* Pass 1: syntax (and refused YAML features) over the whole file, so a
     * syntax error is reported as such even where the walk would first trip
     * over the half-parsed value.  Nesting is capped here: libyaml's scanner
     * walks every open flow level for every token, so 100000 '[' cost 40 s;
     * refused at MAX_NESTING they cost the first few KB. */
    yaml_parser_set_input_string(&w.p, buf, len);
    for (int depth = 0;;) {
        yaml_event_t ev;
        if (next(&w, &ev)) goto fail;
        yaml_event_type_t t = ev.type;
        int line = line_of(&ev);
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT) break;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) depth++;
        if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) depth--;
        if (depth > MAX_NESTING) {
            werr(&w, line, NULL, "lists and mappings nest deeper than %d levels", MAX_NESTING);
            goto fail;
        }
    }
    yaml_parser_delete(&w.p);
    parser = 0;
    /* Pass 2: the walk against the tables. */
    if (!yaml_parser_initialize(&w.p)) {
        ut_err(err, errlen, "%s: cannot initialise the YAML parser", name);
        goto fail;
    }
    parser = 1;
    yaml_parser_set_input_string(&w.p, buf, len);
    if (walk_doc(&w, c)) goto fail;
    yaml_parser_delete(&w.p);
    return c;
fail:
    if (parser) yaml_parser_delete(&w.p);
    cf_destroy(c);
    return NULL;
}
