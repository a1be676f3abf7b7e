/* sluice console export|import: the YAML side.  Export writes each object's
 * spec as YAML: strings double-quoted (JSON's escapes are YAML's), the SQL
 * as a literal block when that keeps it exactly, arrays and objects in flow
 * style (JSON with spaces).  Import reads any YAML (libyaml) into a tree
 * and writes it as JSON: quoted scalars are strings; plain ones null, true,
 * false, a JSON number, or a string.  Caps: CLI_YAML_MAX_BYTES of input,
 * depth 32, 200000 nodes; anchors and aliases are refused. */
#include "cli/cli.h"
#include "json/json.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 32
#define MAX_NODES 200000

void cli_yaml_node_free(cli_yaml_node *n)
{
    if (!n) return;
    for (int i = 0; i < n->n; i++) cli_yaml_node_free(n->kids[i]);
    free(n->kids);
    free(n->text);
    free(n);
}

typedef struct walk {
    yaml_parser_t p;
    int nodes;
    char *err;
    size_t errlen;
} walk;

static int next(walk *w, yaml_event_t *e)
{
    if (!yaml_parser_parse(&w->p, e))
        return ut_err(w->err, w->errlen, "YAML: %s at line %zu", w->p.problem ? w->p.problem : "error",
                      w->p.problem_mark.line + 1);
    return 0;
}

static cli_yaml_node *node(walk *w, yaml_event_t *e, int depth);

static cli_yaml_node *collection(walk *w, cli_yaml_node *n, yaml_event_type_t end, int depth)
{
    for (;;) {
        yaml_event_t e;
        if (next(w, &e)) goto fail;
        if (e.type == end) {
            yaml_event_delete(&e);
            return n;
        }
        cli_yaml_node *k = node(w, &e, depth + 1);
        yaml_event_delete(&e);
        if (!k) goto fail;
        n->kids = ut_realloc(n->kids, (size_t)(n->n + 1) * sizeof *n->kids);
        n->kids[n->n++] = k;
    }
fail:
    cli_yaml_node_free(n);
    return NULL;
}

static cli_yaml_node *node(walk *w, yaml_event_t *e, int depth)
{
    if (depth > MAX_DEPTH || ++w->nodes > MAX_NODES) {
        ut_err(w->err, w->errlen, "YAML: more than %d levels or %d values", MAX_DEPTH, MAX_NODES);
        return NULL;
    }
    cli_yaml_node *n = ut_calloc(1, sizeof *n);
    if (e->type == YAML_SCALAR_EVENT) {
        n->kind = CLI_YAML_SCALAR;
        n->text = ut_strndup((const char *)e->data.scalar.value, e->data.scalar.length);
        n->len = e->data.scalar.length;
        n->quoted = e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        return n;
    }
    if (e->type == YAML_SEQUENCE_START_EVENT) {
        n->kind = CLI_YAML_SEQ;
        return collection(w, n, YAML_SEQUENCE_END_EVENT, depth);
    }
    if (e->type == YAML_MAPPING_START_EVENT) {
        n->kind = CLI_YAML_MAP;
        return collection(w, n, YAML_MAPPING_END_EVENT, depth);
    }
    free(n);
    ut_err(w->err, w->errlen, "YAML: anchors and aliases are not supported (line %zu)", e->start_mark.line + 1);
    return NULL;
}

cli_yaml_node *cli_yaml_parse(const char *buf, size_t len, char *err, size_t errlen)
{
    if (len > CLI_YAML_MAX_BYTES) {
        ut_err(err, errlen, "YAML: over %d bytes", CLI_YAML_MAX_BYTES);
        return NULL;
    }
    walk w = {.err = err, .errlen = errlen};
    if (!yaml_parser_initialize(&w.p)) {
        ut_err(err, errlen, "YAML: cannot start the parser");
        return NULL;
    }
    yaml_parser_set_input_string(&w.p, (const unsigned char *)buf, len);
    cli_yaml_node *root = NULL;
    yaml_event_t e;
    int ok = 1;
    while (ok && !next(&w, &e)) {
        yaml_event_type_t t = e.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&e);
            break;
        }
        if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT ||
            t == YAML_ALIAS_EVENT) {
            if (root) {
                ut_err(err, errlen, "YAML: more than one document");
                ok = 0;
            } else if (!(root = node(&w, &e, 0))) {
                ok = 0;
            }
        }
        yaml_event_delete(&e);
    }
    if (!ok || (w.p.error != YAML_NO_ERROR)) {
        if (w.p.error != YAML_NO_ERROR && ok)
            ut_err(err, errlen, "YAML: %s at line %zu", w.p.problem ? w.p.problem : "error", w.p.problem_mark.line + 1);
        cli_yaml_node_free(root);
        root = NULL;
    } else if (!root) {
        ut_err(err, errlen, "YAML: empty document");
    }
    yaml_parser_delete(&w.p);
    return root;
}

static int is_number(const char *s)
{
    size_t n = strlen(s); /* js_validate allows a BOM and spaces around: they are no number here */
    if (!n || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) || s[n - 1] < '0' || s[n - 1] > '9') return 0;
    js_parser *p = js_parser_create(0, 1);
    js_kind k;
    char e[64];
    int ok = *s && js_validate(p, s, strlen(s), &k, e, sizeof e) == 0 && (k == JS_INT || k == JS_DOUBLE);
    js_parser_destroy(p);
    return ok;
}

void cli_yaml_to_json(const cli_yaml_node *n, ut_buf *b)
{
    if (n->kind == CLI_YAML_SCALAR) {
        const char *t = n->text;
        if (!n->quoted && (!*t || !strcmp(t, "~") || !strcmp(t, "null"))) ut_buf_puts(b, "null");
        else if (!n->quoted && (!strcmp(t, "true") || !strcmp(t, "false"))) ut_buf_puts(b, t);
        else if (!n->quoted && is_number(t)) ut_buf_puts(b, t);
        else ut_json_str(b, t, n->len);
        return;
    }
    int map = n->kind == CLI_YAML_MAP;
    ut_buf_putc(b, map ? '{' : '[');
    for (int i = 0; i < n->n; i++) {
        if (i) ut_buf_putc(b, map && i % 2 ? ':' : ',');
        const cli_yaml_node *k = n->kids[i];
        if (map && i % 2 == 0 && k->kind == CLI_YAML_SCALAR) ut_json_str(b, k->text, k->len);
        else if (map && i % 2 == 0) ut_buf_puts(b, "\"?\"");
        else cli_yaml_to_json(k, b);
    }
    if (map && n->n % 2) ut_buf_puts(b, ":null");
    ut_buf_putc(b, map ? '}' : ']');
}

const cli_yaml_node *cli_yaml_get(const cli_yaml_node *map, const char *key)
{
    if (!map || map->kind != CLI_YAML_MAP) return NULL;
    for (int i = 0; i + 1 < map->n; i += 2)
        if (map->kids[i]->kind == CLI_YAML_SCALAR && !strcmp(map->kids[i]->text, key)) return map->kids[i + 1];
    return NULL;
}

/* YAML breaks lines at NEL, LS and PS (U+0085, U+2028, U+2029) even inside
 * quotes: 1 with the length of one at s, else 0. */
static size_t yaml_break(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n >= 2 && u[0] == 0xc2 && u[1] == 0x85) return 2;
    if (n >= 3 && u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9)) return 3;
    return 0;
}

/* The escape of the break of length k at s. */
static void yaml_str_break(ut_buf *b, const char *s, size_t k)
{
    ut_buf_puts(b, k == 2 ? "\\u0085" : s[2] == (char)0xa8 ? "\\u2028" : "\\u2029");
}

/* s as a double-quoted YAML scalar: JSON's escapes, and \u0085, \u2028 and
 * \u2029 for the characters YAML breaks lines at. */
static void yaml_str(ut_buf *b, const char *s, size_t n)
{
    ut_buf q = {0};
    ut_json_str(&q, s, n);
    const char *t = (const char *)q.p;
    for (size_t i = 0; i < q.len;) {
        size_t k = yaml_break(t + i, q.len - i);
        if (k) yaml_str_break(b, t + i, k);
        else ut_buf_putc(b, (uint8_t)t[i]);
        i += k ? k : 1;
    }
    ut_buf_free(&q);
}

/* JSON text with a space after each ',' and ':' outside strings (YAML flow). */
static void flow(ut_buf *b, const char *s, size_t n)
{
    int in = 0, esc = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        size_t k = in ? yaml_break(s + i, n - i) : 0;
        if (k) {
            yaml_str_break(b, s + i, k);
            i += k - 1;
            continue;
        }
        ut_buf_putc(b, (uint8_t)c);
        if (in) {
            if (esc) esc = 0;
            else if (c == '\\') esc = 1;
            else if (c == '"') in = 0;
        } else if (c == '"') {
            in = 1;
        } else if (c == ',' || c == ':') {
            ut_buf_putc(b, ' ');
        }
    }
}

/* Can s be a literal block (|- or |) at this indent and read back the same? */
static int block_ok(const char *s, size_t n)
{
    if (!n || s[0] == ' ' || s[0] == '\n' || memchr(s, '\r', n) || memchr(s, '\t', n)) return 0;
    if (n >= 2 && s[n - 1] == '\n' && s[n - 2] == '\n') return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\n') || yaml_break(s + i, n - i)) return 0;
        if ((c == ' ' && (i + 1 == n || s[i + 1] == '\n'))) return 0; /* trailing spaces */
    }
    return !memchr(s, 0, n);
}

int cli_yaml_spec(ut_buf *b, const char *spec, size_t n, const char *indent, char *err, size_t errlen)
{
    js_parser *p = js_parser_create(0, 64);
    js_field f;
    int rc = js_obj_begin(p, spec, n, err, errlen) ? -1 : 1;
    while (rc == 1 && (rc = js_obj_next(p, &f, err, errlen)) == 1) {
        ut_buf_printf(b, "%s", indent);
        size_t plain = 0;
        while (plain < f.key_len && (f.key[plain] == '_' || (f.key[plain] >= 'a' && f.key[plain] <= 'z'))) plain++;
        if (plain && plain == f.key_len) ut_buf_put(b, f.key, f.key_len);
        else yaml_str(b, f.key, f.key_len);
        ut_buf_puts(b, ":");
        if (f.v.kind == JS_STRING && f.v.n > 40 && memchr(f.v.s, '\n', f.v.n) && block_ok(f.v.s, f.v.n)) {
            int nl = f.v.s[f.v.n - 1] == '\n';
            ut_buf_puts(b, nl ? " |\n" : " |-\n");
            size_t start = 0;
            for (size_t i = 0; i <= f.v.n; i++) {
                if (i < f.v.n && f.v.s[i] != '\n') continue;
                if (i > start || !(nl && i == f.v.n)) {
                    if (i > start) ut_buf_printf(b, "%s  ", indent);
                    ut_buf_put(b, f.v.s + start, i - start);
                    if (!(nl && i == f.v.n)) ut_buf_putc(b, '\n');
                }
                start = i + 1;
            }
        } else if (f.v.kind == JS_STRING) {
            ut_buf_putc(b, ' ');
            yaml_str(b, f.v.s, f.v.n);
            ut_buf_putc(b, '\n');
        } else {
            ut_buf_putc(b, ' ');
            flow(b, f.v.s, f.v.n);
            ut_buf_putc(b, '\n');
        }
    }
    js_parser_destroy(p);
    return rc < 0 ? -1 : 0;
}
