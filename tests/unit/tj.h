/* Journal helpers the journal unit tests share (test_journal.c defines them). */
#ifndef SLUICE_TJ_H
#define SLUICE_TJ_H

#include "journal/journal.h"

#include <stdint.h>

/* Append n records "r<offset>" one by one from offset `from`, checking each
 * gets its offset.  0, or -1 after printing why. */
int tj_append_n(jr_stream *s, uint64_t from, int n);

#endif
