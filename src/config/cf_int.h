/* config internals: the declarative tables and the value parsers they use.
 * Shared by table.c (the tables), values.c (parsers and formatters),
 * yaml.c (the loader) and doc.c (the reference). */
#ifndef SLUICE_CF_INT_H
#define SLUICE_CF_INT_H

#include "config/config.h"
#include "util/util.h"

#include <stddef.h>
#include <stdint.h>

typedef enum cf__type {
    CF_STRING,   /* char *                                              */
    CF_BOOL,     /* bool                                                */
    CF_INT,      /* int64_t, range [min, max]                           */
    CF_SIZE,     /* uint64_t bytes, range [min, max]                    */
    CF_DURATION, /* int64_t milliseconds, range [min, max]              */
    CF_ENUM,     /* int: index into names                               */
    CF_STRLIST,  /* cf_strlist, at most max items                       */
    CF_FSYNC,    /* cf_fsync                                            */
    CF_HOSTPORT, /* cf_hostport                                         */
    CF_SECTION,  /* nested struct described by sub                      */
    CF_MAP,      /* named structs (sub): T *items at offset, int count at
                    count_offset, at most max; names checked by ut_name_check
                    with the element table's name_kind */
    CF_STRMAP,   /* cf_strmap: names ([A-Za-z_][A-Za-z0-9_]*, at most 64
                    bytes) to string values, at most max entries */
    CF_RATE,     /* double per second: "10/s", "600/m", "2.5/s", "100/h", "1000/d" */
    CF__NTYPES
} cf__type;

typedef struct cf__table cf__table;

typedef struct cf__field {
    const char *name;
    cf__type type;
    const char *def;          /* default, written as a user would; NULL for
                                 sections/maps, "" for an empty list */
    size_t offset;            /* into the table's struct */
    const char *doc;
    int64_t min, max;         /* INT/SIZE/DURATION range; STRLIST/MAP count cap */
    const char *const *names; /* ENUM values, NULL-terminated */
    const cf__table *sub;     /* SECTION / MAP element table */
    size_t count_offset;      /* MAP: offset of the int count */
    int (*check)(const char *v, char *msg, size_t msglen); /* STRING / STRLIST item
                                                               extra validation */
} cf__field;

struct cf__table {
    const char *path;         /* "" (top level), "http", "streams.<name>" */
    const char *doc;          /* a paragraph for the reference */
    const cf__field *fields;  /* terminated by {0} */
    size_t size;              /* sizeof the struct (MAP elements) */
    size_t name_offset;       /* MAP elements: char name[CF_NAME_MAX + 1] */
    /* Cross-field validation after the whole mapping was read; -1 + msg. */
    int (*check)(const void *obj, char *msg, size_t msglen);
    ut_namekind name_kind;    /* MAP elements: the rules their names follow */
    size_t line_offset;       /* MAP elements: int line where the entry starts; SECTIONs: where
                                 the section was given (a mapping or null); 0 = not kept */
};

/* The root table (table.c) and the stream element table. */
extern const cf__table cf__root;
extern const cf__table cf__stream_table;

/* One line per type for messages ("a size like 10MB") and docs. */
typedef struct cf__type_info {
    const char *name;     /* "size" */
    const char *expected; /* "a size like 10MB" */
    const char *doc;      /* how it is written, for the reference */
} cf__type_info;
extern const cf__type_info cf__types[CF__NTYPES];

/* ---- value parsers (values.c): s[0..n), 0 or -1 --------------------------- */

int cf__parse_bool(const char *s, size_t n, bool *out);
int cf__parse_int(const char *s, size_t n, int64_t *out);
int cf__parse_size(const char *s, size_t n, uint64_t *out);
int cf__parse_duration(const char *s, size_t n, int64_t *ms);
int cf__parse_fsync(const char *s, size_t n, cf_fsync *out);
int cf__parse_hostport(const char *s, size_t n, cf_hostport *out);
int cf__parse_rate(const char *s, size_t n, double *per_second);
int cf__parse_enum(const char *s, size_t n, const char *const *names, int *out);

/* Human forms for docs and range messages: "64MiB", "10MB", "123B";
 * "7d", "30s", "250ms".  out: 32 bytes.  Return out. */
char *cf__fmt_size(char *out, uint64_t v);
char *cf__fmt_duration(char *out, int64_t ms);

/* Restricted Damerau-Levenshtein (optimal string alignment) distance. */
int cf__edit_distance(const char *a, const char *b);

/* Apply t's defaults to obj (zeroed by the caller).  Aborts if a table
 * default does not parse: that is a bug the unit tests catch. */
void cf__apply_defaults(const cf__table *t, void *obj);
/* Free what t's fields own inside obj (strings, lists, maps). */
void cf__free_fields(const cf__table *t, void *obj);

/* Parse scalar text v[0..n) for a scalar-typed field f into obj.  Returns 0
 * or -1 with a message ("expected a size like 10MB, got 'ten'", "must be
 * between ..."), without the key path. */
int cf__set_scalar(const cf__field *f, void *obj, const char *v, size_t n, char *msg,
                   size_t msglen);

#endif
