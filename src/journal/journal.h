/* journal — the embedded stream: durable, append-only, per-stream logs.
 *
 * Prefix: jr_.  Cross-file internals: jr__ (jr_int.h).
 *
 * A stream is a directory of segment files named by the offset of their first
 * record.  Appends are group-committed: concurrent jr_append calls are
 * written with one write() and made durable with one fdatasync(), and each
 * caller returns only after its records are durable (per the stream's fsync
 * mode).  Readers only ever see durable records.  Before a group is published
 * or acked, the watermark `synced` is rewritten with the position it ends at.
 *
 *   <dir>/<stream>/00000000000000000000.log    segment (see segment.c)
 *   <dir>/<stream>/00000000000001048576.log
 *   <dir>/<stream>/00000000000001048576.idx    sparse index of a sealed segment
 *   <dir>/<stream>/synced                      synced-position watermark (synced.c)
 *   <dir>/<stream>/cursors/<consumer>           committed offsets (cursor.c)
 *   <dir>/<stream>/groups/<group>.log           consumer group state (group.c)
 *
 * Thread safety: every function may be called from any thread; a jr_reader
 * is used by one thread at a time.
 */
#ifndef SLUICE_JOURNAL_H
#define SLUICE_JOURNAL_H

#include "util/util.h"

#include <stddef.h>
#include <stdint.h>

typedef struct jr_stream jr_stream;

typedef enum jr_fsync {
    JR_FSYNC_ALWAYS = 0, /* every group commit is fdatasync'ed before acking */
    JR_FSYNC_BATCH,      /* fdatasync at most every batch_ms; acks wait for it */
    JR_FSYNC_NEVER       /* UNSAFE: ack after write(); a power loss or kernel
                            crash loses acknowledged records */
} jr_fsync;

typedef struct jr_opts {
    jr_fsync fsync;            /* default JR_FSYNC_ALWAYS */
    int batch_ms;              /* JR_FSYNC_BATCH interval; default 5 */
    uint64_t segment_bytes;    /* roll segments at this size; default 64 MiB */
    int64_t retention_ms;      /* delete sealed segments older; 0 = forever
                                  (default 7 days) */
    uint64_t retention_bytes;  /* delete oldest sealed segments above; 0 = no cap */
    uint32_t max_record_bytes; /* default 1 MiB, hard cap 64 MiB */
    uint64_t max_batch_bytes;  /* bytes one group commit writes; default 8 MiB */
    int read_only;             /* open to read next to a running server: never
                                  truncate, create, append or delete anything
                                  (nor write the watermark); a record being
                                  written, or past the watermark, shows up as
                                  the end */
} jr_opts;

/* Fill *o with the defaults above. */
void jr_opts_init(jr_opts *o);

/* Open (creating if needed) stream `name` under directory `dir`.  Recovery
 * (docs/journal.md, "Recovery"): the active segment is verified record by
 * record now, sealed segments when first read.  A damaged range (bad CRC,
 * length or offset) is skipped: the scan resynchronises on the next valid
 * record and keeps everything after it (jr_info.damaged_bytes, lost_records,
 * logged).  Only damage with no valid record after it is a torn tail, cut off
 * the active segment (jr_stream_recovered_bytes).  With a watermark that
 * describes the active segment, bytes past its position S were never
 * acknowledged: after a process crash (same boot: S is exact) they are cut;
 * otherwise (S may be stale) the records following S in sequence are kept
 * and the first damage at or after S is cut, valid records after it too.
 * No usable watermark: every valid record is kept (logged once).  Offsets are
 * never reused: the next offset is raised above every position a cursor or
 * group of the stream has recorded and the watermark's next offset
 * (jr_info.reserved_from).  Only the active segment (and the watermark, for
 * writers) keeps a file descriptor open.  opts may be NULL.  Returns NULL with
 * a message naming the stream and file on failure (e.g. "Too many open
 * files"). */
jr_stream *jr_stream_open(const char *dir, const char *name, const jr_opts *opts, char *err,
                          size_t errlen);
/* Finish in-flight appends, sync, record the clean close in the watermark,
 * and free.  Accepts NULL. */
void jr_stream_close(jr_stream *s);

const char *jr_stream_name(const jr_stream *s);
/* Bytes dropped from a torn tail, or past the watermark, when the stream was
 * opened. */
uint64_t jr_stream_recovered_bytes(const jr_stream *s);
/* Make the next append's offset at least `next`, so that a position some
 * consumer outside the journal recorded (the lake sink's) is never reused
 * after records were lost.  `who` names it in the log line.  Waits for
 * in-flight appends.  Returns 0, or -1 on a read-only stream. */
int jr_stream_reserve(jr_stream *s, uint64_t next, const char *who, char *err, size_t errlen);

/* One record to append. */
typedef struct jr_iov {
    const void *p;
    size_t n;
} jr_iov;

/* Append recs[0..n) with ingest time ts_us (µs since the epoch).  Blocks until
 * the records are durable (per the fsync mode) and sets *first to the offset
 * of recs[0]; the others follow consecutively.  All or nothing: on error no
 * record of this call is visible.  Returns 0, or -1 with a message (record
 * over max_record_bytes, disk full, I/O error, stream closed). */
int jr_append(jr_stream *s, const jr_iov *recs, int n, int64_t ts_us, uint64_t *first, char *err,
              size_t errlen);
/* The same with a typed error: UT_ENOSPACE when the disk is full, UT_EIO
 * otherwise (callers choose an HTTP status on the kind). */
int jr_append_e(jr_stream *s, const jr_iov *recs, int n, int64_t ts_us, uint64_t *first,
                ut_error *e);

/* Upper bounds (µs) of the fsync latency histogram buckets; the last bucket
 * is +Inf. */
#define JR_SYNC_BUCKETS 12
extern const uint64_t jr_sync_bucket_us[JR_SYNC_BUCKETS - 1];

typedef struct jr_info {
    uint64_t first_offset;  /* oldest record still retained */
    uint64_t next_offset;   /* offset the next append gets (= end, durable) */
    uint64_t bytes;         /* bytes on disk, all segments */
    int segments;
    uint64_t appends, syncs;        /* group commits and fdatasyncs so far */
    uint64_t sync_ns_total;         /* time spent in fdatasync */
    uint64_t sync_hist[JR_SYNC_BUCKETS]; /* fdatasync count per latency bucket */
    uint64_t records_appended;      /* records appended since open */
    uint64_t recovered_bytes;       /* torn tail (or never-acked tail) cut at open */
    uint64_t damaged_bytes;         /* damaged bytes skipped (segments read so far) */
    uint64_t lost_records;          /* records known lost in damaged ranges */
    uint64_t reserved_from;         /* offsets [reserved_from, first new) were skipped
                                       so that none is reused; 0 = none */
} jr_info;

void jr_stream_info(jr_stream *s, jr_info *out);

/* Wait until next_offset > offset or timeout_ms passes (-1 = forever).
 * Returns 1 if records are available, 0 on timeout, when the stream is
 * closing or after a jr_stream_wake. */
int jr_stream_wait(jr_stream *s, uint64_t offset, int timeout_ms);

/* End every jr_stream_wait on s now (a reader that stops: its wait need not
 * run out first). */
void jr_stream_wake(jr_stream *s);

/* Apply retention now (also done after each segment roll).  Returns the
 * number of segments deleted. */
int jr_stream_retain(jr_stream *s, int64_t now_ms);

/* ---- reading -------------------------------------------------------------- */

typedef struct jr_record {
    uint64_t offset;
    int64_t ts_us;
    const uint8_t *p; /* payload; valid until the next jr_read on the reader */
    uint32_t n;
} jr_record;

typedef struct jr_reader jr_reader;

jr_reader *jr_reader_create(jr_stream *s);
void jr_reader_destroy(jr_reader *r);

/* Read durable records with offsets >= from, at most max records and about
 * max_bytes of payload (at least one record is returned if any exists).
 * Records older than retention are skipped: out[0].offset may be > from.
 * Returns the number of records (0 at the end), or -1 with a message (I/O
 * error, corrupt record: the message names the segment file and position). */
int jr_read(jr_reader *r, uint64_t from, jr_record *out, int max, size_t max_bytes, char *err,
            size_t errlen);

/* ---- cursor consumers (Kafka style) ----------------------------------------- */

/* Committed offset of `consumer` (the next offset it will read); 0 if it has
 * never committed.  Returns 0, or -1 with a message. */
int jr_cursor_get(jr_stream *s, const char *consumer, uint64_t *offset, char *err, size_t errlen);
/* Durably commit `offset` for `consumer` (names: [A-Za-z0-9_.-], 1..64). */
int jr_cursor_commit(jr_stream *s, const char *consumer, uint64_t offset, char *err,
                     size_t errlen);

/* ---- consumer groups (Redis Streams style) ------------------------------------ *
 *
 * A group is a named position in a stream plus a pending-entries list (PEL):
 * jr_group_read hands each new record to one consumer of the group and keeps
 * it pending until jr_group_ack; entries idle too long are taken over by
 * another consumer with jr_group_claim / jr_group_autoclaim; an entry
 * delivered more than max_deliveries times goes to a dead-letter stream.
 * Semantics follow Redis 7 (XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM,
 * XGROUP CREATE/SETID/DELCONSUMER/DESTROY, XINFO GROUPS/CONSUMERS), with
 * offsets for ids.  State is an append-only, CRC-checked op log per group
 * (<stream>/groups/<group>.log); every call that changes state writes its ops
 * with one write() and syncs them before it returns.  See docs/journal.md.
 *
 * Names of groups and consumers: 1-64 of [A-Za-z0-9_.-], not starting with '.'.
 * Times are milliseconds of CLOCK_REALTIME, so idle times survive restarts.
 * Close every group of a stream before closing the stream.
 */

typedef struct jr_group jr_group;

/* Start position for a new group or jr_group_setid: only records appended
 * from now on (Redis's '$'). */
#define JR_GROUP_START_NEW UINT64_MAX
/* Hard caps. */
#define JR_GROUP_MAX_PENDING_CAP (16u << 20) /* entries in one PEL */
#define JR_GROUP_MAX_CONSUMERS 10000         /* consumers in one group */
#define JR_GROUP_MAX_COUNT (1 << 20)         /* entries per call */

typedef struct jr_group_opts {
    uint64_t start;             /* where a NEW group starts: JR_GROUP_START_NEW
                                   (default) or an offset (0 = from the first
                                   record).  Ignored when the group exists. */
    uint32_t max_deliveries;    /* default 5; 0 = unlimited.  A claim that would
                                   make an entry's delivery count exceed it
                                   dead-letters the entry instead. */
    jr_stream *dead_letter;     /* stream that receives dead-lettered records
                                   (e.g. "<stream>.dlq"); NULL = drop and count.
                                   Must stay open while the group is open and
                                   must not be the group's own stream. */
    uint32_t max_pending;       /* PEL cap; default 1,000,000, at most
                                   JR_GROUP_MAX_PENDING_CAP */
    int no_create;              /* 1: fail if the group does not exist */
    uint64_t compact_min_bytes; /* never compact a log smaller; default 1 MiB */
    uint32_t lazy_sync_ms;      /* 0 (default): every call's ops are fdatasync'ed
                                   before it returns.  N > 0: they are written at
                                   once (a crash of the process loses nothing) but
                                   synced at most every N ms, by the next call
                                   after that or at close: a power loss can undo
                                   the ops of the last N ms -- entries delivered
                                   again, acks undone, delivery counts lower.  For
                                   consumers whose own records make redelivery
                                   harmless (the jobs queue). */
} jr_group_opts;

/* Fill *o with the defaults above. */
void jr_group_opts_init(jr_group_opts *o);

/* Open group `group` of stream s, creating it (durably) if missing unless
 * o->no_create.  Replays <stream>/groups/<group>.log; a torn or corrupt tail
 * is cut off at the last good op (reported by jr_group_info.recovered_bytes
 * and in the log).  A group already open in this process (same s, same name)
 * is shared: the same handle comes back with a reference added, and a
 * non-NULL o replaces its max_deliveries / dead_letter / max_pending.  The
 * log is locked (flock) against other processes.  o may be NULL (defaults).
 * Returns the group (release with jr_group_close), or NULL with a message
 * naming the stream and group. */
jr_group *jr_group_open(jr_stream *s, const char *group, const jr_group_opts *o, char *err,
                        size_t errlen);
/* Drop a reference; the last one closes the log and frees.  Accepts NULL. */
void jr_group_close(jr_group *g);

/* Test hook: use now_ms(ctx) instead of CLOCK_REALTIME for this group (NULL
 * restores the real clock). */
void jr_group_set_clock(jr_group *g, int64_t (*now_ms)(void *ctx), void *ctx);

/* Records returned by the group calls below are copied into a caller-owned
 * jr_group_buf: out[i].p stays valid until the next call that is given the
 * same buffer, or jr_group_buf_destroy.  One thread at a time per buffer;
 * create one per consumer thread.  s is the stream of the groups it serves. */
typedef struct jr_group_buf jr_group_buf;
jr_group_buf *jr_group_buf_create(jr_stream *s);
void jr_group_buf_destroy(jr_group_buf *b); /* accepts NULL */

/* XREADGROUP GROUP g consumer COUNT count [BLOCK block_ms] STREAMS s >
 * Deliver up to `count` records never delivered to this group (offsets >=
 * info.next_deliver), about max_bytes of payload (at least one record; 0 = no
 * byte limit).
 * Each becomes pending, owned by `consumer` (created if new), delivery count
 * 1, delivery time now.  If none are available and block_ms != 0, waits up to
 * block_ms (-1 = forever) for new records once.  Records removed by retention
 * before delivery are skipped.  Returns the number of records in out[] (0 =
 * nothing new), or -1 with a message (I/O, PEL at max_pending: ack or claim
 * first). */
int jr_group_read(jr_group *g, const char *consumer, jr_group_buf *b, jr_record *out, int count,
                  size_t max_bytes, int block_ms, char *err, size_t errlen);

/* XREADGROUP ... STREAMS s <id>: up to `count` of consumer's OWN pending
 * entries with offset >= from (inclusive, unlike Redis's exclusive id: pass
 * last + 1 to page on), in offset order.  Ownership, delivery counts and
 * times do not change.  An entry whose record was removed by retention comes
 * back with p == NULL and n == 0 (Redis returns the id with a nil body).
 * An unknown consumer has nothing pending (0; it is not created).
 * Returns the number of records, or -1 with a message. */
int jr_group_read_pending(jr_group *g, const char *consumer, jr_group_buf *b, uint64_t from,
                          jr_record *out, int count, char *err, size_t errlen);

/* XACK: remove offsets[0..n) from the PEL whoever owns them (a consumer may
 * ack an entry that another consumer has since claimed).  Duplicates and
 * offsets that are not pending are ignored.  Durable before it returns.
 * Returns how many were pending (and are now acknowledged), or -1. */
int jr_group_ack(jr_group *g, const uint64_t *offsets, int n, char *err, size_t errlen);
/* lazy_sync_ms groups: fdatasync the ops written since the last sync, if
 * any (a consumer going idle calls it, so that nothing waits for a next op
 * to reach the disk).  0 / -1. */
int jr_group_sync(jr_group *g, char *err, size_t errlen);

/* XPENDING summary. */
typedef struct jr_pending_consumer {
    char name[65];
    uint64_t pending;
} jr_pending_consumer;
typedef struct jr_pending_summary {
    uint64_t count;               /* entries pending */
    uint64_t min, max;            /* lowest / highest pending offset (count > 0) */
    int nconsumers;               /* consumers with count > 0, by name */
    jr_pending_consumer *consumers; /* malloc'ed: jr_pending_summary_free */
} jr_pending_summary;
/* Fill *out.  Returns 0, or -1 with a message. */
int jr_group_pending_summary(jr_group *g, jr_pending_summary *out, char *err, size_t errlen);
void jr_pending_summary_free(jr_pending_summary *p);

/* XPENDING [IDLE min_idle_ms] start end count [consumer]. */
typedef struct jr_pending_entry {
    uint64_t offset;
    char consumer[65];
    int64_t idle_ms;       /* since the last delivery */
    uint32_t deliveries;   /* times delivered (read + claims) */
} jr_pending_entry;
/* Up to `count` pending entries with start <= offset <= end (UINT64_MAX for
 * Redis's '+'), in offset order, only those of `consumer` when non-NULL and
 * only those idle >= min_idle_ms when min_idle_ms > 0.  Returns the number
 * written to out[], or -1 with a message. */
int jr_group_pending(jr_group *g, uint64_t start, uint64_t end, int count, const char *consumer,
                     int64_t min_idle_ms, jr_pending_entry *out, char *err, size_t errlen);

/* Claim flags. */
#define JR_CLAIM_JUSTID 1 /* return offsets only (p = NULL); do not count a
                             delivery (so never dead-letters) — Redis JUSTID */

/* XCLAIM: give each pending entry of offsets[0..n) that is idle >=
 * min_idle_ms to `consumer` (created if new): delivery count + 1, delivery
 * time now.  Offsets not pending, or not idle enough, are skipped.  An entry
 * whose record was removed by retention leaves the PEL and is not returned.
 * An entry whose count would pass max_deliveries is dead-lettered instead
 * (appended to the dead-letter stream, removed from the PEL, counted in
 * info.dead_lettered) and not returned.  out[] gets the claimed records in
 * the order of offsets[] (n entries of room).  Returns how many, or -1. */
int jr_group_claim(jr_group *g, const char *consumer, int64_t min_idle_ms,
                   const uint64_t *offsets, int n, int flags, jr_group_buf *b, jr_record *out,
                   char *err, size_t errlen);

typedef struct jr_autoclaim_result {
    uint64_t next_start; /* start for the next call; 0 = the scan reached the
                            end of the PEL (Redis's 0-0) */
    int ndeleted;        /* offsets written to deleted[] */
    int ndead;           /* entries dead-lettered by this call */
} jr_autoclaim_result;
/* XAUTOCLAIM consumer min_idle_ms start COUNT count [JUSTID]: scan the PEL
 * from offset `start` in offset order, looking at no more than 10 * count
 * entries, and claim (as jr_group_claim) up to `count` idle >= min_idle_ms.
 * Entries whose records were removed by retention leave the PEL and are
 * reported in deleted[] (room for count), like Redis 7's third reply
 * element; they, and dead-lettered entries, count towards `count`.  Returns
 * the number of records in out[] (room for count), or -1 with a message. */
int jr_group_autoclaim(jr_group *g, const char *consumer, int64_t min_idle_ms, uint64_t start,
                       int count, int flags, jr_group_buf *b, jr_record *out, uint64_t *deleted,
                       jr_autoclaim_result *res, char *err, size_t errlen);

/* XGROUP SETID: the next new read delivers from `offset` (JR_GROUP_START_NEW
 * = the stream's end).  Pending entries are kept; moving back re-delivers
 * records, and a re-delivered entry still pending changes owner with its
 * delivery count reset to 1 (as Redis).  Returns 0 or -1. */
int jr_group_setid(jr_group *g, uint64_t offset, char *err, size_t errlen);

/* XGROUP DELCONSUMER: remove `consumer`; its pending entries are dropped
 * from the PEL (never delivered again).  Returns how many it had (0 if the
 * consumer does not exist), or -1 with a message. */
int jr_group_delconsumer(jr_group *g, const char *consumer, char *err, size_t errlen);

/* XGROUP DESTROY: delete the group's log.  Fails if the group is open in
 * this process.  Returns 1 if it existed, 0 if not, -1 with a message. */
int jr_group_destroy(jr_stream *s, const char *group, char *err, size_t errlen);

typedef struct jr_group_consumer_info {
    char name[65];
    uint64_t pending;
    int64_t idle_ms;     /* since the consumer was last seen (any read / claim) */
    int64_t inactive_ms; /* since its last successful read or claim; -1 never */
} jr_group_consumer_info;

typedef struct jr_group_info {
    char name[65];
    uint64_t next_deliver;   /* the next new record a read delivers has offset >= this */
    int64_t last_delivered;  /* next_deliver - 1; -1 if nothing was (Redis last-delivered-id) */
    uint64_t entries_read;   /* records delivered as new, ever (Redis entries-read) */
    uint64_t pending;        /* PEL size */
    uint64_t lag;            /* retained records not yet delivered */
    uint64_t acked;          /* acknowledged, ever */
    uint64_t dead_lettered;  /* moved to the dead-letter stream (or dropped), ever */
    uint64_t deleted;        /* left the PEL because retention removed the record */
    uint64_t log_bytes;      /* size of the group log */
    uint64_t recovered_bytes; /* torn tail dropped when opened */
    int nconsumers;
    jr_group_consumer_info *consumers; /* malloc'ed, by name: jr_group_info_free */
} jr_group_info;

/* XINFO GROUPS / CONSUMERS for one group.  Returns 0 or -1. */
int jr_group_info_get(jr_group *g, jr_group_info *out, char *err, size_t errlen);
void jr_group_info_free(jr_group_info *i); /* frees consumers; accepts NULL */

/* Every group of stream s (the logs under <stream>/groups), by name, with
 * info.  *out is malloc'ed: release with jr_group_list_free(*out, *n).
 * Returns 0 or -1 with a message. */
int jr_group_list(jr_stream *s, jr_group_info **out, int *n, char *err, size_t errlen);
void jr_group_list_free(jr_group_info *l, int n);

/* Dead-letter records: a one-line JSON header, '\n', then the original
 * payload byte for byte:
 *   {"stream":"events","group":"loader","offset":17,"deliveries":6,"ts_us":...}\n<payload>
 * (deliveries = the count the refused claim would have made; ts_us = the
 * original record's ingest time; the dead-letter record's own ts_us is the
 * time it was dead-lettered). */
typedef struct jr_dead_letter {
    char stream[65], group[65];
    uint64_t offset;
    uint32_t deliveries;
    int64_t ts_us;
    const uint8_t *p; /* original payload (points into rec) */
    uint32_t n;
} jr_dead_letter;
/* Parse a record of a dead-letter stream.  Returns 0, or -1 if it is not
 * one. */
int jr_dead_letter_parse(const jr_record *rec, jr_dead_letter *out);

/* ---- CRC-32C ----------------------------------------------------------------- */

/* CRC-32C (Castagnoli) of p[0..n), continuing from crc (start with 0). */
uint32_t jr_crc32c(uint32_t crc, const void *p, size_t n);

#endif
