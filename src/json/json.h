/* json — a streaming, allocation-free-per-record JSON scanner for records.
 *
 * Prefix: js_.  No DOM: js_obj_begin + js_obj_next walk the fields of one
 * top-level object (one NDJSON line, one element of a JSON array body) and
 * hand out each key and value in place:
 *
 *   js_parser *p = js_parser_create(0, 0);        // once
 *   if (js_obj_begin(p, line, len, err, sizeof err)) ... bad record
 *   js_field f; int rc;
 *   while ((rc = js_obj_next(p, &f, err, sizeof err)) == 1)
 *       use(f.key, f.key_len, &f.v);
 *   if (rc < 0) ... bad record (err says why and at which byte)
 *
 * Keys and string values point into the record when they contain no escapes
 * and into the parser's scratch buffer (valid until the next js_obj_begin)
 * when they had to be unescaped.  Everything is validated: UTF-8 in strings,
 * escapes (including surrogate pairs), number grammar, nesting depth (at
 * most max_depth containers, the record itself counting as one), record size.
 * Nested objects and arrays are validated and handed out as their raw JSON
 * text.  Error messages end with "at byte N" (1-based offset in the record);
 * callers prefix the file and line.
 *
 * A JSON array body "[{...},{...}]" is split into element spans with
 * js_array_begin / js_array_next (each element validated; then js_obj_begin
 * on the span walks it).  One parser can split an array and walk its
 * elements at the same time. */
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include "util/util.h"

#include <stddef.h>
#include <stdint.h>

#define JS_MAX_DEPTH_DEFAULT 64
#define JS_MAX_DEPTH_LIMIT 4096
#define JS_MAX_RECORD_DEFAULT ((size_t)16 << 20)
#define JS_MAX_NUMBER_LEN 512 /* longer number literals are rejected */

typedef struct js_parser js_parser;

typedef enum js_kind {
    JS_NULL = 0,
    JS_BOOL,
    JS_INT,    /* fits int64 */
    JS_DOUBLE, /* fraction, exponent, or an integer that overflows int64 */
    JS_STRING,
    JS_OBJECT, /* nested: s/n is the raw JSON text */
    JS_ARRAY   /* nested: s/n is the raw JSON text */
} js_kind;

typedef struct js_value {
    js_kind kind;
    int b;         /* JS_BOOL: 0/1 */
    int64_t i;     /* JS_INT */
    double d;      /* JS_DOUBLE */
    const char *s; /* JS_STRING: unescaped UTF-8; all other kinds: the raw
                      JSON text of the value ("true", "1.5e3", "{...}") */
    size_t n;
    int escaped;   /* JS_STRING: 1 when s is an unescaped copy in scratch */
} js_value;

typedef struct js_field {
    const char *key; /* unescaped UTF-8, not NUL-terminated */
    size_t key_len;
    js_value v;
} js_field;

/* Create a parser.  max_record caps the bytes of one record (0 = default
 * 16 MiB); max_depth caps nesting (0 = 64, at most JS_MAX_DEPTH_LIMIT).
 * The parser's scratch buffer grows to the largest record seen, once. */
js_parser *js_parser_create(size_t max_record, int max_depth);
/* Free.  Accepts NULL. */
void js_parser_destroy(js_parser *p);

/* Start walking the object in buf[0..len) (surrounding whitespace and a
 * leading UTF-8 BOM allowed).  Returns 0, or -1 with a message: record over
 * the size cap, empty record, or not an object ("record is an array,
 * expected an object").  buf must stay valid while walking. */
int js_obj_begin(js_parser *p, const char *buf, size_t len, char *err, size_t errlen);

/* Next field of the object.  Returns 1 and fills *f, 0 at the end of the
 * object (after checking nothing but whitespace follows it), or -1 with a
 * message ("expected ':' after key at byte 37"). */
int js_obj_next(js_parser *p, js_field *f, char *err, size_t errlen);

/* Validate that buf[0..len) is one object record and count its fields
 * (*nfields may be NULL).  0 or -1 with a message. */
int js_obj_check(js_parser *p, const char *buf, size_t len, int *nfields, char *err,
                 size_t errlen);

/* Validate that buf[0..len) holds exactly one JSON value of any kind
 * (surrounded by whitespace).  Sets *kind (may be NULL).  0 or -1. */
int js_validate(js_parser *p, const char *buf, size_t len, js_kind *kind, char *err,
                size_t errlen);

/* Start splitting the JSON array in buf[0..len) (whitespace/BOM around it
 * allowed); the array may be at most 2^40 bytes.  0, or -1 if it is not an
 * array. */
int js_array_begin(js_parser *p, const char *buf, size_t len, char *err, size_t errlen);
/* Next element: *elem and *elen are its text, *offset its offset in the array
 * buffer (for messages).  Returns 1, 0 at the closing ']' (trailing data
 * checked), or -1 with a message (the array is malformed; elements after it
 * cannot be found).  Each element must fit the record cap. */
int js_array_next(js_parser *p, const char **elem, size_t *elen, size_t *offset, char *err,
                  size_t errlen);

/* ---- one pass over nested containers ----------------------------------------
 *
 * A document whose fields hold arrays of objects (a batch request) walked
 * in place, each byte scanned once, instead of js_obj_next scanning a
 * nested value whole and a second walk scanning it again:
 *
 *   js_obj_begin(p, doc, n, ...);
 *   while (js_obj_key(p, &k, &kn, ...) == 1)
 *       if (wanted(k)) {                         // walk the value in place
 *           js_obj_value_at(p, &s, &sn, ...);     // its first byte .. doc's end
 *           js_array_begin_at(p, s, sn, ...);
 *           while (js_array_elem_at(p, &e, &en, ...) == 1) {
 *               js_obj_begin_at(q, e, en, ...);   // another parser for the element
 *               while (js_obj_next(q, &f, ...) == 1) ...;
 *               js_array_resume(p, js_obj_end(q));
 *           }
 *           js_obj_resume(p, js_array_end(p));
 *       } else js_obj_value(p, &v, ...);
 *
 * The _at begins take a value at buf[0] ('{' / '[') followed by anything
 * (the rest of the enclosing document): nothing after the closing bracket
 * is checked and js_obj_end / js_array_end give the bytes the value took.
 * They do not count the enclosing containers in max_depth: create the inner
 * parser with the depth that is left.  The same grammar is validated, but
 * error messages may differ from those of js_obj_next over the same text. */

/* The next key of the object; its value is read next by js_obj_value or
 * handed out by js_obj_value_at.  1, 0 at the end of the object (as
 * js_obj_next), or -1.  js_obj_next is js_obj_key then js_obj_value. */
int js_obj_key(js_parser *p, const char **key, size_t *key_len, char *err, size_t errlen);
/* The value after js_obj_key, read as js_obj_next reads it.  0 or -1. */
int js_obj_value(js_parser *p, js_value *v, char *err, size_t errlen);
/* The value after js_obj_key, not read: *s its first byte, *n the bytes from
 * there to the end of the buffer.  The walk goes on with js_obj_resume(p,
 * bytes the value took).  0, or -1 when no value follows. */
int js_obj_value_at(js_parser *p, const char **s, size_t *n, char *err, size_t errlen);
void js_obj_resume(js_parser *p, size_t used);
/* As js_obj_begin for an object at buf[0] that the rest of buf may follow. */
int js_obj_begin_at(js_parser *p, const char *buf, size_t len, char *err, size_t errlen);
/* After js_obj_next / js_obj_key returned 0: the bytes of the object. */
size_t js_obj_end(const js_parser *p);
/* As js_array_begin for an array at buf[0] that the rest of buf may follow. */
int js_array_begin_at(js_parser *p, const char *buf, size_t len, char *err, size_t errlen);
/* The next element, not read: *elem its first byte, *elen the bytes to the
 * end of the buffer; then js_array_resume(p, bytes it took).  1, 0 at the
 * closing ']', or -1. */
int js_array_elem_at(js_parser *p, const char **elem, size_t *elen, char *err, size_t errlen);
void js_array_resume(js_parser *p, size_t used);
/* After js_array_elem_at / js_array_next returned 0: the bytes of the array. */
size_t js_array_end(const js_parser *p);

/* Kind of the last failure of js_obj_begin/js_obj_next/js_obj_check/
 * js_validate: UT_ETOODEEP for nesting over max_depth, else UT_EINVAL. */
ut_errkind js_error_kind(const js_parser *p);

/* Name of a kind ("null", "bool", "int", "double", "string", "object",
 * "array"). */
const char *js_kind_name(js_kind k);

#endif
