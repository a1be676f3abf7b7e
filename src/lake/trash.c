/* The lake's trash: where the objects of files the catalog removed
 * (compaction, retention, any ct_apply remove) wait out their grace period.
 *
 *   ct_apply / ct_drop_before commits the removal ──► lk_trash_move:
 *   "<table>/<path>" ──st_rename──► ".trash/<table>/<path>"
 *   ──► after trash_grace: deleted there (and at the old key, in case the move
 *       never happened) ──► ct_forget.
 *
 * Out of the table's directory, engines that list it (DuckDB globs, Hive /
 * Trino / Spark tables from `sluice ddl`) never see a replaced file beside
 * the file that replaced it, so nothing is counted twice; sluice's own scans
 * read the catalog and, when a file they listed is gone from its key, open
 * its trash key instead (so a scan across a compaction never fails).  A
 * table name never starts with '.', so ".trash" is no table's directory.
 * A crash between the commit and the move leaves the object in place: the
 * sink's start-up collection moves it. */
#include "lake/lk_int.h"
#include "log/log.h"

#include <stdio.h>

int lk_trash_key(const char *key, char *out, size_t n)
{
    int m = snprintf(out, n, "%s/%s", LK_TRASH_DIR, key);
    return m < 0 || (size_t)m >= n ? -1 : 0;
}

int lk_trash_move(st_store *store, const char *table, const char *path, char *err,
                  size_t errlen)
{
    char key[1400], tkey[1400];
    int m = snprintf(key, sizeof key, "%s/%s", table, path);
    if (m < 0 || (size_t)m >= sizeof key || lk_trash_key(key, tkey, sizeof tkey))
        return ut_err(err, errlen, "table %s: file %.80s…: key too long for the trash", table,
                      path);
    int rc = st_rename(store, key, tkey, err, errlen);
    if (rc < 0) return -1;
    if (rc > 0) lg_debug("lake", "table %s: %s moved to the trash", table, path);
    return 0;
}

int lk_trash_files(st_store *store, const char *table, const ct_file *files, int n)
{
    int failed = 0;
    for (int i = 0; i < n; i++) {
        char err[1600];
        if (lk_trash_move(store, table, files[i].path, err, sizeof err) == 0) continue;
        lg_warn("lake", "%s (the file stays in the table's directory until its grace period "
                        "ends or the next start moves it)", err);
        failed++;
    }
    return failed;
}
