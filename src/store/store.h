/* store — where lake files live: a local directory (default) or an
 * S3-compatible object store.
 *
 * Prefix: st_.  Keys are '/'-separated paths relative to the store root
 * ("t1_events/dt=2024-05-01/hr=03/part-0001.parquet").  Every call is
 * thread-safe on its own handle.
 *
 *   local:  root is a directory; st_put_file writes a temp name in the target
 *           directory, fsyncs, renames, fsyncs the directory (atomic).
 *   s3:     path-style requests to an endpoint (AWS, MinIO, s3rver), AWS
 *           Signature Version 4; PUT (multipart above part_bytes), GET with
 *           ranges, HEAD, DELETE, ListObjectsV2 with pagination; retries with
 *           exponential backoff on 5xx, 429 / SlowDown and network errors.
 *           Credentials come from the options, else AWS_ACCESS_KEY_ID /
 *           AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else a credentials file
 *           (AWS shared-credentials format, [default] or a named profile).
 *           Secrets are never written to logs or error messages.
 *
 * Bodies of unknown length stream in through st_writer (one S3 part
 * buffered); st_uploads / st_upload_abort find and drop the unfinished
 * writes a killed writer leaves.
 */
#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H

#include "util/util.h"

#include <stddef.h>
#include <stdint.h>

typedef struct st_store st_store;

/* A local directory store rooted at `root` (created if missing). */
st_store *st_local_create(const char *root, char *err, size_t errlen);

typedef struct st_s3_opts {
    const char *endpoint;     /* "http://127.0.0.1:4569" or "https://s3.eu-west-1.amazonaws.com" */
    const char *region;       /* "us-east-1" */
    const char *bucket;
    const char *prefix;       /* key prefix inside the bucket, "" or "lake/" */
    const char *access_key;   /* NULL: environment / credentials file */
    const char *secret_key;
    const char *session_token;
    const char *credentials_file; /* NULL: ~/.aws/credentials if it exists */
    const char *profile;      /* NULL: "default" */
    uint64_t part_bytes;      /* multipart part size; 0 = 16 MiB (min 5 MiB) */
    int max_retries;          /* 0 = 5 */
    int timeout_s;            /* per request; 0 = 60 */
} st_s3_opts;

/* An S3 store.  Does not contact the server (st_check does). */
st_store *st_s3_create(const st_s3_opts *o, char *err, size_t errlen);
void st_destroy(st_store *s); /* accepts NULL */

/* Reach the store (local: root writable; s3: HEAD bucket).  0 or -1. */
int st_check(st_store *s, char *err, size_t errlen);

/* Store the local file `path` at key (atomically: readers see the old object
 * or the whole new one).  0 or -1 with a message naming the key. */
int st_put_file(st_store *s, const char *key, const char *path, char *err, size_t errlen);
/* Store the local file `path` at key and consume it: a local store on the
 * same file system links it into place (after fsyncing it; the directory is
 * fsynced after), otherwise it is copied / uploaded and then unlinked.  Never
 * replaces an existing object: a key that exists is an error (local: link(2)
 * fails atomically with EEXIST; S3: a HEAD check before the upload).  On
 * failure `path` may still exist.  0 or -1. */
int st_move_file(st_store *s, const char *key, const char *path, char *err, size_t errlen);
/* Store p[0..n) at key.  0 or -1. */
int st_put(st_store *s, const char *key, const void *p, size_t n, char *err, size_t errlen);
/* Append bytes [off, off+len) of key to out (len 0 = to the end).  0, or -1
 * (a missing key says "not found"). */
int st_get(st_store *s, const char *key, uint64_t off, uint64_t len, ut_buf *out, char *err,
           size_t errlen);
/* 1 if key exists (sets *size / *mtime_ms when non-NULL), 0 if not, -1 on error. */
int st_head(st_store *s, const char *key, uint64_t *size, int64_t *mtime_ms, char *err,
            size_t errlen);
/* Delete key (a missing key is not an error).  0 or -1. */
int st_delete(st_store *s, const char *key, char *err, size_t errlen);

/* Move the object at key `from` to key `to` (replacing an object there).
 * local: rename(2), atomic, parent directories created (directories left
 * empty are removed as by st_delete).  s3: the object is read, stored at
 * `to`, then `from` is deleted, so a reader finds it at `from` or at `to`
 * throughout (objects up to the st_get cap).  1 moved, 0 `from` does not
 * exist (moved or deleted already), -1 error. */
int st_rename(st_store *s, const char *from, const char *to, char *err, size_t errlen);

/* Call cb for every key under prefix (recursively; in key order for s3,
 * directory order for local), until cb returns non-zero.  Returns 0, the
 * non-zero value cb returned, or -1 with a message. */
typedef int (*st_list_cb)(void *ctx, const char *key, uint64_t size, int64_t mtime_ms);
int st_list(st_store *s, const char *prefix, st_list_cb cb, void *ctx, char *err, size_t errlen);

/* ---- streaming writes ------------------------------------------------------------
 *
 * st_writer_open(store, key) -> st_writer_write(p, n)... -> st_writer_commit,
 * or st_writer_abort; st_writer_destroy (accepts NULL) aborts a writer that
 * was not committed.  Readers see no object at key, or the old one, until the
 * commit; then the whole new one (it replaces what was there).
 *
 *   local:  the bytes go to "<dir>/.tmp-up-<pid>-<seq>-<name>" beside the
 *           target, flock'ed while the writer lives; commit fsyncs, renames
 *           and fsyncs the directory; abort unlinks.  Listings skip it.
 *   s3:     one part is buffered (min(part_bytes, 8 MiB), at least S3's 5 MiB
 *           minimum); an object that fits one part is one PUT at commit,
 *           else CreateMultipartUpload at the first full part, UploadPart per
 *           part, CompleteMultipartUpload at commit; abort and any failure:
 *           AbortMultipartUpload (best effort).  At most 10000 parts.
 *
 * Each full part is uploaded by a thread while the next fills, so writes
 * wait for S3 only when it is slower than the writer.
 *
 * Memory: one part (S3; two once a multipart upload began) or nothing
 * (local), whatever the object's size.
 * One writer is used by one thread at a time.  After a failed write the
 * writer is aborted (further writes and the commit fail). */
typedef struct st_writer st_writer;
#define ST_WRITER_PART ((uint64_t)8 << 20)
st_writer *st_writer_open(st_store *s, const char *key, char *err, size_t errlen);
int st_writer_write(st_writer *w, const void *p, size_t n, char *err, size_t errlen);
/* Make the object appear at key; *size (may be NULL) = its bytes.  0 / -1
 * (then aborted). */
int st_writer_commit(st_writer *w, uint64_t *size, char *err, size_t errlen);
/* Drop what was written (S3: AbortMultipartUpload).  0, or -1 when the abort
 * itself failed (an orphan upload may remain: see st_uploads). */
int st_writer_abort(st_writer *w, char *err, size_t errlen);
void st_writer_destroy(st_writer *w);
uint64_t st_writer_bytes(const st_writer *w); /* written so far */

/* Unfinished writes under prefix: S3 multipart uploads (ListMultipartUploads;
 * held -1: cannot tell whether their writer lives), local ".tmp-*" temp
 * files (held 1 while a living writer's lock holds one, else 0; time: its
 * last write).  key is the target key, id what st_upload_abort takes.  cb
 * returns non-zero to stop (returned).  0 / -1 (a server without the call,
 * like s3rver: -1 with its "NotImplemented"). */
typedef int (*st_upload_cb)(void *ctx, const char *key, const char *id, int64_t time_ms,
                            int held);
int st_uploads(st_store *s, const char *prefix, st_upload_cb cb, void *ctx, char *err,
               size_t errlen);
/* Abort upload id of key (S3: AbortMultipartUpload, a gone one is fine;
 * local: unlink the temp file).  0 / -1. */
int st_upload_abort(st_store *s, const char *key, const char *id, char *err, size_t errlen);

/* The URI of key for other engines: an absolute local path, or
 * "s3://bucket/prefix/key".  key "" gives the root.  Returns out. */
const char *st_uri(const st_store *s, const char *key, char *out, size_t n);
/* 1 for S3 stores. */
int st_is_s3(const st_store *s);
/* S3 only: ask ListObjectsV2 for at most max_keys keys per page (1..1000;
 * default 1000).  For tests and operators who want to see pagination; no
 * effect on a local store. */
void st_set_list_page(st_store *s, int max_keys);

/* ---- AWS Signature Version 4 (exposed for the test-suite vectors) ----------- */

typedef struct st_sigv4_req {
    const char *method;        /* "GET" */
    const char *path;          /* URI path as sent, e.g. "/bucket/key%20x" (already encoded) */
    const char *query;         /* raw query string without '?', may be "" */
    const char *const *headers;/* "Name:value" strings (as sent, before canonicalisation) */
    int nheaders;
    const void *payload;       /* body (hashed), or NULL with payload_hash set */
    size_t payload_len;
    const char *payload_hash;  /* hex SHA-256, or "UNSIGNED-PAYLOAD"; NULL = hash payload */
    const char *amz_date;      /* "20150830T123600Z" */
    const char *region, *service;
    const char *access_key, *secret_key;
    int normalize_path;        /* 1 for S3 = 0 (S3 does not normalise), 1 for other services */
} st_sigv4_req;

/* Compute the canonical request, string to sign and Authorization header
 * value of r into the given buffers (each may be NULL; each is replaced and
 * NUL-terminated after len).  0 or -1.
 *
 * Exactly the given headers are signed (pass Host, X-Amz-Date,
 * X-Amz-Content-Sha256 and X-Amz-Security-Token as they will be sent).
 * Canonical URI: with normalize_path, "." / ".." segments and duplicate
 * slashes are removed first; then for every service except "s3" the path is
 * URI-encoded once more (AWS's double encoding: ' ' -> %20, '%' -> %25), while
 * for "s3" it is used exactly as sent.  The query is decoded and re-encoded
 * per parameter and sorted; header names are lower-cased, values trimmed with
 * whitespace runs (folded lines too) collapsed, duplicates joined with ','. */
int st_sigv4(const st_sigv4_req *r, ut_buf *canonical, ut_buf *string_to_sign,
             ut_buf *authorization, char *err, size_t errlen);
/* A presigned request ("query" signing): the same canonicalisation with the
 * X-Amz-Algorithm / Credential / Date / Expires / SignedHeaders (and, when
 * session_token is non-NULL, X-Amz-Security-Token) parameters added to
 * r->query.  Fills `query` with the full query string to send, ending in
 * &X-Amz-Signature=...; expires_s 1..604800.  0 or -1. */
int st_sigv4_presign(const st_sigv4_req *r, const char *session_token, int expires_s,
                     ut_buf *canonical, ut_buf *string_to_sign, ut_buf *query, char *err,
                     size_t errlen);

#endif
