/* wh: golden SQL of every mode, the type mapping, COPY text escaping,
 * Redshift manifests (JSON shape, full urls, meta present) and COPY. */
#include "wh/wh.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>

static wh_col cols3[3];

static wh_plan plan3(wh_mode m)
{
    memset(cols3, 0, sizeof cols3);
    cols3[0].name = "dt", cols3[0].lake.type = CT_DATE;
    cols3[1].name = "Country", cols3[1].lake.type = CT_STRING;
    cols3[2].name = "amount", cols3[2].lake.type = CT_DECIMAL;
    cols3[2].lake.precision = 12, cols3[2].lake.scale = 2;
    static const char *key[] = {"dt", "Country"};
    wh_plan p = {.dialect = WH_POSTGRES, .mode = m, .table = "rep.sales", .cols = cols3,
                 .ncols = 3, .window_column = "dt", .lo = "2024-05-01", .hi = "2024-05-02",
                 .key = key, .nkey = 2};
    return p;
}

TEST(wh_types)
{
    char t[64];
    ct_column c = {.type = CT_INT64};
    CHECK_EQ_STR(wh_type(WH_POSTGRES, &c, t, sizeof t), "bigint");
    c.type = CT_TIMESTAMP;
    CHECK_EQ_STR(wh_type(WH_POSTGRES, &c, t, sizeof t), "timestamptz");
    c.type = CT_TIMESTAMP_NTZ;
    CHECK_EQ_STR(wh_type(WH_POSTGRES, &c, t, sizeof t), "timestamp");
    c.type = CT_DECIMAL, c.precision = 38, c.scale = 9;
    CHECK_EQ_STR(wh_type(WH_POSTGRES, &c, t, sizeof t), "numeric(38,9)");
    c.type = CT_BYTES;
    CHECK_EQ_STR(wh_type(WH_POSTGRES, &c, t, sizeof t), "bytea");
    CHECK_EQ_STR(wh_type(WH_REDSHIFT, &c, t, sizeof t), "varbyte");
    c.type = CT_DOUBLE;
    CHECK_EQ_STR(wh_type(WH_POSTGRES, &c, t, sizeof t), "double precision");
    c.type = CT_BOOL;
    CHECK_EQ_STR(wh_type(WH_POSTGRES, &c, t, sizeof t), "boolean");
}

TEST(wh_copy_text_escapes)
{
    ut_buf b = {0};
    const char v[] = "a\\b\tc\nd\re\"'";
    wh_copy_text(&b, v, sizeof v - 1);
    CHECK_EQ_STR(ut_buf_cstr(&b), "a\\\\b\\tc\\nd\\re\"'");
    ut_buf_reset(&b);
    wh_copy_bytea(&b, (const uint8_t *)"\x01\xff", 2);
    CHECK_EQ_STR(ut_buf_cstr(&b), "\\\\x01ff");
    ut_buf_free(&b);
}

TEST(wh_idents)
{
    ut_buf b = {0};
    wh_table_ident(&b, "s.t\"x");
    CHECK_EQ_STR(ut_buf_cstr(&b), "\"s\".\"t\"\"x\"");
    ut_buf_reset(&b);
    wh_literal(&b, "it's");
    CHECK_EQ_STR(ut_buf_cstr(&b), "'it''s'");
    ut_buf_free(&b);
    char err[200];
    CHECK(wh_table_check("rep.sales", err, sizeof err) == 0);
    CHECK(wh_table_check("sales", err, sizeof err) == 0);
    CHECK(wh_table_check("a.b.c", err, sizeof err) == -1);
    CHECK(wh_table_check("1x", err, sizeof err) == -1);
    CHECK(wh_table_check("x;drop", err, sizeof err) == -1);
    CHECK(wh_table_check("", err, sizeof err) == -1);
}

TEST(wh_sql_replace_window)
{
    wh_plan p = plan3(WH_REPLACE_WINDOW);
    ut_buf b = {0};
    wh_sql_create(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "CREATE TABLE IF NOT EXISTS \"rep\".\"sales\" (\"dt\" date, "
                                  "\"Country\" text, \"amount\" numeric(12,2))");
    ut_buf_reset(&b);
    wh_sql_add_column(&b, &p, &cols3[1]);
    CHECK_EQ_STR(ut_buf_cstr(&b),
                 "ALTER TABLE \"rep\".\"sales\" ADD COLUMN IF NOT EXISTS \"Country\" text");
    ut_buf_reset(&b);
    wh_sql_delete_window(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "DELETE FROM \"rep\".\"sales\" WHERE \"dt\" >= '2024-05-01' "
                                  "AND \"dt\" < '2024-05-02'");
    ut_buf_reset(&b);
    wh_sql_before_copy(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "");
    wh_sql_copy(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b),
                 "COPY \"rep\".\"sales\" (\"dt\", \"Country\", \"amount\") FROM STDIN");
    ut_buf_reset(&b);
    wh_sql_after_copy(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "");
    ut_buf_free(&b);
}

TEST(wh_sql_upsert)
{
    wh_plan p = plan3(WH_UPSERT);
    ut_buf b = {0};
    wh_sql_create(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "CREATE TABLE IF NOT EXISTS \"rep\".\"sales\" (\"dt\" date, "
                                  "\"Country\" text, \"amount\" numeric(12,2), PRIMARY KEY "
                                  "(\"dt\", \"Country\"))");
    ut_buf_reset(&b);
    wh_sql_before_copy(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "CREATE TEMP TABLE sluice_stage (LIKE \"rep\".\"sales\" "
                                  "INCLUDING DEFAULTS) ON COMMIT DROP");
    ut_buf_reset(&b);
    wh_sql_copy(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b),
                 "COPY \"sluice_stage\" (\"dt\", \"Country\", \"amount\") FROM STDIN");
    ut_buf_reset(&b);
    wh_sql_after_copy(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b),
                 "INSERT INTO \"rep\".\"sales\" (\"dt\", \"Country\", \"amount\") SELECT DISTINCT "
                 "ON (\"dt\", \"Country\") \"dt\", \"Country\", \"amount\" FROM sluice_stage ON "
                 "CONFLICT (\"dt\", \"Country\") DO UPDATE SET \"amount\" = EXCLUDED.\"amount\"");
    ut_buf_free(&b);
}

TEST(wh_sql_replace_table)
{
    wh_plan p = plan3(WH_REPLACE_TABLE);
    ut_buf b = {0};
    wh_sql_before_copy(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "DROP TABLE IF EXISTS \"rep\".\"sales__sluice_new\"; CREATE "
                                  "TABLE \"rep\".\"sales__sluice_new\" (LIKE \"rep\".\"sales\" "
                                  "INCLUDING ALL)");
    ut_buf_reset(&b);
    wh_sql_after_copy(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "ALTER TABLE \"rep\".\"sales\" RENAME TO \"sales__sluice_old\"; "
                                  "ALTER TABLE \"rep\".\"sales__sluice_new\" RENAME TO "
                                  "\"sales\"; DROP TABLE \"rep\".\"sales__sluice_old\"");
    ut_buf_free(&b);
}

TEST(wh_redshift_manifest_and_copy)
{
    wh_file f[2] = {{"s3://lake/t2_sales/dt=2024-05-01/part-1.parquet", 1234},
                    {"s3://lake/t2_sales/dt=2024-05-01/part-\"2\".parquet", 99}};
    ut_buf b = {0};
    char err[300];
    CHECK(wh_manifest(&b, f, 2, err, sizeof err) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&b),
                 "{\"entries\":[\n"
                 "  {\"url\":\"s3://lake/t2_sales/dt=2024-05-01/part-1.parquet\",\"mandatory\":true,"
                 "\"meta\":{\"content_length\":1234}},\n"
                 "  {\"url\":\"s3://lake/t2_sales/dt=2024-05-01/part-\\\"2\\\".parquet\","
                 "\"mandatory\":true,\"meta\":{\"content_length\":99}}\n]}\n");
    ut_buf_reset(&b);
    CHECK(wh_manifest(&b, f, 0, err, sizeof err) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&b), "{\"entries\":[]}\n");
    wh_file bad[3] = {{"/local/path.parquet", 1}, {"s3://bucket", 1}, {"s3:///key", 1}};
    for (int i = 0; i < 3; i++) {
        ut_buf_reset(&b);
        CHECK(wh_manifest(&b, &bad[i], 1, err, sizeof err) == -1);
        CHECK(strstr(err, "not a full s3://") != NULL);
    }
    wh_plan p = plan3(WH_REPLACE_WINDOW);
    p.dialect = WH_REDSHIFT;
    ut_buf_reset(&b);
    wh_sql_redshift(&b, &p, "s3://lake/t2_sales/_manifests/run7.json",
                    "arn:aws:iam::123456789012:role/load");
    CHECK_EQ_STR(ut_buf_cstr(&b),
                 "BEGIN;\nDELETE FROM \"rep\".\"sales\" WHERE \"dt\" >= '2024-05-01' AND \"dt\" < "
                 "'2024-05-02';\nCOPY \"rep\".\"sales\" FROM "
                 "'s3://lake/t2_sales/_manifests/run7.json' IAM_ROLE "
                 "'arn:aws:iam::123456789012:role/load' FORMAT AS PARQUET MANIFEST;\nCOMMIT;\n");
    ut_buf_free(&b);
}

/* Redshift CREATE TABLE with diststyle / distkey / sortkey (Redshift's CREATE
 * TABLE grammar: table attributes after the column list, DISTSTYLE, then
 * DISTKEY (column), then [COMPOUND] SORTKEY (columns)). */
TEST(wh_redshift_create_distkey_sortkey)
{
    wh_plan p = plan3(WH_APPEND);
    p.dialect = WH_REDSHIFT;
    ut_buf b = {0};
    wh_sql_create(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "CREATE TABLE IF NOT EXISTS \"rep\".\"sales\" (\"dt\" date, "
                                  "\"Country\" varchar(65535), \"amount\" numeric(12,2))");
    static const char *sk[] = {"dt", "Country"};
    p.distkey = "Country", p.sortkey = sk, p.nsortkey = 2;
    ut_buf_reset(&b);
    wh_sql_create(&b, &p); /* a distkey without diststyle: DISTSTYLE KEY */
    CHECK_EQ_STR(ut_buf_cstr(&b), "CREATE TABLE IF NOT EXISTS \"rep\".\"sales\" (\"dt\" date, "
                                  "\"Country\" varchar(65535), \"amount\" numeric(12,2)) "
                                  "DISTSTYLE KEY DISTKEY (\"Country\") SORTKEY (\"dt\", "
                                  "\"Country\")");
    p.distkey = NULL, p.nsortkey = 1, p.diststyle = WH_DIST_ALL;
    ut_buf_reset(&b);
    wh_sql_create(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "CREATE TABLE IF NOT EXISTS \"rep\".\"sales\" (\"dt\" date, "
                                  "\"Country\" varchar(65535), \"amount\" numeric(12,2)) "
                                  "DISTSTYLE ALL SORTKEY (\"dt\")");
    p.nsortkey = 0, p.diststyle = WH_DIST_EVEN;
    ut_buf_reset(&b);
    wh_sql_create(&b, &p);
    CHECK(strstr(ut_buf_cstr(&b), ") DISTSTYLE EVEN") != NULL);
    p.dialect = WH_POSTGRES, p.diststyle = WH_DIST_KEY, p.distkey = "dt"; /* Redshift's only */
    ut_buf_reset(&b);
    wh_sql_create(&b, &p);
    CHECK(strstr(ut_buf_cstr(&b), "DIST") == NULL);
    ut_buf_free(&b);
}

/* MySQL (kind export): types, staging, rename swap, INSERT ... ON DUPLICATE
 * KEY UPDATE, literals. */
TEST(wh_mysql_sql)
{
    char t[64], into[160];
    ct_column c = {.type = CT_TIMESTAMP};
    CHECK_EQ_STR(wh_type(WH_MYSQL, &c, t, sizeof t), "datetime(6)");
    c.type = CT_STRING;
    CHECK_EQ_STR(wh_type(WH_MYSQL, &c, t, sizeof t), "longtext");
    c.type = CT_BYTES;
    CHECK_EQ_STR(wh_type(WH_MYSQL, &c, t, sizeof t), "longblob");
    c.type = CT_DOUBLE;
    CHECK_EQ_STR(wh_type(WH_MYSQL, &c, t, sizeof t), "double");
    wh_plan p = plan3(WH_UPSERT);
    p.dialect = WH_MYSQL;
    ut_buf b = {0};
    wh_sql_create(&b, &p); /* a string key column gets a length */
    CHECK_EQ_STR(ut_buf_cstr(&b), "CREATE TABLE IF NOT EXISTS \"rep\".\"sales\" (\"dt\" date, "
                                  "\"Country\" varchar(255), \"amount\" decimal(12,2), PRIMARY "
                                  "KEY (\"dt\", \"Country\"))");
    ut_buf_reset(&b);
    wh_sql_add_column(&b, &p, &cols3[2]);
    CHECK_EQ_STR(ut_buf_cstr(&b), "ALTER TABLE \"rep\".\"sales\" ADD COLUMN \"amount\" "
                                  "decimal(12,2)");
    CHECK_EQ_STR(wh_copy_into(&p, into, sizeof into), "rep.sales");
    ut_buf_reset(&b);
    wh_sql_before_copy(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "START TRANSACTION");
    ut_buf_reset(&b);
    wh_sql_copy(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "");
    ut_buf_reset(&b);
    wh_my_insert(&b, &p);
    ut_buf_puts(&b, "(");
    wh_my_literal(&b, "it's\0x", 6);
    ut_buf_puts(&b, ",");
    wh_my_hex(&b, (const uint8_t *)"\x01\xff", 2);
    ut_buf_puts(&b, ")");
    wh_my_insert_end(&b, &p);
    static const char want[] = "INSERT INTO \"rep\".\"sales\" (\"dt\", \"Country\", "
                               "\"amount\") VALUES ('it''s\0x',X'01ff') ON DUPLICATE KEY UPDATE "
                               "\"amount\" = VALUES(\"amount\")";
    CHECK_EQ_INT((long long)b.len, (long long)sizeof want - 1);
    CHECK(memcmp(b.p, want, sizeof want - 1) == 0);
    ut_buf_reset(&b);
    wh_sql_after_copy(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "");
    p.mode = WH_REPLACE_TABLE;
    CHECK_EQ_STR(wh_copy_into(&p, into, sizeof into), "rep.sales__sluice_new");
    ut_buf_reset(&b);
    wh_sql_before_copy(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "DROP TABLE IF EXISTS \"rep\".\"sales__sluice_new\"; CREATE "
                                  "TABLE \"rep\".\"sales__sluice_new\" LIKE \"rep\".\"sales\"; "
                                  "START TRANSACTION");
    ut_buf_reset(&b);
    wh_sql_after_copy(&b, &p); /* one RENAME TABLE: atomic */
    CHECK_EQ_STR(ut_buf_cstr(&b), "COMMIT; DROP TABLE IF EXISTS \"rep\".\"sales__sluice_old\"; "
                                  "RENAME TABLE \"rep\".\"sales\" TO \"rep\".\"sales__sluice_old\", "
                                  "\"rep\".\"sales__sluice_new\" TO \"rep\".\"sales\"; DROP TABLE "
                                  "\"rep\".\"sales__sluice_old\"");
    ut_buf_reset(&b);
    wh_my_insert_end(&b, &p);
    CHECK_EQ_STR(ut_buf_cstr(&b), "");
    CHECK_EQ_INT(wh_class_of("int"), WH_INTEGER);
    CHECK_EQ_INT(wh_class_of("decimal"), WH_NUMBER);
    CHECK_EQ_INT(wh_class_of("datetime"), WH_TIMESTAMP);
    ut_buf_free(&b);
}

TEST(wh_fits_by_class)
{
    char why[200];
    CHECK_EQ_INT(wh_class_of("bigint"), WH_INTEGER);
    CHECK_EQ_INT(wh_class_of("double precision"), WH_NUMBER);
    CHECK_EQ_INT(wh_class_of("timestamp with time zone"), WH_TIMESTAMP);
    CHECK_EQ_INT(wh_class_of("text"), WH_ANY);
    CHECK_EQ_INT(wh_class_of("jsonb"), WH_ANY);
    static const struct { wh_class c; const char *v; int ok; } cases[] = {
        {WH_INTEGER, "12", 1}, {WH_INTEGER, "-9223372036854775808", 1},
        {WH_INTEGER, "9223372036854775808", 0}, {WH_INTEGER, "1.5", 0}, {WH_INTEGER, "", 0},
        {WH_INTEGER, "x", 0}, {WH_NUMBER, "1.5e-3", 1}, {WH_NUMBER, "-Infinity", 1},
        {WH_NUMBER, ".5", 1}, {WH_NUMBER, "5.", 1}, {WH_NUMBER, "1e", 0}, {WH_NUMBER, "abc", 0},
        {WH_BOOLEAN, "TRUE", 1}, {WH_BOOLEAN, "maybe", 0}, {WH_DATE, "2024-05-01", 1},
        {WH_DATE, "2024-13-01", 0}, {WH_DATE, "2024-05-01T00:00:00Z", 0},
        {WH_TIMESTAMP, "2024-05-01T12:00:00.000000Z", 1}, {WH_TIMESTAMP, "2024-05-01 12:00", 1},
        {WH_TIMESTAMP, "2024-05-01", 1}, {WH_TIMESTAMP, "yesterday", 0}, {WH_ANY, "anything", 1}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK_MSG(wh_fits(cases[i].c, cases[i].v, strlen(cases[i].v), why, sizeof why) ==
                      cases[i].ok,
                  "case %zu '%s': %s", i, cases[i].v, why);
    CHECK(wh_fits(WH_ANY, "a\0b", 3, why, sizeof why) == 0);
    CHECK(strstr(why, "NUL") != NULL);
    CHECK(wh_fits(WH_INTEGER, "x", 1, why, sizeof why) == 0);
    CHECK_EQ_STR(why, "'x' is not an integer");
}
