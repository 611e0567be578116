/* nn-farm: spreads a stage over workers (nn-encode --worker, nn-decode --worker) and merges
 * their results into one stream in input order. The protocol and the guarantees are in
 * man/man1/nn-farm.1.
 *
 * A thread reads the input and cuts it into tasks: runs of --batch records, each a whole
 * stream (the input's header, the records, a trailer). The main thread hands tasks to the
 * workers that ask (ROUTER socket, credit-based), takes their results, writes them in task
 * order, and hands a task again when its worker is gone or silent past --task-timeout; a
 * result that comes twice is kept once. */
#include "nn.h"

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

static const char USAGE[] = "nn-farm [OPTION]... -w ENDPOINT [INPUT]";
static const char SUMMARY[] =
    "Hand the records of INPUT (default -) in tasks to the workers that connect to ENDPOINT,\n"
    "and write their results as one stream, in input order.";

enum { O_WORKERS, O_OUTPUT, O_BATCH, O_WINDOW, O_TASK_TIMEOUT, O_VERBOSE };
static const nn_opt OPTS[] = {
    [O_WORKERS] = {"workers", 'w', 1, "ENDPOINT", "bind here for the workers: tcp://*:PORT, "
                                                  "tcp://HOST:PORT or ipc://PATH"},
    [O_OUTPUT] = {"output", 'o', 1, "FILE", "write the merged stream to FILE (default -)"},
    [O_BATCH] = {"batch", 'b', 1, "N", "records in a task (default 256)"},
    [O_WINDOW] = {"window", 0, 1, "N", "tasks held at once, handed out or waiting to be "
                                       "written (default 16)"},
    [O_TASK_TIMEOUT] = {"task-timeout", 0, 1, "SECONDS", "hand a task to another worker when "
                                                         "its result is this late (default 30)"},
    [O_VERBOSE] = {"verbose", 'v', 0, NULL, "report workers, tasks handed again and a summary"},
    {0},
};

typedef struct {
    const char *workers, *output, *input;
    int batch, window, verbose;
    double task_timeout;
} options;

static void parse_options(options *o, nn_opt_parser *p, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->output = "-";
    o->batch = 256;
    o->window = 16;
    o->task_timeout = 30;
    nn_opt_init(p, OPTS, USAGE, SUMMARY, argc, argv);
    int k;
    while ((k = nn_opt_next(p)) >= 0) {
        const char *a = p->arg[0];
        switch (k) {
        case O_WORKERS: o->workers = a; break;
        case O_OUTPUT: o->output = a; break;
        case O_BATCH: o->batch = (int)nn_parse_int("--batch", a, 1, 1 << 20); break;
        case O_WINDOW: o->window = (int)nn_parse_int("--window", a, 1, 4096); break;
        case O_TASK_TIMEOUT:
            o->task_timeout = nn_parse_double("--task-timeout", a, 0.01, 1e6);
            break;
        case O_VERBOSE: o->verbose = 1; break;
        }
    }
    if (!o->workers) nn_usage_error(USAGE, "no endpoint for the workers: give -w ENDPOINT");
    if (p->npos > 1) nn_usage_error(USAGE, "one INPUT at most");
    o->input = p->npos ? p->pos[0] : "-";
    nn_refuse_terminal(o->output, USAGE, "a binary stream");
}

/* ---------------------------------------------------------------- tasks, from the input */

enum { WAITING, OUT, DONE };

typedef struct {
    uint64_t seq, first, nrec;     /* task number; its records are first + 1 .. first + nrec */
    unsigned char *bytes;          /* the task's stream */
    size_t len;
    char name[300];
    int last;                      /* the input ends with this task */
    int state, worker;             /* worker: index of the one holding it (OUT) */
    double handed;
    unsigned char *result;         /* DONE: the result stream */
    size_t rlen;
} task;

typedef struct {
    const options *o;
    void *pipe;                    /* inproc PAIR to the main thread */
} reader_args;

static void send_task(void *pipe, task *t)
{
    while (zmq_send(pipe, &t, sizeof t, 0) < 0)
        if (errno != EINTR) nn_die("internal error: inproc send: %s", zmq_strerror(errno));
}

/* The reader thread: the input, cut into tasks, to the main thread; it blocks when the main
 * thread's window is full. Errors in the input end the process (nn_die). */
static void *read_input(void *arg)
{
    reader_args *a = arg;
    const options *o = a->o;
    nn_header h = {0};
    nn_reader *r = nn_open_stream(o->input, &h);
    uint64_t seq = 0, nread = 0;
    for (int last = 0; !last;) {
        task *t = nn_xcalloc(1, sizeof *t);
        t->seq = seq++;
        t->first = nread;
        nn_writer *w = nn_writer_mem("task");
        if (nn_write_header(w, &h) != 0) nn_die("%s", nn_writer_error(w));
        nn_record rec;
        while (t->nrec < (uint64_t)o->batch) {
            if (nn_next_record(r, &rec) == 0) {
                last = 1;
                break;
            }
            if (nn_write_record(w, rec.id, rec.label, rec.group, rec.data) != 0)
                nn_die("%s", nn_writer_error(w));
            t->nrec++;
        }
        nread += t->nrec;
        if (nn_writer_close_mem(w, &t->bytes, &t->len) != 0) nn_die("%s", nn_writer_error(w));
        /* A task that ends with the input's trailer is the last; it may hold no record (an
         * empty input, or a count that is a multiple of --batch). */
        t->last = last;
        snprintf(t->name, sizeof t->name, "%s: task %llu (records %llu-%llu)", o->input,
                 (unsigned long long)t->seq, (unsigned long long)t->first + 1,
                 (unsigned long long)(t->first + t->nrec));
        send_task(a->pipe, t);
    }
    if (nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
    nn_reader_close(r);
    nn_header_free(&h);
    return NULL;
}

/* ---------------------------------------------------------------- workers and results */

typedef struct {
    unsigned char id[256];         /* the ROUTER's routing id for it */
    size_t idlen;
    int credit;                    /* tasks it asked for and has not been given */
    int alive;
    uint64_t done;
} worker;

typedef struct {
    const options *o;
    void *router, *pipe;
    task **ring;                   /* tasks next_write .. next_read - 1, at seq % window */
    uint64_t next_write, next_read;
    int input_done;
    uint64_t ntasks;               /* once input_done */
    worker *w;
    int nw;
    nn_writer *out;
    nn_header out_hdr;
    uint64_t written, handed_again, duplicates;
    double last_hb, none_since;    /* none_since: when the last live worker went (or start) */
} farm;

static void note(const farm *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const farm *f, const char *fmt, ...)
{
    if (!f->o->verbose) return;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nn_warn("%s", msg);
}

static task *task_at(const farm *f, uint64_t seq) { return f->ring[seq % (uint64_t)f->o->window]; }

static int nalive(const farm *f)
{
    int n = 0;
    for (int i = 0; i < f->nw; i++) n += f->w[i].alive;
    return n;
}

/* A worker is gone (disconnected): what it held goes to the others. */
static void lose(farm *f, int k, const char *why)
{
    if (!f->w[k].alive) return;
    f->w[k].alive = 0;
    f->w[k].credit = 0;
    note(f, "worker %d %s", k + 1, why);
    for (uint64_t s = f->next_write; s < f->next_read; s++) {
        task *t = task_at(f, s);
        if (t->state == OUT && t->worker == k) {
            t->state = WAITING;
            f->handed_again++;
            note(f, "%s: handed to another worker", t->name);
        }
    }
    if (!nalive(f)) f->none_since = nn_now();
}

/* Sends frames to worker k; 0, or -1 (EAGAIN: its queue is full; EHOSTUNREACH: gone). */
static int send_to(farm *f, int k, int n, const void *const *data, const size_t *len)
{
    if (zmq_send(f->router, f->w[k].id, f->w[k].idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    for (int i = 0; i < n; i++)
        while (zmq_send(f->router, data[i], len[i], (i + 1 < n ? ZMQ_SNDMORE : 0)) < 0)
            if (errno != EINTR) return -1;
    return 0;
}

static int find_worker(farm *f, const unsigned char *id, size_t len)
{
    for (int i = 0; i < f->nw; i++)
        if (f->w[i].idlen == len && memcmp(f->w[i].id, id, len) == 0) return i;
    f->w = nn_xrealloc(f->w, (size_t)(f->nw + 1) * sizeof *f->w);
    worker *w = &f->w[f->nw];
    memset(w, 0, sizeof *w);
    memcpy(w->id, id, len);
    w->idlen = len;
    return f->nw++;
}

static uint64_t frame_u64(zmq_msg_t *m)
{
    char s[32];
    size_t n = zmq_msg_size(m) < sizeof s - 1 ? zmq_msg_size(m) : sizeof s - 1;
    memcpy(s, zmq_msg_data(m), n);
    s[n] = 0;
    return strtoull(s, NULL, 10);
}

static int frame_is(zmq_msg_t *m, const char *word)
{
    return zmq_msg_size(m) == strlen(word) && memcmp(zmq_msg_data(m), word, strlen(word)) == 0;
}

/* One message from a worker, if any is waiting: 1 handled, 0 none. */
static int take_message(farm *f)
{
    zmq_msg_t fr[4];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, f->router, n ? 0 : ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            if (errno == EINTR) continue;
            if (errno == EAGAIN && n == 0) return 0;
            nn_die("%s: receive error: %s", f->o->workers, zmq_strerror(errno));
        }
        more = zmq_msg_more(&m);
        if (n < 4) fr[n++] = m;
        else zmq_msg_close(&m);
    }
    if (n < 2 || zmq_msg_size(&fr[0]) > sizeof f->w[0].id) goto done;
    int k = find_worker(f, zmq_msg_data(&fr[0]), zmq_msg_size(&fr[0]));
    worker *w = &f->w[k];
    if (!w->alive) {
        w->alive = 1;
        note(f, "worker %d joined", k + 1);
    }
    if (frame_is(&fr[1], "READY") && n == 3) {
        w->credit += (int)frame_u64(&fr[2]);
    } else if (frame_is(&fr[1], "DONE") && n == 4) {
        w->credit++;
        w->done++;
        uint64_t seq = frame_u64(&fr[2]);
        task *t = seq >= f->next_write && seq < f->next_read ? task_at(f, seq) : NULL;
        if (!t || t->state == DONE) {
            f->duplicates++;
            note(f, "task %llu: a second result, from worker %d, dropped",
                 (unsigned long long)seq, k + 1);
        } else {
            t->rlen = zmq_msg_size(&fr[3]);
            t->result = memcpy(nn_xmalloc(t->rlen), zmq_msg_data(&fr[3]), t->rlen);
            t->state = DONE;
        }
    } else if (frame_is(&fr[1], "FAIL") && n == 4) {
        uint64_t seq = frame_u64(&fr[2]);
        nn_die("worker %d failed on task %llu: %.*s", k + 1, (unsigned long long)seq,
               (int)zmq_msg_size(&fr[3]), (const char *)zmq_msg_data(&fr[3]));
    } else
        nn_warn("%s: worker %d sent a message that is not of nn-farm's protocol: ignored",
                f->o->workers, k + 1);
done:
    for (int i = 0; i < n; i++) zmq_msg_close(&fr[i]);
    return 1;
}

/* Waiting tasks, in order, to the live workers with the most credit. */
static void hand_out(farm *f)
{
    for (uint64_t s = f->next_write; s < f->next_read; s++) {
        task *t = task_at(f, s);
        if (t->state != WAITING) continue;
        for (;;) {
            int best = -1;
            for (int i = 0; i < f->nw; i++)
                if (f->w[i].alive && f->w[i].credit > 0 &&
                    (best < 0 || f->w[i].credit > f->w[best].credit))
                    best = i;
            if (best < 0) return;
            char seq[32];
            snprintf(seq, sizeof seq, "%llu", (unsigned long long)t->seq);
            const void *d[4] = {"TASK", seq, t->name, t->bytes};
            size_t l[4] = {4, strlen(seq), strlen(t->name), t->len};
            if (send_to(f, best, 4, d, l) == 0) {
                f->w[best].credit--;
                t->state = OUT;
                t->worker = best;
                t->handed = nn_now();
                break;
            }
            if (errno == EHOSTUNREACH) lose(f, best, "disconnected");
            else f->w[best].credit = 0;     /* its queue is full: wait for its results */
        }
    }
}

/* The result of task t into the output. */
static void write_result(farm *f, task *t)
{
    if (!t->result) return;                 /* the empty last task of a longer input */
    char name[400];
    snprintf(name, sizeof name, "%s: task %llu's result", f->o->workers,
             (unsigned long long)t->seq);
    nn_reader *r = nn_reader_mem(t->result, t->rlen, name);
    nn_header h = {0};
    if (nn_read_header(r, &h) <= 0) nn_die("%s", nn_reader_error(r));
    if (!f->out) {
        f->out = nn_create_stream(f->o->output, &h);
        nn_header_copy(&f->out_hdr, &h);
    } else {
        char why[300];
        if (nn_header_compatible(&f->out_hdr, &h, why, sizeof why) != 0)
            nn_die("%s: %s (workers of different stages at one farm?)", name, why);
    }
    nn_record rec;
    while (nn_next_record(r, &rec) > 0)
        nn_put_record(f->out, rec.id, rec.label, rec.group, rec.data);
    if (nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
    if (nn_reader_records(r) != t->nrec)
        nn_die("%s: %llu records for the %llu of the task: nn-farm takes stages that make one "
               "record of each", name, (unsigned long long)nn_reader_records(r),
               (unsigned long long)t->nrec);
    f->written += t->nrec;
    nn_reader_close(r);
    nn_header_free(&h);
}

static void task_free(task *t)
{
    free(t->bytes);
    free(t->result);
    free(t);
}

static void write_done(farm *f)
{
    while (f->next_write < f->next_read && task_at(f, f->next_write)->state == DONE) {
        task *t = task_at(f, f->next_write);
        write_result(f, t);
        task_free(t);
        f->next_write++;
    }
}

/* Heartbeats (which find disconnected workers), late tasks, and no worker at all. */
static void timers(farm *f)
{
    double now = nn_now();
    if (now - f->last_hb >= 1.0) {
        f->last_hb = now;
        for (int k = 0; k < f->nw; k++) {
            if (!f->w[k].alive) continue;
            const void *d[1] = {"HB"};
            size_t l[1] = {2};
            if (send_to(f, k, 1, d, l) != 0 && errno == EHOSTUNREACH) lose(f, k, "disconnected");
        }
    }
    for (uint64_t s = f->next_write; s < f->next_read; s++) {
        task *t = task_at(f, s);
        if (t->state != OUT || now - t->handed < f->o->task_timeout) continue;
        t->state = WAITING;
        f->handed_again++;
        f->w[t->worker].credit = 0;     /* no more for it until it answers */
        note(f, "%s: no result from worker %d in %g s: handed again", t->name, t->worker + 1,
             f->o->task_timeout);
    }
    double limit = nn_zmq_timeout();
    if (limit > 0 && f->next_read > f->next_write && !nalive(f) && now - f->none_since > limit)
        nn_die("%s: no worker for %g s (NN_ZMQ_TIMEOUT): start some with "
               "'nn-encode -m MODEL --worker %s'", f->o->workers, limit, f->o->workers);
}

static void *bind_router(const char *spec, char *address_out, size_t n)
{
    char err[700];
    const char *a = spec;
    if (strncmp(a, "zmq:", 4) == 0) a += 4;
    if (strncmp(a, "bind:", 5) == 0) a += 5;
    if (strncmp(a, "tcp://", 6) != 0 && strncmp(a, "ipc://", 6) != 0)
        nn_usage_error(USAGE, "-w %s: expected tcp://*:PORT, tcp://HOST:PORT or ipc://PATH",
                       spec);
    snprintf(address_out, n, "%s", a);
    void *s = nn_zmq_socket(ZMQ_ROUTER, err, sizeof err);
    if (!s) nn_die("%s: %s", spec, err);
    int one = 1, linger = 1000;
    zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (nn_zmq_attach(s, spec, 1, a, err, sizeof err) != 0) nn_die("%s", err);
    return s;
}

int main(int argc, char **argv)
{
    nn_init(argv[0]);
    options o;
    nn_opt_parser p;
    parse_options(&o, &p, argc, argv);
    char address[600], err[700];
    farm f = {.o = &o};
    f.router = bind_router(o.workers, address, sizeof address);
    /* The reader thread's tasks come through an inproc pair; the window bounds them. */
    void *pipe_main = nn_zmq_socket(ZMQ_PAIR, err, sizeof err);
    void *pipe_thread = nn_zmq_socket(ZMQ_PAIR, err, sizeof err);
    if (!pipe_main || !pipe_thread) nn_die("%s", err);
    char inproc[64];
    snprintf(inproc, sizeof inproc, "inproc://nn-farm-tasks");
    int hwm = 1;
    zmq_setsockopt(pipe_thread, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(pipe_main, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_bind(pipe_main, inproc) != 0 || zmq_connect(pipe_thread, inproc) != 0)
        nn_die("internal error: inproc: %s", zmq_strerror(errno));
    f.pipe = pipe_main;
    f.ring = nn_xcalloc((size_t)o.window, sizeof *f.ring);
    f.none_since = f.last_hb = nn_now();
    reader_args ra = {&o, pipe_thread};
    pthread_t th;
    if (pthread_create(&th, NULL, read_input, &ra) != 0) nn_die("cannot start a thread");

    while (!(f.input_done && f.next_write == f.ntasks)) {
        int room = !f.input_done && f.next_read - f.next_write < (uint64_t)o.window;
        zmq_pollitem_t items[2] = {{f.router, 0, ZMQ_POLLIN, 0}, {f.pipe, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, room ? 2 : 1, 100) < 0 && errno != EINTR)
            nn_die("poll: %s", zmq_strerror(errno));
        if (room && (items[1].revents & ZMQ_POLLIN)) {
            task *t;
            if (zmq_recv(f.pipe, &t, sizeof t, 0) == (int)sizeof t) {
                f.ring[t->seq % (uint64_t)o.window] = t;
                f.next_read++;
                if (t->last) f.input_done = 1, f.ntasks = t->seq + 1;
                if (t->nrec == 0 && t->seq > 0) t->state = DONE;   /* nothing to do */
            }
        }
        while (take_message(&f)) {}
        hand_out(&f);
        write_done(&f);
        timers(&f);
    }
    pthread_join(th, NULL);
    nn_finish_stream(f.out);
    /* Workers that asked in the last moments (0.3 s) are told to stop too, not left to
     * time out. */
    for (;;) {
        zmq_pollitem_t item = {f.router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 300) <= 0) break;
        while (take_message(&f)) {}
    }
    for (int k = 0; k < f.nw; k++)
        if (f.w[k].alive) {
            const void *d[1] = {"STOP"};
            size_t l[1] = {4};
            send_to(&f, k, 1, d, l);
        }
    if (o.verbose) {
        nn_warn("%llu records in %llu tasks by %d workers; %llu tasks handed again, %llu "
                "second results dropped", (unsigned long long)f.written,
                (unsigned long long)f.ntasks, f.nw, (unsigned long long)f.handed_again,
                (unsigned long long)f.duplicates);
        for (int k = 0; k < f.nw; k++)
            nn_warn("worker %d: %llu tasks", k + 1, (unsigned long long)f.w[k].done);
    }
    nn_zmq_close(pipe_thread, 0);
    nn_zmq_close(pipe_main, 0);
    nn_zmq_close(f.router, -2);
    nn_header_free(&f.out_hdr);
    free(f.ring);
    free(f.w);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
