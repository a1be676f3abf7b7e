/* Byte-string keys to dense indices, for the aggregate fast path (agg_keys.c).
 * Internal to src/sql. */
#ifndef SLUICE_SQL_AGG_KEYS_H
#define SLUICE_SQL_AGG_KEYS_H

#include "sql/sq_int.h"

#include <assert.h>

#define SQA_KEYS_MAX 50000000 /* distinct keys of one set */

typedef struct sqa_keys sqa_keys;
sqa_keys *sqa_keys_create(void);
void sqa_keys_destroy(sqa_keys *k); /* accepts NULL */
/* Index of key (added when new: *added = 1); -1 past SQA_KEYS_MAX keys. */
int64_t sqa_keys_find(sqa_keys *k, const void *key, size_t n, int *added);
int64_t sqa_keys_count(const sqa_keys *k);
const uint8_t *sqa_keys_get(const sqa_keys *k, int64_t i, size_t *n);

/* Append v's key bytes; read one back (bytes used; texts point into p). */
void sqa_key_put(ut_buf *b, const sq_val *v);
size_t sqa_key_get(const uint8_t *p, size_t n, sq_val *v);

#endif
