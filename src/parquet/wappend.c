/* Moving encoded row groups from a memory writer into a file writer.
 *
 * A writer made by pq_writer_create_mem encodes row groups exactly as a file
 * writer does, but its bytes go to a buffer whose offsets start at 0 (no
 * "PAR1").  pq_writer_append writes that buffer at the file writer's current
 * offset and moves the row-group metadata over, shifting every offset by it:
 * the result is byte for byte what the file writer would have written had it
 * encoded the same rows itself (row groups are independent of each other). */
#include "parquet/writer_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void pq__free_row_groups(pq_writer *w)
{
    for (int i = 0; i < w->nrg; i++) {
        for (int j = 0; j < w->ncols; j++) {
            free(w->rgs[i].chunks[j].min);
            free(w->rgs[i].chunks[j].max);
        }
        free(w->rgs[i].chunks);
    }
    w->nrg = 0;
}

int pq_writer_append(pq_writer *dst, pq_writer *src, char *err, size_t errlen)
{
    assert(src->mem_mode && !dst->mem_mode && !dst->closed);
    assert(src->ncols == dst->ncols && !src->nset && !dst->nset && !dst->rg_rows);
    if (src->rg_rows && pq__flush_row_group(src, err, errlen)) return -1;
    int64_t shift = dst->offset;
    if (pq__write_all(dst, src->mem.p, src->mem.len, err, errlen)) return -1;
    for (int i = 0; i < src->nrg; i++) {
        if (dst->nrg == dst->cap_rg) {
            dst->cap_rg = dst->cap_rg ? dst->cap_rg * 2 : 16;
            dst->rgs = ut_realloc(dst->rgs, (size_t)dst->cap_rg * sizeof *dst->rgs);
        }
        pq__rg_meta *rg = &dst->rgs[dst->nrg++];
        *rg = src->rgs[i];
        rg->offset += shift;
        for (int j = 0; j < src->ncols; j++) {
            pq__chunk_meta *m = &rg->chunks[j];
            m->data_offset += shift;
            if (m->dict_offset >= 0) m->dict_offset += shift;
        }
        dst->rows += rg->rows;
    }
    src->nrg = 0; /* the chunks arrays now belong to dst */
    ut_buf_reset(&src->mem);
    src->offset = 0;
    return 0;
}
