/* Work shared among threads: each job runs in a thread of its own, the first in the caller. */
#include "nn.h"

#include <pthread.h>

void nn_run_jobs(void *(*fn)(void *), void *jobs, size_t job_size, int n)
{
    pthread_t th[NN_MAX_THREADS];
    int started[NN_MAX_THREADS] = {0};
    if (n > NN_MAX_THREADS) n = NN_MAX_THREADS;
    char *at = jobs;
    for (int k = 1; k < n; k++) started[k] = pthread_create(&th[k], NULL, fn, at + (size_t)k * job_size) == 0;
    fn(jobs);
    for (int k = 1; k < n; k++) {
        if (started[k]) pthread_join(th[k], NULL);
        else fn(at + (size_t)k * job_size);   /* no thread: its share here */
    }
}

int nn_threads(int asked)
{
    return asked < 1 ? 1 : asked > NN_MAX_THREADS ? NN_MAX_THREADS : asked;
}

void nn_share(size_t n, int t, int nt, size_t *first, size_t *last)
{
    size_t per = (n + (size_t)nt - 1) / (size_t)nt, f = (size_t)t * per;
    *first = f < n ? f : n;
    *last = f + per < n ? f + per : n;
}
