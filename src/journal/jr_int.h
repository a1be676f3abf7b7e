/* Journal internals (jr__ prefix). */
#ifndef SLUICE_JOURNAL_INT_H
#define SLUICE_JOURNAL_INT_H

#include "journal/journal.h"
#include "util/util.h"

#include <pthread.h>

#define JR__SEG_MAGIC "SLJRNL01"     /* 8 bytes */
#define JR__SEG_HDR 16               /* magic + base offset (le64) */
#define JR__REC_HDR 24               /* len, crc, offset, ts */
#define JR__MAX_RECORD (64u << 20)
#define JR__INDEX_EVERY (64u << 10)  /* one sparse index entry per 64 KiB */
#define JR__WM_FILE "synced"         /* <stream>/synced: the watermark (synced.c) */
#define JR__WM_SIZE 48
#define JR__WM_OPEN 1                /* a writer has the stream open */
#define JR__WM_CLOSED 2              /* closed cleanly: pos is the segment's end */

/* What recovery of the active segment may assume, from the watermark: the
 * records before pos were synced (acknowledged); from pos on nothing was, but
 * unless `exact` pos may be stale (lower than the real synced point). */
typedef struct jr__synced {
    uint64_t pos; /* 0: unknown, the whole file is treated as synced */
    int exact;    /* 1: nothing at or after pos was ever acknowledged */
} jr__synced;

/* A damaged range of a segment: bytes [pos, end) failed their checks and
 * are skipped; the records with offsets [off_from, off_to) were in them. */
typedef struct jr__hole {
    uint64_t pos, end;
    uint64_t off_from, off_to;
} jr__hole;

/* One segment file.  Fields other than refs are guarded by the stream's
 * mutex.  A sealed segment found at open is not read until a reader needs it
 * (loaded = 0: next is the next segment's base, size the file size, no
 * index); loading verifies every record, finds damaged ranges and builds the
 * index.  Only the active segment keeps a file descriptor open. */
typedef struct jr__seg {
    uint64_t base;      /* offset of the first record */
    uint64_t next;      /* offset after the last durable record */
    uint64_t size;      /* bytes of durable records + header */
    int fd;             /* active segment only; -1 otherwise */
    int sealed;
    int loaded;         /* scanned: index, holes and next are exact */
    int refs;           /* the stream's list holds one; readers take one */
    int deleted;        /* unlinked; free when refs reach 0 */
    int64_t mtime_ms;   /* last append (for retention) */
    uint64_t *ioff, *ipos; /* sparse index: record offset -> file position */
    size_t nidx, capidx;
    uint64_t last_idx_pos;
    jr__hole *holes;    /* damaged ranges, by position */
    size_t nholes;
    uint64_t damaged;   /* bytes in holes */
    uint64_t torn;      /* bytes after the last valid record */
    int bad_header;     /* the header failed its check (base taken from the name) */
    uint64_t synced;    /* watermark position the load used (0: none) */
    uint64_t cut_recs, cut_first, cut_last; /* valid records in the cut tail */
    char path[4096];
} jr__seg;

typedef struct jr__waiter {
    const jr_iov *recs;
    int n;
    int64_t ts_us;
    uint64_t first;
    int done, rc;
    char err[UT_ERRMSG_MAX];
    pthread_cond_t cv;
    struct jr__waiter *next;
} jr__waiter;

struct jr_stream {
    char *dir;          /* the stream's own directory */
    char *name;
    jr_opts o;
    pthread_mutex_t mu;
    pthread_cond_t data_cv;   /* readers waiting for new records */
    jr__seg **segs;           /* sorted by base; last one is active */
    int nsegs, capsegs;
    uint64_t next_offset;     /* next offset to assign (leader only) */
    uint64_t visible_next;    /* records below this are durable and readable */
    jr__waiter *qhead, *qtail;
    ut_buf wbuf;              /* leader's encode buffer */
    int closing;
    uint64_t wakes;           /* jr_stream_wake calls: a wait ends when it changes */
    uint64_t recovered;       /* torn-tail (and never-acked) bytes cut off at open */
    uint64_t damaged;         /* bytes of damaged ranges skipped (loaded segments) */
    uint64_t lost;            /* records known lost in damaged ranges */
    uint64_t reserved_from;   /* offsets skipped at open so none is reused (0: none) */
    int wm_fd;                /* <stream>/synced, writers only; -1 otherwise */
    int wm_live;              /* open finished: close records a clean close */
    uint64_t wm_next;         /* the watermark's next offset at open (0: none) */
    uint64_t boot;            /* this boot's id (jr__boot_id) */
    pthread_mutex_t load_mu;  /* one segment load at a time */
    uint64_t appends, syncs, sync_ns, records;
    uint64_t sync_hist[JR_SYNC_BUCKETS];
    uint64_t last_sync_ns;
};

/* stream.c */
/* Log what loading g found and count it in s's counters (mutex held). */
void jr__seg_report(jr_stream *s, const jr__seg *g, int active);
/* Move a load's results from tmp into g (mutex held). */
void jr__seg_install(jr__seg *g, jr__seg *tmp);

/* read.c */
/* Pick the segment holding *from (mutex held): binary search by base, then on
 * past segments whose records end before it.  Moves *from forward past gaps
 * between segments (retention, offsets skipped by a reserve), also when it
 * returns NULL (nothing at or after *from yet).  An unloaded segment is
 * returned as is (its next is an upper bound): the caller loads it and asks
 * again. */
jr__seg *jr__find_seg(jr_stream *s, uint64_t *from);

/* synced.c */
/* The first 64 bits of the kernel's boot id; 0 when unknown. */
uint64_t jr__boot_id(void);
/* Read <stream>/synced and decide what recovery of the active segment (base,
 * size bytes) may assume (*out); log once when there is no usable watermark.
 * Sets s->wm_next.  Never fails: without a usable watermark *out is zero
 * (every valid record is kept, as in a sealed segment). */
void jr__wm_recovery(jr_stream *s, const char *seg, uint64_t base, uint64_t size,
                     jr__synced *out);
/* Rewrite the watermark (opening, creating, <stream>/synced into s->wm_fd
 * if not yet open): segment `base` is synced up to byte pos, the next offset
 * is next; fdatasync it too when `sync`.  0, or -1 with a message (-2 when
 * the disk is full). */
int jr__wm_write(jr_stream *s, uint64_t base, uint64_t pos, uint64_t next, uint32_t state,
                 int sync, char *err, size_t errlen);

/* segment.c */
uint32_t jr__rec_crc(uint32_t len, uint64_t offset, int64_t ts, const void *p, size_t n);
void jr__encode_record(ut_buf *b, uint64_t offset, int64_t ts, const void *p, uint32_t n);
/* A segment known by name only (loaded = 0, no fd): base from the file name,
 * next = next_base, size and mtime from stat.  NULL with a message. */
jr__seg *jr__seg_stat(const char *path, uint64_t base, uint64_t next_base, char *err,
                      size_t errlen);
/* Scan segment g (not yet in the stream, or loaded under the stream's load
 * lock): verify every record, skip damaged ranges (resynchronising on the next
 * record whose header and CRC check out and whose offset is in sequence),
 * build the index.  Records must have offsets in [base, max_off).  `active`:
 * keep g->fd open read-write, cut a torn tail (damage with no valid record
 * after it, or bytes the watermark sy says were never acknowledged: see
 * scan()) off and repair a damaged header, unless read_only (then the cut
 * part is only left out).  sy may be NULL (sealed segments).  Results go to
 * *out (a copy of g with the scan's fields).  Returns 0, -2 when a sealed
 * segment's file is gone (retention), or -1 with a message naming the file. */
int jr__seg_load(const jr__seg *g, int active, int read_only, uint64_t max_off,
                 uint64_t max_record, const jr__synced *sy, jr__seg *out, char *err,
                 size_t errlen);
/* Create a new, empty segment file at path (header, synced).  0, or -1 with
 * a message, -2 when the disk is full; a failed file is removed again. */
int jr__seg_create(const char *path, uint64_t base, char *err, size_t errlen);
/* Is errno e "no space" (ENOSPC, EDQUOT)?  jr_append_e says UT_ENOSPACE then. */
int jr__nospace(int e);
/* strerror, with "disk full (ENOSPC)" for ENOSPC. */
const char *jr__strerror(int e);
void jr__seg_index_add(jr__seg *g, uint64_t offset, uint64_t pos);
/* File position of the last indexed record with offset <= off. */
uint64_t jr__seg_index_find(const jr__seg *g, uint64_t off);
/* Drop a reference (call with the stream mutex held); frees at zero. */
void jr__seg_unref(jr__seg *g);
int jr__fsync_dir(const char *dir);

#endif
