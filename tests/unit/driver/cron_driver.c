/* Test-only driver for src/cron: prints fire times, windows and offsets so a
 * script can compare them with an independent implementation
 * (tests/integration/cron_python.sh, Python's zoneinfo).
 *
 *   cron_driver next   SCHEDULE ZONE AFTER  COUNT   successive cr_next
 *   cron_driver prev   SCHEDULE ZONE BEFORE COUNT   successive cr_prev
 *   cron_driver window UNIT     ZONE T      COUNT   successive windows
 *   cron_driver offset ZONE T
 *   cron_driver local  ZONE LOCAL                  cr_zone_to_utc
 *   cron_driver batch                              each stdin line is one of the
 *                                                  above, its words split by tabs;
 *                                                  each answer ends with "--"
 *
 * Instants are RFC 3339 ("2026-03-29T00:00:00Z"); LOCAL is the same text
 * read as a wall time.  SCHEDULE "every:15m" goes to cr_parse_every.  One
 * line per result: instants as RFC 3339 UTC, "none" for CR_NO_NEXT /
 * CR_NO_PREV.  Exit 1 with the message on any error. */
#include "cron/cron.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(int64_t t)
{
    char b[40];
    if (t == CR_NO_NEXT || t == CR_NO_PREV) {
        puts("none");
        return;
    }
    ut_ts_format(b, t);
    puts(b);
}

static int64_t when(const char *s)
{
    int64_t t;
    if (ut_ts_parse(s, strlen(s), &t)) {
        fprintf(stderr, "not a timestamp: %s\n", s);
        exit(2);
    }
    return t;
}

static cr_zone *zone(const char *name)
{
    char err[512];
    if (!strcmp(name, "-")) return NULL;
    cr_zone *z = cr_zone_load(name, err, sizeof err);
    if (!z) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return z;
}

static int run(int argc, char **argv);

/* Lines of tab-separated words from stdin, each run as a command line. */
static int batch(void)
{
    char line[1024];
    while (fgets(line, sizeof line, stdin)) {
        char *argv[8] = {"cron_driver"}, *save = NULL;
        int argc = 1;
        line[strcspn(line, "\n")] = 0;
        for (char *w = strtok_r(line, "\t", &save); w && argc < 8; w = strtok_r(NULL, "\t", &save))
            argv[argc++] = w;
        int rc = run(argc, argv);
        if (rc) return rc;
        puts("--");
        fflush(stdout);
    }
    return 0;
}

static int fires(int next, const char *text, cr_zone *z, int64_t t, int count)
{
    char err[512];
    cr_schedule *s = !strncmp(text, "every:", 6) ? cr_parse_every(text + 6, err, sizeof err)
                                                  : cr_parse(text, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    for (int i = 0; i < count && t != CR_NO_NEXT && t != CR_NO_PREV; i++) {
        t = next ? cr_next(s, z, t) : cr_prev(s, z, t);
        put(t);
    }
    cr_schedule_destroy(s);
    return 0;
}

static int windows(const char *unit, cr_zone *z, int64_t t, int count)
{
    cr_unit u;
    cr_window w;
    if (cr_unit_parse(unit, &u)) {
        fprintf(stderr, "unknown unit %s\n", unit);
        return 1;
    }
    for (int i = 0; i < count; i++) {
        if (cr_window_info(u, z, t, &w)) {
            puts("none");
            return 0;
        }
        printf("%s %s %s %s %s\n", w.start, w.end, w.ds, w.ds_nodash, w.hr);
        t = cr_window_add(u, z, t, 1);
        if (t != w.end_us) {
            fprintf(stderr, "cr_window_add(1) is not the window's end\n");
            return 1;
        }
    }
    return 0;
}

static int run(int argc, char **argv)
{
    int rc = 2;
    cr_zone *z = NULL;
    if (argc == 6 && (!strcmp(argv[1], "next") || !strcmp(argv[1], "prev"))) {
        z = zone(argv[3]);
        rc = fires(argv[1][0] == 'n', argv[2], z, when(argv[4]), atoi(argv[5]));
    } else if (argc == 6 && !strcmp(argv[1], "window")) {
        z = zone(argv[3]);
        rc = windows(argv[2], z, when(argv[4]), atoi(argv[5]));
    } else if (argc == 4 && !strcmp(argv[1], "offset")) {
        z = zone(argv[2]);
        printf("%d\n", cr_zone_offset(z, when(argv[3])));
        rc = 0;
    } else if (argc == 4 && !strcmp(argv[1], "local")) {
        static const char *const kinds[] = {"ok", "gap", "overlap"};
        cr_local l;
        z = zone(argv[2]);
        rc = cr_zone_to_utc(z, when(argv[3]), &l) ? 1 : 0;
        if (!rc) {
            printf("%s ", kinds[l.kind]);
            fflush(stdout);
            put(l.first_us);
            put(l.second_us);
        }
    } else if (argc == 2 && !strcmp(argv[1], "batch")) {
        rc = batch();
    } else {
        fprintf(stderr, "usage: cron_driver next|prev SCHEDULE ZONE T COUNT | window UNIT ZONE T "
                        "COUNT | offset ZONE T | local ZONE LOCAL | batch\n");
    }
    cr_zone_destroy(z);
    return rc;
}

int main(int argc, char **argv)
{
    return run(argc, argv);
}
