/* jobs: kind command — run a program for the window.
 *
 *   command: [prog, args...] (each templated; no shell) with the job's env
 *   (templated) and SLUICE_WINDOW_START / SLUICE_WINDOW_END (RFC 3339, UTC),
 *   SLUICE_DS, SLUICE_DS_NODASH, SLUICE_HR, SLUICE_RUN_ID, SLUICE_JOB, SLUICE_ACCOUNT,
 *   SLUICE_ATTEMPT, SLUICE_ITERATIONS (windows of a serial backfill run)
 *   ──► exit 0 = success; stdout (unless it is the output) and stderr go
 *   to the run's log (jb__runlog_put; its last 64 KiB kept), the last 2 KiB
 *   of them into the error of a failed run; past the job's timeout SIGTERM, 5 s later SIGKILL.
 *   A stderr line `SLUICE_PAUSE <seconds>` pauses the job's pool (an API
 *   answered 429 with Retry-After): every worker of it waits.
 *   output: ndjson ──► stdout is kept in a temp file (jb__tmp_create: locked
 *   while this worker lives, collected when it was killed) and landed in
 *   `table` as kind sql would land `SELECT * FROM read_ndjson(<file>)` (the
 *   same replace semantics, in the transaction that finishes the run).
 *
 * When the runtime stops, the program is stopped too and the task is left
 * pending, so that it runs again after the restart. */
#include "jobs/jb_rt.h"
#include "log/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 256
#define MAX_ENV 8192 /* environment entries passed on (ours + the job's) */
#define OUTPUT_MAX ((int64_t)16 << 30) /* bytes of stdout kept for output: ndjson */

extern char **environ;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct child {
    char *argv[MAX_ARGS + 1];
    char **envp;         /* NULL-terminated, malloc'ed */
    int nargs, nenv, cap_env;
    pid_t pid;
    int out_fd, err_fd;  /* our ends of the pipes */
    int sink_fd;         /* output file (-1: stdout joins the log) */
    int64_t out_bytes;
    char tail[2048];     /* last bytes of stderr (and stdout when not output) */
    size_t tail_len;
    char line[256];      /* the stderr line being read (for SLUICE_PAUSE) */
    size_t line_len;
    jb_task_ctx *ctx;
} child;

/* The seconds of a control line "SLUICE_PAUSE <seconds>" (the number, then
 * nothing but blanks), at most the longest pause; 0 when it is not one. */
static double pause_secs(const char *l)
{
    if (strncmp(l, "SLUICE_PAUSE ", 13)) return 0;
    char *end;
    double secs = strtod(l + 13, &end);
    if (end == l + 13) return 0;
    while (*end == ' ' || *end == '\t' || *end == '\r') end++;
    if (*end || !(secs > 0)) return 0; /* NaN, 0, negative, trailing junk */
    /* before any cast: 1e300 or inf in an int64 is undefined */
    return secs < PL_MAX_PAUSE_MS / 1000.0 ? secs : PL_MAX_PAUSE_MS / 1000.0;
}

/* A stderr line "SLUICE_PAUSE <seconds>": the API said 429 + Retry-After;
 * pause the job's pool (every worker of it, in every process). */
static void control_line(child *k, const char *l)
{
    const cf_job *j = k->ctx->job;
    double secs = pause_secs(l);
    if (secs <= 0) return;
    if (!j->pool[0]) {
        lg_warn("jobs", "job %s: SLUICE_PAUSE without a pool: ignored", j->name);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t until = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + (int64_t)(secs * 1000);
    ut_error e = {0};
    if (pl_pause(k->ctx->rt->pools, j->pool, until, &e))
        lg_warn("jobs", "job %s: pause pool %s: %s", j->name, j->pool, e.msg);
    else
        lg_info("jobs", "job %s: pool %s paused for %.3f s", j->name, j->pool, secs);
}

/* The stderr line being read is complete (a newline, or the end of stderr). */
static void end_line(child *k)
{
    k->line[k->line_len < sizeof k->line ? k->line_len : sizeof k->line - 1] = 0;
    if (k->line_len < sizeof k->line) control_line(k, k->line);
    k->line_len = 0;
}

/* Split stderr into lines for control_line (long lines are not controls). */
static void scan_lines(child *k, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') end_line(k);
        else if (k->line_len < sizeof k->line) k->line[k->line_len++] = p[i];
    }
}

static void child_free(child *k)
{
    for (int i = 0; i < k->nargs; i++) free(k->argv[i]);
    for (int i = 0; i < k->nenv; i++) free(k->envp[i]);
    free(k->envp);
    if (k->out_fd >= 0) close(k->out_fd);
    if (k->err_fd >= 0) close(k->err_fd);
}

/* Add "name=value" (value NULL: name is the whole entry); 0, or -1 past
 * MAX_ENV entries. */
static int add_env(child *k, const char *name, const char *value)
{
    if (k->nenv >= MAX_ENV) return -1;
    if (k->nenv + 1 >= k->cap_env) {
        k->cap_env = k->cap_env ? k->cap_env * 2 : 64;
        k->envp = ut_realloc(k->envp, sizeof *k->envp * (size_t)k->cap_env);
    }
    size_t n = strlen(name) + (value ? strlen(value) + 1 : 0) + 1;
    k->envp[k->nenv] = ut_malloc(n);
    if (value) snprintf(k->envp[k->nenv], n, "%s=%s", name, value);
    else memcpy(k->envp[k->nenv], name, n);
    k->envp[++k->nenv] = NULL;
    return 0;
}

/* argv and envp from the job, templated for the run. */
static int build(child *k, jb_task_ctx *c, ut_error *e)
{
    const cf_job *j = c->job;
    jb_vars v = {.cf = c->cf, .job = j, .timing = c->timing, .run_id = c->run->id,
                 .account = c->run->part, .account_args = c->account_args,
                 .ws = c->run->window_start, .we = c->run->window_end,
                 .iterations = c->run->iterations};
    ut_buf b = {0};
    char err[600];
    for (int i = 0; i < j->command.n && i < MAX_ARGS; i++) {
        if (jb__expand(j->command.v[i], &v, &b, c->redact, err, sizeof err))
            return ut_buf_free(&b), ut_fail(e, UT_EINVAL, "job %s: command: %s", j->name, err);
        k->argv[k->nargs++] = ut_strdup(ut_buf_cstr(&b));
    }
    static const char *const vars[][2] = {
        {"SLUICE_WINDOW_START", "{{window_start}}"}, {"SLUICE_WINDOW_END", "{{window_end}}"},
        {"SLUICE_DS", "{{ds}}"}, {"SLUICE_DS_NODASH", "{{ds_nodash}}"}, {"SLUICE_HR", "{{hr}}"},
        {"SLUICE_RUN_ID", "{{run_id}}"}, {"SLUICE_JOB", "{{job}}"},
        {"SLUICE_ITERATIONS", "{{iterations}}"}, {"SLUICE_ACCOUNT", "{{account}}"}};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        jb__expand(vars[i][1], &v, &b, NULL, err, sizeof err);
        add_env(k, vars[i][0], ut_buf_cstr(&b));
    }
    char attempt[16];
    snprintf(attempt, sizeof attempt, "%d", c->run->attempt);
    add_env(k, "SLUICE_ATTEMPT", attempt);
    for (int i = 0; i < j->env.n; i++) {
        if (jb__expand(j->env.v[i], &v, &b, c->redact, err, sizeof err))
            return ut_buf_free(&b), ut_fail(e, UT_EINVAL, "job %s: env %s: %s", j->name, j->env.k[i], err);
        add_env(k, j->env.k[i], ut_buf_cstr(&b));
    }
    for (char **p = environ; *p; p++) /* then the rest of ours */
        if (strncmp(*p, "SLUICE_SECRET_", 14) && add_env(k, *p, NULL)) {
            ut_buf_free(&b);
            return ut_fail(e, UT_ETOOBIG, "job %s: more than %d environment variables", j->name,
                           MAX_ENV);
        }
    ut_buf_free(&b);
    return 0;
}

/* fork + exec with stdout and stderr on pipes.  0 / -1. */
static int spawn(child *k, const cf_job *j, ut_error *e)
{
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC)) return ut_fail(e, UT_EIO, "job %s: pipe: %s", j->name, strerror(errno));
    if (pipe2(pe, O_CLOEXEC)) {
        close(po[0]), close(po[1]);
        return ut_fail(e, UT_EIO, "job %s: pipe: %s", j->name, strerror(errno));
    }
    k->pid = fork();
    if (k->pid == 0) { /* the server blocks SIGTERM/SIGINT for sigwait: not the program */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        if (devnull > 2) close(devnull);
        setpgid(0, 0);
        execvpe(k->argv[0], k->argv, k->envp);
        dprintf(2, "cannot run %s: %s\n", k->argv[0], strerror(errno));
        _exit(127);
    }
    close(po[1]), close(pe[1]);
    k->out_fd = po[0], k->err_fd = pe[0];
    if (k->pid < 0) return ut_fail(e, UT_EIO, "job %s: fork: %s", j->name, strerror(errno));
    return 0;
}

static void keep_tail(child *k, const char *p, size_t n)
{
    if (n >= sizeof k->tail - 1) {
        memcpy(k->tail, p + n - (sizeof k->tail - 1), sizeof k->tail - 1);
        k->tail_len = sizeof k->tail - 1;
    } else {
        if (k->tail_len + n > sizeof k->tail - 1) {
            size_t drop = k->tail_len + n - (sizeof k->tail - 1);
            memmove(k->tail, k->tail + drop, k->tail_len - drop);
            k->tail_len -= drop;
        }
        memcpy(k->tail + k->tail_len, p, n);
        k->tail_len += n;
    }
    k->tail[k->tail_len] = 0;
}

/* Drain fd once: 1 data, 0 EOF, -1 error / output cap. */
static int drain(child *k, int *fd, int is_out, ut_error *e)
{
    char buf[65536];
    ssize_t n = read(*fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
    if (n <= 0) {
        if (!is_out && k->line_len) end_line(k); /* a last line without its newline */
        close(*fd);
        *fd = -1;
        return 0;
    }
    if (is_out && k->sink_fd >= 0) {
        k->out_bytes += n;
        if (k->out_bytes > OUTPUT_MAX) return ut_fail(e, UT_ETOOBIG, "output over %lld bytes",
                                                      (long long)OUTPUT_MAX);
        for (ssize_t o = 0; o < n;) {
            ssize_t w = write(k->sink_fd, buf + o, (size_t)(n - o));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return ut_fail(e, errno == ENOSPC ? UT_ENOSPACE : UT_EIO,
                                      "writing its output: %s", strerror(errno));
            o += w;
        }
        return 1;
    }
    if (!is_out) scan_lines(k, buf, (size_t)n);
    keep_tail(k, buf, (size_t)n);
    jb__runlog_put(k->ctx, buf, (size_t)n);
    return 1;
}

/* Wait for the program, reading its output.  The run ends when the program
 * exits: what it left running in its process group is stopped, and its
 * pipes are read for at most EXIT_GRACE_MS more (a child outside the group
 * holding them cannot keep the run open).  Its exit status, -1 with e, or
 * -2 when the runtime stops (the program was stopped). */
#define EXIT_GRACE_MS 1000

static int wait_child(child *k, jb_task_ctx *c, ut_error *e)
{
    int64_t deadline = mono_ms() + c->job->timeout_ms, killed_at = 0, exited_at = 0;
    int status = 0, failed = 0, stopping = 0, exited = 0;
    while (k->out_fd >= 0 || k->err_fd >= 0) {
        struct pollfd p[2] = {{k->out_fd, POLLIN, 0}, {k->err_fd, POLLIN, 0}};
        poll(p, 2, 100);
        for (int i = 0; i < 2; i++)
            if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
                drain(k, i ? &k->err_fd : &k->out_fd, i == 0, e) < 0)
                failed = 1;
        int64_t now = mono_ms();
        if (!exited && waitpid(k->pid, &status, WNOHANG) == k->pid) {
            exited = 1;
            exited_at = now;
            kill(-k->pid, SIGTERM); /* what it left behind in its group */
        }
        if (exited && now > exited_at + EXIT_GRACE_MS) break;
        pthread_mutex_lock(&c->rt->mu);
        stopping = c->rt->stop;
        pthread_mutex_unlock(&c->rt->mu);
        if (!exited && (failed || stopping || now > deadline) && !killed_at) {
            kill(-k->pid, SIGTERM);
            killed_at = now;
        } else if (!exited && killed_at && now > killed_at + 5000) {
            kill(-k->pid, SIGKILL);
        }
    }
    if (!exited)
        while (waitpid(k->pid, &status, 0) < 0 && errno == EINTR) {
        }
    if (stopping) return -2;
    if (failed) return -1;
    if (killed_at) return ut_fail(e, UT_ETIMEOUT, "timed out after %lld ms",
                                  (long long)c->job->timeout_ms);
    return status;
}

/* The run's output file under <data_dir>/jobs/tmp, locked as long as its fd
 * is open (jb__tmp_collect leaves it alone).  fd or -1. */
static int output_file(jb_task_ctx *c, char *path, size_t n, ut_error *e)
{
    char tag[32];
    snprintf(tag, sizeof tag, "run%lld", (long long)c->run->id);
    return jb__tmp_create(c->rt, tag, ".ndjson", path, n, e);
}

/* Land the output file in the job's table. */
static int land_output(jb_task_ctx *c, const char *path, ut_error *e)
{
    char sql[4500];
    snprintf(sql, sizeof sql, "SELECT * FROM read_ndjson('%s')", path);
    return jb__kind_sql_text(c, sql, 0, e);
}

int jb__kind_command(jb_task_ctx *c, ut_error *e)
{
    child k;
    memset(&k, 0, sizeof k);
    k.out_fd = k.err_fd = k.sink_fd = -1;
    k.ctx = c;
    char out_path[4400] = "";
    int rc = -1;
    if (build(&k, c, e)) goto out;
    if (c->job->output == CF_OUTPUT_NDJSON && (k.sink_fd = output_file(c, out_path, sizeof out_path, e)) < 0)
        goto out;
    if (spawn(&k, c->job, e)) goto out;
    int st = wait_child(&k, c, e);
    if (st == -2) {
        rc = 2;
        goto out;
    }
    jb__redact(c->redact, k.tail, sizeof k.tail);
    /* all of it is in the run's log: the server log has it at debug level */
    if (k.tail_len) lg_debug("jobs", "job %s run %lld: %s", c->job->name, (long long)c->run->id, k.tail);
    if (st == -1) {
        char why[UT_ERRMSG_MAX];
        snprintf(why, sizeof why, "%s", e->msg);
        ut_fail(e, e->kind, "job %s: %s", c->job->name, why);
    } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        const char *t = k.tail;
        while (t[0] && strchr(t, '\n') && strchr(t, '\n')[1]) t = strchr(t, '\n') + 1; /* last line */
        ut_fail(e, UT_EIO, "job %s: %s %s %d%s%s", c->job->name, k.argv[0],
                WIFEXITED(st) ? "exited with status" : "was killed by signal",
                WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), t[0] ? ": " : "", t);
    } else if (k.sink_fd >= 0) { /* (its fd, and so its lock, stays open until it is unlinked) */
        rc = land_output(c, out_path, e);
    } else {
        rc = 0;
    }
out:
    if (out_path[0]) unlink(out_path);
    if (k.sink_fd >= 0) close(k.sink_fd);
    child_free(&k);
    return rc;
}
