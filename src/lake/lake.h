/* lake — the lake sink: a stream from the journal landed as Parquet tables in
 * Hive-style partitions by event time, exactly once.
 *
 * Prefix: lk_.  Cross-file internals: lk__ (lk_int.h).
 *
 *   journal ──read──► observe: event time → partition, schema evolution
 *                     (new keys add columns; int → double → string widening)
 *                 ──► per-partition buffers (raw records, bounded)
 *   flush trigger (bytes | rows | age of the oldest record | open partitions |
 *   memory) ──► every buffer becomes one Parquet file per partition:
 *       write to a temp file, fsync ──► store (rename / upload)
 *   ──► ONE catalog transaction: the new files + the stream position
 *
 * After a crash the sink resumes from the committed position: records already
 * in committed files are not read again, files written but not committed are
 * garbage (collected when the sink starts), so no row is ever duplicated or
 * lost.  Keys become columns by one naming rule (lk_names below).  Records
 * that cannot fit (over the column cap, not an object, two keys in one
 * column) go to the table "<table>_errors" with the reason, in the same
 * transaction, and change nothing in the schema.
 */
#ifndef SLUICE_LAKE_H
#define SLUICE_LAKE_H

#include "catalog/catalog.h"
#include "journal/journal.h"
#include "parquet/parquet.h"
#include "store/store.h"
#include "util/util.h"

#include <stddef.h>
#include <stdint.h>

typedef enum lk_time_format { LK_TIME_AUTO, LK_TIME_RFC3339, LK_TIME_EPOCH_S, LK_TIME_EPOCH_MS,
                              LK_TIME_EPOCH_US } lk_time_format;
typedef enum lk_partitioning { LK_PART_DT_HR, LK_PART_DT, LK_PART_NONE } lk_partitioning;

typedef struct lk_sink_opts {
    const char *stream_name;    /* for the catalog position and messages */
    jr_stream *stream;          /* source (not owned) */
    const char *table;          /* landing table, e.g. "t1_events" */
    const char *catalog_path;   /* <data_dir>/catalog.db */
    st_store *store;            /* where files go (not owned; thread-safe) */
    const char *tmp_dir;        /* local scratch for files being written */
    const char *event_time_field; /* "" = ingest time */
    lk_time_format time_format;
    lk_partitioning partition;
    uint64_t roll_bytes;
    int64_t roll_rows;
    int64_t roll_age_ms;
    int max_open_partitions;
    uint64_t max_buffer_bytes;
    int case_insensitive;
    int max_columns;
    int64_t retention_ms;       /* 0 = keep */
    int compact_min_files;
    uint64_t compact_target_bytes;
    int64_t maintenance_interval_ms; /* retention + compaction every this often */
    int64_t trash_grace_ms;     /* removed files are deleted this long after removal */
    pq_codec codec;
} lk_sink_opts;

/* Defaults as in docs/configuration.md (roll 64 MiB / 1M rows / 60 s, 100
 * open partitions, 256 MiB buffers, 1000 columns, zstd). */
void lk_sink_opts_init(lk_sink_opts *o);

typedef struct lk_sink lk_sink;

/* Open the catalog, create the table if needed, load its schema and the
 * committed position, and delete files of the table that the catalog does not
 * list (left by a crash).  Returns NULL with a message. */
lk_sink *lk_sink_create(const lk_sink_opts *o, char *err, size_t errlen);

/* Read what the stream has after the current position, buffer it, and flush
 * if a buffer hint is reached (or `flush` is set and anything is buffered).
 * Returns the number of records consumed (records read again after a
 * widening count again), or -1 with a message.  For tests and one-shot
 * tools; the server uses lk_sink_start. */
int lk_sink_step(lk_sink *s, int flush, char *err, size_t errlen);

/* Run the sink in its own thread until lk_sink_stop. 0 or -1.  A failed
 * step (store or catalog failing) is retried after a wait that doubles from
 * LK_RETRY_FIRST_MS to LK_RETRY_MAX_MS, with jitter (half to all of it), and
 * ends at once when the sink is stopped; the stats stay readable throughout. */
#define LK_RETRY_FIRST_MS 100
#define LK_RETRY_MAX_MS 30000
int lk_sink_start(lk_sink *s, char *err, size_t errlen);
/* Stop the thread (if started), flushing and committing what is buffered. */
void lk_sink_stop(lk_sink *s);
/* The same in two steps, so many sinks stop at once within one bound:
 * lk_sink_stop_begin asks the thread to stop (it lands what it buffers, then
 * ends; it notices within about a second) and returns at once;
 * lk_sink_stop_wait waits for it until deadline_ms (CLOCK_REALTIME ms since
 * the epoch, as lk__now_ms; -1 = no deadline): 0 when the thread has ended,
 * -1 when it still runs at the deadline (then the sink must not be destroyed:
 * the process should exit; what did not land is still in the journal). */
void lk_sink_stop_begin(lk_sink *s);
int lk_sink_stop_wait(lk_sink *s, int64_t deadline_ms);
/* Free (stops first).  Accepts NULL. */
void lk_sink_destroy(lk_sink *s);

typedef struct lk_sink_stats {
    uint64_t position;          /* committed: every record below is in the lake */
    uint64_t read_offset;       /* next offset to read (position + buffered) */
    uint64_t records_landed, records_errored, files_committed, flushes;
    uint64_t bytes_committed;
    uint64_t buffered_records, buffered_bytes;
    int open_partitions;
    int columns, schema_version;
    uint64_t lost_to_retention; /* records deleted by journal retention before landing */
    uint64_t files_compacted;   /* small files merged away */
    int64_t last_flush_ms;      /* wall time of the last commit; 0 never */
    uint64_t last_commit_lag_us;/* ingest → commit of the oldest record of the last flush */
    int past_end;               /* stopped: position past the stream's end (records lost) */
    uint64_t stream_end;        /* the stream's next offset when last checked */
    uint64_t retries;           /* failed steps retried (the thread) since the start */
    int64_t retry_backoff_ms;   /* the wait before the next retry; 0 once a step succeeds */
    char last_error[256];
} lk_sink_stats;

void lk_sink_get_stats(lk_sink *s, lk_sink_stats *out);

/* Run retention (drop partitions older than retention_ms), compaction (merge
 * partitions' small files, one ct_replace each) and delete removed files from
 * the store, now.  The sink thread does this every maintenance_interval_ms;
 * call it directly only when the thread is not running.  0 or -1. */
int lk_sink_maintain(lk_sink *s, char *err, size_t errlen);

/* ---- landing files (land.c) ---------------------------------------------------
 * The one way files enter the lake, for every writer (the sink, CREATE TABLE
 * AS / INSERT, compaction, job tasks):
 *
 *   temp file (lk_tmp_path) written by a pq_writer ──► lk_land: close it,
 *   statistics and size from the writer ──► store it at
 *   <table>/<partition>/<name>, never over an existing object ──► ONE
 *   catalog transaction (ct_apply: the files, the old files they replace,
 *   a table to create, the stream position) ──► on failure: what was stored
 *   is deleted again, the temp files unlinked.
 *
 * File names are unique per writer (the sink: its stream position; CTAS: a
 * time stamp and its pid; compaction: the merged file ids), and an existing
 * key is an error, so no commit ever replaces a file another one committed.
 *
 * Replacing files (compaction): list them (ct_files) and pass their ids as
 * the table change's `remove`; if another writer changed them meanwhile the
 * landing fails cleanly and can be retried.  Replacing partitions (a job
 * overwriting its output, sq_write): pass the partitions as `replace`; the
 * commit's transaction finds their live files, so a file another writer
 * committed there meanwhile is replaced too.  A job's run record goes into
 * the same ct_change. */

typedef struct lk_land_file {
    pq_writer *w;           /* rows written, not closed: lk_land closes it (the
                               caller destroys it afterwards, either way) */
    const char *tmp;        /* the temp path w writes to; consumed or unlinked */
    int table;              /* index into the landing's change.tables */
    const char *partition;  /* path form, escaped: "dt=2024-05-01/hr=03", "" none */
    const char *name;       /* "part-....parquet", unique for the writer */
    int64_t min_offset, max_offset; /* stream offsets in the file, -1 n/a */
    int schema_version;
} lk_land_file;

typedef struct lk_landing {
    ct_catalog *cat;
    st_store *store;
    const char *tables[CT_MAX_CHANGE_TABLES]; /* table names = their store prefixes */
    ct_change change;       /* tables (ids, create, remove, replace) and stream
                               position; each table's add/nadd are filled by lk_land,
                               the objects of its `replaced` files moved to the trash
                               and the list freed (nreplaced stays); err_kind says why
                               the commit failed (UT_EEXISTS: see ct_new_table) */
    const ct_file *removed[CT_MAX_CHANGE_TABLES]; /* per table with a `remove`: the files
                               of those ids (same order); after the commit their
                               objects are moved to the trash (lk_trash_move) */
    uint64_t bytes;         /* out: bytes landed */
} lk_landing;

/* Land files[0..n) as above.  0, or -1 with a message (nothing visible). */
int lk_land(lk_landing *l, lk_land_file *files, int n, char *err, size_t errlen);

/* The catalog row lk_land records for file lf: closes lf->w and fills *f
 * (path <partition>/<name>, rows, bytes, statistics; f->stats malloc'ed).
 * For a writer whose file another process lands (lk_land_stored).  0 / -1. */
int lk_land_describe(const lk_land_file *lf, ct_file *f, char *err, size_t errlen);
/* A file stored already, outside every table's directory (a staging key),
 * with its row from lk_land_describe. */
typedef struct lk_stored_file {
    const char *key;        /* where it is staged */
    const ct_file *file;    /* path (under the table), rows, bytes, stats, schema_version */
    int table;              /* index into the landing's change.tables */
} lk_stored_file;
/* lk_land for stored files: each renamed to <table>/<path> (never over an
 * existing object), then the ONE ct_apply; on failure they are renamed
 * back to their staging keys.  0, or -1 with a message. */
int lk_land_stored(lk_landing *l, const lk_stored_file *files, int n, char *err, size_t errlen);

/* ---- the trash (trash.c) ---------------------------------------------------------
 * A file the catalog removed (compaction, retention, any ct_apply remove) is
 * moved out of its table's directory right after the commit, to
 * ".trash/<table>/<path>" in the same store, so engines that list the
 * table's directory (DuckDB globs, Hive/Trino/Spark tables) never count it
 * beside the file that replaced it.  sluice's scans that listed it before the
 * removal open it at its trash key.  It is deleted after trash_grace_ms. */
#define LK_TRASH_DIR ".trash" /* a table name never starts with '.' */
/* THE mapping: the trash key of lake object key "<table>/<path>" into out[n].
 * 0, or -1 when it does not fit. */
int lk_trash_key(const char *key, char *out, size_t n);
/* Move "<table>/<path>" to its trash key (st_rename).  A missing object is
 * not an error (moved already).  0 or -1 with a message. */
int lk_trash_move(st_store *store, const char *table, const char *path, char *err,
                  size_t errlen);
/* lk_trash_move for files[0..n) of a table; failures are logged (the file
 * stays in place until the grace period ends or the next start moves it).
 * Returns the number that failed. */
int lk_trash_files(st_store *store, const char *table, const ct_file *files, int n);

/* ---- scan pins (pin.c) -----------------------------------------------------------
 * A scan that may read trashed files holds a pin from before it lists the
 * catalog's files until it ends; the trash deletes no file removed after the
 * oldest live pin started, however long ago that is (trash_grace counts only
 * once no scan holds it back).  Pins are files "<lake>/.trash/.pins/<pid>-<n>"
 * holding their start time and locked (flock) by their process, so other
 * processes on the host see them; a pin whose process is gone is ignored and
 * removed.  Local stores only: on S3 there are no pins and the grace period
 * alone protects a scan (a file first opened after it ends fails the scan). */
typedef struct lk_pin lk_pin;
#define LK_PINS_MAX 10000      /* pins read per pass; more: the trash deletes nothing */
#define LK_PIN_SLACK_MS 1000   /* files removed up to this long before a pin are kept too */
/* Pin the store's trash now.  NULL with err "" when the store has no pins
 * (S3, store NULL); NULL with a message when the pin cannot be made (the
 * scan may go on without it). */
lk_pin *lk_pin_create(st_store *store, char *err, size_t errlen);
void lk_pin_destroy(lk_pin *p); /* accepts NULL */
/* The start (wall-clock ms) of the oldest live pin of the store into
 * *oldest_ms: 1, 0 when there is none, -1 with a message (then nothing may
 * be deleted).  Removes the pins of dead processes. */
int lk_pins_oldest(st_store *store, int64_t *oldest_ms, char *err, size_t errlen);

/* A fresh temp path "<tmp_dir>/sl-<pid>-<seq>-<tag>.parquet" (tag sanitised). */
void lk_tmp_path(const char *tmp_dir, const char *tag, char *out, size_t n);
/* Unlink temp files in tmp_dir whose writer process is gone (kill -9 during
 * a flush or a CREATE TABLE AS).  Returns the number removed. */
int lk_tmp_gc(const char *tmp_dir);

/* Delete objects under "<table>/" stored by a CREATE TABLE AS / INSERT that
 * died before its commit: names "part-q<µs>-<pid>-<i>.parquet" the catalog
 * does not know (table_id 0: the table does not exist), whose writer process
 * is gone (local stores; and the name's stamp is LK_ORPHAN_GRACE_MS old: the
 * pid may be a living writer's on another machine sharing the directory) or
 * that are older than LK_ORPHAN_AGE_MS (any store).
 * Returns the number deleted, or -1 with a message. */
/* The Parquet type that holds lake column type t (the one mapping; a
 * CT_DECIMAL needs its precision and scale too: lk_pq_spec). */
pq_type lk_pq_type(ct_type t);
/* out->type, ->precision and ->scale for lake column c (name and optional
 * are the caller's). */
void lk_pq_spec(const ct_column *c, pq_column_spec *out);

/* THE name of file i of a writer other than the sink and compaction (CREATE
 * TABLE AS / INSERT, job tasks) that started at stamp_us: "part-q<µs>-<pid>-
 * <i>.parquet" (this process's pid), into out[LK_WRITER_NAME_MAX]. */
#define LK_WRITER_NAME_MAX 96
void lk_writer_file_name(char *out, long long stamp_us, int i);
#define LK_ORPHAN_AGE_MS (24LL * 3600 * 1000)
#define LK_ORPHAN_GRACE_MS (10LL * 60 * 1000)
int lk_orphan_gc(ct_catalog *cat, st_store *store, const char *table, int64_t table_id,
                 char *err, size_t errlen);

/* Hive path escaping of a partition value: bytes that are not safe in a
 * path segment (controls, "#%'*:=?\/{[]^ and DEL, invalid UTF-8) become %XX;
 * valid UTF-8 is kept.  Returns the length written to out (NUL-terminated)
 * or -1 if out[cap] is too small.  Unescape is the inverse (any %XX). */
long lk_part_escape(const char *v, size_t n, char *out, size_t cap);
long lk_part_unescape(const char *s, size_t n, char *out, size_t cap);
/* The path segment "<col>=<escaped value>" into out[cap].  0, or -1 with a
 * message when it would exceed LK_SEGMENT_MAX bytes (never truncated). */
#define LK_SEGMENT_MAX 255
int lk_part_segment(const char *col, const char *value, size_t n, char *out, size_t cap,
                    char *err, size_t errlen);

/* ---- the original text of timestamp columns (tstext.c) ------------------------------
 * A TIMESTAMP column holds instants; to read a record's text back exactly
 * once the column has widened to string, every file the sink (and
 * compaction) writes with a TIMESTAMP column from text has the footer key
 * "sluice.ts_text.<column>": the texts' layouts (ut_ts_layout: separator,
 * fraction digits, zone and offset) and run-length runs of layout per row.
 * One value is at most LK_TSTEXT_MAX bytes: a writer asks lk_tstext_room
 * before each row and starts a new file when there is none.  Files without
 * the key read as ut_ts_format_fixed ("YYYY-MM-DDTHH:MM:SS.ffffffZ"). */
#define LK_TSTEXT_KEY "sluice.ts_text."
#define LK_TSTEXT_MAX 65536
typedef struct lk_tstext lk_tstext;
lk_tstext *lk_tstext_create(void);
void lk_tstext_destroy(lk_tstext *t); /* accepts NULL */
/* May one more row be noted (the value stays within LK_TSTEXT_MAX)? */
int lk_tstext_room(const lk_tstext *t);
/* Row `row` of the file (0-based, never before the last noted one; the same
 * row again replaces it) has layout lay (NULL: the form of files without the
 * key).  Rows never noted (nulls) take the layout of the rows before them.
 * Only when lk_tstext_room. */
void lk_tstext_note(lk_tstext *t, int64_t row, const ut_ts_layout *lay);
/* The key's value for a file of `rows` rows, appended to b (NUL-terminated,
 * not counted in b->len; rows noted at `rows` or later, cancelled, are left
 * out).  0, or -1 when no row was noted. */
int lk_tstext_encode(const lk_tstext *t, int64_t rows, ut_buf *b);
/* Decode a value for a file of `rows` rows; NULL with a message when it is
 * malformed or its runs do not cover exactly the rows. */
lk_tstext *lk_tstext_decode(const char *text, int64_t rows, char *err, size_t errlen);
/* The layout of row `row`: 0, or 1 for the form of files without the key. */
int lk_tstext_layout(lk_tstext *t, int64_t row, ut_ts_layout *lay);
/* The text of value us at row `row` into out[UT_TS_TEXT_MAX]; t NULL: a file
 * without the key.  Returns the length. */
int lk_tstext_render(lk_tstext *t, int64_t row, int64_t us, char *out);
/* The decoded key of `column` in r: 0 (*out set), 1 (no key), -1 (malformed:
 * message). */
int lk_tstext_of(const pq_reader *r, const char *column, lk_tstext **out, char *err,
                 size_t errlen);
/* Set the key of `column` on w for the rows written so far (nothing when no
 * row was noted).  Call after the last row, before the writer closes. */
void lk_tstext_set(pq_writer *w, const char *column, const lk_tstext *t);

/* ---- column names (colname.c) -------------------------------------------------
 * The one rule that turns record keys into column names (docs/lake.md,
 * "Column names"), used by the sink, CREATE TABLE AS / INSERT, the journal
 * tail and the SQL declaration of tables.  Names are unique under ASCII case
 * folding; reserved names (_ingest_ts, partition columns) and names taken by
 * another spelling push a key to name_2, name_3, ... */
#define LK_NAME_MAX 255        /* bytes of a column name (the catalog's cap) */
#define LK_NAME_BASE 200       /* bytes of a key's name before a _N suffix */
#define LK_NAME_TRIES 100      /* suffixes tried before a key gets no column (bounds
                                  the work per key) */
#define LK_STREAM_NAME_MAX 64  /* the cap on stream names */
#define LK_ERRORS_STREAM_MAX (LK_STREAM_NAME_MAX + 7) /* "<stream>.errors": the journal's cap */
#define LK_TABLE_NAME_MAX 127  /* the catalog's cap on table names */

/* A set of taken names: columns (with their index) and reserved names. */
typedef struct lk_names lk_names;
lk_names *lk_names_create(int case_insensitive);
void lk_names_destroy(lk_names *m); /* accepts NULL */
/* Take name[0..n) for column idx (-1: reserved, no key lands there).
 * 0, or -1 (nothing taken) when it equals a taken name up to ASCII case. */
int lk_names_take(lk_names *m, const char *name, size_t n, int idx);
/* Forget every name taken after the first n. */
void lk_names_truncate(lk_names *m, int n);
int lk_names_count(const lk_names *m);
/* The column index of a taken name (exactly, or up to case when
 * case-insensitive), -1 if none or reserved.  Not the rule: see resolve. */
int lk_names_find(const lk_names *m, const char *name, size_t n);
/* The column of record key key[0..n): its index, or -1 with the name a new
 * column gets in out[LK_NAME_MAX + 1] (out "" when every suffix is taken).
 * out / outn may be NULL. */
int lk_names_resolve(const lk_names *m, const char *key, size_t n, char *out, size_t *outn);
/* The key's name before suffixes (the rule's base) into out[LK_NAME_MAX + 1];
 * returns its length. */
size_t lk_colname_base(const char *key, size_t n, char *out);
/* Is key non-empty printable UTF-8 (nothing to escape)?  Such a key of at
 * most LK_NAME_BASE bytes is its own base name. */
int lk_colname_printable(const char *key, size_t n);

/* Where a stream's rejected records go: "<stream>.errors" (journal stream,
 * out[LK_ERRORS_STREAM_MAX + 1]; never shortened, so it is distinct from every
 * stream and every other stream's errors journal) and "<table>_errors" (the
 * sink's errors table, out[LK_TABLE_NAME_MAX + 1]; a table name over 120
 * characters keeps a prefix and gets a hash). */
void lk_errors_stream_name(const char *stream, char *out);
void lk_errors_table_name(const char *table, char *out);

#endif
