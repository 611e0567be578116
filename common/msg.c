/* Messages, exit codes, cleanup on failure, and allocation that cannot fail quietly. */
#include "nn.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *nn_prog = "nn";

#define MAX_HOOKS 16
static struct { void (*fn)(void *); void *arg; } hooks[MAX_HOOKS];
static volatile sig_atomic_t nhooks;

void nn_at_fail(void (*fn)(void *), void *arg)
{
    if (nhooks == MAX_HOOKS) nn_die("internal error: too many cleanup hooks");
    hooks[nhooks].fn = fn;
    hooks[nhooks].arg = arg;
    nhooks++;
}

void nn_cancel_at_fail(void (*fn)(void *), void *arg)
{
    for (int i = nhooks - 1; i >= 0; i--)
        if (hooks[i].fn == fn && hooks[i].arg == arg) {
            for (int j = i; j + 1 < nhooks; j++) hooks[j] = hooks[j + 1];
            nhooks--;
            return;
        }
}

static void run_hooks(void)
{
    while (nhooks > 0) {
        nhooks--;
        hooks[nhooks].fn(hooks[nhooks].arg);
    }
}

/* The hooks only unlink files, which is async-signal-safe. */
static void on_signal(int sig)
{
    run_hooks();
    signal(sig, SIG_DFL);
    raise(sig);
}

void nn_init(const char *argv0)
{
    /* Stages allocate and free image-sized buffers per record; glibc would map and unmap each
     * one (and trim the heap after it), paying page faults every time. Keep them in the heap. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    nn_prog = slash ? slash + 1 : (argv0 ? argv0 : "nn");
    /* A closed pipe is reported as a write error (EPIPE) instead of killing us silently. */
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static void vmsg(const char *fmt, va_list ap)
{
    fflush(stdout);
    fprintf(stderr, "%s: ", nn_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void nn_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
}

static struct { void (*fn)(void *, const char *); void *arg; } die_hooks[MAX_HOOKS];
static int ndie_hooks;

void nn_on_die(void (*fn)(void *arg, const char *message), void *arg)
{
    if (ndie_hooks == MAX_HOOKS) nn_die("internal error: too many hooks");
    die_hooks[ndie_hooks].fn = fn;
    die_hooks[ndie_hooks].arg = arg;
    ndie_hooks++;
}

void nn_cancel_on_die(void (*fn)(void *arg, const char *message), void *arg)
{
    for (int i = ndie_hooks - 1; i >= 0; i--)
        if (die_hooks[i].fn == fn && die_hooks[i].arg == arg) {
            for (int j = i; j + 1 < ndie_hooks; j++) die_hooks[j] = die_hooks[j + 1];
            ndie_hooks--;
            return;
        }
}

void nn_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    if (ndie_hooks) {
        char msg[1024];
        int n = snprintf(msg, sizeof msg, "%s: ", nn_prog);
        va_start(ap, fmt);
        vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
        va_end(ap);
        while (ndie_hooks > 0) {     /* taken off first: a hook that dies does not loop */
            ndie_hooks--;
            die_hooks[ndie_hooks].fn(die_hooks[ndie_hooks].arg, msg);
        }
    }
    run_hooks();
    nn_exit_now(NN_EXIT_FAIL);
}

/* Exits after an error: what was written is flushed, but the heap is left as it is, so the
 * leak checker's exit handler does not report the buffers of a run that was cut short. */
void nn_exit_now(int status)
{
    fflush(NULL);
    _exit(status);
}

void *nn_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) nn_die("out of memory (%zu bytes)", n);
    return p;
}

void *nn_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) nn_die("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

void *nn_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) nn_die("out of memory (%zu bytes)", n);
    return q;
}

char *nn_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(nn_xmalloc(n), s, n);
}

void nn_close_stdout(void)
{
    int failed = ferror(stdout);
    if (fclose(stdout) != 0) failed = 1;
    if (failed) nn_die("stdout: write error: %s", strerror(errno ? errno : EIO));
}
