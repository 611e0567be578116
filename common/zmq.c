/* ZeroMQ endpoints (nn-stream(5), "ZeroMQ endpoints"): one context per process, the endpoint
 * syntax, the timeout, and the point-to-point byte pipe under the stream reader and writer.
 *
 * A point-to-point stream travels between two DEALER sockets. Each message from the writer
 * carries a chunk of the stream's bytes, exactly as it would have written them to a file, cut
 * anywhere (at the writer's buffer flushes); an empty message marks the end. The reader
 * answers "BYE" when it closes, and the writer waits for it (at most the timeout) before it
 * closes: over ipc, libzmq 4.3 can drop the last messages queued at a reader whose sender
 * has already gone, so the writer stays until the reader has them. */
#include "nn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static void *ctx;
static _Atomic int nsockets;    /* nn-farm reads its input in a thread of its own */

int nn_is_zmq(const char *spec) { return strncmp(spec, "zmq:", 4) == 0; }

double nn_zmq_timeout(void)
{
    static double t = -1;
    if (t >= 0) return t;
    const char *s = getenv("NN_ZMQ_TIMEOUT");
    if (!s || !*s) return t = NN_ZMQ_TIMEOUT_DEFAULT;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= 0) || v > 1e6)
        nn_die("NN_ZMQ_TIMEOUT: '%s' is not a number of seconds from 0 to 1000000", s);
    return t = v;
}

/* The timeout in milliseconds as ZeroMQ's options take it: -1 is "forever". */
int nn_zmq_timeout_ms(void)
{
    double t = nn_zmq_timeout();
    if (t == 0) return -1;
    return t * 1000 < 1 ? 1 : (int)(t * 1000);
}

int nn_zmq_parse(const char *spec, int *bind, const char **address, char *err, size_t errlen)
{
    const char *a = spec + 4;
    *bind = 0;
    if (strncmp(a, "bind:", 5) == 0) *bind = 1, a += 5;
    else if (strncmp(a, "connect:", 8) == 0) a += 8;
    if (strncmp(a, "tcp://", 6) != 0 && strncmp(a, "ipc://", 6) != 0) {
        snprintf(err, errlen, "%s: not a ZeroMQ endpoint: expected zmq:[bind:]tcp://HOST:PORT "
                              "or zmq:[bind:]ipc://PATH", spec);
        return -1;
    }
    if (!a[6]) {
        snprintf(err, errlen, "%s: the address after %.6s is empty", spec, a);
        return -1;
    }
    *address = a;
    return 0;
}

void *nn_zmq_socket(int type, char *err, size_t errlen)
{
    if (!ctx && !(ctx = zmq_ctx_new())) {
        snprintf(err, errlen, "cannot create a ZeroMQ context: %s", zmq_strerror(errno));
        return NULL;
    }
    void *s = zmq_socket(ctx, type);
    if (!s) {
        snprintf(err, errlen, "cannot create a ZeroMQ socket: %s", zmq_strerror(errno));
        if (!nsockets) zmq_ctx_term(ctx), ctx = NULL;
        return NULL;
    }
    nsockets++;
    /* Closing waits at most the timeout for queued messages to leave, never forever. */
    int linger = nn_zmq_timeout_ms();
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    return s;
}

void nn_zmq_close(void *s, int linger_ms)
{
    if (!s) return;
    if (linger_ms >= -1) zmq_setsockopt(s, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    zmq_close(s);
    if (--nsockets == 0) {
        /* Blocks until every socket's queued messages have left or its linger has passed. */
        while (zmq_ctx_term(ctx) != 0 && errno == EINTR) {}
        ctx = NULL;
    }
}

int nn_zmq_attach(void *s, const char *spec, int bind, const char *address, char *err,
                  size_t errlen)
{
    int rc = bind ? zmq_bind(s, address) : zmq_connect(s, address);
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot %s: %s", spec, bind ? "bind" : "connect",
                 zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- the point-to-point pipe */

struct nn_zpipe {
    void *sock;
    int sending;
    zmq_msg_t msg;          /* reader: the message being consumed */
    size_t pos;
    int have_msg, ended;
};

nn_zpipe *nn_zpipe_open(const char *spec, int sending, char *err, size_t errlen)
{
    int bind;
    const char *address;
    if (nn_zmq_parse(spec, &bind, &address, err, errlen) != 0) return NULL;
    void *s = nn_zmq_socket(ZMQ_DEALER, err, errlen);
    if (!s) return NULL;
    /* Bounded queues: a stalled reader stops the writer (back-pressure) once NN_ZMQ_HWM
     * messages of at most a buffer (256 KiB, or one large record) wait on each side. */
    int hwm = NN_ZMQ_HWM, tmo = nn_zmq_timeout_ms();
    zmq_setsockopt(s, sending ? ZMQ_SNDHWM : ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_SNDTIMEO, &tmo, sizeof tmo);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    /* No ZMQ_HEARTBEAT_*: with them, libzmq 4.3.4 sometimes drops the last messages of a
     * socket being closed (the end mark); a silent peer is caught by the timeouts above. */
    if (nn_zmq_attach(s, spec, bind, address, err, errlen) != 0) {
        nn_zmq_close(s, 0);
        return NULL;
    }
    nn_zpipe *p = nn_xcalloc(1, sizeof *p);
    p->sock = s;
    p->sending = sending;
    return p;
}

ssize_t nn_zpipe_read(nn_zpipe *p, void *dst, size_t n)
{
    if (p->ended) return 0;
    while (!p->have_msg) {
        zmq_msg_init(&p->msg);
        if (zmq_msg_recv(&p->msg, p->sock, 0) < 0) {
            int e = errno;
            zmq_msg_close(&p->msg);
            if (e == EINTR) continue;
            errno = e == EAGAIN ? ETIMEDOUT : e;
            return -1;
        }
        if (zmq_msg_size(&p->msg) == 0) {   /* the end mark */
            zmq_msg_close(&p->msg);
            p->ended = 1;
            return 0;
        }
        p->have_msg = 1;
        p->pos = 0;
    }
    size_t left = zmq_msg_size(&p->msg) - p->pos;
    size_t k = left < n ? left : n;
    memcpy(dst, (const unsigned char *)zmq_msg_data(&p->msg) + p->pos, k);
    p->pos += k;
    if (p->pos == zmq_msg_size(&p->msg)) {
        zmq_msg_close(&p->msg);
        p->have_msg = 0;
    }
    return (ssize_t)k;
}

int nn_zpipe_write(nn_zpipe *p, const void *buf, size_t n)
{
    while (zmq_send(p->sock, buf, n, 0) < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) errno = ETIMEDOUT;
        return -1;
    }
    return 0;
}

int nn_zpipe_close(nn_zpipe *p, int aborting)
{
    if (!p) return 0;
    int rc = 0, linger = 0;
    if (p->sending && !aborting) {
        rc = nn_zpipe_write(p, "", 0);
        if (rc == 0) {   /* the reader's "BYE": it has every message */
            char bye[4];
            while ((rc = zmq_recv(p->sock, bye, sizeof bye, 0)) < 0 && errno == EINTR) {}
            if (rc < 0 && errno == EAGAIN) errno = ETIMEDOUT;
            rc = rc < 0 ? -1 : 0;
        }
        linger = 1000;
    } else if (p->sending) {
        /* The end mark before the trailer tells the reader at once that the stream is cut
         * short; if it cannot leave within a second, the reader's timeout tells it. */
        zmq_send(p->sock, "", 0, ZMQ_DONTWAIT);
        linger = 1000;
    }
    if (!p->sending) {
        zmq_send(p->sock, "BYE", 3, ZMQ_DONTWAIT);
        linger = 1000;
    }
    if (p->have_msg) zmq_msg_close(&p->msg);
    nn_zmq_close(p->sock, linger);
    free(p);
    return rc;
}
