/* log: level filtering, the sink, one line per call (control characters
 * escaped), the LG_LINE_MAX cap, component names, the stderr format. */
#include "log/log.h"
#include "t.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct cap {
    int n;
    lg_level level;
    char comp[64];
    char msg[LG_LINE_MAX + 16];
} cap;

static void sink(lg_level level, const char *component, const char *msg, void *arg)
{
    cap *c = arg;
    c->n++;
    c->level = level;
    snprintf(c->comp, sizeof c->comp, "%s", component);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
}

static void restore(void)
{
    lg_set_sink(NULL, NULL);
    lg_set_level(LG_INFO);
}

TEST(log_levels_filter)
{
    cap c = {0};
    lg_set_sink(sink, &c);
    lg_set_level(LG_WARN);
    unsigned long long w0 = lg_count(LG_WARN), i0 = lg_count(LG_INFO);
    lg_debug("t", "debug %d", 1);
    lg_info("t", "info %d", 2);
    CHECK_EQ_INT(c.n, 0);
    CHECK(lg_count(LG_INFO) == i0); /* dropped lines are not counted */
    lg_warn("t", "warn %d", 3);
    CHECK_EQ_INT(c.n, 1);
    CHECK_EQ_INT(c.level, LG_WARN);
    CHECK_EQ_STR(c.msg, "warn 3");
    CHECK(lg_count(LG_WARN) == w0 + 1);
    lg_error("t", "error");
    CHECK_EQ_INT(c.n, 2);
    CHECK_EQ_INT(c.level, LG_ERROR);
    lg_set_level(LG_OFF);
    lg_error("t", "nothing");
    CHECK_EQ_INT(c.n, 2);
    lg_set_level(LG_DEBUG);
    CHECK_EQ_INT(lg_get_level(), LG_DEBUG);
    lg_debug("t", "now");
    CHECK_EQ_INT(c.n, 3);
    CHECK_EQ_INT(c.level, LG_DEBUG);
    lg_write((lg_level)42, "t", "bad level");
    lg_write(LG_OFF, "t", "off is not a level to write at");
    CHECK_EQ_INT(c.n, 3);
    restore();
}

TEST(log_level_names)
{
    static const char *names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i <= LG_OFF; i++) {
        lg_level l;
        CHECK(lg_level_parse(names[i], &l) == 0);
        CHECK_EQ_INT(l, i);
        CHECK_EQ_STR(lg_level_name(l), names[i]);
    }
    lg_level l = LG_INFO;
    CHECK(lg_level_parse("verbose", &l) == -1);
    CHECK(lg_level_parse("", &l) == -1);
    CHECK_EQ_INT(l, LG_INFO);
    CHECK_EQ_STR(lg_level_name((lg_level)99), "?");
}

TEST(log_sink_and_components)
{
    cap c = {0};
    lg_set_sink(sink, &c);
    lg_set_level(LG_INFO);
    lg_info("journal", "stream %s: %d bytes", "ev", 12);
    CHECK_EQ_STR(c.comp, "journal");
    CHECK_EQ_STR(c.msg, "stream ev: 12 bytes");
    lg_info(NULL, "no component");
    CHECK_EQ_STR(c.comp, "sluice"); /* every line names one */
    lg_info("", "empty component");
    CHECK_EQ_STR(c.comp, "sluice");
    lg_info("sink", "trailing newlines go\n\n");
    CHECK_EQ_STR(c.msg, "trailing newlines go");
    /* one call, one line: inner newlines and control bytes are escaped */
    lg_warn("server", "bad name 'a\nb\r\x1b[31m' \t end");
    CHECK_EQ_STR(c.msg, "bad name 'a\\nb\\r\\x1b[31m' \\t end");
    CHECK(!strchr(c.msg, '\n'));
    lg_info("t", "%s", "caf\xc3\xa9"); /* UTF-8 passes */
    CHECK_EQ_STR(c.msg, "caf\xc3\xa9");
    restore();
    cap d = {0};
    lg_set_sink(sink, &d);
    lg_set_sink(NULL, NULL); /* back to stderr: the old sink sees nothing */
    lg_error("t", "to stderr (expected in this test's output)");
    CHECK_EQ_INT(d.n, 0);
    restore();
}

TEST(log_truncates_at_line_max)
{
    cap c = {0};
    lg_set_sink(sink, &c);
    char *big = malloc(3 * LG_LINE_MAX);
    memset(big, 'x', 3 * LG_LINE_MAX - 1);
    big[3 * LG_LINE_MAX - 1] = 0;
    lg_info("t", "%s", big);
    size_t n = strlen(c.msg);
    CHECK(n < LG_LINE_MAX);
    CHECK(n > LG_LINE_MAX - 8);
    CHECK(!strcmp(c.msg + n - 3, "\xe2\x80\xa6")); /* ends in … */
    /* a cut never splits a UTF-8 character: é is 2 bytes, try each offset */
    for (int shift = 0; shift < 4; shift++) {
        size_t o = 0;
        for (int i = 0; i < shift; i++) big[o++] = 'a';
        while (o + 2 < 3 * LG_LINE_MAX - 1) big[o++] = '\xc3', big[o++] = '\xa9';
        big[o] = 0;
        lg_info("t", "%s", big);
        n = strlen(c.msg);
        CHECK(n < LG_LINE_MAX);
        CHECK(!strcmp(c.msg + n - 3, "\xe2\x80\xa6"));
        const unsigned char *m = (const unsigned char *)c.msg + shift;
        size_t body = n - 3 - (size_t)shift;
        CHECK_MSG(body % 2 == 0, "shift %d: %zu bytes before the ellipsis", shift, body);
        for (size_t i = 0; i < body; i += 2) CHECK(m[i] == 0xc3 && m[i + 1] == 0xa9);
    }
    /* escapes count against the cap too */
    memset(big, '\n', LG_LINE_MAX);
    big[LG_LINE_MAX] = 'y';
    big[LG_LINE_MAX + 1] = 0;
    lg_info("t", "%s", big);
    n = strlen(c.msg);
    CHECK(n < LG_LINE_MAX);
    CHECK(!strncmp(c.msg, "\\n\\n", 4));
    free(big);
    restore();
}

/* The default sink: "<time> <level> <component>: <message>\n" with one
 * write per line, also for a line at the cap. */
TEST(log_stderr_format)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        lg_set_sink(NULL, NULL);
        lg_set_level(LG_INFO);
        lg_warn("journal", "stream %s: dropped %d bytes", "ev", 7);
        lg_debug("journal", "not written");
        char big[LG_LINE_MAX * 2];
        memset(big, 'z', sizeof big - 1);
        big[sizeof big - 1] = 0;
        lg_error("x", "%s", big);
        _exit(0);
    }
    close(fds[1]);
    char *out = malloc(4 * LG_LINE_MAX);
    size_t got = 0;
    ssize_t r;
    while ((r = read(fds[0], out + got, 4 * LG_LINE_MAX - 1 - got)) > 0) got += (size_t)r;
    out[got] = 0;
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* 2026-12-01T20:15:03.123Z warn  journal: stream ev: dropped 7 bytes */
    char *nl = strchr(out, '\n');
    CHECK(nl);
    *nl = 0;
    CHECK_MSG(strlen(out) == 25 + 41 && out[4] == '-' && out[10] == 'T' && out[23] == 'Z',
              "line: %s", out);
    CHECK_EQ_STR(out + 25, "warn  journal: stream ev: dropped 7 bytes");
    char *second = nl + 1;
    CHECK(!strncmp(second + 25, "error x: zzz", 12));
    char *end = strchr(second, '\n');
    CHECK(end && end[1] == 0); /* the debug line was dropped, the long one ends in \n */
    CHECK((size_t)(end - second) < LG_LINE_MAX + 128);
    CHECK(!strncmp(end - 3, "\xe2\x80\xa6", 3));
    free(out);
}

/* log_level from the config is the default; SLUICE_LOG_LEVEL wins. */
TEST(log_default_level_env_wins)
{
    const char *was = getenv("SLUICE_LOG_LEVEL");
    char *saved = was ? strdup(was) : NULL;
    setenv("SLUICE_LOG_LEVEL", "error", 1);
    lg_set_level(LG_INFO);
    lg_set_default_level(LG_DEBUG);
    CHECK_EQ_INT(lg_get_level(), LG_INFO);
    setenv("SLUICE_LOG_LEVEL", "bogus", 1); /* not a level: the config's applies */
    lg_set_default_level(LG_WARN);
    CHECK_EQ_INT(lg_get_level(), LG_WARN);
    unsetenv("SLUICE_LOG_LEVEL");
    lg_set_default_level(LG_ERROR);
    CHECK_EQ_INT(lg_get_level(), LG_ERROR);
    if (saved) setenv("SLUICE_LOG_LEVEL", saved, 1);
    free(saved);
    restore();
}

/* lg_set_thread_sink: this thread's lines go there too; another thread's do not. */
static void *other_thread(void *arg)
{
    (void)arg;
    lg_info("other", "from another thread");
    return NULL;
}

TEST(log_thread_sink_this_thread_only)
{
    cap main_c = {0}, th = {0};
    lg_set_level(LG_INFO);
    lg_set_sink(sink, &main_c);
    lg_set_thread_sink(sink, &th);
    lg_warn("jobs", "run %d failed", 7);
    lg_debug("jobs", "below the level"); /* not written: not captured either */
    pthread_t t;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, NULL);
    lg_set_thread_sink(NULL, NULL);
    lg_info("jobs", "after the end");
    CHECK_EQ_INT(th.n, 1);
    CHECK_EQ_STR(th.msg, "run 7 failed");
    CHECK_EQ_STR(th.comp, "jobs");
    CHECK_EQ_INT(th.level, LG_WARN);
    CHECK_EQ_INT(main_c.n, 3); /* the main sink has all three written lines */
    restore();
}
