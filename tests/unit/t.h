/* Minimal unit-test harness.  A test is a function registered at load time:
 *
 *   TEST(parquet_roundtrip_int64) {
 *       CHECK(x == 3);
 *       CHECK_EQ_INT(a, b);
 *       CHECK_EQ_STR(s, "abc");
 *   }
 *
 * build/san/unit runs them all (or those whose name contains argv[1]) and
 * prints `ok NAME` / `FAIL NAME: file:line: what`, then `N passed, N failed`. */
#ifndef SLUICE_T_H
#define SLUICE_T_H

#include <stdio.h>
#include <string.h>

typedef void (*t_fn)(void);
void t_register(const char *name, t_fn fn);
void t_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
extern int t_failed_now;
/* Directory of the test data, tests/data (env SLUICE_TESTDATA or that default). */
const char *t_testdata(void);
/* A fresh temporary directory for this test (removed at exit). */
const char *t_tmpdir(void);

#define TEST(name)                                                          \
    static void test_##name(void);                                          \
    __attribute__((constructor)) static void reg_##name(void)               \
    {                                                                       \
        t_register(#name, test_##name);                                     \
    }                                                                       \
    static void test_##name(void)

#define CHECK(c)                                                            \
    do {                                                                    \
        if (!(c)) {                                                         \
            t_fail(__FILE__, __LINE__, "%s", #c);                           \
            return;                                                         \
        }                                                                   \
    } while (0)
#define CHECK_MSG(c, ...)                                                   \
    do {                                                                    \
        if (!(c)) {                                                         \
            t_fail(__FILE__, __LINE__, __VA_ARGS__);                        \
            return;                                                         \
        }                                                                   \
    } while (0)
#define CHECK_EQ_INT(a, b)                                                  \
    do {                                                                    \
        long long a_ = (long long)(a), b_ = (long long)(b);                 \
        if (a_ != b_) {                                                     \
            t_fail(__FILE__, __LINE__, "%s == %s (%lld vs %lld)", #a, #b, a_, b_); \
            return;                                                         \
        }                                                                   \
    } while (0)
#define CHECK_EQ_STR(a, b)                                                  \
    do {                                                                    \
        const char *a_ = (a), *b_ = (b);                                    \
        if (!a_ || !b_ || strcmp(a_, b_)) {                                 \
            t_fail(__FILE__, __LINE__, "%s == %s (\"%s\" vs \"%s\")", #a, #b, \
                   a_ ? a_ : "(null)", b_ ? b_ : "(null)");                 \
            return;                                                         \
        }                                                                   \
    } while (0)

#endif
