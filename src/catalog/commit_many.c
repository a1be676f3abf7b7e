/* ct_commit_many: files of a table and of its companion (errors) table, and
 * the sink position, in one transaction — a ct_apply of two tables. */
#include "catalog/ct_int.h"
#include "util/util.h"

int ct_commit_many(ct_catalog *c, int64_t table_id, const ct_file *files, int n,
                   int64_t table2_id, const ct_file *files2, int n2, const char *stream,
                   uint64_t next_offset, char *err, size_t errlen)
{
    ct_table_change t[2] = {{.table_id = table_id, .add = files, .nadd = n},
                            {.table_id = table2_id, .add = files2, .nadd = n2}};
    ct_change ch = {.tables = t, .ntables = n2 > 0 ? 2 : 1, .stream = stream,
                    .next_offset = next_offset};
    return ct_apply(c, &ch, err, errlen);
}
