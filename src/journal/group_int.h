/* Consumer-group internals shared by group.c (state, PEL, API) and
 * group_log.c (the on-disk op log).  Prefix jr__g. */
#ifndef SLUICE_JOURNAL_GROUP_INT_H
#define SLUICE_JOURNAL_GROUP_INT_H

#include "journal/jr_int.h"

#include <string.h>

#define JR__GRP_MAGIC "SLJGRP01" /* 8 bytes, the whole file header */
#define JR__GRP_HDR 8
#define JR__GOP_HDR 9            /* len le32, crc le32, type u8 */
#define JR__GOP_MAX (16u << 20)  /* largest op (len field) */
#define JR__GOP_CHUNK 65536      /* offsets / entries per multi-entry op */
#define JR__NO_CONS UINT32_MAX   /* PEL tombstone owner */

/* Op types (docs/journal.md has the byte layout). */
enum {
    JR__GOP_CREATE = 1,   /* next_deliver u64, time i64 (first op of a log) */
    JR__GOP_SETID = 2,    /* next_deliver u64, time i64 */
    JR__GOP_CONSUMER = 3, /* id u32, seen i64, active i64, namelen u8, name */
    JR__GOP_DELIVER = 4,  /* consumer u32, time i64, first u64, last u64 */
    JR__GOP_CLAIM = 5,    /* consumer u32, time i64, n u32, n x (offset u64, count u32) */
    JR__GOP_ACK = 6,      /* n u32, n x offset u64 */
    JR__GOP_DEAD = 7,     /* n u32, n x offset u64 (dead-lettered) */
    JR__GOP_DROP = 8,     /* n u32, n x offset u64 (record gone by retention) */
    JR__GOP_DELCONS = 9,  /* consumer u32 */
    JR__GOP_PEL = 10,     /* n u32, n x (offset u64, consumer u32, count u32, time i64) */
    JR__GOP_COUNTERS = 11 /* entries_read, acked, dead_lettered, deleted: 4 x u64 */
};

/* One PEL entry; cons == JR__NO_CONS marks a tombstone (acked, kept until the
 * array is compacted so that offsets stay sorted). */
typedef struct jr__pent {
    uint64_t off;
    int64_t time; /* last delivery, ms */
    uint32_t cons;
    uint32_t dc;  /* delivery count */
} jr__pent;

typedef struct jr__cons {
    char name[65];
    int live;       /* 0: deleted slot, reused only after log compaction */
    uint64_t pending;
    int64_t seen;   /* last interaction, ms */
    int64_t active; /* last successful read / claim, ms; -1 never */
} jr__cons;

struct jr_group {
    jr_stream *s;
    char name[65];
    char gdir[4200];  /* <stream>/groups */
    char path[4300];  /* <stream>/groups/<name>.log */
    pthread_mutex_t mu;
    int refs;         /* guarded by the registry mutex (group.c) */
    jr_group_opts o;
    int fd;
    uint64_t log_size;
    uint64_t compact_at; /* next size at which to try compaction */
    int broken;          /* log state unknown after a failed rollback */
    int64_t synced_ms;   /* lazy_sync_ms: the last fdatasync (monotonic) */
    int dirty;           /* lazy_sync_ms: ops written since */
    uint64_t recovered;
    int64_t created;
    uint64_t next_deliver, entries_read, acked, dead_lettered, deleted;
    jr__pent *pel;
    size_t npel, cappel, live;
    jr__cons *cons;
    uint32_t ncons, capcons;
    ut_buf wbuf;          /* ops of the current call */
    jr_reader *ra;        /* read-ahead for new records (group.c fetch_new) */
    jr_record *ra_recs;   /* the last jr_read on ra: consecutive offsets */
    int ra_n;
    int64_t (*clock)(void *);
    void *clock_ctx;
    struct jr_group *next; /* registry list */
};

/* group.c: apply one decoded op to the in-memory state (replay and live
 * path alike).  Returns 0, or -1 with a message for an op that does not fit
 * the state (unknown consumer, bad length). */
int jr__g_apply(jr_group *g, int type, const uint8_t *body, size_t len, char *err, size_t errlen);
/* group.c: reset the in-memory state to empty. */
void jr__g_state_free(jr_group *g);

/* group_log.c */
/* Start an op of `type` in b; returns its start position for jr__gop_end. */
size_t jr__gop_begin(ut_buf *b, int type);
/* Fill in the len and crc of the op started at pos. */
void jr__gop_end(ut_buf *b, size_t pos);
/* Create the log with a CREATE op (temp file, fsync, rename, fsync dir). */
int jr__glog_create(jr_group *g, uint64_t next_deliver, int64_t now, char *err, size_t errlen);
/* Open, lock and replay the log into g (fd, log_size, recovered set). */
int jr__glog_load(jr_group *g, char *err, size_t errlen);
/* Write g->wbuf (whole ops) with one write, sync, then apply the ops to the
 * state.  On a failed write the file is cut back and nothing is applied.
 * May compact afterwards.  Returns 0 or -1 with a message. */
int jr__glog_commit(jr_group *g, char *err, size_t errlen);
/* The highest position the log at path ever recorded (CREATE/SETID
 * next_deliver, DELIVER last + 1), read without locking or changing it.
 * A log that does not parse gives what its valid ops say (logged).  Returns
 * 0, or -1 with a message when the file cannot be opened. */
int jr__glog_top(const char *path, uint64_t *top, char *err, size_t errlen);
/* Rewrite the log as a snapshot of the state.  Returns 0 or -1. */
int jr__glog_compact(jr_group *g, char *err, size_t errlen);

/* Little-endian readers. */
static inline uint32_t jr__g_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t jr__g_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

#endif
