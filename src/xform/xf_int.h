/* xform internals shared by pred.c (predicates) and xform.c (the steps). */
#ifndef SLUICE_XF_INT_H
#define SLUICE_XF_INT_H

#include "json/json.h"
#include "xform/xform.h"

#include <stdint.h>

typedef enum xf__lit_kind { XF_LIT_INT, XF_LIT_DBL, XF_LIT_STR, XF_LIT_BOOL } xf__lit_kind;

typedef struct xf__lit {
    xf__lit_kind kind;
    int64_t i;
    double d;
    int b;
    uint32_t s, n; /* XF_LIT_STR: offset/length in the predicate's text arena */
} xf__lit;

typedef enum xf__node_kind {
    XF_N_AND,
    XF_N_OR,
    XF_N_NOT,
    XF_N_CMP,     /* key op lit */
    XF_N_IN,      /* key in (lits) */
    XF_N_EXISTS,  /* key exists (null counts as present) */
    XF_N_MISSING,
    XF_N_ISNULL,  /* present and null */
    XF_N_NOTNULL  /* present and not null */
} xf__node_kind;

typedef enum xf__op { XF_EQ, XF_NE, XF_LT, XF_LE, XF_GT, XF_GE } xf__op;

typedef struct xf__node {
    xf__node_kind kind;
    int a, b;          /* children (AND/OR: both; NOT: a) */
    xf__op op;
    uint32_t key, key_len; /* in the arena */
    int lit, nlit;     /* first literal and count (CMP: 1) */
} xf__node;

typedef struct xf__pred {
    xf__node nodes[XF_MAX_NODES];
    int nnodes, root;
    xf__lit lits[XF_MAX_NODES + XF_MAX_IN];
    int nlits;
    char arena[XF_MAX_EXPR + 1]; /* keys and string literals, unquoted */
    uint32_t arena_len;
} xf__pred;

/* Parse text into *p.  0, or -1 with a message naming the character. */
int xf__pred_parse(const char *text, xf__pred *p, char *msg, size_t msglen);

/* Finds a key's current value in the record being transformed: NULL when
 * the record has no such key. */
typedef const js_value *(*xf__lookup)(void *ctx, const char *key, size_t n);

/* Evaluate: 1 true, 0 false, -1 the record cannot be compared (msg says
 * which key and why). */
int xf__pred_eval(const xf__pred *p, xf__lookup get, void *ctx, char *msg, size_t msglen);

#endif
