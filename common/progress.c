/* A progress line on stderr: redrawn in place on a terminal, a plain line now and then when
 * forced with --progress onto a file or pipe, silent otherwise. */
#include "nn.h"

#include <time.h>
#include <unistd.h>

int nn_progress_forced;

double nn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void nn_progress_start(nn_progress *p, const char *what, uint64_t total)
{
    p->what = what;
    p->total = total;
    p->start = p->last = nn_now();
    p->tty = isatty(STDERR_FILENO);
    p->note[0] = 0;
    p->active = p->tty || nn_progress_forced;
}

static void draw(nn_progress *p, uint64_t done, double now, int final)
{
    double elapsed = now - p->start;
    fprintf(stderr, "%s%s: %s %llu", p->tty ? "\r" : "", nn_prog, p->what,
            (unsigned long long)done);
    if (p->total) {
        double frac = (double)done / (double)p->total;
        fprintf(stderr, "/%llu (%3.0f%%)", (unsigned long long)p->total, 100.0 * frac);
        if (!final && frac > 0) fprintf(stderr, " ETA %.0fs", elapsed * (1 - frac) / frac);
    }
    fprintf(stderr, " %.1fs%s%s%s", elapsed, p->note[0] ? " " : "", p->note, p->tty ? "\033[K" : "\n");
    if (final && p->tty) fputc('\n', stderr);
}

void nn_progress_update(nn_progress *p, uint64_t done)
{
    if (!p->active) return;
    double now = nn_now();
    if (now - p->last < (p->tty ? 0.2 : 5.0)) return;
    p->last = now;
    draw(p, done, now, 0);
}

void nn_progress_end(nn_progress *p, uint64_t done)
{
    if (!p->active) return;
    draw(p, done, nn_now(), 1);
    p->active = 0;
}
