/* config tables: every key of sluice.yaml, declared once.  The loader
 * (yaml.c) validates against these rows and the reference (doc.c,
 * docs/configuration.md) is printed from them; to add a key, add a row here
 * and a field to the struct in config.h, then regenerate the docs with
 * `sluice config --reference > docs/configuration.md`. */
#include "config/cf_int.h"
#include "log/log.h"
#include "util/util.h"
#include "xform/xform.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NOCAP INT64_MAX
#define KiB ((int64_t)1 << 10)
#define MiB ((int64_t)1 << 20)
#define GiB ((int64_t)1 << 30)
#define DAY ((int64_t)86400 * 1000)

const cf__type_info cf__types[CF__NTYPES] = {
    [CF_STRING] = {"string", "a string", "Text; quote it if it contains `:` or `#`."},
    [CF_BOOL] = {"bool", "true or false", "`true` or `false` (also `yes`/`no`, `on`/`off`)."},
    [CF_INT] = {"int", "an integer", "A decimal integer, within the key's range."},
    [CF_SIZE] = {"size", "a size like 10MB",
                 "Bytes: a plain number is bytes; suffixes `B`, `KB` `MB` `GB` `TB` (powers of "
                 "1000) and `KiB` `MiB` `GiB` `TiB` (powers of 1024), case-insensitive: "
                 "`10MB` = 10000000, `64MiB` = 67108864."},
    [CF_DURATION] = {"duration", "a duration like 30s",
                     "A whole number with a unit: `ms`, `s`, `m`, `h`, `d` (`250ms`, `30s`, "
                     "`7d`). A plain number is seconds; `0` is zero."},
    [CF_ENUM] = {"enum", "one of the listed values", "One of the values listed for the key."},
    [CF_STRLIST] = {"list", "a list like [a, b]",
                    "A list of strings, flow (`[a, b]`) or block (`- a` on its own lines). An "
                    "empty value or `[]` is the empty list."},
    [CF_FSYNC] = {"fsync", "always, never or batch-ms N",
                  "When appends are made durable before they are acknowledged: `always` "
                  "(fdatasync every group commit), `batch-ms N` (fdatasync at most every N ms, "
                  "1..10000; acknowledgements wait for it) or `never` (**unsafe**: records are "
                  "acknowledged after write(2), so a power loss or kernel crash loses "
                  "acknowledged records)."},
    [CF_HOSTPORT] = {"host:port", "host:port like 127.0.0.1:8080",
                     "`host:port`: an IPv4 address, a host name or a bracketed IPv6 address "
                     "(`[::1]:8080`); port 0 lets the kernel pick a free port. Use "
                     "`0.0.0.0:PORT` to listen on every interface."},
    [CF_SECTION] = {"section", "a mapping of keys", "A nested mapping of the keys listed for it."},
    [CF_STRMAP] = {"names", "a mapping of names to values",
                   "A mapping from identifiers (`[A-Za-z_][A-Za-z0-9_]*`) to plain values, "
                   "flow (`{a: 1, b: x}`) or block."},
    [CF_RATE] = {"rate", "a rate like 10/s",
                 "A number per unit of time: `10/s`, `600/m`, `2.5/s`, `100/h`, `1000/d`."},
    [CF_MAP] = {"map", "a mapping of names to settings",
                "A mapping from names (`[A-Za-z0-9_.-]`, 1 to 64 characters, not starting with "
                "`.`) to a mapping of the keys listed for it (empty = all defaults)."},
};

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
_Static_assert(CF_LOG_DEBUG == (int)LG_DEBUG && CF_LOG_INFO == (int)LG_INFO &&
                   CF_LOG_WARN == (int)LG_WARN && CF_LOG_ERROR == (int)LG_ERROR,
               "log_level values are lg_level values");

/* Bearer tokens: visible ASCII, no spaces. */
static int check_token(const char *v, char *msg, size_t msglen)
{
    size_t n = 0;
    for (; v[n]; n++)
        if ((unsigned char)v[n] <= 0x20 || (unsigned char)v[n] >= 0x7f)
            return ut_err(msg, msglen, "tokens may only contain visible ASCII characters");
    if (n == 0) return ut_err(msg, msglen, "tokens must not be empty");
    if (n > CF_MAX_TOKEN_LEN)
        return ut_err(msg, msglen, "tokens must be at most %d characters", CF_MAX_TOKEN_LEN);
    return 0;
}

static int check_path(const char *v, char *msg, size_t msglen)
{
    if (!v[0]) return ut_err(msg, msglen, "must not be empty");
    return 0;
}

/* ---- http ------------------------------------------------------------------ */

static const cf__field http_fields[] = {
    {"max_connections", CF_INT, "1024", offsetof(cf_http, max_connections),
     "Most HTTP connections open at once.", 1, 100000, 0, 0, 0, 0},
    {"connection_timeout", CF_DURATION, "30s", offsetof(cf_http, connection_timeout_ms),
     "A connection that makes no progress for this long is closed (cuts off slow clients).",
     100, DAY, 0, 0, 0, 0},
    {"header_timeout", CF_DURATION, "10s", offsetof(cf_http, header_timeout_ms),
     "A request's headers must all arrive within this time after the connection opens (or "
     "after its previous request); else the connection is closed (clients that trickle "
     "headers a byte at a time). 0 turns it off.",
     0, DAY, 0, 0, 0, 0},
    {"max_connections_per_client", CF_INT, "256", offsetof(cf_http, max_connections_per_client),
     "Most connections open at once from one IP address (0 = no cap), so one client cannot "
     "take every connection. Raise it behind a proxy that connects from one address.",
     0, 100000, 0, 0, 0, 0},
    {0}};

static const cf__table http_table = {"http", "The HTTP server.", http_fields, sizeof(cf_http), 0,
                                     NULL, 0, 0};

/* ---- limits ---------------------------------------------------------------- */

static int check_limits(const void *obj, char *msg, size_t msglen)
{
    const cf_limits *l = obj;
    char a[32], b[32];
    if (l->max_record_bytes > l->max_body_bytes)
        return ut_err(msg, msglen, "max_record_bytes (%s) must not exceed max_body_bytes (%s)",
                      cf__fmt_size(a, l->max_record_bytes), cf__fmt_size(b, l->max_body_bytes));
    return 0;
}

static const cf__field limits_fields[] = {
    {"max_body_bytes", CF_SIZE, "10MB", offsetof(cf_limits, max_body_bytes),
     "Largest request body, after decompression; bigger requests are answered 413.", KiB, GiB, 0,
     0, 0, 0},
    {"max_record_bytes", CF_SIZE, "1MiB", offsetof(cf_limits, max_record_bytes),
     "Largest single record; bigger records are rejected (and reported) without failing the "
     "rest of the batch. At most max_body_bytes.",
     1, 64 * MiB, 0, 0, 0, 0},
    {"max_depth", CF_INT, "64", offsetof(cf_limits, max_depth),
     "Deepest nesting of objects and arrays inside a record.", 1, 1000, 0, 0, 0, 0},
    {"max_records_per_request", CF_INT, "100000", offsetof(cf_limits, max_records_per_request),
     "Records in one request; more are answered 413.", 1, 10000000, 0, 0, 0, 0},
    {"min_free_disk", CF_SIZE, "1GB", offsetof(cf_limits, min_free_disk),
     "When the data directory's file system has less free space than this, ingest answers 507. "
     "0 turns the check off.",
     0, NOCAP, 0, 0, 0, 0},
    {0}};

static const cf__table limits_table = {"limits",
                                       "Limits on what one request may carry and on the disk. At "
                                       "a limit the answer is a clear HTTP error, never a crash.",
                                       limits_fields, sizeof(cf_limits), 0, check_limits, 0, 0};

/* ---- streams.<name>.sink --------------------------------------------------------- */

static const char *const time_formats[] = {"auto", "rfc3339", "epoch_s", "epoch_ms", "epoch_us",
                                           NULL};
static const char *const partitionings[] = {"dt/hr", "dt", "none", NULL};

static const cf__field sink_fields[] = {
    {"enabled", CF_BOOL, "true", offsetof(cf_sink, enabled),
     "Land the stream's records in the lake as Parquet.", 0, 0, 0, 0, 0, 0},
    {"table", CF_STRING, "", offsetof(cf_sink, table),
     "Landing table; empty means `t1_<stream>`.", 0, 0, 0, 0, 0, 0},
    {"event_time_field", CF_STRING, "event_time", offsetof(cf_sink, event_time_field),
     "Top-level key holding the event time, which picks the partition. Records without it (or "
     "with a value that does not parse) use their ingest time. Every row also carries "
     "`_ingest_ts`. Empty: always the ingest time.",
     0, 0, 0, 0, 0, 0},
    {"event_time_format", CF_ENUM, "auto", offsetof(cf_sink, event_time_format),
     "How the event time is written: `rfc3339` strings, `epoch_s`/`epoch_ms`/`epoch_us` numbers, "
     "or `auto` (strings as RFC 3339; numbers by magnitude: below 1e11 seconds, below 1e14 "
     "milliseconds, else microseconds).",
     0, 0, time_formats, 0, 0, 0},
    {"partition", CF_ENUM, "dt/hr", offsetof(cf_sink, partition),
     "Hive-style partitions by event time (UTC): `dt/hr` → `dt=YYYY-MM-DD/hr=HH`, `dt` → "
     "`dt=YYYY-MM-DD`, or `none`.",
     0, 0, partitionings, 0, 0, 0},
    {"roll_bytes", CF_SIZE, "64MiB", offsetof(cf_sink, roll_bytes),
     "Buffer hint: flush when this many record bytes are buffered.", KiB, 4 * GiB, 0, 0, 0, 0},
    {"roll_rows", CF_INT, "1000000", offsetof(cf_sink, roll_rows),
     "Buffer hint: flush when this many records are buffered.", 1, 100000000, 0, 0, 0, 0},
    {"roll_age", CF_DURATION, "60s", offsetof(cf_sink, roll_age_ms),
     "Buffer hint: flush when the oldest buffered record has waited this long.", 10, DAY, 0, 0,
     0, 0},
    {"max_open_partitions", CF_INT, "100", offsetof(cf_sink, max_open_partitions),
     "Most partitions buffered at once; one more flushes the buffers early (never drops).", 1,
     100000, 0, 0, 0, 0},
    {"max_buffer_bytes", CF_SIZE, "256MiB", offsetof(cf_sink, max_buffer_bytes),
     "Memory for buffered records; reaching it flushes early.", MiB, 64 * GiB, 0, 0, 0, 0},
    {"case_insensitive", CF_BOOL, "false", offsetof(cf_sink, case_insensitive),
     "Match record keys to columns ignoring ASCII case (the first spelling names the column).",
     0, 0, 0, 0, 0, 0},
    {"max_columns", CF_INT, "1000", offsetof(cf_sink, max_columns),
     "Most columns a table may have; records that would add more go to the errors table.", 1,
     10000, 0, 0, 0, 0},
    {"retention", CF_DURATION, "0", offsetof(cf_sink, retention_ms),
     "Drop partitions whose date is older than this. 0 keeps everything.", 0, 36500 * DAY, 0, 0,
     0, 0},
    {"compact_min_files", CF_INT, "8", offsetof(cf_sink, compact_min_files),
     "Compaction merges a partition's small files once it has at least this many.", 2, 100000,
     0, 0, 0, 0},
    {"compact_target_bytes", CF_SIZE, "128MiB", offsetof(cf_sink, compact_target_bytes),
     "Files smaller than this count as small; merged files aim for this size.", MiB, 16 * GiB,
     0, 0, 0, 0},
    {"maintenance_interval", CF_DURATION, "60s", offsetof(cf_sink, maintenance_interval_ms),
     "How often the sink runs retention and compaction (between flushes). 0 turns both off.", 0,
     DAY, 0, 0, 0, 0},
    {"trash_grace", CF_DURATION, "10m", offsetof(cf_sink, trash_grace_ms),
     "Files that compaction replaced or retention dropped leave the catalog at once but are "
     "deleted from the store only this long after (the removal time is in the catalog), so a "
     "query that started before — in the server or a `sluice sql` beside it — still reads them. "
     "On a local lake a running query also holds them (a scan pin) however long it runs; on S3 "
     "keep it above the longest query.",
     0, 30 * DAY, 0, 0, 0, 0},
    {0}};

static const cf__table sink_table = {
    "streams.<name>.sink",
    "How the stream lands in the lake: its table, event-time partitions and buffer hints "
    "(Firehose-style: whichever of bytes, rows or age is reached first flushes every buffer, "
    "and the files and the stream position are committed together).",
    sink_fields, sizeof(cf_sink), 0, NULL, 0, 0};

/* ---- transforms ------------------------------------------------------------- */

static int check_predicate(const char *v, char *msg, size_t msglen)
{
    return xf_check_predicate(v, msg, msglen);
}

int cf_transform_any(const cf_transform *t)
{
    return t->lowercase_keys || t->rename.n || t->require.n || t->drop_where.n ||
           t->keep_where.n || t->drop.n || t->set.n;
}

static int check_transform(const void *obj, char *msg, size_t msglen)
{
    const cf_transform *t = obj;
    for (int i = 0; i < t->rename.n; i++)
        for (int k = 0; k < i; k++)
            if (!strcmp(t->rename.v[i], t->rename.v[k]))
                return ut_err(msg, msglen, "rename: '%s' and '%s' both become '%s'",
                              t->rename.k[k], t->rename.k[i], t->rename.v[i]);
    return 0;
}

static const cf__field transform_fields[] = {
    {"lowercase_keys", CF_BOOL, "false", offsetof(cf_transform, lowercase_keys),
     "Lower-case every top-level key (ASCII); a record with two keys equal ignoring case fails "
     "the transform.", 0, 0, 0, 0, 0, 0},
    {"rename", CF_STRMAP, NULL, offsetof(cf_transform, rename),
     "Key to new key (`{userId: user_id}`), after `lowercase_keys`. A record that has both "
     "fails the transform.", 0, XF_MAX_STEPS, 0, 0, 0, 0},
    {"require", CF_STRLIST, "", offsetof(cf_transform, require),
     "Keys that must be present and not null (after `rename`); a record without one fails the "
     "transform.", 0, XF_MAX_STEPS, 0, 0, 0, 0},
    {"drop_where", CF_STRLIST, "", offsetof(cf_transform, drop_where),
     "Conditions (`is_test = true`, `event in ('debug', 'ping')`, `a > 1 and not b exists`; "
     "see [ingest](ingest.md#transforms)): a record for which any holds is dropped (counted, "
     "acknowledged, not stored).", 0, XF_MAX_STEPS, 0, 0, 0, check_predicate},
    {"keep_where", CF_STRLIST, "", offsetof(cf_transform, keep_where),
     "Conditions that must all hold, or the record is dropped.", 0, XF_MAX_STEPS, 0, 0, 0,
     check_predicate},
    {"drop", CF_STRLIST, "", offsetof(cf_transform, drop),
     "Keys removed from the record (after the conditions).", 0, XF_MAX_STEPS, 0, 0, 0, 0},
    {"set", CF_STRMAP, NULL, offsetof(cf_transform, set),
     "Key to value, set last (`{source: web, version: 2}`): a value that is JSON (a number, "
     "`true`, `false`, `null`, a `'\"quoted\"'` string) is that value, other text a string.",
     0, XF_MAX_STEPS, 0, 0, 0, 0},
    {0}};

static const cf__table transform_table = {
    "streams.<name>.transform",
    "Per-stream transform applied to each valid record before it is journaled (the Firehose "
    "Lambda, declared): `lowercase_keys`, `rename`, `require`, `drop_where` / `keep_where`, "
    "`drop`, `set`, in this order. A dropped record is acknowledged and counted "
    "(`sluice_stream_dropped_total`); a record the transform fails on goes to `<stream>.errors` "
    "with reason `transform`, and the records beside it are unaffected.",
    transform_fields, sizeof(cf_transform), 0, check_transform, 0, 0};

/* ---- streams ---------------------------------------------------------------- */

static const cf__field stream_fields[] = {
    {"tokens", CF_STRLIST, "", offsetof(cf_stream, tokens),
     "Bearer tokens allowed to write to the stream (`Authorization: Bearer TOKEN`). Omitted or "
     "empty: no authentication.",
     0, CF_MAX_TOKENS, 0, 0, 0, check_token},
    {"aws_keys", CF_STRLIST, "", offsetof(cf_stream, aws_keys),
     "Access key ids that may write through the Kinesis / Firehose API (`POST /` with "
     "`X-Amz-Target`, SigV4-signed); each key's secret is the secret of that name "
     "(`<secrets_dir>/<id>`, else `$SLUICE_SECRET_<ID>`). See [producers](producers.md).",
     0, CF_MAX_TOKENS, 0, 0, 0, check_token},
    {"aws_anonymous", CF_BOOL, "false", offsetof(cf_stream, aws_anonymous),
     "The Kinesis / Firehose API also takes unsigned requests for this stream.", 0, 0, 0, 0, 0,
     0},
    {"fsync", CF_FSYNC, "always", offsetof(cf_stream, fsync),
     "When records are durable before ingest answers 2xx. `never` is **unsafe**: acknowledged "
     "records can be lost in a power loss or kernel crash.",
     0, 0, 0, 0, 0, 0},
    {"segment_bytes", CF_SIZE, "64MiB", offsetof(cf_stream, segment_bytes),
     "Journal segment files roll at this size; retention deletes whole segments.", MiB, 16 * GiB,
     0, 0, 0, 0},
    {"retention", CF_DURATION, "7d", offsetof(cf_stream, retention_ms),
     "Sealed segments older than this are deleted. 0 keeps them forever.", 0, 3650 * DAY, 0, 0, 0,
     0},
    {"retention_bytes", CF_SIZE, "0", offsetof(cf_stream, retention_bytes),
     "Oldest sealed segments are deleted while the stream is bigger than this. 0 = no cap.", 0,
     NOCAP, 0, 0, 0, 0},
    {"max_bytes", CF_SIZE, "0", offsetof(cf_stream, max_bytes),
     "Disk budget: while the stream is bigger than this, ingest answers 507. 0 = no budget.", 0,
     NOCAP, 0, 0, 0, 0},
    {"max_deliveries", CF_INT, "5", offsetof(cf_stream, max_deliveries),
     "Consumer groups: a record delivered this many times without an ack goes to the dead "
     "letter.",
     1, 1000000, 0, 0, 0, 0},
    {"sink", CF_SECTION, NULL, offsetof(cf_stream, sink), "See [`streams.<name>.sink`](#streamsnamesink).",
     0, 0, 0, &sink_table, 0, 0},
    {"transform", CF_SECTION, NULL, offsetof(cf_stream, transform),
     "See [`streams.<name>.transform`](#streamsnametransform).", 0, 0, 0, &transform_table, 0,
     0},
    {0}};

const cf__table cf__stream_table = {
    "streams.<name>",
    "One entry per stream, keyed by its name (`[A-Za-z0-9_.-]`, 1 to 64 characters, not "
    "starting with `.` or `-`, not ending in `.errors` or `.dlq`, which name a stream's "
    "rejected records and dead letters). Records are posted to `/v1/streams/<name>/records`.",
    stream_fields, sizeof(cf_stream), offsetof(cf_stream, name), NULL, UT_NAME_STREAM, 0};

/* ---- lake ------------------------------------------------------------------------ */

static const char *const store_kinds[] = {"local", "s3", NULL};

static const cf__field s3_fields[] = {
    {"endpoint", CF_STRING, "", offsetof(cf_s3, endpoint),
     "S3 endpoint URL, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:9000` "
     "(path-style requests).", 0, 0, 0, 0, 0, 0},
    {"region", CF_STRING, "us-east-1", offsetof(cf_s3, region), "Signing region.", 0, 0, 0, 0, 0,
     0},
    {"bucket", CF_STRING, "", offsetof(cf_s3, bucket), "Bucket name.", 0, 0, 0, 0, 0, 0},
    {"prefix", CF_STRING, "", offsetof(cf_s3, prefix), "Key prefix inside the bucket, e.g. `lake/`.",
     0, 0, 0, 0, 0, 0},
    {"credentials_file", CF_STRING, "", offsetof(cf_s3, credentials_file),
     "AWS shared-credentials file; empty: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the "
     "environment, else ~/.aws/credentials. Secrets are never logged.", 0, 0, 0, 0, 0, 0},
    {"profile", CF_STRING, "default", offsetof(cf_s3, profile), "Profile in the credentials file.",
     0, 0, 0, 0, 0, 0},
    {"part_bytes", CF_SIZE, "16MiB", offsetof(cf_s3, part_bytes),
     "Files above this size are uploaded in parts of this size (multipart upload).", 5 * MiB,
     5 * GiB, 0, 0, 0, 0},
    {0}};

static const cf__table s3_table = {"lake.s3", "S3-compatible object storage for the lake.",
                                   s3_fields, sizeof(cf_s3), 0, NULL, 0, 0};

static const cf__field lake_fields[] = {
    {"store", CF_ENUM, "local", offsetof(cf_lake, store),
     "Where lake files live: `local` (a directory) or `s3`.", 0, 0, store_kinds, 0, 0, 0},
    {"path", CF_STRING, "", offsetof(cf_lake, path),
     "Root directory of a local lake; empty means `<data_dir>/lake`.", 0, 0, 0, 0, 0, 0},
    {"s3", CF_SECTION, NULL, offsetof(cf_lake, s3), "See [`lake.s3`](#lakes3).", 0, 0, 0,
     &s3_table, 0, 0},
    {0}};

static const cf__table lake_table = {"lake",
                                     "The lake: Parquet tables in Hive-style partitions, in a "
                                     "local directory or S3. The catalog is always "
                                     "`<data_dir>/catalog.db`.",
                                     lake_fields, sizeof(cf_lake), 0, NULL, 0, 0};

/* ---- postgres.<name> ------------------------------------------------------------ */

static const cf__field postgres_fields[] = {
    {"conninfo", CF_STRING, "", offsetof(cf_postgres, conninfo),
     "libpq connection string, `host=127.0.0.1 port=5432 dbname=app user=app` or "
     "`postgresql://app@127.0.0.1:5432/app`. Empty: libpq's defaults and environment (`PGHOST`, "
     "`PGDATABASE`, ...). A password may be written here, but `password_file` keeps it out of "
     "the config; error messages never show it.",
     0, 0, 0, 0, 0, 0},
    {"password_file", CF_STRING, "", offsetof(cf_postgres, password_file),
     "File whose first line is the password. Empty: none (libpq's `PGPASSWORD` and "
     "`~/.pgpass` still apply).",
     0, 0, 0, 0, 0, 0},
    {"fetch_rows", CF_INT, "10000", offsetof(cf_postgres, fetch_rows),
     "Rows fetched per round trip from the server-side cursor; bounds the memory a scan holds.",
     1, 1000000, 0, 0, 0, 0},
    {"connect_timeout", CF_DURATION, "10s", offsetof(cf_postgres, connect_timeout_ms),
     "How long connecting may take (libpq `connect_timeout`, whole seconds, at least 2s).",
     2000, 3600 * 1000, 0, 0, 0, 0},
    {0}};

static const cf__table postgres_table = {
    "postgres.<name>",
    "PostgreSQL databases federated into SQL, keyed by a name that becomes an attached schema "
    "(an SQL identifier: letters, digits and `_`, 1 to 64, not starting with a digit, not "
    "`main` or `temp`): "
    "`postgres: {pg: {conninfo: \"host=… dbname=app\"}}` makes `SELECT … FROM pg.users` read "
    "table `users` (tables of other PostgreSQL schemas are `pg.\"schema.table\"`). Columns used "
    "and simple predicates are pushed down; rows stream through a server-side cursor. See "
    "[federation](federation.md).",
    postgres_fields, sizeof(cf_postgres), offsetof(cf_postgres, name), NULL,
    UT_NAME_CONNECTION, 0};

/* ---- mysql.<name> ---------------------------------------------------------------- */

static const cf__field mysql_fields[] = {
    {"host", CF_STRING, "127.0.0.1", offsetof(cf_mysql, host),
     "Server host name or address (TCP); not used when `socket` is set.", 0, 0, 0, 0, 0, 0},
    {"port", CF_INT, "3306", offsetof(cf_mysql, port), "Server TCP port.", 1, 65535, 0, 0, 0,
     0},
    {"socket", CF_STRING, "", offsetof(cf_mysql, socket),
     "Unix socket path (`/run/mysqld/mysqld.sock`). Empty: TCP to `host`:`port`.", 0, 0, 0, 0,
     0, 0},
    {"user", CF_STRING, "", offsetof(cf_mysql, user),
     "The user to log in as (it needs `SELECT` on the tables it snapshots).", 0, 0, 0, 0, 0, 0},
    {"database", CF_STRING, "", offsetof(cf_mysql, database),
     "The default database. Empty: none (tables are always named `database.table`).", 0, 0, 0,
     0, 0, 0},
    {"password_file", CF_STRING, "", offsetof(cf_mysql, password_file),
     "File whose first line is the password. Empty: no password. Error messages never show "
     "it.",
     0, 0, 0, 0, 0, 0},
    {"connect_timeout", CF_DURATION, "10s", offsetof(cf_mysql, connect_timeout_ms),
     "How long connecting may take (whole seconds, at least 1s).", 1000, 3600 * 1000, 0, 0, 0,
     0},
    {0}};

static const cf__table mysql_table = {
    "mysql.<name>",
    "MySQL and MariaDB databases that snapshot jobs read (`source: <name>`), keyed by a name "
    "(an SQL identifier, as for `postgres`, and not one of theirs): "
    "`mysql: {shop: {host: db.internal, user: reader, password_file: /run/secrets/shop_pw}}`. "
    "Tables are `database.table`. See [snapshots](snapshots.md).",
    mysql_fields, sizeof(cf_mysql), offsetof(cf_mysql, name), NULL, UT_NAME_CONNECTION, 0};

/* ---- sqlite.<name>, query ---------------------------------------------------------- */

static const cf__field sqlite_fields[] = {
    {"path", CF_STRING, "", offsetof(cf_sqlite, path),
     "The SQLite database file, attached read-only-by-authorizer under the entry's name (and "
     "opened read-only by snapshot jobs whose `source` is the entry).", 0, 0,
     0, 0, 0, 0},
    {0}};

static const cf__table sqlite_table = {
    "sqlite.<name>",
    "SQLite database files attached to SQL under a name (an SQL identifier, as for `postgres`): "
    "`sqlite: {ref: {path: ref.db}}` makes "
    "`SELECT … FROM ref.countries` work in `sluice sql` and `POST /v1/query`, joinable with lake "
    "and PostgreSQL tables. Statements may not write to them (the SQL authorizer), and queries "
    "cannot ATTACH other files.",
    sqlite_fields, sizeof(cf_sqlite), offsetof(cf_sqlite, name), NULL, UT_NAME_CONNECTION, 0};

/* ---- redis.<name> ---------------------------------------------------------------- */

static const cf__field redis_fields[] = {
    {"host", CF_STRING, "127.0.0.1", offsetof(cf_redis, host), "Server host name or address.",
     0, 0, 0, 0, 0, 0},
    {"port", CF_INT, "6379", offsetof(cf_redis, port), "Server TCP port.", 1, 65535, 0, 0, 0,
     0},
    {"db", CF_INT, "0", offsetof(cf_redis, db), "The database number (`SELECT`).", 0, 100000,
     0, 0, 0, 0},
    {"username", CF_STRING, "", offsetof(cf_redis, username),
     "The ACL user (`AUTH <username> <password>`). Empty: the default user.", 0, 0, 0, 0, 0, 0},
    {"password_file", CF_STRING, "", offsetof(cf_redis, password_file),
     "File whose first line is the password. Empty: no `AUTH`. Error messages never show it.",
     0, 0, 0, 0, 0, 0},
    {"connect_timeout", CF_DURATION, "10s", offsetof(cf_redis, connect_timeout_ms),
     "How long connecting may take.", 100, 3600 * 1000, 0, 0, 0, 0},
    {"scan_count", CF_INT, "500", offsetof(cf_redis, scan_count),
     "`SCAN`'s `COUNT`: keys asked for per round trip, and read as one pipelined batch; "
     "bounds the memory a read holds.", 1, 100000, 0, 0, 0, 0},
    {"max_items", CF_INT, "10000", offsetof(cf_redis, max_items),
     "Elements of one key's value kept (fields of a hash, members of a set, ...); a larger "
     "value is cut to this many and its row has `truncated` true.", 1, 10000000, 0, 0, 0, 0},
    {"tables", CF_STRMAP, NULL, offsetof(cf_redis, tables),
     "The tables a snapshot job can read: name to a `SCAN MATCH` pattern, "
     "`{sessions: \"session:*\"}`. Table `sessions` of database 0 is `db0.sessions` in a "
     "job's `include`.", 0, CF_MAX_REDIS_TABLES, 0, 0, 0, 0},
    {0}};

static const cf__table redis_table = {
    "redis.<name>",
    "Redis servers that snapshot jobs read (`source: <name>`), keyed by a name (an SQL "
    "identifier, as for `postgres`, and not one of theirs): "
    "`redis: {cache: {port: 6379, tables: {sessions: \"session:*\"}}}`. A table is the keys "
    "one pattern matches, a row per key (key, type, value as JSON, TTL). See "
    "[snapshots](snapshots.md).",
    redis_fields, sizeof(cf_redis), offsetof(cf_redis, name), NULL, UT_NAME_CONNECTION, 0};

static const cf__field query_fields[] = {
    {"tokens", CF_STRLIST, "", offsetof(cf_query, tokens),
     "Bearer tokens that may use `POST /v1/query`. Empty: no authentication (the server listens "
     "on 127.0.0.1 by default).",
     0, CF_MAX_TOKENS, 0, 0, 0, check_token},
    {"write_tokens", CF_STRLIST, "", offsetof(cf_query, write_tokens),
     "Tokens that may also run `CREATE TABLE … AS SELECT` / `INSERT INTO … SELECT` on lake "
     "tables. Other queries are read-only.",
     0, CF_MAX_TOKENS, 0, 0, 0, check_token},
    {"memory_limit", CF_SIZE, "1GiB", offsetof(cf_query, memory_limit),
     "SQLite heap the server's queries may use together (SQLite's hard heap limit is "
     "process-wide); a query that needs more fails with \"query exceeded the memory limit\".",
     16 * MiB, 1024 * GiB, 0, 0, 0, 0},
    {0}};

static const cf__table query_table = {"query", "The SQL query API, `POST /v1/query`.",
                                      query_fields, sizeof(cf_query), 0, NULL, 0, 0};

static const cf__field sql_fields[] = {
    {"threads", CF_INT, "0", offsetof(cf_sql, threads),
     "Threads one aggregate statement's fast path scans row groups with (docs/sql.md); 0: "
     "all cores.",
     0, 64, 0, 0, 0, 0},
    {0}};

static const cf__table sql_table = {"sql", "The SQL engine (`sluice sql`, queries, jobs).",
                                    sql_fields, sizeof(cf_sql), 0, NULL, 0, 0};

/* ---- jobs.<name>, pools.<name>, scheduler ------------------------------------------ */

static int check_condition(const char *v, char *msg, size_t msglen)
{
    return v[0] ? xf_check_predicate(v, msg, msglen) : 0;
}

static const char *const job_kinds[] = {"sql", "command", "noop", "collect", "snapshot", "load",
                                        "export", "alert", NULL};
static const char *const windows[] = {"none", "hour", "day", "month", NULL};
static const char *const job_modes[] = {"replace_window", "replace", "append", "upsert",
                                        "replace_table", NULL};
static const char *const dialects[] = {"postgres", "redshift", NULL};
static const char *const diststyles[] = {"default", "auto", "even", "key", "all", NULL};
static const char *const job_outputs[] = {"none", "ndjson", NULL};

const char *cf_job_kind_name(cf_job_kind k)
{
    return (unsigned)k < sizeof job_kinds / sizeof *job_kinds - 1 ? job_kinds[k] : "?";
}

const char *cf_window_name(cf_window w)
{
    return (unsigned)w < sizeof windows / sizeof *windows - 1 ? windows[w] : "?";
}

/* Shapes only; what each kind needs and what needs other jobs, the clock or
 * the zone files (cron, templates, dependencies, pools) is checked by
 * src/jobs (jb_check, run by `config --check` and at start-up). */
static int check_job(const void *obj, char *msg, size_t msglen)
{
    const cf_job *j = obj;
    if (j->every_ms && j->schedule[0])
        return ut_err(msg, msglen, "give either schedule or every, not both");
    if (j->lookback && j->window == CF_WINDOW_NONE)
        return ut_err(msg, msglen, "lookback needs a window (hour, day or month)");
    if (j->table[0] && ut_name_check(UT_NAME_TABLE, j->table, strlen(j->table), msg, msglen))
        return -1;
    return 0;
}

/* ---- kind collect: request, auth, pagination, report ----------------------------- */

static const char *const http_methods[] = {"GET", "POST", NULL};
static const char *const auth_types[] = {"none", "bearer", "header", "query", "basic", "oauth2",
                                         NULL};
static const char *const page_types[] = {"none", "next_url", "link", "cursor", "page", "offset",
                                         NULL};
static const char *const report_formats[] = {"json", "ndjson", "csv", "tsv", NULL};

#define REQUEST_FIELDS                                                                        \
    {"method", CF_ENUM, "GET", offsetof(cf_request, method), "`GET` or `POST`.", 0, 0,        \
     http_methods, 0, 0, 0},                                                                  \
    {"url", CF_STRING, "", offsetof(cf_request, url),                                         \
     "The URL (templated: the window, `{{account}}`, `{{account.<column>}}`, params).", 0, 0, \
     0, 0, 0, 0},                                                                             \
    {"params", CF_STRMAP, NULL, offsetof(cf_request, params),                                 \
     "Query parameters (templated), URL-encoded and appended.", 0, 32, 0, 0, 0, 0},           \
    {"headers", CF_STRMAP, NULL, offsetof(cf_request, headers), "Headers (templated).", 0,    \
     32, 0, 0, 0, 0},                                                                         \
    {"body", CF_STRING, "", offsetof(cf_request, body), "A body (templated); empty: none.",   \
     0, 0, 0, 0, 0, 0},                                                                       \
    {"content_type", CF_STRING, "", offsetof(cf_request, content_type),                       \
     "The body's type; empty: `application/json`.", 0, 0, 0, 0, 0, 0},                       \
    {0}

static const cf__field request_fields[] = {REQUEST_FIELDS};
static const cf__field create_fields[] = {REQUEST_FIELDS};
static const cf__field status_fields[] = {REQUEST_FIELDS};

static const cf__table request_table = {
    "jobs.<name>.request", "kind collect: the request of a synchronous report (its first page).",
    request_fields, sizeof(cf_request), 0, NULL, 0, 0};
static const cf__table create_table = {
    "jobs.<name>.report.create",
    "kind collect, `async: true`: the request that creates the report (answers its id).",
    create_fields, sizeof(cf_request), 0, NULL, 0, 0};
static const cf__table status_table = {
    "jobs.<name>.report.status",
    "kind collect, `async: true`: the request polled for the report's state "
    "(`{{report.id}}` in the URL).",
    status_fields, sizeof(cf_request), 0, NULL, 0, 0};

static const cf__field auth_fields[] = {
    {"type", CF_ENUM, "none", offsetof(cf_auth, type),
     "`bearer` (Authorization: Bearer), `header` (an API-key header), `query` (a parameter), "
     "`basic`, `oauth2` (refresh-token grant: the access token cached per account, refreshed "
     "when it expires and once on a 401), or `none`.",
     0, 0, auth_types, 0, 0, 0},
    {"name", CF_STRING, "", offsetof(cf_auth, name), "header / query: the header or parameter.",
     0, 0, 0, 0, 0, 0},
    {"token", CF_STRING, "", offsetof(cf_auth, token),
     "bearer / header / query: the token (templated: `{{secret.x}}`, "
     "`{{account_secret.token_ref}}`).", 0, 0, 0, 0, 0, 0},
    {"username", CF_STRING, "", offsetof(cf_auth, username), "basic (templated).", 0, 0, 0, 0, 0,
     0},
    {"password", CF_STRING, "", offsetof(cf_auth, password), "basic (templated).", 0, 0, 0, 0, 0,
     0},
    {"token_url", CF_STRING, "", offsetof(cf_auth, token_url), "oauth2: the token endpoint.", 0,
     0, 0, 0, 0, 0},
    {"refresh_token", CF_STRING, "", offsetof(cf_auth, refresh_token), "oauth2 (templated).", 0,
     0, 0, 0, 0, 0},
    {"client_id", CF_STRING, "", offsetof(cf_auth, client_id), "oauth2 (templated).", 0, 0, 0, 0,
     0, 0},
    {"client_secret", CF_STRING, "", offsetof(cf_auth, client_secret), "oauth2 (templated).", 0,
     0, 0, 0, 0, 0},
    {0}};

static const cf__table auth_table = {"jobs.<name>.auth", "kind collect: how requests "
                                     "authenticate. Values never reach a log or the run history.",
                                     auth_fields, sizeof(cf_auth), 0, NULL, 0, 0};

static const cf__field page_fields[] = {
    {"type", CF_ENUM, "none", offsetof(cf_pagination, type),
     "`next_url` (the next page's URL at `path`), `link` (the Link header's rel=next), `cursor` "
     "(`param` = the value at `path`), `page` (`param` = 1, 2, ...), `offset` (`param` = 0, "
     "size, 2 x size, ...), or `none`.",
     0, 0, page_types, 0, 0, 0},
    {"path", CF_STRING, "", offsetof(cf_pagination, path),
     "next_url / cursor: a JSON path in the response (`paging.next`).", 0, 0, 0, 0, 0, 0},
    {"param", CF_STRING, "", offsetof(cf_pagination, param), "cursor / page / offset: the "
     "query parameter.", 0, 0, 0, 0, 0, 0},
    {"size_param", CF_STRING, "", offsetof(cf_pagination, size_param),
     "page / offset: the page-size parameter (empty: none).", 0, 0, 0, 0, 0, 0},
    {"size", CF_INT, "100", offsetof(cf_pagination, size),
     "page / offset: records per page; a shorter page is the last.", 1, 1000000, 0, 0, 0, 0},
    {"start", CF_INT, "1", offsetof(cf_pagination, start), "page: the first page's number.", 0,
     1000000, 0, 0, 0, 0},
    {"max_pages", CF_INT, "1000", offsetof(cf_pagination, max_pages),
     "Stop after this many pages (the run fails: more data than expected).", 1, 100000, 0, 0, 0,
     0},
    {0}};

static const cf__table page_table = {"jobs.<name>.pagination",
                                     "kind collect: how to get the next page.", page_fields,
                                     sizeof(cf_pagination), 0, NULL, 0, 0};

static const cf__field report_fields[] = {
    {"format", CF_ENUM, "json", offsetof(cf_report, format),
     "`json` (the records array at `records`), `ndjson`, `csv` or `tsv` (a header line).", 0, 0,
     report_formats, 0, 0, 0},
    {"records", CF_STRING, "", offsetof(cf_report, records),
     "json: the JSON path of the records array (`data`); empty: the body is the array.", 0, 0, 0,
     0, 0, 0},
    {"gzip", CF_BOOL, "false", offsetof(cf_report, gzip),
     "Bodies are gzip files (also detected by their first bytes and Content-Encoding).", 0, 0, 0,
     0, 0, 0},
    {"async", CF_BOOL, "false", offsetof(cf_report, async),
     "An asynchronous report: `create` it, poll `status` until `ready`, download the file at "
     "`file_url_path`.", 0, 0, 0, 0, 0, 0},
    {"create", CF_SECTION, NULL, offsetof(cf_report, create),
     "See [`jobs.<name>.report.create`](#jobsnamereportcreate).", 0, 0, 0, &create_table, 0, 0},
    {"id_path", CF_STRING, "", offsetof(cf_report, id_path),
     "async: the report id's JSON path in create's answer.", 0, 0, 0, 0, 0, 0},
    {"status", CF_SECTION, NULL, offsetof(cf_report, status),
     "See [`jobs.<name>.report.status`](#jobsnamereportstatus).", 0, 0, 0, &status_table, 0, 0},
    {"status_path", CF_STRING, "", offsetof(cf_report, status_path),
     "async: the state's JSON path in status' answer.", 0, 0, 0, 0, 0, 0},
    {"ready", CF_STRING, "DONE", offsetof(cf_report, ready), "async: the state when ready.", 0,
     0, 0, 0, 0, 0},
    {"failed", CF_STRING, "FAILED", offsetof(cf_report, failed), "async: the state when failed.",
     0, 0, 0, 0, 0, 0},
    {"reason_path", CF_STRING, "", offsetof(cf_report, reason_path),
     "async: the failure reason's JSON path (empty: none).", 0, 0, 0, 0, 0, 0},
    {"file_url_path", CF_STRING, "", offsetof(cf_report, file_url_path),
     "async: the file URL's JSON path when ready.", 0, 0, 0, 0, 0, 0},
    {"poll", CF_DURATION, "1s", offsetof(cf_report, poll_ms),
     "async: the first poll interval (doubling, at most 30 s).", 10, 3600 * 1000, 0, 0, 0, 0},
    {"max_wait", CF_DURATION, "1h", offsetof(cf_report, max_wait_ms),
     "async: give up on a report not ready by then.", 1000, 24LL * 3600 * 1000, 0, 0, 0, 0},
    {"call_retries", CF_INT, "3", offsetof(cf_report, call_retries),
     "Retries of one HTTP call on 5xx, timeouts and resets (with backoff), before the task "
     "fails (429 waits on the pool and does not count).", 0, 20, 0, 0, 0, 0},
    {"call_backoff", CF_DURATION, "1s", offsetof(cf_report, call_backoff_ms),
     "The wait before an HTTP call's first retry (and a 429's without Retry-After), doubling "
     "up to 30 s, with up to 10% jitter.", 10, 60 * 1000, 0, 0, 0, 0},
    {"call_timeout", CF_DURATION, "60s", offsetof(cf_report, call_timeout_ms),
     "An HTTP call that makes no progress this long fails (and is retried).", 1000,
     3600 * 1000, 0, 0, 0, 0},
    {0}};

static const cf__table report_table = {"jobs.<name>.report",
                                        "kind collect: what the response holds (see "
                                        "[collectors](collectors.md)).",
                                        report_fields, sizeof(cf_report), 0, NULL, 0, 0};

static int check_account_id(const char *id, char *msg, size_t msglen)
{
    size_t n = strlen(id);
    if (n == 0 || n > 64 || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789_.-") != n)
        return ut_err(msg, msglen, "account '%.80s': use 1-64 of A-Za-z0-9_.-", id);
    return 0;
}

static const cf__field accounts_fields[] = {
    {"list", CF_STRLIST, "", offsetof(cf_accounts, list),
     "The accounts (advertisers, customers, shops): one run per account and window, each "
     "retried, failed and recorded on its own, with `{{account}}` in the job's templates and "
     "`SLUICE_ACCOUNT` in a command's environment. Ids: 1-64 of `A-Za-z0-9_.-`.",
     0, 10000, 0, 0, 0, check_account_id},
    {"sql", CF_STRING, "", offsetof(cf_accounts, sql),
     "Or the accounts from a SELECT over the lake or a federated database (`SELECT "
     "advertiser_id, token_ref FROM pg.public.advertisers WHERE active`), run when the job "
     "fires: the first column is the account id, the others are `{{account.<column>}}` in the "
     "templates and `{{account_secret.<column>}}` the secret that column names. At most "
     "10,000 accounts.",
     0, 0, 0, 0, 0, 0},
    {0}};

static int check_accounts(const void *obj, char *msg, size_t msglen)
{
    const cf_accounts *a = obj;
    if (a->list.n && a->sql[0]) return ut_err(msg, msglen, "give either list or sql, not both");
    return 0;
}

static const cf__table accounts_table = {"jobs.<name>.accounts",
                                         "The accounts a job runs for: one run per account "
                                         "and window (see [jobs](jobs.md#accounts)).",
                                         accounts_fields, sizeof(cf_accounts), 0, check_accounts,
                                         0, 0};

/* ---- kind snapshot: per source table ------------------------------------------------ */

static const cf__field snap_merge_fields[] = {
    {"key", CF_STRLIST, "", offsetof(cf_snap_merge, key),
     "The source columns that identify a row; empty: the source table's primary key "
     "(PostgreSQL, MySQL/MariaDB and SQLite report one).", 0, 16, 0, 0, 0, 0},
    {"view", CF_STRING, "", offsetof(cf_snap_merge, view),
     "The view's name; default: the lake table's name + `_latest`.", 0, 0, 0, 0, 0, 0},
    {0}};

static int check_snap_merge(const void *obj, char *msg, size_t msglen)
{
    const cf_snap_merge *m = obj;
    if (m->view[0] && ut_name_check(UT_NAME_TABLE, m->view, strlen(m->view), msg, msglen))
        return -1;
    return 0;
}

static const cf__table snap_merge_table = {
    "jobs.<name>.tables.<table>.merge",
    "kind snapshot, with `cursor`: a view of the latest row per key, `row_number() OVER "
    "(PARTITION BY key ORDER BY cursor DESC) = 1`, in `sluice sql`, the query API and `sluice "
    "ddl` (see [snapshots](snapshots.md#the-merge-view)). `merge: {}` takes the defaults.",
    snap_merge_fields, sizeof(cf_snap_merge), 0, check_snap_merge, 0,
    offsetof(cf_snap_merge, line)};

static const cf__field snap_table_fields[] = {
    {"columns", CF_STRLIST, "", offsetof(cf_snap_table, columns),
     "The columns read, in this order; empty: every column (minus `drop`).", 0, 4096, 0, 0, 0,
     0},
    {"drop", CF_STRLIST, "", offsetof(cf_snap_table, drop),
     "Columns never read (personal data that must not leave the database).", 0, 4096, 0, 0, 0,
     0},
    {"rename", CF_STRMAP, NULL, offsetof(cf_snap_table, rename),
     "Source column to lake column (`{email: email_hash}`).", 0, 4096, 0, 0, 0, 0},
    {"mask", CF_STRMAP, NULL, offsetof(cf_snap_table, mask),
     "Source column to mask (`{email: hash, phone: \"truncate:3\"}`): `hash`, `null`, "
     "`redact[:TEXT]`, `truncate:N`, `email_domain`, `regex:PATTERN=>REPLACEMENT` (see "
     "[snapshots](snapshots.md#masking)). Applied before a value is written anywhere.",
     0, 4096, 0, 0, 0, 0},
    {"where", CF_STRING, "", offsetof(cf_snap_table, where),
     "A condition in the source's SQL that rows must meet (`deleted_at IS NULL`); templated like "
     "a sql job's text (`created_at < '{{window_end}}'`).", 0, 0, 0, 0, 0, 0},
    {"cursor", CF_STRING, "", offsetof(cf_snap_table, cursor),
     "Incremental instead of full: a column that grows with every insert or update "
     "(`updated_at`, `id`). A run reads the rows whose value is above the largest one already "
     "committed and appends them to its window's partition; the new largest value is "
     "committed with the files, in the same transaction. See "
     "[snapshots](snapshots.md#incremental).", 0, 0, 0, 0, 0, 0},
    {"split_by", CF_STRING, "", offsetof(cf_snap_table, split_by),
     "An integer column (the primary key) to read a big table by: `parallel` connections each "
     "read one range of it, all in the first one's snapshot (PostgreSQL), so the result equals "
     "one read.", 0, 0, 0, 0, 0, 0},
    {"parallel", CF_INT, "1", offsetof(cf_snap_table, parallel),
     "With `split_by`: the connections reading the table at once, each into its own files.", 1,
     64, 0, 0, 0, 0},
    {"target", CF_STRING, "", offsetof(cf_snap_table, target),
     "The lake table; default: the job's `table_prefix` + the source name with `.` as `_`.", 0,
     0, 0, 0, 0, 0},
    {"merge", CF_SECTION, NULL, offsetof(cf_snap_table, merge),
     "See [`jobs.<name>.tables.<table>.merge`](#jobsnametablestablemerge).", 0, 0, 0,
     &snap_merge_table, 0, 0},
    {0}};

static int listed(const cf_strlist *l, const char *v)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], v)) return 1;
    return 0;
}

/* merge: needs the cursor; its key and the cursor must reach the lake. */
static int check_merge_columns(const cf_snap_table *t, char *msg, size_t msglen)
{
    const cf_snap_merge *m = &t->merge;
    if (!m->line) return 0;
    if (!t->cursor[0])
        return ut_err(msg, msglen, "merge needs cursor: the latest row per key is the one with "
                      "the largest cursor value (a full snapshot's partition holds one row per "
                      "key already)");
    for (int i = 0; i <= m->key.n; i++) {
        const char *c = i < m->key.n ? m->key.v[i] : t->cursor;
        const char *what = i < m->key.n ? "merge.key" : "cursor (merge orders by it)";
        if (listed(&t->drop, c))
            return ut_err(msg, msglen, "%s: column %s is in drop (the view needs it in the lake)",
                          what, c);
        if (t->columns.n && !listed(&t->columns, c))
            return ut_err(msg, msglen, "%s: column %s is not among columns (the view needs it "
                          "in the lake)", what, c);
    }
    return 0;
}

static int check_snap_table(const void *obj, char *msg, size_t msglen)
{
    const cf_snap_table *t = obj;
    if (t->columns.n && t->drop.n) return ut_err(msg, msglen, "give either columns or drop, not both");
    if (t->parallel > 1 && !t->split_by[0])
        return ut_err(msg, msglen, "parallel needs split_by (the integer column to split by)");
    if (t->cursor[0] && cf_strmap_get(&t->mask, t->cursor)) /* its raw largest value is kept */
        return ut_err(msg, msglen, "the cursor column %s is masked: the catalog keeps its largest "
                      "value as it is; pick another cursor", t->cursor);
    if (t->target[0] && ut_name_check(UT_NAME_TABLE, t->target, strlen(t->target), msg, msglen))
        return -1;
    return check_merge_columns(t, msg, msglen);
}

static const cf__table snap_table_table = {
    "jobs.<name>.tables.<table>",
    "kind snapshot: what one source table (`schema.table`) becomes. A table listed here is "
    "snapshotted even if `include` does not name it.",
    snap_table_fields, sizeof(cf_snap_table), offsetof(cf_snap_table, name), check_snap_table,
    UT_NAME_SOURCE_TABLE, offsetof(cf_snap_table, line)};

/* ---- kind load: the warehouse target ------------------------------------------------ */

static const cf__field target_fields[] = {
    {"connection", CF_STRING, "", offsetof(cf_load_target, connection),
     "The warehouse: a [`postgres.<name>`](#postgresname) connection (Redshift speaks its "
     "protocol); kind export: a `postgres.<name>` or [`mysql.<name>`](#mysqlname) "
     "connection.", 0, 0, 0, 0, 0, 0},
    {"table", CF_STRING, "", offsetof(cf_load_target, table),
     "The table loaded: `schema.name` or `name` (created from the lake table's columns when "
     "missing).", 0, 0, 0, 0, 0, 0},
    {"dialect", CF_ENUM, "postgres", offsetof(cf_load_target, dialect),
     "`postgres` (COPY FROM STDIN) or `redshift` (a manifest of the lake files and COPY FROM "
     "S3; see [warehouse](warehouse.md#redshift)).", 0, 0, dialects, 0, 0, 0},
    {"iam_role", CF_STRING, "", offsetof(cf_load_target, iam_role),
     "redshift: the IAM role ARN its COPY reads the lake's bucket with.", 0, 0, 0, 0, 0, 0},
    {"diststyle", CF_ENUM, "default", offsetof(cf_load_target, diststyle),
     "redshift: the table's DISTSTYLE when the load creates it: `auto`, `even`, `key` (needs "
     "`distkey`) or `all`; `default`: none written (`key` when `distkey` is set).", 0, 0,
     diststyles, 0, 0, 0},
    {"distkey", CF_STRING, "", offsetof(cf_load_target, distkey),
     "redshift: the DISTKEY column of a table the load creates.", 0, 0, 0, 0, 0, 0},
    {"sortkey", CF_STRLIST, "", offsetof(cf_load_target, sortkey),
     "redshift: the (compound) SORTKEY columns of a table the load creates.", 0, 400, 0, 0, 0,
     0},
    {0}};

static const cf__table target_table = {"jobs.<name>.target",
                                       "kind load and export: the table it writes (see "
                                       "[warehouse](warehouse.md)).",
                                       target_fields, sizeof(cf_load_target), 0, NULL, 0, 0};

static const cf__field job_fields[] = {
    {"kind", CF_ENUM, "sql", offsetof(cf_job, kind),
     "What a run does: `sql` (a SELECT writing a lake table), `command` (a program), `collect` "
     "(a report API into a lake table, see [collectors](collectors.md)), `snapshot` (database "
     "tables into lake tables, see [snapshots](snapshots.md)), `load` (a lake table into a "
     "warehouse table, see [warehouse](warehouse.md)), `export` (a lake table into a table of a "
     "service database, PostgreSQL or MySQL, see [exports](warehouse.md#exports)), `alert` (a "
     "SELECT checked against a condition, notices to a webhook, see [alerts](jobs.md#alert)) or "
     "`noop` (nothing: a marker other jobs depend on, and the queue benchmark).", 0, 0,
     job_kinds, 0, 0, 0},
    {"schedule", CF_STRING, "", offsetof(cf_job, schedule),
     "When it runs: 5-field cron (`5 * * * *`), `@hourly`, `@daily`, `@weekly`, `@monthly`, "
     "`@yearly`, in `timezone`. Empty: at the end of each window plus `delay` (with no window: "
     "only when triggered). See [cron](cron.md).",
     0, 0, 0, 0, 0, 0},
    {"every", CF_DURATION, "0", offsetof(cf_job, every_ms),
     "Instead of `schedule`: run at this interval (aligned to the epoch), e.g. `15m`.", 0,
     366 * DAY, 0, 0, 0, 0},
    {"timezone", CF_STRING, "UTC", offsetof(cf_job, timezone),
     "IANA time zone of the schedule and of day and month windows (`Europe/Berlin`).", 0, 0, 0,
     0, 0, 0},
    {"window", CF_ENUM, "none", offsetof(cf_job, window),
     "The data interval one run covers: `hour`, `day`, `month` or `none`. A run at a fire time "
     "covers the latest window that closed at least `delay` before it.",
     0, 0, windows, 0, 0, 0},
    {"delay", CF_DURATION, "0", offsetof(cf_job, delay_ms),
     "How long after a window closes its run may start (late events).", 0, 31 * DAY, 0, 0, 0,
     0},
    {"lookback", CF_INT, "0", offsetof(cf_job, lookback),
     "Also re-run the previous N windows at each fire, folding in late data.", 0, 1000, 0, 0, 0,
     0},
    {"depends_on", CF_STRLIST, "", offsetof(cf_job, depends_on),
     "Jobs (or lake tables) that must be ready for a run's window first. Tables a `sql` job "
     "reads are added automatically.",
     0, 100, 0, 0, 0, 0},
    {"retries", CF_INT, "2", offsetof(cf_job, retries),
     "Attempts after the first one fails.", 0, 100, 0, 0, 0, 0},
    {"retry_delay", CF_DURATION, "30s", offsetof(cf_job, retry_delay_ms),
     "Wait before the first retry; doubles for each further one (at most 1h), with ±20% "
     "jitter.",
     0, DAY, 0, 0, 0, 0},
    {"timeout", CF_DURATION, "1h", offsetof(cf_job, timeout_ms),
     "An attempt running longer is stopped and fails.", 1000, 7 * DAY, 0, 0, 0, 0},
    {"max_active", CF_INT, "4", offsetof(cf_job, max_active),
     "Runs of this job at once (catch-up never exceeds it; a backfill has its own --parallel "
     "cap).", 1, 1000, 0, 0, 0, 0},
    {"pool", CF_STRING, "", offsetof(cf_job, pool),
     "The [pool](#poolsname) its tasks take a slot and tokens from.", 0, 0, 0, 0, 0, 0},
    {"catchup", CF_BOOL, "true", offsetof(cf_job, catchup),
     "After downtime, run every window missed; `false`: only the latest.", 0, 0, 0, 0, 0, 0},
    {"start", CF_STRING, "", offsetof(cf_job, start),
     "First window to schedule (`2024-05-01` or RFC 3339). Empty: windows from when the job "
     "is first seen.",
     0, 0, 0, 0, 0, 0},
    {"params", CF_STRMAP, NULL, offsetof(cf_job, params),
     "Values for `{{params.NAME}}` in the job's templates.", 0, 64, 0, 0, 0, 0},
    {"sql", CF_STRING, "", offsetof(cf_job, sql),
     "kind sql: the SELECT (templated: `{{window_start}}`, `{{ds}}`, ...).", 0, 0, 0, 0, 0, 0},
    {"sql_file", CF_STRING, "", offsetof(cf_job, sql_file),
     "kind sql: a file holding the SELECT instead (relative to the config file).", 0, 0, 0, 0,
     0, 0},
    {"table", CF_STRING, "", offsetof(cf_job, table),
     "The lake table written (kind sql, and kind command with `output: ndjson`).", 0, 0, 0, 0,
     0, 0},
    {"mode", CF_ENUM, "replace_window", offsetof(cf_job, mode),
     "How the output replaces what is there: `replace_window` (the window's partitions, "
     "atomically), `replace` (the whole table) or `append`; kind load also `upsert` (on "
     "`key`) and `replace_table` (see [warehouse](warehouse.md#modes)); kind export: "
     "`replace_table` or `upsert` only.",
     0, 0, job_modes, 0, 0, 0},
    {"accounts", CF_SECTION, NULL, offsetof(cf_job, accounts),
     "See [`jobs.<name>.accounts`](#jobsnameaccounts).", 0, 0, 0, &accounts_table, 0, 0},
    {"request", CF_SECTION, NULL, offsetof(cf_job, request),
     "See [`jobs.<name>.request`](#jobsnamerequest).", 0, 0, 0, &request_table, 0, 0},
    {"auth", CF_SECTION, NULL, offsetof(cf_job, auth), "See [`jobs.<name>.auth`](#jobsnameauth).",
     0, 0, 0, &auth_table, 0, 0},
    {"pagination", CF_SECTION, NULL, offsetof(cf_job, pagination),
     "See [`jobs.<name>.pagination`](#jobsnamepagination).", 0, 0, 0, &page_table, 0, 0},
    {"report", CF_SECTION, NULL, offsetof(cf_job, report),
     "See [`jobs.<name>.report`](#jobsnamereport).", 0, 0, 0, &report_table, 0, 0},
    {"source", CF_STRING, "", offsetof(cf_job, source),
     "kind snapshot: the database, a [`postgres.<name>`](#postgresname), "
     "[`mysql.<name>`](#mysqlname), [`sqlite.<name>`](#sqlitename) or "
     "[`redis.<name>`](#redisname) connection. kind load and export: the lake table loaded.", 0, 0, 0,
     0, 0, 0},
    {"include", CF_STRLIST, "", offsetof(cf_job, include),
     "kind snapshot: source tables (`shop.orders`) or patterns (`shop.*`, `*.orders`; `*` and "
     "`?` as in file names) to snapshot, looked up when the job fires: one run per table and "
     "window.", 0, 1000, 0, 0, 0, 0},
    {"exclude", CF_STRLIST, "", offsetof(cf_job, exclude),
     "kind snapshot: tables or patterns left out of `include`.", 0, 1000, 0, 0, 0, 0},
    {"table_prefix", CF_STRING, "", offsetof(cf_job, table_prefix),
     "kind snapshot: the lake table of source table `s.t` is `<table_prefix>s_t` (unless its "
     "`tables` entry names a `target`).", 0, 0, 0, 0, 0, 0},
    {"mask_key", CF_STRING, "", offsetof(cf_job, mask_key),
     "kind snapshot: the secret holding the key of `hash` masks (the same key gives the same "
     "hashes in every job, so masked columns still join).", 0, 0, 0, 0, 0, 0},
    {"alert_webhook", CF_STRING, "", offsetof(cf_job, alert_webhook),
     "kind alert: where its notices go; kind snapshot: a URL (Slack-compatible incoming webhook; may be `{{secret.NAME}}`) that "
     "each change of a source table's columns is POSTed to as `{\"text\": ...}`. The changes "
     "also go to the `_alerts` stream (and lake table) whether or not this is set.", 0, 0, 0, 0,
     0, 0},
    {"tables", CF_MAP, NULL, offsetof(cf_job, tables),
     "kind snapshot: per source table settings, see "
     "[`jobs.<name>.tables.<table>`](#jobsnametablestable).", 0, CF_MAX_SNAP_TABLES, 0,
     &snap_table_table, offsetof(cf_job, ntables), 0},
    {"target", CF_SECTION, NULL, offsetof(cf_job, target),
     "See [`jobs.<name>.target`](#jobsnametarget).", 0, 0, 0, &target_table, 0, 0},
    {"saved_query", CF_STRING, "", offsetof(cf_job, saved_query),
     "kind alert: the name of a console saved query (docs/console.md) whose SQL is the alert's "
     "query, its parameters at their defaults (`today-1`, `last_7_days`: relative to each "
     "check), instead of `query`.", 0, 0, 0, 0, 0, 0},
    {"query", CF_STRING, "", offsetof(cf_job, query),
     "kind load and export: a SELECT over the lake (templated like `sql`) whose rows are loaded "
     "instead of the window's rows of `source`; columns named like `source`'s keep their types. "
     "kind alert: the SELECT (templated) whose first row `condition` looks at.", 0, 0,
     0, 0, 0, 0},
    {"window_column", CF_STRING, "", offsetof(cf_job, window_column),
     "kind load: the column (a date or timestamp, or the `dt` partition) that places a row in "
     "a window: replace_window deletes and loads the rows of the run's window by it.", 0, 0, 0,
     0, 0, 0},
    {"key", CF_STRLIST, "", offsetof(cf_job, key),
     "kind load and export, mode upsert: the key columns (a unique index on them is created with the "
     "table).", 0, 32, 0, 0, 0, 0},
    {"max_errors", CF_INT, "0", offsetof(cf_job, max_errors),
     "kind load and export: rows that fail conversion that may be set aside (in lake table "
     "`_load_errors`, with the reason) before the load rolls back and fails.", 0, 1000000, 0,
     0, 0, 0},
    {"condition", CF_STRING, "", offsetof(cf_job, condition),
     "kind alert: when the alert is triggered: a condition (as in a stream's transform, "
     "[ingest](ingest.md#transforms)) over the `query`'s first row, whose columns are keys, and "
     "`_rows`, how many rows it returned (`cost > 1000`, `_rows > 0`, `failed >= 1 or lag_s > "
     "600`).", 0, 0, 0, 0, 0, check_condition},
    {"cooldown", CF_DURATION, "1h", offsetof(cf_job, cooldown_ms),
     "kind alert: while triggered, the alert notifies again at most this often.", 0,
     3650 * DAY, 0, 0, 0, 0},
    {"command", CF_STRLIST, "", offsetof(cf_job, command),
     "kind command: the program and its arguments, each templated; run without a shell.", 0,
     256, 0, 0, 0, 0},
    {"env", CF_STRMAP, NULL, offsetof(cf_job, env),
     "kind command: extra environment variables (templated).", 0, 64, 0, 0, 0, 0},
    {"output", CF_ENUM, "none", offsetof(cf_job, output),
     "kind command: `ndjson` lands the program's stdout records in `table`.", 0, 0, job_outputs,
     0, 0, 0},
    {0}};

static const cf__table job_table = {
    "jobs.<name>",
    "Scheduled jobs (see [jobs](jobs.md)). A job's runs each cover a window; their tasks go "
    "through a queue in the journal to the workers.",
    job_fields, sizeof(cf_job), offsetof(cf_job, name), check_job, UT_NAME_JOB,
    offsetof(cf_job, line)};

static const cf__field pool_fields[] = {
    {"rate", CF_RATE, "0/s", offsetof(cf_pool, rate),
     "Tokens per unit of time its tasks may take (e.g. API calls); `0/s` = no rate limit.", 0,
     0, 0, 0, 0, 0},
    {"burst", CF_INT, "0", offsetof(cf_pool, burst),
     "Tokens that may be taken at once after a quiet time; 0 = max(1, one second's rate).", 0,
     1000000, 0, 0, 0, 0},
    {"concurrency", CF_INT, "0", offsetof(cf_pool, concurrency),
     "Tasks of the pool running at once, over every worker and process; 0 = no cap.", 0,
     1024, 0, 0, 0, 0},
    {0}};

static const cf__table pool_table = {
    "pools.<name>",
    "Shared limits on an outside resource (an API, a database), for every worker of every "
    "process on the data directory. A task that gets 429 + Retry-After pauses the whole pool.",
    pool_fields, sizeof(cf_pool), offsetof(cf_pool, name), NULL, UT_NAME_POOL, 0};

static int check_scheduler(const void *obj, char *msg, size_t msglen)
{
    const cf_scheduler *s = obj;
    if (s->heartbeat_ms * 2 > s->task_timeout_ms)
        return ut_err(msg, msglen, "heartbeat must be at most half of task_timeout");
    return 0;
}

static const cf__field scheduler_fields[] = {
    {"tick", CF_DURATION, "1s", offsetof(cf_scheduler, tick_ms),
     "How often the scheduler looks for due runs (also woken by finished runs).", 10, 60000, 0,
     0, 0, 0},
    {"task_timeout", CF_DURATION, "30s", offsetof(cf_scheduler, task_timeout_ms),
     "A task whose worker has not heartbeated for this long is taken over by another worker.",
     200, DAY, 0, 0, 0, 0},
    {"heartbeat", CF_DURATION, "5s", offsetof(cf_scheduler, heartbeat_ms),
     "How often workers heartbeat the tasks they run (at most half of task_timeout).", 50,
     3600 * 1000, 0, 0, 0, 0},
    {"max_deliveries", CF_INT, "3", offsetof(cf_scheduler, max_deliveries),
     "A task taken over this many times (its workers died) is dead-lettered and its run marked "
     "dead.",
     1, 100, 0, 0, 0, 0},
    {0}};

static const cf__table scheduler_table = {"scheduler", "The jobs scheduler and task queue.",
                                          scheduler_fields, sizeof(cf_scheduler), 0,
                                          check_scheduler, 0, 0};

/* ---- alerts ------------------------------------------------------------------------ */

static const cf__field alerts_fields[] = {
    {"webhook", CF_STRING, "", offsetof(cf_alerts, webhook),
     "Where the built-in alerts' notices go: a Slack-compatible incoming webhook URL (may be "
     "`{{secret.NAME}}`). Empty: notices are only logged and shown on the console's Alerts "
     "page.", 0, 0, 0, 0, 0, 0},
    {"every", CF_DURATION, "1m", offsetof(cf_alerts, every_ms),
     "How often `sluice serve` runs the built-in checks.", 100, DAY, 0, 0, 0, 0},
    {"job_failures", CF_BOOL, "true", offsetof(cf_alerts, job_failures),
     "Notify each job run that failed or was dead-lettered (once), and when every job's "
     "latest run succeeds again.", 0, 0, 0, 0, 0, 0},
    {"schema_changes", CF_BOOL, "true", offsetof(cf_alerts, schema_changes),
     "Notify each new schema version of a lake table (a column added or widened, a source "
     "column dropped).", 0, 0, 0, 0, 0, 0},
    {"sink_lag", CF_INT, "0", offsetof(cf_alerts, sink_lag),
     "Records a stream's lake sink may lag behind the stream: above this for `sink_lag_for` "
     "without shrinking, the alert triggers (a sink stopped past the journal's end triggers at "
     "once). 0: no lag check.", 0, INT64_MAX, 0, 0, 0, 0},
    {"sink_lag_for", CF_DURATION, "5m", offsetof(cf_alerts, sink_lag_for_ms),
     "How long the lag must stay above `sink_lag` (and not shrink) before the alert triggers.",
     0, DAY, 0, 0, 0, 0},
    {"cooldown", CF_DURATION, "1h", offsetof(cf_alerts, cooldown_ms),
     "While a lag alert stays triggered, it notifies again at most this often.", 0, 30 * DAY, 0,
     0, 0, 0},
    {0}};

static const cf__table alerts_table = {
    "alerts",
    "Built-in alerts of `sluice serve`: failed job runs, schema changes and sink lag, checked "
    "every `every` and sent to `webhook` (see [alerts](jobs.md#built-in-alerts)).",
    alerts_fields, sizeof(cf_alerts), 0, NULL, 0, 0};

/* ---- sources.<name> (sluice tail) ---------------------------------------------- */

static const char *const source_formats[] = {"json", "combined", "nginx", "regex", "plain", NULL};

static const cf__field multiline_fields[] = {
    {"start", CF_STRING, "", offsetof(cf_multiline, start),
     "A line matching this POSIX extended regex starts a new record; other lines are appended "
     "to the record before them (stack traces). Empty: every line is a record.",
     0, 0, 0, 0, 0, 0},
    {"timeout", CF_DURATION, "1s", offsetof(cf_multiline, timeout_ms),
     "A record held back waiting for its next start line is sent after this long without a new "
     "line.", 10, DAY, 0, 0, 0, 0},
    {0}};

static const cf__table multiline_table = {"sources.<name>.multiline",
                                          "Records that span several lines.", multiline_fields,
                                          sizeof(cf_multiline), 0, NULL, 0, 0};

static int check_source(const void *obj, char *msg, size_t msglen)
{
    const cf_source *s = obj;
    if (s->format == 3 && !s->pattern[0])
        return ut_err(msg, msglen, "format regex needs a pattern");
    if (s->url[0] && strncmp(s->url, "http://", 7) && strncmp(s->url, "https://", 8))
        return ut_err(msg, msglen, "url must start with http:// or https://");
    return 0;
}

static const cf__field source_fields[] = {
    {"paths", CF_STRLIST, "", offsetof(cf_source, paths),
     "Files to follow: glob patterns (`/var/log/nginx/access.log*`), looked at again every "
     "`poll_interval`.", 0, 64, 0, 0, 0, 0},
    {"format", CF_ENUM, "plain", offsetof(cf_source, format),
     "How a record is parsed: `json` (one object a line), `combined` or `nginx` (the "
     "Apache/nginx combined log format), `regex` (`pattern`'s named groups), `plain` (the line "
     "as `message`). A record that does not parse is sent as `message` with `parse_error`.",
     0, 0, source_formats, 0, 0, 0},
    {"pattern", CF_STRING, "", offsetof(cf_source, pattern),
     "format regex: a POSIX extended regex whose `(?P<name>...)` (or `(?<name>...)`) groups "
     "become the record's fields.", 0, 0, 0, 0, 0, 0},
    {"multiline", CF_SECTION, NULL, offsetof(cf_source, multiline),
     "See [`sources.<name>.multiline`](#sourcesnamemultiline).", 0, 0, 0, &multiline_table, 0,
     0},
    {"fields", CF_STRMAP, NULL, offsetof(cf_source, fields),
     "Constant string fields added to every record (besides `host`, `file`, `file_offset`).",
     0, 64, 0, 0, 0, 0},
    {"host", CF_STRING, "", offsetof(cf_source, host),
     "The `host` field of every record; empty: the machine's host name.", 0, 0, 0, 0, 0, 0},
    {"stream", CF_STRING, "", offsetof(cf_source, stream),
     "The stream the records go to (required by `sluice tail`).", 0, 0, 0, 0, 0, 0},
    {"url", CF_STRING, "", offsetof(cf_source, url),
     "A remote sluice (`http://host:8080`) whose HTTP ingest API takes the records; empty: the "
     "local journal of `data_dir` (no server may write that stream at the same time).",
     0, 0, 0, 0, 0, 0},
    {"token", CF_STRING, "", offsetof(cf_source, token),
     "Bearer token for the remote stream.", 0, 0, 0, 0, 0, 0},
    {"checkpoint", CF_STRING, "", offsetof(cf_source, checkpoint),
     "Directory of the source's checkpoint; empty: `<data_dir>/tail/<name>`.", 0, 0, 0, 0, 0,
     0},
    {"max_line_bytes", CF_SIZE, "64KiB", offsetof(cf_source, max_line_bytes),
     "Longer lines (and multiline records) are cut at this size and counted; the rest of the "
     "line is skipped.", 64, 512 * KiB, 0, 0, 0, 0},
    {"batch_bytes", CF_SIZE, "1MB", offsetof(cf_source, batch_bytes),
     "Record bytes sent in one batch (one journal append or one HTTP request).", KiB,
     8 * MiB, 0, 0, 0, 0},
    {"batch_wait", CF_DURATION, "200ms", offsetof(cf_source, batch_wait_ms),
     "A batch that is not full is sent after this long.", 0, 60000, 0, 0, 0, 0},
    {"poll_interval", CF_DURATION, "250ms", offsetof(cf_source, poll_ms),
     "How often the globs and the files are looked at.", 10, 60000, 0, 0, 0, 0},
    {"rotate_wait", CF_DURATION, "5s", offsetof(cf_source, rotate_wait_ms),
     "A file renamed away or deleted is read to its end, then closed once it stayed "
     "unchanged this long (its writer may still append before reopening).", 0, DAY, 0, 0, 0,
     0},
    {"max_retries", CF_INT, "0", offsetof(cf_source, max_retries),
     "Remote: a failed send is retried this often (backoff 100ms doubling to 30s); 0 = for "
     "ever.", 0, 1000000, 0, 0, 0, 0},
    {0}};

static const cf__table source_table = {
    "sources.<name>",
    "Log files `sluice tail` follows and ships to a stream (see [producers](producers.md)).",
    source_fields, sizeof(cf_source), offsetof(cf_source, name), check_source,
    UT_NAME_LOG_SOURCE, 0};

/* ---- top level ---------------------------------------------------------------- */

static const cf__field root_fields[] = {
    {"data_dir", CF_STRING, "./sluice-data", offsetof(cf_config, data_dir),
     "Directory for the journal (and the lake and catalog); created if missing.", 0, 0, 0, 0, 0,
     check_path},
    {"listen", CF_HOSTPORT, "127.0.0.1:8080", offsetof(cf_config, listen),
     "Address of the HTTP server (ingest, query, metrics).", 0, 0, 0, 0, 0, 0},
    {"auto_create_streams", CF_BOOL, "false", offsetof(cf_config, auto_create_streams),
     "Accept records for streams not declared under `streams`, creating them with the stream "
     "defaults and no tokens (no authentication). Off in a config file unless set; the "
     "embedded default used by `sluice serve` without `-c` turns it on.",
     0, 0, 0, 0, 0, 0},
    {"log_level", CF_ENUM, "info", offsetof(cf_config, log_level),
     "Least severe log messages written to stderr (`SLUICE_LOG_LEVEL` in the environment, if "
     "set, takes precedence).", 0, 0, log_levels, 0, 0, 0},
    {"shutdown_timeout", CF_DURATION, "5s", offsetof(cf_config, shutdown_timeout_ms),
     "On SIGTERM or SIGINT, how long the lake sinks (all at once) may take to land what they "
     "buffer before the server exits anyway. Records that did not land are safe in the journal "
     "and land after the restart. 0: exit without waiting for them.",
     0, 3600 * 1000, 0, 0, 0, 0},
    {"http", CF_SECTION, NULL, offsetof(cf_config, http), "See [`http`](#http).", 0, 0, 0,
     &http_table, 0, 0},
    {"limits", CF_SECTION, NULL, offsetof(cf_config, limits), "See [`limits`](#limits).", 0, 0, 0,
     &limits_table, 0, 0},
    {"lake", CF_SECTION, NULL, offsetof(cf_config, lake), "See [`lake`](#lake).", 0, 0, 0,
     &lake_table, 0, 0},
    {"streams", CF_MAP, NULL, offsetof(cf_config, streams),
     "The streams, see [`streams.<name>`](#streamsname).", 0, CF_MAX_STREAMS, 0,
     &cf__stream_table, offsetof(cf_config, nstreams), 0},
    {"postgres", CF_MAP, NULL, offsetof(cf_config, postgres),
     "PostgreSQL connections for SQL federation, see [`postgres.<name>`](#postgresname).", 0,
     CF_MAX_POSTGRES, 0, &postgres_table, offsetof(cf_config, npostgres), 0},
    {"mysql", CF_MAP, NULL, offsetof(cf_config, mysql),
     "MySQL / MariaDB connections for snapshot jobs, see [`mysql.<name>`](#mysqlname).", 0,
     CF_MAX_MYSQL, 0, &mysql_table, offsetof(cf_config, nmysql), 0},
    {"sqlite", CF_MAP, NULL, offsetof(cf_config, sqlite),
     "SQLite files attached to SQL, see [`sqlite.<name>`](#sqlitename).", 0, 8, 0,
     &sqlite_table, offsetof(cf_config, nsqlite), 0},
    {"redis", CF_MAP, NULL, offsetof(cf_config, redis),
     "Redis servers for snapshot jobs, see [`redis.<name>`](#redisname).", 0, CF_MAX_REDIS, 0,
     &redis_table, offsetof(cf_config, nredis), 0},
    {"query", CF_SECTION, NULL, offsetof(cf_config, query), "See [`query`](#query).", 0, 0, 0,
     &query_table, 0, 0},
    {"sql", CF_SECTION, NULL, offsetof(cf_config, sql), "See [`sql`](#sql).", 0, 0, 0,
     &sql_table, 0, 0},
    {"workers", CF_INT, "2", offsetof(cf_config, workers),
     "Worker threads `sluice serve` runs for job tasks (`sluice worker` adds processes).", 0,
     256, 0, 0, 0, 0},
    {"secrets_dir", CF_STRING, "", offsetof(cf_config, secrets_dir),
     "Directory of secret files: `{{secret.NAME}}` is the first line of file NAME (else the "
     "variable `SLUICE_SECRET_NAME`). Secrets are never logged or stored.",
     0, 0, 0, 0, 0, 0},
    {"scheduler", CF_SECTION, NULL, offsetof(cf_config, scheduler),
     "See [`scheduler`](#scheduler).", 0, 0, 0, &scheduler_table, 0, 0},
    {"alerts", CF_SECTION, NULL, offsetof(cf_config, alerts), "See [`alerts`](#alerts).", 0, 0,
     0, &alerts_table, 0, 0},
    {"pools", CF_MAP, NULL, offsetof(cf_config, pools),
     "Rate and concurrency limits, see [`pools.<name>`](#poolsname).", 0, CF_MAX_POOLS, 0,
     &pool_table, offsetof(cf_config, npools), 0},
    {"jobs", CF_MAP, NULL, offsetof(cf_config, jobs),
     "Scheduled jobs, see [`jobs.<name>`](#jobsname).", 0, CF_MAX_JOBS, 0, &job_table,
     offsetof(cf_config, njobs), 0},
    {"sources", CF_MAP, NULL, offsetof(cf_config, sources),
     "Log files shipped by `sluice tail`, see [`sources.<name>`](#sourcesname).", 0,
     CF_MAX_SOURCES, 0, &source_table, offsetof(cf_config, nsources), 0},
    {0}};

/* The name of connection i of postgres, then mysql, sqlite, redis. */
static const char *conn_name(const cf_config *c, int i, const char **section)
{
    if (i < c->npostgres) return *section = "postgres", c->postgres[i].name;
    i -= c->npostgres;
    if (i < c->nmysql) return *section = "mysql", c->mysql[i].name;
    i -= c->nmysql;
    if (i < c->nsqlite) return *section = "sqlite", c->sqlite[i].name;
    return *section = "redis", c->redis[i - c->nsqlite].name;
}

/* postgres.<name> and sqlite.<name> become SQL schemas side by side, and
 * SQLite compares schema names without case; a mysql.<name> is a source
 * named like them (and one day a schema too), so it follows the same rule. */
static int check_schemas(const cf_config *c, char *msg, size_t msglen)
{
    int n = c->npostgres + c->nmysql + c->nsqlite + c->nredis; /* one namespace of sources */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            const char *sa, *sb, *a = conn_name(c, i, &sa), *b = conn_name(c, j, &sb);
            if (!strcasecmp(a, b))
                return ut_err(msg, msglen, "%s.%s and %s.%s would both be the SQL schema '%s' "
                              "(names are compared without case)",
                              sa, a, sb, b, b);
        }
    return 0;
}

/* Two streams must not land in one lake table (or one in the other's errors
 * table), and SQL schema names must not collide. */
static int check_root(const void *obj, char *msg, size_t msglen)
{
    return cf_check_tables(obj, msg, msglen) || check_schemas(obj, msg, msglen) ? -1 : 0;
}

const cf__table cf__root = {"",
                            "Keys at the top level of the file.",
                            root_fields,
                            sizeof(cf_config),
                            0,
                            check_root, 0, 0};
