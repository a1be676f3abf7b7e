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

/* One segment file.  Fields other than refs/fd are guarded by the stream's mutex. */
typedef struct jr__seg {
    uint64_t base;      /* offset of the first record */
    uint64_t next;      /* offset after the last durable record */
    uint64_t size;      /* bytes of durable records + header */
    int fd;
    int sealed;
    int refs;           /* the stream's list holds one; readers take one */
    int deleted;        /* unlinked; free when refs reach 0 */
    int64_t mtime_ms;   /* last append (for retention) */
    uint64_t *ioff, *ipos; /* sparse index: record offset -> file position */
    size_t nidx, capidx;
    uint64_t last_idx_pos;
    char path[4096];
} jr__seg;

typedef struct jr__waiter {
    const jr_iov *recs;
    int n;
    int64_t ts_us;
    uint64_t first;
    int done, rc;
    char err[256];
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
    uint64_t recovered;
    uint64_t appends, syncs, sync_ns, records;
    uint64_t sync_hist[JR_SYNC_BUCKETS];
    uint64_t last_sync_ns;
};

/* segment.c */
uint32_t jr__rec_crc(uint32_t len, uint64_t offset, int64_t ts, const void *p, size_t n);
void jr__encode_record(ut_buf *b, uint64_t offset, int64_t ts, const void *p, uint32_t n);
/* Open or create the segment with base `base` at path; scan it and verify
 * every record.  A torn/corrupt tail is cut off when truncate_tail (the active
 * segment), and only reported for sealed segments (their valid part stays
 * readable).  *dropped gets the bytes past the valid part.  Returns NULL with a
 * message. */
jr__seg *jr__seg_open(const char *path, uint64_t base, int create, int truncate_tail,
                      uint64_t max_record, uint64_t *dropped, char *err, size_t errlen);
void jr__seg_index_add(jr__seg *g, uint64_t offset, uint64_t pos);
/* File position of the last indexed record with offset <= off. */
uint64_t jr__seg_index_find(const jr__seg *g, uint64_t off);
/* Drop a reference (call with the stream mutex held); frees at zero. */
void jr__seg_unref(jr__seg *g);
int jr__fsync_dir(const char *dir);

#endif
