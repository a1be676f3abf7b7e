/* xform — per-stream record transforms (the Firehose Lambda, declared).
 *
 * Prefix: xf_.  A stream's `transform:` section (docs/ingest.md#transforms)
 * compiles into an immutable program that every ingest thread applies to
 * each valid record before it is journaled.  The steps run in this fixed
 * order on the record's top-level keys:
 *
 *   lowercase_keys ──► rename ──► require ──► drop_where / keep_where
 *        ──► drop ──► set ──► the record (unchanged bytes if nothing changed)
 *
 * Each record comes out KEEP (journal the original bytes), CHANGED (journal
 * the rewritten object), DROP (a filter said so: acknowledged, counted, not
 * journaled) or FAIL (the transform cannot be applied: the record goes to
 * the errors stream with the reason; the records beside it are unaffected).
 *
 * Predicates (drop_where, keep_where) are a small boolean language:
 *
 *   expr   := and ('or' and)*          and := unary ('and' unary)*
 *   unary  := 'not' unary | '(' expr ')' | term
 *   term   := key op literal | key 'in' '(' literal (',' literal)* ')'
 *           | key 'exists' | key 'missing' | key 'is' ['not'] 'null'
 *   key    := [A-Za-z0-9_$@.-]+ | "quoted" ("" inside for ")
 *   op     := = == != <> < <= > >=     literal := number | 'text' | true | false
 *
 * Keywords are case-insensitive.  A comparison with a missing or null key
 * is false.  Numbers compare as numbers (exactly when both are integers),
 * strings bytewise, booleans only with = and !=.  Comparing values of
 * different types (a string key with a number) fails the record: that is
 * the transform failing, not a filter decision.
 *
 * Threading: a program is read-only after xf_compile and may be shared by
 * any number of threads; each thread applies it through its own xf_run. */
#ifndef SLUICE_XFORM_H
#define SLUICE_XFORM_H

#include "util/util.h"

#include <stddef.h>

#define XF_MAX_EXPR 1024   /* bytes of one predicate */
#define XF_MAX_NODES 64    /* terms + operators of one predicate */
#define XF_MAX_IN 64       /* literals of one IN list */
#define XF_MAX_STEPS 256   /* entries of each step list */
#define XF_MAX_FIELDS 4096 /* top-level keys of a record a transform walks */

/* A transform as declared (strings owned by the caller, read during
 * xf_compile only).  set values are JSON literals when they parse as a
 * number, true, false, null, or a "quoted string"; otherwise the text is a
 * string. */
typedef struct xf_spec {
    int lowercase_keys;
    const char *const *rename_from, *const *rename_to;
    int nrename;
    const char *const *require;
    int nrequire;
    const char *const *drop_where;
    int ndrop_where;
    const char *const *keep_where;
    int nkeep_where;
    const char *const *drop;
    int ndrop;
    const char *const *set_key, *const *set_value;
    int nset;
} xf_spec;

typedef struct xf_program xf_program;

/* Compile a spec.  Returns NULL with e (UT_EINVAL) naming the step and entry
 * ("drop_where[2]: expected an operator after 'cost' at character 6") when
 * it is invalid, or when it has no steps at all. */
xf_program *xf_compile(const xf_spec *s, ut_error *e);
/* Accepts NULL. */
void xf_destroy(xf_program *x);
/* Check one predicate's text (config validation).  0, or -1 with a message. */
int xf_check_predicate(const char *text, char *msg, size_t msglen);

typedef enum xf_result { XF_KEEP = 0, XF_CHANGED, XF_DROP, XF_FAIL } xf_result;

/* One thread's working state: a JSON walker, the record's fields, the
 * output.  max_record caps a rewritten record (0 = 1 MiB). */
typedef struct xf_run xf_run;
xf_run *xf_run_create(const xf_program *x, size_t max_record, int max_depth);
void xf_run_destroy(xf_run *r);

/* Apply the program to rec[0..n), a valid JSON object.  XF_CHANGED sets
 * *out and *outn to the new record (valid until the next call on r); XF_FAIL
 * sets msg to the reason ("required key 'user_id' is missing"). */
xf_result xf_apply(xf_run *r, const char *rec, size_t n, const char **out, size_t *outn,
                   char *msg, size_t msglen);

#endif
