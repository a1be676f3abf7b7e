/* convert internals (not a public header). */
#ifndef SLUICE_CV_INT_H
#define SLUICE_CV_INT_H

#include "convert/convert.h"
#include "json/json.h"
#include "util/util.h"

/* inference kind bits */
enum { K_NULL = 1, K_BOOL = 2, K_INT = 4, K_DOUBLE = 8, K_TS = 16, K_STR = 32, K_NESTED = 64 };

typedef struct cv__col {
    char *name;
    size_t len;
    pq_type type;
    int required;
    unsigned kinds; /* inference */
} cv__col;

struct cv_schema {
    cv__col *c;
    int n, cap;
    int32_t *hash; /* open addressing: column index + 1, 0 = empty */
    size_t hcap;   /* power of two */
    int hint[256]; /* column of field position i in the last record, + 1 */
};

/* Append a column (name copied); -1 if it exists or the cap is reached. */
int cv__add(cv_schema *s, const char *name, size_t n, pq_type type, int required);
/* Find using the field position hint first (pos < 256 checks hint[pos]). */
int cv__find_at(cv_schema *s, const char *name, size_t n, int pos);

/* Text parsing shared by inference and the write pass. */
int cv__parse_int(const char *s, size_t n, int64_t *v);   /* 0 or -1 */
int cv__parse_double(const char *s, size_t n, double *v); /* 0 or -1 */
int cv__parse_bool(const char *s, size_t n, int *v);      /* 0 or -1 */
/* Cheap pre-check then ut_ts_parse. */
int cv__is_ts(const char *s, size_t n);

/* Speculative inference during the write pass: the kind bits a value would
 * add to its column (0 = none), and applying them: cv__apply_kinds returns 1
 * when the column's inferred type changes (the schema being written is then
 * not what whole-input inference gives). */
unsigned cv__track_json(const cv__col *c, const js_value *v);
unsigned cv__track_text(const cv__col *c, const char *s, size_t n, int quoted);
int cv__apply_kinds(cv__col *c, unsigned k);

/* Write pass: put one JSON value / one text field into column col of w.
 * Returns 0, or -1 with the reason in why. */
struct pq_writer;
int cv__put_json(pq_writer *w, int col, const cv__col *c, const js_value *v, char *why,
                 size_t whylen);
int cv__put_text(pq_writer *w, int col, const cv__col *c, const char *s, size_t n, int quoted,
                 char *why, size_t whylen);

#endif
