/* tail internals: checkpoint entries, open files, sources, targets. */
#ifndef SLUICE_TL_INT_H
#define SLUICE_TL_INT_H

#include "journal/journal.h"
#include "log/log.h"
#include "tail/tail.h"

#include <limits.h>
#include <regex.h>
#include <zlib.h>

#define TL__FP_BYTES 1024    /* fingerprint: a hash of the first bytes */
#define TL__MAX_ENTRIES 4096 /* checkpoint entries kept per source */
#define TL__MAX_OPEN 256     /* files open per source */
#define TL__CHUNK (256u << 10)
#define TL__KEEP_MS ((int64_t)7 * 86400 * 1000) /* entries of vanished files */

enum { TL__GZ = 1, TL__DONE = 2, TL__ORPHAN = 4 };

/* One file generation: its identity and the acknowledged offset. */
typedef struct tl__entry {
    uint64_t dev, ino, id;
    uint32_t fp_len;
    uint64_t fp;
    uint64_t offset;
    int flags;
    int64_t seen_ms;
    char path[PATH_MAX];
} tl__entry;

typedef struct tl__file {
    tl__entry *e;
    int fd;
    gzFile gz;
    tl_lines *lines;
    uint64_t read_pos;  /* bytes fed to lines (plain bytes of a .gz) */
    uint64_t sent_pos;  /* end of the last record put in the batch */
    int64_t idle_ms;    /* when it last gave no bytes (0 = it did) */
    int64_t active_ms;  /* last time bytes came */
    int away;           /* renamed out of the globs or deleted */
    int renamed;        /* its path is not the one it was opened at */
    int eof;            /* .gz: read to its end */
    int replaced;       /* its first bytes changed: truncated and written again */
    char opened_at[PATH_MAX];
} tl__file;

typedef struct tl__defer {
    uint64_t dev, ino;
    int64_t since_ms;
} tl__defer;

typedef struct tl__src {
    const cf_source *cf;
    const cf_config *c;
    char dir[PATH_MAX];          /* checkpoint directory */
    int lock_fd;                 /* <dir>/lock, flock'ed while the source ships (-1: none) */
    char host[256];
    tl_parser *parser;
    regex_t start_re;
    int have_start;
    tl__entry **ent;
    int nent;
    tl__file *files[TL__MAX_OPEN];
    int nfiles;
    tl__defer defer[64];
    int ndefer;
    /* the batch */
    ut_buf body;
    size_t *rec_off;
    int nrec, caprec;
    uint64_t first_id, first_off; /* the batch's first record */
    uint64_t batch_src_bytes;
    int64_t batch_since_ms;
    /* targets */
    jr_stream *jr;
    int jr_borrowed;             /* jr is the owner's (tl_opts.journal): not closed here */
    int recover_pending;         /* tl_opts.defer_recovery: tl_run settles state.next first */
    const tl_opts *o;
    void *curl;
    char url[2048];
    int64_t last_scan_ms, last_progress_ms;
    tl_stats st;
} tl__src;

/* ckpt.c */
int tl__ckpt_load(tl__src *s, ut_error *e);
/* Write the state; with an intent line ("intent BEFORE N": the journal's next
 * offset before the append and the record count; "intent remote ID OFFSET":
 * the batch's first record) as state.next (durable, not yet in force), else
 * as state. */
int tl__ckpt_write(tl__src *s, const char *intent, ut_error *e);
int tl__ckpt_commit(tl__src *s, ut_error *e); /* state.next -> state */
/* A state.next left by a crash: in force if the target holds its batch. */
int tl__ckpt_recover(tl__src *s, ut_error *e);
/* Remote: 1 if the batch whose first record is (file_id, file_offset) is in
 * the remote stream, 0 if not, -1 if the server cannot tell (it answered:
 * no such table or column), -2 if it did not answer (no connection, a
 * timeout, 429, 5xx). */
int tl__remote_has(tl__src *s, uint64_t id, uint64_t off, char *why, size_t whylen);
tl__entry *tl__entry_add(tl__src *s, ut_error *e);
void tl__entries_prune(tl__src *s, int64_t now_ms);

/* ident.c */
int tl__fingerprint(int fd, gzFile gz, uint32_t len, uint64_t *fp, uint32_t *got);
/* The first bytes of the file at fd (plain, or gz) are still entry en's. */
int tl__same_start(int fd, gzFile gz, const tl__entry *en);
void tl__scan(tl__src *s, int64_t now_ms);
tl__file *tl__open(tl__src *s, tl__entry *e, int fd, int gz);
void tl__close(tl__src *s, int i);
/* A truncated open file: the batch was committed; fork its entry. */
void tl__truncated(tl__src *s, tl__file *f);

/* sink.c */
int tl__sink_open(tl__src *s, ut_error *e);
void tl__sink_close(tl__src *s);
/* Send the batch; return 0 once acknowledged (checkpoint written). */
int tl__commit(tl__src *s, volatile sig_atomic_t *stop, ut_error *e);

int64_t tl__now_ms(void);

#endif
