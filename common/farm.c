/* The worker side of nn-farm (man/man1/nn-farm.1, "PROTOCOL"): a stage started with
 * --worker ENDPOINT connects a DEALER socket to the farm's ROUTER, asks for tasks, and answers
 * each with its result. A task is a whole stream (the farm's input header, a run of records,
 * a trailer) and so is a result: the stage runs its usual code on each. */
#include "nn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct nn_worker {
    void *sock;
    char *endpoint;
    zmq_msg_t task;           /* the current task's stream bytes */
    int have_task;
    uint64_t seq;
    char name[512];
};

/* Sends the frames as one multipart message; 0 or -1 (errno). */
static int send_frames(void *s, int n, const void *const *data, const size_t *len, int flags)
{
    for (int i = 0; i < n; i++)
        while (zmq_send(s, data[i], len[i], flags | (i + 1 < n ? ZMQ_SNDMORE : 0)) < 0)
            if (errno != EINTR) return -1;
    return 0;
}

static void report_failure(void *arg, const char *message)
{
    nn_worker *w = arg;
    if (!w->have_task) return;
    char seq[32];
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)w->seq);
    const void *d[3] = {"FAIL", seq, message};
    size_t l[3] = {4, strlen(seq), strlen(message)};
    send_frames(w->sock, 3, d, l, ZMQ_DONTWAIT);
    nn_zmq_close(w->sock, 1000);   /* gives the report a second to leave */
    w->sock = NULL;
}

nn_worker *nn_worker_connect(const char *endpoint)
{
    char err[700];
    const char *address = endpoint;
    int bind = 0;
    if (nn_is_zmq(endpoint) && nn_zmq_parse(endpoint, &bind, &address, err, sizeof err) != 0)
        nn_die("--worker %s", err);
    if (bind) nn_die("--worker %s: a worker connects to the farm, it does not bind", endpoint);
    if (strncmp(address, "tcp://", 6) != 0 && strncmp(address, "ipc://", 6) != 0)
        nn_die("--worker %s: expected the farm's address, tcp://HOST:PORT or ipc://PATH",
               endpoint);
    void *s = nn_zmq_socket(ZMQ_DEALER, err, sizeof err);
    if (!s) nn_die("--worker %s: %s", endpoint, err);
    int tmo = nn_zmq_timeout_ms();
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    zmq_setsockopt(s, ZMQ_SNDTIMEO, &tmo, sizeof tmo);
    if (nn_zmq_attach(s, endpoint, 0, address, err, sizeof err) != 0) nn_die("--worker %s", err);
    nn_worker *w = nn_xcalloc(1, sizeof *w);
    w->sock = s;
    w->endpoint = nn_xstrdup(endpoint);
    /* Two tasks in hand: the next one is already here when the current one is done. */
    const void *d[2] = {"READY", "2"};
    size_t l[2] = {5, 1};
    if (send_frames(s, 2, d, l, 0) != 0)
        nn_die("%s: cannot reach the farm: %s", endpoint, zmq_strerror(errno));
    nn_on_die(report_failure, w);
    return w;
}

/* The next frame into m; dies on the timeout. */
static void recv_frame(nn_worker *w, zmq_msg_t *m)
{
    while (zmq_msg_recv(m, w->sock, 0) < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN)
            nn_die("%s: nothing heard from the farm for %g s: is nn-farm running there? "
                   "(NN_ZMQ_TIMEOUT)", w->endpoint, nn_zmq_timeout());
        nn_die("%s: receive error: %s", w->endpoint, zmq_strerror(errno));
    }
}

static int more(void *s)
{
    int m = 0;
    size_t n = sizeof m;
    zmq_getsockopt(s, ZMQ_RCVMORE, &m, &n);
    return m;
}

static int is(zmq_msg_t *m, const char *word)
{
    return zmq_msg_size(m) == strlen(word) && memcmp(zmq_msg_data(m), word, strlen(word)) == 0;
}

int nn_worker_next(nn_worker *w, nn_reader **task)
{
    if (w->have_task) zmq_msg_close(&w->task), w->have_task = 0;
    for (;;) {
        zmq_msg_t cmd;
        zmq_msg_init(&cmd);
        recv_frame(w, &cmd);
        int stop = is(&cmd, "STOP"), is_task = is(&cmd, "TASK");
        zmq_msg_close(&cmd);
        if (stop) return 0;
        if (!is_task) {           /* "HB": the farm is there, with nothing for us yet */
            while (more(w->sock)) {
                zmq_msg_t skip;
                zmq_msg_init(&skip);
                recv_frame(w, &skip);
                zmq_msg_close(&skip);
            }
            continue;
        }
        zmq_msg_t f[2];
        for (int i = 0; i < 2; i++) {
            zmq_msg_init(&f[i]);
            if (!more(w->sock)) nn_die("%s: a task from the farm is incomplete", w->endpoint);
            recv_frame(w, &f[i]);
        }
        if (!more(w->sock)) nn_die("%s: a task from the farm is incomplete", w->endpoint);
        zmq_msg_init(&w->task);
        recv_frame(w, &w->task);
        w->have_task = 1;
        char seq[32];
        size_t n = zmq_msg_size(&f[0]) < sizeof seq - 1 ? zmq_msg_size(&f[0]) : sizeof seq - 1;
        memcpy(seq, zmq_msg_data(&f[0]), n);
        seq[n] = 0;
        w->seq = strtoull(seq, NULL, 10);
        n = zmq_msg_size(&f[1]) < sizeof w->name - 1 ? zmq_msg_size(&f[1]) : sizeof w->name - 1;
        memcpy(w->name, zmq_msg_data(&f[1]), n);
        w->name[n] = 0;
        zmq_msg_close(&f[0]);
        zmq_msg_close(&f[1]);
        *task = nn_reader_mem(zmq_msg_data(&w->task), zmq_msg_size(&w->task), w->name);
        return 1;
    }
}

uint64_t nn_worker_task(const nn_worker *w) { return w->seq; }

nn_writer *nn_worker_output(nn_worker *w) { return nn_writer_mem(w->name); }

void nn_worker_done(nn_worker *w, nn_writer *out)
{
    unsigned char *data;
    size_t len;
    if (nn_writer_close_mem(out, &data, &len) != 0) {
        char err[700];
        snprintf(err, sizeof err, "%s", nn_writer_error(out));
        nn_writer_abort(out);
        nn_die("%s", err);
    }
    char seq[32];
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)w->seq);
    const void *d[3] = {"DONE", seq, data};
    size_t l[3] = {4, strlen(seq), len};
    int rc = send_frames(w->sock, 3, d, l, 0);
    free(data);
    if (rc != 0)
        nn_die("%s: the farm took no result for %g s (NN_ZMQ_TIMEOUT)", w->endpoint,
               nn_zmq_timeout());
    if (w->have_task) zmq_msg_close(&w->task), w->have_task = 0;
}

void nn_worker_close(nn_worker *w)
{
    if (!w) return;
    if (w->have_task) zmq_msg_close(&w->task);
    nn_cancel_on_die(report_failure, w);
    nn_zmq_close(w->sock, 1000);
    free(w->endpoint);
    free(w);
}

int nn_worker_argv(int argc, char **argv, char **out)
{
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--worker") == 0) {
            i++;
            continue;
        }
        if (i > 0 && strncmp(argv[i], "--worker=", 9) == 0) continue;
        out[n++] = argv[i];
    }
    out[n] = NULL;
    return n;
}
