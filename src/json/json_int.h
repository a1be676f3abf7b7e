/* json internals shared by the scanner files (not a public header). */
#ifndef SLUICE_JSON_INT_H
#define SLUICE_JSON_INT_H

#include "json/json.h"
#include "util/util.h"

struct js_parser {
    /* object walk */
    const char *buf;
    size_t len, pos;
    int state; /* 0 after '{', 1 after a value, 2 done, 3 after a key, 4 value handed out */
    int at;    /* begun with js_obj_begin_at: nothing checked after the '}' */
    /* scratch for unescaped strings: holds a whole record */
    char *scratch;
    size_t scratch_cap, scratch_len;
    size_t max_record;
    int max_depth;
    char *stack; /* container kinds while skipping nested values */
    /* array split */
    const char *abuf;
    size_t alen, apos;
    int astate; /* 0 after '[', 1 after an element, 2 done, 3 element handed out */
    int aat;    /* begun with js_array_begin_at */
    ut_errkind last_kind; /* of the last failure (js_error_kind) */
};

/* A cursor over one buffer. */
typedef struct js__cur {
    const char *s;
    size_t len, pos;
} js__cur;

static inline void js__ws(js__cur *c)
{
    while (c->pos < c->len) {
        char ch = c->s[c->pos];
        if (ch != ' ' && ch != '\n' && ch != '\r' && ch != '\t') break;
        c->pos++;
    }
}

/* Scan the string whose opening quote is at c->pos.  With dst == NULL only
 * validates.  Otherwise *out and *n receive the unescaped text: in place when
 * there were no escapes, else copied into p's scratch (*escaped = 1).
 * Leaves c->pos after the closing quote.  0 or -1 with a message. */
int js__string(js_parser *p, js__cur *c, int decode, const char **out, size_t *n, int *escaped,
               char *err, size_t errlen);
/* Scan a number at c->pos; decode into v when v != NULL.  0 or -1. */
int js__number(js__cur *c, js_value *v, char *err, size_t errlen);
/* Validate any value at c->pos (after whitespace); depth = nesting depth of
 * the enclosing container (0 at top level).  *kind (may be NULL) gets its
 * kind.  0 or -1. */
int js__skip(js_parser *p, js__cur *c, int depth, js_kind *kind, char *err, size_t errlen);
/* Error "<what> at byte N" / "unexpected end of record". */
int js__err_at(const js__cur *c, char *err, size_t errlen, const char *what);
/* Describe the byte at c->pos for messages ("'x'", "end of record"). */
const char *js__what(const js__cur *c, char *tmp);

#endif
