/* store internals: shared between local.c, s3.c, sigv4.c, creds.c, xml.c and
 * store.c.  Not a public header: other modules include store/store.h only. */
#ifndef SLUICE_ST_INT_H
#define SLUICE_ST_INT_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* ---- limits ---------------------------------------------------------------- */

#define ST_KEY_MAX 1024                 /* bytes of a key (S3's own limit) */
#define ST_XML_MAX (8u << 20)           /* bytes of an XML response we parse */
#define ST_ERRBODY_MAX (64u << 10)      /* bytes of an error body we keep */
#define ST_HDR_LINE_MAX 8192            /* a longer response header is ignored */
#define ST_GET_MAX ((uint64_t)2 << 30)  /* bytes one st_get may return */
#define ST_PART_MIN ((uint64_t)5 << 20) /* S3's minimum part size */
#define ST_PART_DEFAULT ((uint64_t)16 << 20)
#define ST_PARTS_MAX 10000              /* S3's maximum number of parts */
#define ST_CREDS_FILE_MAX (1u << 20)

/* ---- the handle ------------------------------------------------------------ */

typedef struct st_local st_local;
typedef struct st_s3 st_s3;

struct st_store {
    int is_s3;
    st_local *local;
    st_s3 *s3;
};

/* Check a key: 1..ST_KEY_MAX bytes, no leading '/', no empty, "." or ".."
 * segments, no control characters, no segment starting ".tmp-" (the local
 * store's temp names).  0 or -1 with a message naming the key. */
int st__key_check(const char *key, char *err, size_t errlen);
/* Same for a list prefix: "" is fine, a trailing '/' is fine. */
int st__prefix_check(const char *prefix, char *err, size_t errlen);

/* local.c */
st_local *st__local_open(const char *root, char *err, size_t errlen);
void st__local_close(st_local *l);
int st__local_check(st_local *l, char *err, size_t errlen);
/* Move local file src to key, never over an existing key (link + unlink on the
 * same file system, else a copy placed the same way), then drop src; an
 * existing key is an error.  0 or -1. */
int st__local_move(st_local *l, const char *key, const char *src, char *err, size_t errlen);
int st__local_put(st_local *l, const char *key, int fd, const void *p, size_t n, char *err,
                  size_t errlen);
int st__local_get(st_local *l, const char *key, uint64_t off, uint64_t len, ut_buf *out,
                  char *err, size_t errlen);
int st__local_head(st_local *l, const char *key, uint64_t *size, int64_t *mtime_ms, char *err,
                   size_t errlen);
int st__local_delete(st_local *l, const char *key, char *err, size_t errlen);
/* rename(2) key `from` to `to` (parent directories created).  1 moved, 0
 * `from` does not exist, -1 error. */
int st__local_rename(st_local *l, const char *from, const char *to, char *err, size_t errlen);
int st__local_list(st_local *l, const char *prefix, st_list_cb cb, void *ctx, char *err,
                   size_t errlen);
const char *st__local_root(const st_local *l);
/* The streaming writer's temp file for key: "<dir>/.tmp-up-<pid>-<seq>-<name>"
 * beside the target (directories created), flock'ed while its writer lives;
 * its fd, the path into *tmp (malloc'ed).  -1 with a message. */
int st__local_tmp_open(st_local *l, const char *key, char **tmp, char *err, size_t errlen);
/* fsync fd, close it, rename tmp to key, fsync the directory.  fd is closed
 * whatever happens; tmp is removed on failure.  0 / -1. */
int st__local_tmp_place(st_local *l, const char *key, int fd, const char *tmp, char *err,
                        size_t errlen);
/* The ".tmp-*" files under prefix (their target key, their path relative
 * to the root as the id, mtime, held: 1 while a living writer's lock holds
 * it, 0 when nobody's does). */
int st__local_uploads(st_local *l, const char *prefix, st_upload_cb cb, void *ctx, char *err,
                      size_t errlen);
/* Remove the temp file id (as st__local_uploads gives it).  0 / -1. */
int st__local_tmp_remove(st_local *l, const char *id, char *err, size_t errlen);

/* s3.c */
st_s3 *st__s3_open(const st_s3_opts *o, char *err, size_t errlen);
void st__s3_close(st_s3 *s);
int st__s3_check(st_s3 *s, char *err, size_t errlen);
/* fd >= 0: upload the whole file; else p[0..n). */
int st__s3_put(st_s3 *s, const char *key, int fd, const void *p, size_t n, char *err,
               size_t errlen);
int st__s3_get(st_s3 *s, const char *key, uint64_t off, uint64_t len, ut_buf *out, char *err,
               size_t errlen);
int st__s3_head(st_s3 *s, const char *key, uint64_t *size, int64_t *mtime_ms, char *err,
                size_t errlen);
int st__s3_delete(st_s3 *s, const char *key, char *err, size_t errlen);
int st__s3_list(st_s3 *s, const char *prefix, st_list_cb cb, void *ctx, char *err,
                size_t errlen);
void st__s3_set_list_page(st_s3 *s, int max_keys);
const char *st__s3_uri(const st_s3 *s, const char *key, char *out, size_t n);
/* The multipart calls of the streaming writer (keys without the store's
 * prefix; part numbers from 1).  0 / -1.  An abort of an upload that is
 * gone already (404) succeeds. */
uint64_t st__s3_part_bytes(const st_s3 *s);
int st__s3_mp_create(st_s3 *s, const char *key, char *id, size_t idlen, char *err,
                     size_t errlen);
int st__s3_mp_part(st_s3 *s, const char *key, const char *id, int partno, const void *p,
                   size_t n, char *etag, size_t etaglen, char *err, size_t errlen);
int st__s3_mp_complete(st_s3 *s, const char *key, const char *id, char *const *etags, int n,
                       char *err, size_t errlen);
int st__s3_mp_abort(st_s3 *s, const char *key, const char *id, char *err, size_t errlen);
/* ListMultipartUploads under prefix, following the markers. */
int st__s3_uploads(st_s3 *s, const char *prefix, st_upload_cb cb, void *ctx, char *err,
                   size_t errlen);

/* ---- SigV4 helpers (sigv4.c) ------------------------------------------------ */

/* Append s[0..n) URI-encoded the AWS way: every byte except A-Z a-z 0-9
 * '-' '.' '_' '~' becomes %XX (upper-case hex); '/' is kept when keep_slash. */
void st__uri_encode(ut_buf *b, const char *s, size_t n, int keep_slash);
/* Lower-case hex SHA-256 of p[0..n) into hex[65]. */
void st__sha256_hex(const void *p, size_t n, char hex[65]);
/* Lower-case hex SHA-256 of bytes [off, off+len) of fd into hex[65] (pread).
 * 0 or -1 (errno set). */
int st__sha256_fd_hex(int fd, uint64_t off, uint64_t len, char hex[65]);

/* ---- credentials (creds.c) --------------------------------------------------- */

typedef struct st_creds {
    char *access_key, *secret_key, *token; /* token may be NULL */
    char source[160];                      /* "options", "environment", "file PATH [profile]" */
} st_creds;

/* Resolve credentials: o->access_key/secret_key, else the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), else the
 * shared credentials file (o->credentials_file, else
 * $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials) at profile
 * o->profile, else $AWS_PROFILE, else "default".  0 or -1 with a message
 * (never containing a secret). */
int st__creds_resolve(const st_s3_opts *o, st_creds *c, char *err, size_t errlen);
/* Parse shared-credentials text for one profile ("[name]" or "[profile
 * name]" sections, key = value lines, '#'/';' comments).  1 when the profile
 * has both keys (c filled), 0 when the profile is missing, -1 on a malformed
 * or incomplete profile, or a kept value holding a control character (message
 * with the line number, never the value). */
int st__creds_parse(const char *text, size_t n, const char *profile, st_creds *c, char *err,
                    size_t errlen);
/* Wipe and free the strings; c may be zeroed or partially filled. */
void st__creds_free(st_creds *c);

/* ---- XML (xml.c) -------------------------------------------------------------- */

typedef struct st_xml_obj {
    char *key;
    uint64_t size;
    int64_t mtime_ms;
} st_xml_obj;

typedef struct st_xml_list {
    st_xml_obj *v;
    size_t n, cap;
    int truncated;
    char *next_token; /* NULL when absent */
} st_xml_list;

typedef struct st_xml_upload {
    char *key, *id;
    int64_t initiated_ms;
} st_xml_upload;

typedef struct st_xml_uploads {
    st_xml_upload *v;
    size_t n, cap;
    int truncated;
    char *next_key, *next_id; /* NULL when absent */
} st_xml_uploads;

/* Parse one ListMultipartUploads result page (appends to u->v).  0 or -1. */
int st__xml_uploads_page(const char *xml, size_t n, st_xml_uploads *u, char *err,
                         size_t errlen);
void st__xml_uploads_free(st_xml_uploads *u);
/* Parse one ListObjectsV2 result page (appends to l->v).  0 or -1. */
int st__xml_list_page(const char *xml, size_t n, st_xml_list *l, char *err, size_t errlen);
void st__xml_list_free(st_xml_list *l);
/* Text of the first element named `name` (entities decoded) into
 * out[outlen] (truncated).  1 found, 0 not found or not well-formed. */
int st__xml_text(const char *xml, size_t n, const char *name, char *out, size_t outlen);
/* For an S3 <Error> document: Code and Message.  1 when it is one, else 0. */
int st__xml_error(const char *xml, size_t n, char *code, size_t codelen, char *msg,
                  size_t msglen);

#endif
