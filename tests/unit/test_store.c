/* store: the local directory store, key checks, credentials parsing and
 * resolution order, URI encoding, and the XML reader on ListObjectsV2 pages
 * and error documents.  (The S3 protocol itself is exercised against s3rver
 * in tests/integration/s3_store.mjs.) */
#include "store/st_int.h"
#include "t.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *mkroot(const char *name)
{
    ut_buf b = {0};
    ut_buf_printf(&b, "%s/store-%s", t_tmpdir(), name);
    ut_buf_putc(&b, 0);
    return (char *)b.p;
}

/* Count directory entries under dir (recursively) whose name starts with
 * ".tmp-". */
static int count_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (!strncmp(e->d_name, ".tmp-", 5)) n++;
        else if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) n += count_tmp(p);
    }
    closedir(d);
    return n;
}

typedef struct lst {
    char keys[32][128];
    uint64_t sizes[32];
    int n;
    int stop_after;
} lst;

static int lst_cb(void *ctx, const char *key, uint64_t size, int64_t mtime_ms)
{
    lst *l = ctx;
    (void)mtime_ms;
    if (l->n < 32) {
        snprintf(l->keys[l->n], sizeof l->keys[0], "%s", key);
        l->sizes[l->n] = size;
    }
    l->n++;
    return l->stop_after && l->n >= l->stop_after ? 7 : 0;
}

static int has_key(const lst *l, const char *k)
{
    for (int i = 0; i < l->n && i < 32; i++)
        if (!strcmp(l->keys[i], k)) return 1;
    return 0;
}

TEST(store_local_roundtrip)
{
    char err[512], *root = mkroot("rt");
    st_store *s = st_local_create(root, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(!st_is_s3(s));
    CHECK(st_check(s, err, sizeof err) == 0);
    CHECK(st_put(s, "t/dt=2024-05-01/hr=03/part-1.parquet", "0123456789", 10, err, sizeof err) == 0);
    CHECK(st_put(s, "t/dt=2024-05-01/hr=04/part-2.parquet", "abc", 3, err, sizeof err) == 0);
    CHECK(st_put(s, "u/x", "", 0, err, sizeof err) == 0);

    ut_buf b = {0};
    CHECK(st_get(s, "t/dt=2024-05-01/hr=03/part-1.parquet", 0, 0, &b, err, sizeof err) == 0);
    CHECK(b.len == 10 && !memcmp(b.p, "0123456789", 10));
    ut_buf_reset(&b);
    CHECK(st_get(s, "t/dt=2024-05-01/hr=03/part-1.parquet", 6, 4, &b, err, sizeof err) == 0);
    CHECK(b.len == 4 && !memcmp(b.p, "6789", 4));
    ut_buf_reset(&b);
    CHECK(st_get(s, "t/dt=2024-05-01/hr=03/part-1.parquet", 3, 0, &b, err, sizeof err) == 0);
    CHECK(b.len == 7 && !memcmp(b.p, "3456789", 7));
    ut_buf_reset(&b);
    CHECK(st_get(s, "t/dt=2024-05-01/hr=03/part-1.parquet", 10, 0, &b, err, sizeof err) == 0);
    CHECK(b.len == 0);
    CHECK(st_get(s, "t/dt=2024-05-01/hr=03/part-1.parquet", 8, 5, &b, err, sizeof err) < 0);
    CHECK(strstr(err, "beyond"));
    CHECK(b.len == 0);
    CHECK(st_get(s, "t/missing", 0, 0, &b, err, sizeof err) < 0);
    CHECK(strstr(err, "not found") && strstr(err, "t/missing"));
    /* a directory is not an object */
    CHECK(st_get(s, "t/dt=2024-05-01", 0, 0, &b, err, sizeof err) < 0);
    CHECK(st_head(s, "t/dt=2024-05-01", NULL, NULL, err, sizeof err) == 0);

    uint64_t size = 0;
    int64_t ms = 0;
    CHECK(st_head(s, "t/dt=2024-05-01/hr=04/part-2.parquet", &size, &ms, err, sizeof err) == 1);
    CHECK_EQ_INT(size, 3);
    CHECK(ms > 1700000000000LL);
    CHECK(st_head(s, "t/nope", &size, &ms, err, sizeof err) == 0);

    /* overwrite replaces */
    CHECK(st_put(s, "u/x", "new", 3, err, sizeof err) == 0);
    ut_buf_reset(&b);
    CHECK(st_get(s, "u/x", 0, 0, &b, err, sizeof err) == 0);
    CHECK(b.len == 3 && !memcmp(b.p, "new", 3));

    /* list: everything, a directory prefix, a partial-name prefix */
    lst l = {0};
    CHECK(st_list(s, "", lst_cb, &l, err, sizeof err) == 0);
    CHECK_EQ_INT(l.n, 3);
    CHECK(has_key(&l, "t/dt=2024-05-01/hr=03/part-1.parquet"));
    CHECK(has_key(&l, "u/x"));
    memset(&l, 0, sizeof l);
    CHECK(st_list(s, "t/", lst_cb, &l, err, sizeof err) == 0);
    CHECK_EQ_INT(l.n, 2);
    memset(&l, 0, sizeof l);
    CHECK(st_list(s, "t/dt=2024-05-01/hr=0", lst_cb, &l, err, sizeof err) == 0);
    CHECK_EQ_INT(l.n, 2);
    memset(&l, 0, sizeof l);
    CHECK(st_list(s, "t/dt=2024-05-01/hr=04/", lst_cb, &l, err, sizeof err) == 0);
    CHECK_EQ_INT(l.n, 1);
    CHECK_EQ_STR(l.keys[0], "t/dt=2024-05-01/hr=04/part-2.parquet");
    CHECK_EQ_INT(l.sizes[0], 3);
    memset(&l, 0, sizeof l);
    CHECK(st_list(s, "nothing/", lst_cb, &l, err, sizeof err) == 0);
    CHECK_EQ_INT(l.n, 0);
    memset(&l, 0, sizeof l);
    l.stop_after = 1;
    CHECK_EQ_INT(st_list(s, "", lst_cb, &l, err, sizeof err), 7);

    /* a stray temp file (crash leftover) is never listed */
    char p[4096];
    snprintf(p, sizeof p, "%s/u/.tmp-x-1-1", root);
    FILE *f = fopen(p, "w");
    CHECK(f);
    fclose(f);
    memset(&l, 0, sizeof l);
    CHECK(st_list(s, "u/", lst_cb, &l, err, sizeof err) == 0);
    CHECK_EQ_INT(l.n, 1);
    unlink(p);

    /* delete: missing is fine; empty parents go away, the root stays */
    CHECK(st_delete(s, "t/dt=2024-05-01/hr=04/part-2.parquet", err, sizeof err) == 0);
    CHECK(st_delete(s, "t/dt=2024-05-01/hr=04/part-2.parquet", err, sizeof err) == 0);
    snprintf(p, sizeof p, "%s/t/dt=2024-05-01/hr=04", root);
    struct stat st;
    CHECK(stat(p, &st) < 0);
    snprintf(p, sizeof p, "%s/t/dt=2024-05-01/hr=03", root);
    CHECK(stat(p, &st) == 0);
    CHECK(st_delete(s, "t/dt=2024-05-01/hr=03/part-1.parquet", err, sizeof err) == 0);
    CHECK(st_delete(s, "u/x", err, sizeof err) == 0);
    CHECK(stat(root, &st) == 0 && S_ISDIR(st.st_mode));
    snprintf(p, sizeof p, "%s/t", root);
    CHECK(stat(p, &st) < 0);

    char uri[4096];
    CHECK(st_uri(s, "a/b", uri, sizeof uri)[0] == '/');
    CHECK(strstr(uri, "/store-rt/a/b"));
    CHECK(!strcmp(st_uri(s, "", uri, sizeof uri) + strlen(uri) - 8, "store-rt"));
    ut_buf_free(&b);
    st_destroy(s);
    free(root);
}

TEST(store_local_put_file_and_atomicity)
{
    char err[512], *root = mkroot("atomic");
    st_store *s = st_local_create(root, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    char src[4096];
    snprintf(src, sizeof src, "%s/src.bin", t_tmpdir());
    FILE *f = fopen(src, "wb");
    CHECK(f);
    for (int i = 0; i < 300000; i++) fputc(i * 7, f);
    fclose(f);
    CHECK(st_put_file(s, "a/b/obj.bin", src, err, sizeof err) == 0);
    uint64_t size = 0;
    CHECK(st_head(s, "a/b/obj.bin", &size, NULL, err, sizeof err) == 1);
    CHECK_EQ_INT(size, 300000);
    ut_buf b = {0};
    CHECK(st_get(s, "a/b/obj.bin", 299990, 10, &b, err, sizeof err) == 0);
    CHECK(b.len == 10 && b.p[0] == (uint8_t)(299990 * 7));

    /* a put whose source cannot be read fails, leaves the old object and
     * no temp file */
    CHECK(st_put_file(s, "a/b/obj.bin", t_tmpdir(), err, sizeof err) < 0); /* a directory */
    CHECK(strstr(err, "a/b/obj.bin"));
    CHECK(st_head(s, "a/b/obj.bin", &size, NULL, err, sizeof err) == 1);
    CHECK_EQ_INT(size, 300000);
    CHECK(st_put_file(s, "a/b/new.bin", "/nonexistent/file", err, sizeof err) < 0);
    CHECK(strstr(err, "a/b/new.bin"));
    CHECK(st_put_file(s, "a/b/new2.bin", t_tmpdir(), err, sizeof err) < 0);
    CHECK(st_head(s, "a/b/new2.bin", NULL, NULL, err, sizeof err) == 0);
    CHECK_EQ_INT(count_tmp(root), 0);

    /* a key whose directory is a file */
    CHECK(st_put(s, "a/b/obj.bin/x", "1", 1, err, sizeof err) < 0);
    CHECK(strstr(err, "a/b/obj.bin/x"));
    CHECK_EQ_INT(count_tmp(root), 0);
    ut_buf_free(&b);
    st_destroy(s);
    free(root);
}

TEST(store_bad_keys)
{
    char err[512], *root = mkroot("keys");
    st_store *s = st_local_create(root, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    const char *bad[] = {"", "/abs", "a//b", "a/", "../x", "a/../b", "a/./b", ".", "..",
                         "a/.tmp-x", "a\nb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        CHECK_MSG(st_put(s, bad[i], "x", 1, err, sizeof err) < 0, "key '%s' accepted", bad[i]);
        CHECK_MSG(err[0], "no message for '%s'", bad[i]);
        ut_buf b = {0};
        CHECK(st_get(s, bad[i], 0, 0, &b, err, sizeof err) < 0);
        CHECK(st_head(s, bad[i], NULL, NULL, err, sizeof err) < 0);
        CHECK(st_delete(s, bad[i], err, sizeof err) < 0);
    }
    CHECK(st_put(s, "../x", "x", 1, err, sizeof err) < 0);
    CHECK(strstr(err, "'..'") && strstr(err, "../x"));
    char longkey[1100];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    CHECK(st_put(s, longkey, "x", 1, err, sizeof err) < 0);
    CHECK(strstr(err, "1024"));
    /* odd but fine */
    CHECK(st_put(s, "a b/c%20d/é..x", "x", 1, err, sizeof err) == 0);
    lst l = {0};
    CHECK(st_list(s, "../", lst_cb, &l, err, sizeof err) < 0);
    CHECK(st_list(s, "/", lst_cb, &l, err, sizeof err) < 0);
    CHECK(st_list(s, "a b/", lst_cb, &l, err, sizeof err) == 0);
    CHECK_EQ_INT(l.n, 1);
    CHECK_EQ_STR(l.keys[0], "a b/c%20d/é..x");
    st_destroy(s);
    free(root);
}

TEST(store_uri_encode)
{
    ut_buf b = {0};
    const char *in = "t/dt=2024-05-01/a b+c~d_e.f%g/é";
    st__uri_encode(&b, in, strlen(in), 1);
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR((char *)b.p, "t/dt%3D2024-05-01/a%20b%2Bc~d_e.f%25g/%C3%A9");
    ut_buf_reset(&b);
    st__uri_encode(&b, "a/b", 3, 0);
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR((char *)b.p, "a%2Fb");
    ut_buf_free(&b);
    char hex[65];
    st__sha256_hex("", 0, hex);
    CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(store_creds_file)
{
    const char *txt = "# comment\n"
                      "[default]\n"
                      "aws_access_key_id = AKDEF\n"
                      "aws_secret_access_key=SECRETDEF  \n"
                      "region = eu-west-1\n"
                      "\n"
                      "[profile other]\n"
                      "; another comment\n"
                      "  AWS_ACCESS_KEY_ID = AKOTHER\n"
                      "aws_secret_access_key = SECRETOTHER\n"
                      "aws_session_token = TOKEN+/=\n"
                      "[half]\n"
                      "aws_access_key_id = AKHALF\n";
    st_creds c = {0};
    char err[256];
    CHECK(st__creds_parse(txt, strlen(txt), "default", &c, err, sizeof err) == 1);
    CHECK_EQ_STR(c.access_key, "AKDEF");
    CHECK_EQ_STR(c.secret_key, "SECRETDEF");
    CHECK(c.token == NULL);
    st__creds_free(&c);
    CHECK(st__creds_parse(txt, strlen(txt), "other", &c, err, sizeof err) == 1);
    CHECK_EQ_STR(c.access_key, "AKOTHER");
    CHECK_EQ_STR(c.token, "TOKEN+/=");
    st__creds_free(&c);
    CHECK(st__creds_parse(txt, strlen(txt), "missing", &c, err, sizeof err) == 0);
    CHECK(st__creds_parse(txt, strlen(txt), "half", &c, err, sizeof err) < 0);
    CHECK(strstr(err, "[half]") && strstr(err, "aws_secret_access_key"));
    CHECK(!strstr(err, "AKHALF"));
    const char *broken = "[default\naws_access_key_id = A\n";
    CHECK(st__creds_parse(broken, strlen(broken), "default", &c, err, sizeof err) < 0);
    CHECK(strstr(err, "line 1"));
    const char *noeq = "[default]\njunk line\n";
    CHECK(st__creds_parse(noeq, strlen(noeq), "default", &c, err, sizeof err) < 0);
    CHECK(strstr(err, "line 2"));
}

/* A value goes into HTTP headers: a control character (CR, NUL, ...) inside
 * it is refused, naming the line and the key but not the value (fuzz_creds
 * found NUL and \x01 passing through). */
TEST(store_creds_control_characters)
{
    static const char txt[] = "[default]\naws_access_key_id = AK\n"
                              "aws_secret_access_key = SEC\rRET\n"
                              "[nul]\naws_access_key_id = A\0K\naws_secret_access_key = S\n"
                              "[tab]\naws_access_key_id = AK\naws_secret_access_key = S\n"
                              "aws_session_token = T\tOK\n";
    st_creds c = {0};
    char err[256];
    CHECK(st__creds_parse(txt, sizeof txt - 1, "default", &c, err, sizeof err) < 0);
    CHECK(strstr(err, "line 3") && strstr(err, "aws_secret_access_key"));
    CHECK(!strstr(err, "SEC"));
    CHECK(c.access_key == NULL && c.secret_key == NULL);
    CHECK(st__creds_parse(txt, sizeof txt - 1, "nul", &c, err, sizeof err) < 0);
    CHECK(strstr(err, "line 5"));
    CHECK(st__creds_parse(txt, sizeof txt - 1, "tab", &c, err, sizeof err) < 0);
    CHECK(strstr(err, "aws_session_token"));
}

TEST(store_creds_order)
{
    char err[512], path[4096];
    snprintf(path, sizeof path, "%s/aws-credentials", t_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs("[default]\naws_access_key_id = FILEAK\naws_secret_access_key = FILESK\n"
          "[p2]\naws_access_key_id = P2AK\naws_secret_access_key = P2SK\n", f);
    fclose(f);
    char *old_ak = getenv("AWS_ACCESS_KEY_ID") ? strdup(getenv("AWS_ACCESS_KEY_ID")) : NULL;
    char *old_sk = getenv("AWS_SECRET_ACCESS_KEY") ? strdup(getenv("AWS_SECRET_ACCESS_KEY")) : NULL;
    char *old_tok = getenv("AWS_SESSION_TOKEN") ? strdup(getenv("AWS_SESSION_TOKEN")) : NULL;
    char *old_prof = getenv("AWS_PROFILE") ? strdup(getenv("AWS_PROFILE")) : NULL;
    unsetenv("AWS_PROFILE");
    st_creds c = {0};
    int ok = 1;

    /* options win */
    setenv("AWS_ACCESS_KEY_ID", "ENVAK", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSK", 1);
    setenv("AWS_SESSION_TOKEN", "ENVTOK", 1);
    st_s3_opts o = {.access_key = "OPTAK", .secret_key = "OPTSK", .credentials_file = path};
    ok &= st__creds_resolve(&o, &c, err, sizeof err) == 0 && !strcmp(c.access_key, "OPTAK") &&
          c.token == NULL && !strcmp(c.source, "options");
    st__creds_free(&c);
    /* then the environment */
    o.access_key = o.secret_key = NULL;
    ok &= st__creds_resolve(&o, &c, err, sizeof err) == 0 && !strcmp(c.access_key, "ENVAK") &&
          c.token && !strcmp(c.token, "ENVTOK");
    st__creds_free(&c);
    /* half an environment is an error */
    unsetenv("AWS_SECRET_ACCESS_KEY");
    ok &= st__creds_resolve(&o, &c, err, sizeof err) < 0 && strstr(err, "AWS_SECRET_ACCESS_KEY");
    /* then the file, default or named profile */
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SESSION_TOKEN");
    ok &= st__creds_resolve(&o, &c, err, sizeof err) == 0 && !strcmp(c.access_key, "FILEAK") &&
          strstr(c.source, "[default]");
    st__creds_free(&c);
    o.profile = "p2";
    ok &= st__creds_resolve(&o, &c, err, sizeof err) == 0 && !strcmp(c.secret_key, "P2SK");
    st__creds_free(&c);
    o.profile = "nope";
    ok &= st__creds_resolve(&o, &c, err, sizeof err) < 0 && strstr(err, "no S3 credentials") &&
          strstr(err, "[nope]");
    /* an explicit file that does not exist */
    o.profile = NULL;
    o.credentials_file = "/nonexistent/creds";
    ok &= st__creds_resolve(&o, &c, err, sizeof err) < 0 && strstr(err, "/nonexistent/creds");
    /* secrets never in messages */
    ok &= !strstr(err, "SK");
    /* only one of the option keys */
    o.access_key = "A";
    ok &= st__creds_resolve(&o, &c, err, sizeof err) < 0 && strstr(err, "both");

    if (old_ak) setenv("AWS_ACCESS_KEY_ID", old_ak, 1);
    if (old_sk) setenv("AWS_SECRET_ACCESS_KEY", old_sk, 1);
    if (old_tok) setenv("AWS_SESSION_TOKEN", old_tok, 1);
    if (old_prof) setenv("AWS_PROFILE", old_prof, 1);
    free(old_ak);
    free(old_sk);
    free(old_tok);
    free(old_prof);
    CHECK_MSG(ok, "resolution order wrong (last message: %s)", err);
}

TEST(store_s3_create_checks)
{
    char err[512];
    st_s3_opts o = {.endpoint = "http://127.0.0.1:1", .bucket = "b", .access_key = "A",
                    .secret_key = "S"};
    st_store *s = st_s3_create(&o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(st_is_s3(s));
    char uri[256];
    CHECK_EQ_STR(st_uri(s, "t/x.parquet", uri, sizeof uri), "s3://b/t/x.parquet");
    /* bad keys are refused before any request */
    ut_buf b = {0};
    CHECK(st_get(s, "../x", 0, 0, &b, err, sizeof err) < 0);
    CHECK(strstr(err, "'..'"));
    st_destroy(s);
    o.prefix = "lake/";
    s = st_s3_create(&o, err, sizeof err);
    CHECK(s);
    CHECK_EQ_STR(st_uri(s, "t/x", uri, sizeof uri), "s3://b/lake/t/x");
    st_destroy(s);
    o.endpoint = "ftp://x";
    CHECK(!st_s3_create(&o, err, sizeof err));
    CHECK(strstr(err, "http"));
    o.endpoint = "http://127.0.0.1:1";
    o.bucket = "bad/bucket";
    CHECK(!st_s3_create(&o, err, sizeof err));
    CHECK(strstr(err, "bucket"));
    o.bucket = "b";
    o.prefix = "../up/";
    CHECK(!st_s3_create(&o, err, sizeof err));
}

TEST(store_s3_unreachable_is_an_error)
{
    /* port 1 on 127.0.0.1: connection refused, retried, then a clear error */
    char err[512];
    st_s3_opts o = {.endpoint = "http://127.0.0.1:1", .bucket = "b", .access_key = "A",
                    .secret_key = "SECRETVALUE", .max_retries = 1, .timeout_s = 2};
    st_store *s = st_s3_create(&o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(st_check(s, err, sizeof err) < 0);
    CHECK_MSG(strstr(err, "s3://b") && strstr(err, "2 attempts"), "%s", err);
    CHECK(!strstr(err, "SECRETVALUE"));
    st_destroy(s);
}

static const char list_page[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>bucket</Name><Prefix>lake/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>"
    "<IsTruncated>true</IsTruncated>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
    "<Contents><Key>lake/a&amp;b.parquet</Key><LastModified>2024-05-01T03:04:05.000Z</LastModified>"
    "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>434234</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents>\n  <Key>lake/&#xE9;t&#233;/x</Key>\n  <Size>0</Size>\n"
    "  <LastModified>2024-05-01T03:04:06Z</LastModified>\n  <Owner><ID>x</ID></Owner>\n</Contents>"
    "<Contents><Key><![CDATA[lake/<odd>]]></Key><Size>18446744073709551615</Size>"
    "<LastModified>2024-05-01T03:04:07.5Z</LastModified></Contents>"
    "<!-- a comment --><CommonPrefixes><Prefix>lake/sub/</Prefix></CommonPrefixes>"
    "</ListBucketResult>";

TEST(store_xml_list_page)
{
    st_xml_list l = {0};
    char err[256];
    CHECK_MSG(st__xml_list_page(list_page, strlen(list_page), &l, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(l.n, 3);
    CHECK(l.truncated);
    CHECK_EQ_STR(l.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    CHECK_EQ_STR(l.v[0].key, "lake/a&b.parquet");
    CHECK_EQ_INT(l.v[0].size, 434234);
    CHECK_EQ_INT(l.v[0].mtime_ms, 1714532645000LL);
    CHECK_EQ_STR(l.v[1].key, "lake/\xc3\xa9t\xc3\xa9/x");
    CHECK_EQ_INT(l.v[1].size, 0);
    CHECK_EQ_STR(l.v[2].key, "lake/<odd>");
    CHECK(l.v[2].size == UINT64_MAX);
    CHECK_EQ_INT(l.v[2].mtime_ms, 1714532647500LL);
    st__xml_list_free(&l);

    const char *last = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
    CHECK(st__xml_list_page(last, strlen(last), &l, err, sizeof err) == 0);
    CHECK_EQ_INT(l.n, 0);
    CHECK(!l.truncated && !l.next_token);
    st__xml_list_free(&l);

    /* malformed pages are errors, never crashes */
    const char *bad[] = {
        "",
        "<ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key></Contents></ListBucketResult>", /* no Size */
        "<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size>1x</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&bogus;</Key><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&#0;</Key><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", /* no token */
        "<ListBucketResult></Other>",
        "<Error><Code>AccessDenied</Code></Error>",
        "<a></a><b></b>",
        "text<ListBucketResult></ListBucketResult>",
        /* over 2^64: strtoull saturates, it must not read as 18446744073709551615 */
        ("<ListBucketResult><Contents><Key>a</Key><Size>99999999999999999999</Size></Contents>"
         "</ListBucketResult>"),
        "<ListBucketResult><Contents><Key>a</Key><Size>1&#0;</Size></Contents></ListBucketResult>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st_xml_list m = {0};
        err[0] = 0;
        CHECK_MSG(st__xml_list_page(bad[i], strlen(bad[i]), &m, err, sizeof err) < 0,
                  "accepted bad page %zu", i);
        CHECK(err[0]);
        st__xml_list_free(&m);
    }
    /* a key longer than 1024 bytes */
    ut_buf b = {0};
    ut_buf_puts(&b, "<ListBucketResult><Contents><Key>");
    for (int i = 0; i < 1100; i++) ut_buf_putc(&b, 'k');
    ut_buf_puts(&b, "</Key><Size>1</Size></Contents></ListBucketResult>");
    CHECK(st__xml_list_page((char *)b.p, b.len, &l, err, sizeof err) < 0);
    st__xml_list_free(&l);
    /* deep nesting is refused */
    ut_buf_reset(&b);
    for (int i = 0; i < 40; i++) ut_buf_puts(&b, "<ListBucketResult>");
    CHECK(st__xml_list_page((char *)b.p, b.len, &l, err, sizeof err) < 0);
    CHECK(strstr(err, "deeper"));
    st__xml_list_free(&l);
    ut_buf_free(&b);
}

TEST(store_xml_error_doc)
{
    const char *doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<Error><Code>NoSuchKey</Code><Message>The resource you requested does "
                      "not exist &amp; never did</Message><Resource>/b/k</Resource>"
                      "<RequestId>4442587FB7D0A2F9</RequestId></Error>";
    char code[64], msg[256];
    CHECK(st__xml_error(doc, strlen(doc), code, sizeof code, msg, sizeof msg) == 1);
    CHECK_EQ_STR(code, "NoSuchKey");
    CHECK_EQ_STR(msg, "The resource you requested does not exist & never did");
    /* truncated into small buffers */
    char c4[4];
    CHECK(st__xml_error(doc, strlen(doc), c4, sizeof c4, msg, sizeof msg) == 1);
    CHECK_EQ_STR(c4, "NoS");
    /* not an error document */
    CHECK(st__xml_error(list_page, strlen(list_page), code, sizeof code, msg, sizeof msg) == 0);
    CHECK(st__xml_error("garbage", 7, code, sizeof code, msg, sizeof msg) == 0);
    const char *nomsg = "<Error><Code>SlowDown</Code></Error>";
    CHECK(st__xml_error(nomsg, strlen(nomsg), code, sizeof code, msg, sizeof msg) == 1);
    CHECK_EQ_STR(code, "SlowDown");
    CHECK_EQ_STR(msg, "");
    /* InitiateMultipartUploadResult */
    const char *init = "<InitiateMultipartUploadResult xmlns=\"x\"><Bucket>b</Bucket><Key>k</Key>"
                       "<UploadId>VXBsb2FkIElE&#x2B;</UploadId></InitiateMultipartUploadResult>";
    char id[64];
    CHECK(st__xml_text(init, strlen(init), "UploadId", id, sizeof id) == 1);
    CHECK_EQ_STR(id, "VXBsb2FkIElE+");
    CHECK(st__xml_text(init, strlen(init), "Missing", id, sizeof id) == 0);
}

TEST(store_local_move_file)
{
    char root[512], src[600], err[256];
    snprintf(root, sizeof root, "%s/mv-root", t_tmpdir());
    snprintf(src, sizeof src, "%s/mv-src.bin", t_tmpdir());
    st_store *s = st_local_create(root, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    FILE *f = fopen(src, "wb");
    CHECK(f);
    fputs("parquet bytes", f);
    fclose(f);
    CHECK_MSG(st_move_file(s, "t1/dt=2024-05-01/part-1.parquet", src, err, sizeof err) == 0, "%s", err);
    CHECK(access(src, F_OK) != 0); /* consumed */
    ut_buf b = {0};
    CHECK(st_get(s, "t1/dt=2024-05-01/part-1.parquet", 0, 0, &b, err, sizeof err) == 0);
    CHECK(b.len == 13 && !memcmp(b.p, "parquet bytes", 13));
    ut_buf_free(&b);
    CHECK(st_move_file(s, "t1/x.parquet", src, err, sizeof err) == -1); /* source gone */
    CHECK(strstr(err, "mv-src.bin"));
    CHECK(st_move_file(s, "../escape", src, err, sizeof err) == -1);
    /* a committed object is never replaced: the move fails, both stay */
    f = fopen(src, "wb");
    CHECK(f);
    fputs("other", f);
    fclose(f);
    CHECK(st_move_file(s, "t1/dt=2024-05-01/part-1.parquet", src, err, sizeof err) == -1);
    CHECK(strstr(err, "exists") != NULL);
    CHECK(st_get(s, "t1/dt=2024-05-01/part-1.parquet", 0, 0, &b, err, sizeof err) == 0);
    CHECK(b.len == 13 && !memcmp(b.p, "parquet bytes", 13));
    ut_buf_free(&b);
    st_destroy(s);
}

/* st_rename (the lake's trash): moves, creates the target's directories,
 * removes the source's empty ones, answers 0 for a missing source. */
TEST(store_local_rename)
{
    char root[512], err[256];
    snprintf(root, sizeof root, "%s/rn-root", t_tmpdir());
    st_store *s = st_local_create(root, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(st_put(s, "t1/dt=1/part-1.parquet", "abc", 3, err, sizeof err) == 0);
    CHECK(st_put(s, "t1/keep.parquet", "k", 1, err, sizeof err) == 0);
    CHECK_EQ_INT(st_rename(s, "t1/dt=1/part-1.parquet", ".trash/t1/dt=1/part-1.parquet", err,
                           sizeof err), 1);
    CHECK_EQ_INT(st_head(s, "t1/dt=1/part-1.parquet", NULL, NULL, err, sizeof err), 0);
    ut_buf b = {0};
    CHECK(st_get(s, ".trash/t1/dt=1/part-1.parquet", 0, 0, &b, err, sizeof err) == 0);
    CHECK(b.len == 3 && !memcmp(b.p, "abc", 3));
    ut_buf_free(&b);
    char dir[700];
    snprintf(dir, sizeof dir, "%s/t1/dt=1", root);
    CHECK(access(dir, F_OK) != 0); /* left empty: removed */
    snprintf(dir, sizeof dir, "%s/t1", root);
    CHECK(access(dir, F_OK) == 0); /* still holds keep.parquet */
    /* moved already / never there: nothing to do */
    CHECK_EQ_INT(st_rename(s, "t1/dt=1/part-1.parquet", ".trash/t1/dt=1/part-1.parquet", err,
                           sizeof err), 0);
    CHECK_EQ_INT(st_head(s, ".trash/t1/dt=1/part-1.parquet", NULL, NULL, err, sizeof err), 1);
    /* bad keys are refused before any I/O; a key onto itself too */
    CHECK(st_rename(s, "t1/keep.parquet", "../out", err, sizeof err) == -1);
    CHECK(st_rename(s, "t1/../keep", "x", err, sizeof err) == -1);
    CHECK(st_rename(s, "t1/keep.parquet", "t1/keep.parquet", err, sizeof err) == -1);
    CHECK_EQ_INT(st_head(s, "t1/keep.parquet", NULL, NULL, err, sizeof err), 1);
    st_destroy(s);
}

typedef struct ups {
    char keys[8][256], ids[8][512];
    int held[8], n;
} ups;

static int ups_cb(void *ctx, const char *key, const char *id, int64_t ms, int held)
{
    ups *u = ctx;
    (void)ms;
    if (u->n < 8) {
        snprintf(u->keys[u->n], sizeof u->keys[0], "%s", key);
        snprintf(u->ids[u->n], sizeof u->ids[0], "%s", id);
        u->held[u->n] = held;
    }
    u->n++;
    return 0;
}

TEST(store_local_writer)
{
    char err[512], *root = mkroot("writer");
    st_store *s = st_local_create(root, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    /* nothing is visible before the commit: no key, nothing listed, one
     * recognizable temp file beside the target, held by the writer */
    st_writer *w = st_writer_open(s, "raw/j/a/run1-0001.csv.gz", err, sizeof err);
    CHECK_MSG(w, "%s", err);
    char chunk[4096];
    for (size_t i = 0; i < sizeof chunk; i++) chunk[i] = (char)('a' + i % 26);
    for (int i = 0; i < 300; i++)
        CHECK(st_writer_write(w, chunk, sizeof chunk, err, sizeof err) == 0);
    CHECK_EQ_INT(st_writer_bytes(w), 300 * 4096);
    CHECK(st_head(s, "raw/j/a/run1-0001.csv.gz", NULL, NULL, err, sizeof err) == 0);
    lst l = {0};
    CHECK(st_list(s, "raw/", lst_cb, &l, err, sizeof err) == 0);
    CHECK_EQ_INT(l.n, 0);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/raw/j/a", root);
    CHECK_EQ_INT(count_tmp(dir), 1);
    ups u = {0};
    CHECK(st_uploads(s, "raw/j/a/run1-", ups_cb, &u, err, sizeof err) == 0);
    CHECK_EQ_INT(u.n, 1);
    CHECK_EQ_STR(u.keys[0], "raw/j/a/run1-0001.csv.gz");
    CHECK(!strncmp(u.ids[0], "raw/j/a/.tmp-up-", 16));
    CHECK_EQ_INT(u.held[0], 1);
    memset(&u, 0, sizeof u);
    CHECK(st_uploads(s, "raw/j/a/run2-", ups_cb, &u, err, sizeof err) == 0);
    CHECK_EQ_INT(u.n, 0);
    uint64_t size = 0;
    CHECK(st_writer_commit(w, &size, err, sizeof err) == 0);
    CHECK_EQ_INT(size, 300 * 4096);
    CHECK(st_writer_write(w, "x", 1, err, sizeof err) < 0); /* closed */
    st_writer_destroy(w);
    uint64_t got = 0;
    CHECK(st_head(s, "raw/j/a/run1-0001.csv.gz", &got, NULL, err, sizeof err) == 1);
    CHECK_EQ_INT(got, 300 * 4096);
    ut_buf b = {0};
    CHECK(st_get(s, "raw/j/a/run1-0001.csv.gz", 4096 * 7 + 3, 5, &b, err, sizeof err) == 0);
    CHECK(b.len == 5 && !memcmp(b.p, chunk + 3, 5));
    ut_buf_free(&b);
    CHECK_EQ_INT(count_tmp(dir), 0);

    /* abort (and destroy without a commit) leave nothing; an existing object
     * stays as it was */
    w = st_writer_open(s, "raw/j/a/run1-0001.csv.gz", err, sizeof err);
    CHECK(st_writer_write(w, "new", 3, err, sizeof err) == 0);
    CHECK(st_writer_abort(w, err, sizeof err) == 0);
    CHECK(st_writer_commit(w, NULL, err, sizeof err) < 0);
    st_writer_destroy(w);
    w = st_writer_open(s, "raw/j/b/x.gz", err, sizeof err);
    CHECK(st_writer_write(w, "abc", 3, err, sizeof err) == 0);
    st_writer_destroy(w);
    st_writer_destroy(NULL);
    CHECK(st_head(s, "raw/j/a/run1-0001.csv.gz", &got, NULL, err, sizeof err) == 1);
    CHECK_EQ_INT(got, 300 * 4096);
    CHECK(st_head(s, "raw/j/b/x.gz", NULL, NULL, err, sizeof err) == 0);
    CHECK_EQ_INT(count_tmp(root), 0);
    /* an empty object */
    w = st_writer_open(s, "raw/empty", err, sizeof err);
    CHECK(st_writer_commit(w, &size, err, sizeof err) == 0);
    st_writer_destroy(w);
    CHECK(st_head(s, "raw/empty", &got, NULL, err, sizeof err) == 1 && got == 0);
    CHECK(st_writer_open(s, "raw/../x", err, sizeof err) == NULL);
    st_destroy(s);
    free(root);
}

/* A killed writer's temp file: listed as nobody's (held 0) with its target
 * key, removed by st_upload_abort; an id outside the temp files is refused. */
TEST(store_local_writer_orphan)
{
    char err[512], *root = mkroot("orphan");
    st_store *s = st_local_create(root, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    char path[4200];
    snprintf(path, sizeof path, "%s/raw/j/a", root);
    CHECK(ut_mkdir_p(path, err, sizeof err) == 0);
    snprintf(path, sizeof path, "%s/raw/j/a/.tmp-up-999999-3-run7-0001.json.gz", root);
    FILE *f = fopen(path, "w");
    CHECK(f && fputs("partial", f) >= 0 && fclose(f) == 0);
    snprintf(path, sizeof path, "%s/raw/j/a/.tmp-run7.manifest.json-999999-4", root);
    f = fopen(path, "w");
    CHECK(f && fclose(f) == 0);
    CHECK(st_put(s, "raw/j/a/run7-0000.json.gz", "ok", 2, err, sizeof err) == 0);
    ups u = {0};
    CHECK(st_uploads(s, "raw/", ups_cb, &u, err, sizeof err) == 0);
    CHECK_EQ_INT(u.n, 2);
    int up = !strcmp(u.keys[0], "raw/j/a/run7-0001.json.gz") ? 0 : 1;
    CHECK_EQ_STR(u.keys[up], "raw/j/a/run7-0001.json.gz");
    CHECK_EQ_STR(u.ids[up], "raw/j/a/.tmp-up-999999-3-run7-0001.json.gz");
    CHECK_EQ_STR(u.keys[1 - up], "raw/j/a/run7.manifest.json");
    CHECK_EQ_INT(u.held[0], 0);
    CHECK_EQ_INT(u.held[1], 0);
    CHECK(st_upload_abort(s, u.keys[up], u.ids[up], err, sizeof err) == 0);
    CHECK(st_upload_abort(s, u.keys[up], u.ids[up], err, sizeof err) == 0); /* gone: fine */
    CHECK(st_upload_abort(s, "x", "raw/j/a/run7-0000.json.gz", err, sizeof err) < 0);
    CHECK(st_upload_abort(s, "x", "raw/../../etc/.tmp-x", err, sizeof err) < 0);
    CHECK(st_head(s, "raw/j/a/run7-0000.json.gz", NULL, NULL, err, sizeof err) == 1);
    memset(&u, 0, sizeof u);
    CHECK(st_uploads(s, "raw/j/a/run7-", ups_cb, &u, err, sizeof err) == 0);
    CHECK_EQ_INT(u.n, 0);
    st_destroy(s);
    free(root);
}

TEST(store_xml_uploads_page)
{
    const char *page =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Bucket>b</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>"
        "<NextKeyMarker>lake/raw/b&amp;c</NextKeyMarker><NextUploadIdMarker>id2</NextUploadIdMarker>"
        "<MaxUploads>2</MaxUploads><IsTruncated>true</IsTruncated>"
        "<Upload><Key>lake/raw/a</Key><UploadId>id1</UploadId><Initiator><ID>x</ID></Initiator>"
        "<StorageClass>STANDARD</StorageClass><Initiated>2024-05-01T03:04:05.000Z</Initiated></Upload>"
        "<Upload><Key>lake/raw/b&amp;c</Key><UploadId>id2</UploadId>"
        "<Initiated>2024-05-01T03:04:06.500Z</Initiated></Upload>"
        "</ListMultipartUploadsResult>";
    st_xml_uploads u = {0};
    char err[256];
    CHECK_MSG(st__xml_uploads_page(page, strlen(page), &u, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(u.n, 2);
    CHECK(u.truncated);
    CHECK_EQ_STR(u.next_key, "lake/raw/b&c");
    CHECK_EQ_STR(u.next_id, "id2");
    CHECK_EQ_STR(u.v[0].key, "lake/raw/a");
    CHECK_EQ_STR(u.v[0].id, "id1");
    CHECK_EQ_INT(u.v[0].initiated_ms, 1714532645000LL);
    CHECK_EQ_STR(u.v[1].key, "lake/raw/b&c");
    CHECK_EQ_INT(u.v[1].initiated_ms, 1714532646500LL);
    st__xml_uploads_free(&u);
    const char *bad = "<ListMultipartUploadsResult><Upload><Key>k</Key></Upload></ListMultipartUploadsResult>";
    CHECK(st__xml_uploads_page(bad, strlen(bad), &u, err, sizeof err) < 0);
    CHECK(strstr(err, "UploadId"));
    st__xml_uploads_free(&u);
    const char *other = "<ListBucketResult></ListBucketResult>";
    CHECK(st__xml_uploads_page(other, strlen(other), &u, err, sizeof err) < 0);
    st__xml_uploads_free(&u);
}
