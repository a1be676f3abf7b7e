/* journal — the embedded stream: durable, append-only, per-stream logs.
 *
 * Prefix: jr_.  Cross-file internals: jr__ (jr_int.h).
 *
 * A stream is a directory of segment files named by the offset of their first
 * record.  Appends are group-committed: concurrent jr_append calls are
 * written with one write() and made durable with one fdatasync(), and each
 * caller returns only after its records are durable (per the stream's fsync
 * mode).  Readers only ever see durable records.
 *
 *   <dir>/<stream>/00000000000000000000.log    segment (see segment.c)
 *   <dir>/<stream>/00000000000001048576.log
 *   <dir>/<stream>/00000000000001048576.idx    sparse index of a sealed segment
 *   <dir>/<stream>/cursors/<consumer>           committed offsets (cursor.c)
 *   <dir>/<stream>/groups/<group>.log           consumer group state (group.c)
 *
 * Thread safety: every function may be called from any thread; a jr_reader
 * is used by one thread at a time.
 */
#ifndef SLUICE_JOURNAL_H
#define SLUICE_JOURNAL_H

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
} jr_opts;

/* Fill *o with the defaults above. */
void jr_opts_init(jr_opts *o);

/* Open (creating if needed) stream `name` under directory `dir`.  Recovers
 * the last segment: a torn or corrupt tail is found by CRC and truncated to
 * the last good record; the number of bytes dropped is reported through
 * jr_stream_recovered_bytes (and logged to stderr).  opts may be NULL.
 * Returns NULL with a message naming the stream and file on failure. */
jr_stream *jr_stream_open(const char *dir, const char *name, const jr_opts *opts, char *err,
                          size_t errlen);
/* Finish in-flight appends, sync, and free.  Accepts NULL. */
void jr_stream_close(jr_stream *s);

const char *jr_stream_name(const jr_stream *s);
/* Bytes dropped from a torn tail when the stream was opened. */
uint64_t jr_stream_recovered_bytes(const jr_stream *s);

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
} jr_info;

void jr_stream_info(jr_stream *s, jr_info *out);

/* Wait until next_offset > offset or timeout_ms passes (-1 = forever).
 * Returns 1 if records are available, 0 on timeout or when the stream is
 * closing. */
int jr_stream_wait(jr_stream *s, uint64_t offset, int timeout_ms);

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

/* ---- CRC-32C ----------------------------------------------------------------- */

/* CRC-32C (Castagnoli) of p[0..n), continuing from crc (start with 0). */
uint32_t jr_crc32c(uint32_t crc, const void *p, size_t n);

#endif
