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
