/* tail — the log-file shipper (`sluice tail -c sluice.yaml`).
 *
 * Prefix: tl_.  Cross-file internals: tl__ (tl_int.h).
 *
 * Each `sources.<name>` of the config follows the files its `paths` globs
 * match, cuts them into lines (a partial last line waits for its newline;
 * a line over max_line_bytes is cut there and counted), joins multiline
 * records (multiline.start), parses each record (json | combined | regex
 * with named groups | plain), adds host/file/file_offset and the constant
 * `fields`, and sends batches to a stream: the local journal of data_dir,
 * or a remote sluice's HTTP ingest API (`url`).
 *
 * Files are known by (dev, inode, fingerprint of the first bytes): rename
 * rotation, copytruncate, deleted files and inode reuse are told apart
 * (docs/producers.md).  Positions are checkpointed (tmp + fsync + rename)
 * only after the batch was acknowledged; for the local journal an intent
 * written before the append makes a crash between the append and the
 * checkpoint exact (see ckpt.c).
 */
#ifndef SLUICE_TAIL_H
#define SLUICE_TAIL_H

#include "config/config.h"
#include "util/util.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* ---- parsers (parse.c): one record text -> JSON fields ------------------------ */

typedef enum tl_format { TL_JSON = 0, TL_COMBINED, TL_NGINX, TL_REGEX, TL_PLAIN } tl_format;

#define TL_MAX_GROUPS 32     /* named groups in a regex format */
#define TL_MAX_PATTERN 4096  /* bytes of a regex */

typedef struct tl_parser tl_parser;

/* A parser for fmt; pattern is the regex (TL_REGEX only; `(?P<name>...)` or
 * `(?<name>...)` groups, POSIX extended syntax otherwise).  NULL + e on a bad
 * pattern (the message names the problem). */
tl_parser *tl_parser_create(tl_format fmt, const char *pattern, ut_error *e);
void tl_parser_destroy(tl_parser *p);
/* Append the record's fields to out as JSON members without braces
 * ("\"a\":1,\"b\":\"x\"").  Returns 1 when the text parsed, 0 when it did
 * not (then `"message":<text>` was appended).  n is capped by the caller. */
int tl_parse(tl_parser *p, const char *text, size_t n, ut_buf *out);

/* ---- line assembly (lines.c) ------------------------------------------------ */

typedef struct tl_lines tl_lines;
/* One record: text[0..n) (without its final newline; multiline records keep
 * their inner newlines), starting at file offset start; end is the offset of
 * the first byte after it; cut: bytes were dropped over the cap. */
typedef void (*tl_emit_fn)(void *arg, const char *text, size_t n, uint64_t start, uint64_t end,
                           int cut);
/* max_bytes caps one record; start (may be NULL) is the multiline start
 * pattern (regcomp'ed by the caller, kept by reference); pos the file
 * offset of the first byte that will be fed. */
tl_lines *tl_lines_create(size_t max_bytes, const void *start_re, uint64_t pos);
void tl_lines_destroy(tl_lines *l);
/* Feed p[0..n) (the bytes at the current position). */
void tl_lines_feed(tl_lines *l, const char *p, size_t n, tl_emit_fn fn, void *arg);
/* Emit the multiline record held back (its end is the current position of
 * complete lines); partial: also an unterminated last line (the file is
 * finished: rotated away and idle, deleted, or a .gz). */
void tl_lines_flush(tl_lines *l, int partial, tl_emit_fn fn, void *arg);
/* 1 if a multiline record or a partial line is held back. */
int tl_lines_pending(const tl_lines *l);
/* Lines cut at the cap so far. */
uint64_t tl_lines_cut(const tl_lines *l);

/* ---- the shipper (run.c) ---------------------------------------------------- */

typedef struct tl_stats {
    uint64_t records;      /* acknowledged */
    uint64_t bytes;        /* source bytes acknowledged */
    uint64_t batches;
    uint64_t cut_lines;    /* lines over max_line_bytes, cut */
    uint64_t parse_errors; /* records sent as {"message": ...} */
    uint64_t files;        /* file generations opened */
    uint64_t rotations;    /* renamed / deleted files drained and closed */
    uint64_t truncations;  /* copytruncate (size < offset) and inode reuse seen */
    uint64_t retries;      /* failed sends retried */
} tl_stats;

typedef struct tl_shipper tl_shipper;

typedef struct tl_opts {
    const char *source; /* ship only this source; NULL = every source */
    int once;           /* read what exists, ship it, exit (no follow) */
    /* Called about once a second from tl_run (may be NULL). */
    void (*progress)(const tl_stats *st, void *arg);
    void *arg;
    /* The journal of a local stream, from its owner (sluice serve: the
     * server's own, so the shipper and HTTP ingest append to one journal);
     * not closed by the shipper.  NULL: the shipper opens <data_dir>/streams
     * itself (sluice tail: no server may run on that data_dir). */
    struct jr_stream *(*journal)(void *ctx, const char *stream, ut_error *e);
    void *journal_ctx;
    /* A remote source's batch in flight at the last stop is looked up (a
     * query to its server) when tl_run starts rather than in tl_create, so
     * a dead peer cannot hold up the caller's start (sluice serve). */
    int defer_recovery;
} tl_opts;

/* Check the config's sources and open their checkpoints (recovering a
 * pending intent) and targets.  NULL + e (kind UT_EINVAL for a config
 * problem naming the source, UT_EIO for the disk). */
tl_shipper *tl_create(const cf_config *c, const tl_opts *o, ut_error *e);
/* Follow until *stop (or, with once, until everything read is shipped).
 * 0, or -1 + e (a target that keeps failing past its retries). */
int tl_run(tl_shipper *t, volatile sig_atomic_t *stop, ut_error *e);
void tl_stats_get(tl_shipper *t, tl_stats *out);
void tl_destroy(tl_shipper *t);

#endif
