/* mask — value masks for data leaving a source database (snapshots,
 * docs/snapshots.md "Masking").
 *
 * Prefix: mk_.  A mask turns one text value into another, or into NULL:
 *
 *   hash          HMAC-SHA256(key, value) as 64 lowercase hex digits: the
 *                 same value gives the same text in every run, table and
 *                 job that uses the same key, so masked columns still join;
 *                 without the key nobody can test a guess
 *   null          NULL
 *   redact        a fixed text ("redact" alone: "***")
 *   truncate:N    the first N characters (UTF-8 code points; a broken byte
 *                 counts as one), N in 0 .. 1,000,000
 *   email_domain  what follows the last '@' ("ann@x.org" -> "x.org"); a
 *                 value without '@' or with nothing after it becomes NULL
 *   regex         every match of a POSIX extended regular expression
 *                 replaced by a template in which \0..\9 are the match and
 *                 its groups and \\ is a backslash
 *
 * Text forms (config, mk_parse): "hash", "null", "redact", "redact:TEXT",
 * "truncate:N", "email_domain", "regex:PATTERN=>REPLACEMENT" (the first
 * "=>" splits them).  NULL in gives NULL out for every mask.
 *
 * Threading: a mask is immutable after mk_create and may be applied from
 * many threads at once.  Caps: the text form MK_MAX_SPEC bytes, a value
 * MK_MAX_VALUE bytes in and out (a longer result fails the value, naming the
 * mask), a regex result's matches MK_MAX_MATCHES. */
#ifndef SLUICE_MASK_H
#define SLUICE_MASK_H

#include "util/util.h"

#include <stddef.h>

#define MK_MAX_SPEC 4096
#define MK_MAX_VALUE (16u << 20)
#define MK_MAX_MATCHES 100000
#define MK_MAX_KEY 1024

typedef enum mk_kind {
    MK_HASH = 1,
    MK_NULL,
    MK_REDACT,
    MK_TRUNCATE,
    MK_EMAIL_DOMAIN,
    MK_REGEX
} mk_kind;

typedef struct mk_mask mk_mask;

/* Parse the text form s and build the mask.  key[0..keylen) is the hash
 * key (copied; required for "hash", ignored by the others).  NULL with
 * e->kind UT_EINVAL and a message quoting the bad part ("truncate:x: N must
 * be a whole number 0..1000000", a regex compile error, "hash needs a key
 * (mask.key: a secret)"). */
mk_mask *mk_create(const char *s, const void *key, size_t keylen, ut_error *e);
void mk_destroy(mk_mask *m); /* accepts NULL */
mk_kind mk_kind_of(const mk_mask *m);
/* The text form, as given (for messages and `sluice config`). */
const char *mk_text(const mk_mask *m);

/* Apply m to v[0..n) (v NULL: a NULL value).  The result replaces out's
 * contents; *is_null says whether it is NULL (out is then empty).  0, or -1
 * with a message (a result over MK_MAX_VALUE; v over MK_MAX_VALUE). */
int mk_apply(const mk_mask *m, const char *v, size_t n, ut_buf *out, int *is_null,
             ut_error *e);

#endif
