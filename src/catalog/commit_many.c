/* ct_commit_many: files of a table and of its companion (errors) table, and
 * the sink position, in one transaction. */
#include "catalog/ct_int.h"
#include "util/util.h"

int ct_commit_many(ct_catalog *c, int64_t table_id, const ct_file *files, int n,
                   int64_t table2_id, const ct_file *files2, int n2, const char *stream,
                   uint64_t next_offset, char *err, size_t errlen)
{
    char t1[128], t2[128];
    if (n < 0 || n2 < 0 || n > CT_MAX_FILES || n2 > CT_MAX_FILES)
        return ut_err(err, errlen, "catalog %s: commit of %d + %d files (the limit is %d)",
                      ct_path(c), n, n2, CT_MAX_FILES);
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    ct_table_name(c, table_id, t1);
    if (n > 0 && ct_files_insert(c, table_id, t1, files, n, err, errlen) < 0) goto fail;
    if (n2 > 0) {
        ct_table_name(c, table2_id, t2);
        if (ct_files_insert(c, table2_id, t2, files2, n2, err, errlen) < 0) goto fail;
    }
    if (stream && ct_position_set_tx(c, stream, table_id, t1, next_offset, err, errlen) < 0)
        goto fail;
    return ct_commit_tx(c, err, errlen);
fail:
    ct_rollback(c);
    return -1;
}
