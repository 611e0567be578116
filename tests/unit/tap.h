/* The unit tests' harness: CHECK records a failure and goes on; run() prints one TAP line a
 * test; main prints the plan and exits 1 when anything failed (tap_done). */
#ifndef NN_TAP_H
#define NN_TAP_H

#include <stdio.h>

static int ntests, nfailed, cur_failed;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            printf("#   %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);            \
            cur_failed = 1;                                                                \
        }                                                                                  \
    } while (0)

static void run(const char *name, void (*fn)(void))
{
    cur_failed = 0;
    fn();
    ntests++;
    nfailed += cur_failed;
    printf("%sok %d - %s\n", cur_failed ? "not " : "", ntests, name);
    fflush(stdout);
}

static int tap_done(void)
{
    printf("1..%d\n", ntests);
    return nfailed ? 1 : 0;
}

#endif
