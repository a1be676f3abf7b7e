/* Test-only driver for src/pgfed: opens an in-memory SQLite database,
 * attaches the postgres.<name> connections of a config file
 * (pgf_attach_config) and runs each SQL argument, printing rows as
 * '|'-separated values (NULL as \N, blobs as x'hex').  Prints the number
 * of rows as "-- N rows" after each statement.  Exit 1 with the message on
 * any error.
 *
 *   pgf_driver CONFIG.yaml "SELECT ..." ...
 *
 * Built by tests/integration/pg_federation.sh against build/san objects. */
#include "config/config.h"
#include "pgfed/pgfed.h"

#include <sqlite3.h>
#include <stdio.h>

static void print_value(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: fputs("\\N", stdout); break;
    case SQLITE_BLOB: {
        const unsigned char *b = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        fputs("x'", stdout);
        for (int k = 0; k < n; k++) printf("%02x", b[k]);
        fputc('\'', stdout);
        break;
    }
    case SQLITE_FLOAT: printf("%.17g", sqlite3_column_double(st, i)); break;
    default: fputs((const char *)sqlite3_column_text(st, i), stdout);
    }
}

int main(int argc, char **argv)
{
    char err[1024];
    sqlite3 *db = NULL;
    cf_config *c = NULL;
    int rc = 1;
    if (argc < 2) {
        fprintf(stderr, "usage: pgf_driver CONFIG.yaml SQL...\n");
        return 2;
    }
    c = cf_load(argv[1], err, sizeof err);
    if (!c) goto fail;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
        snprintf(err, sizeof err, "sqlite3_open failed");
        goto fail;
    }
    if (pgf_attach_config(db, c, err, sizeof err)) goto fail;
    for (int a = 2; a < argc; a++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, argv[a], -1, &st, NULL) != SQLITE_OK) {
            snprintf(err, sizeof err, "%s", sqlite3_errmsg(db));
            goto fail;
        }
        long long rows = 0;
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            for (int i = 0; i < sqlite3_column_count(st); i++) {
                if (i) fputc('|', stdout);
                print_value(st, i);
            }
            fputc('\n', stdout);
            rows++;
        }
        if (s != SQLITE_DONE) {
            snprintf(err, sizeof err, "%s", sqlite3_errmsg(db));
            sqlite3_finalize(st);
            goto fail;
        }
        sqlite3_finalize(st);
        printf("-- %lld rows\n", rows);
    }
    rc = 0;
fail:
    if (rc) fprintf(stderr, "error: %s\n", err);
    sqlite3_close(db);
    cf_destroy(c);
    return rc;
}
