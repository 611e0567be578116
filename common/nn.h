/* neuro-noodle common library: the tensor stream format and what every stage shares.
 * The stream format itself is specified in man/man5/nn-stream.5; keep the two in step. */
#ifndef NN_H
#define NN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define NN_VERSION "0.1.0"
#define NN_STREAM_VERSION 1
#define NN_MAX_DIMS 8
#define NN_MAX_HEADER_BYTES (1u << 20)       /* a header frame larger than this is refused */
#define NN_MAX_RECORD_BYTES (1u << 30)       /* tensor bytes per record */
#define NN_MAX_NAME_BYTES 65535u             /* id, label or group */
#define NN_KIND_MAX 63

/* ---- messages and exit codes (msg.c) ---- */
enum { NN_EXIT_OK = 0, NN_EXIT_FAIL = 1, NN_EXIT_USAGE = 2 };

extern const char *nn_prog;                       /* set by nn_init from argv[0] */
void nn_init(const char *argv0);                  /* names the program, sets up signals */
void nn_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void nn_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void nn_exit_now(int status);
/* Hooks run by nn_die only (not by signals), latest first, with the message "PROGRAM: what":
 * a ZeroMQ writer sends its end mark, a farm worker reports the failure. */
void nn_on_die(void (*fn)(void *arg, const char *message), void *arg);
void nn_cancel_on_die(void (*fn)(void *arg, const char *message), void *arg);
/* Cleanup hooks run by nn_die and on SIGINT/SIGTERM (e.g. unlinking temporary files). */
void nn_at_fail(void (*fn)(void *), void *arg);
void nn_cancel_at_fail(void (*fn)(void *), void *arg);
void *nn_xmalloc(size_t n);
void *nn_xcalloc(size_t n, size_t size);
void *nn_xrealloc(void *p, size_t n);
char *nn_xstrdup(const char *s);

/* ---- output files written atomically (atomic.c) ----
 * A regular file (or a new one) is written under a temporary name in the same directory and
 * renamed into place on commit, so a killed stage never leaves a half-written file that looks
 * whole; a device or FIFO is written directly. */
typedef struct {
    char *path, *tmp;     /* tmp is NULL when writing directly */
    int fd;
} nn_atomic;
int nn_atomic_open(nn_atomic *a, const char *path, char *err, size_t errlen);
int nn_atomic_commit(nn_atomic *a, char *err, size_t errlen);
void nn_atomic_abort(nn_atomic *a);
/* write(2) all of buf, retrying on EINTR and short writes; 0 or -1 with errno set. */
int nn_write_all(int fd, const void *buf, size_t n);

/* ---- option parsing (opts.c) ---- */
typedef struct {
    const char *name;     /* long name, without the leading "--" */
    char short_name;      /* 0 if none */
    int nargs;            /* 0, 1 or 2 arguments */
    const char *argname;  /* for help text, e.g. "N" or "FORMAT FILE" */
    const char *help;
} nn_opt;

typedef struct {
    const nn_opt *opts;
    const char *usage;    /* one line: "nn-cat [OPTION]... [FILE]..." */
    const char *summary;  /* what the program does, for --help */
    int argc, i;
    char **argv;
    int only_positional;  /* after "--" */
    const char *arg[2];   /* the option's arguments, when it takes some */
    char **pos;           /* positional arguments, in order */
    int npos;
} nn_opt_parser;

/* Every parser also knows -h, --help (the usage, summary and options on stdout, exit 0) and
 * -V, --version (exit 0): opts lists only the program's own options. */
void nn_opt_init(nn_opt_parser *p, const nn_opt *opts, const char *usage, const char *summary,
                 int argc, char **argv);
/* Returns the index of the next option in opts, or -1 when done. Unknown options and missing
 * arguments are usage errors (exit 2). */
int nn_opt_next(nn_opt_parser *p);
void nn_opt_free(nn_opt_parser *p);
/* A usage error when output is "-" and standard output is a terminal: WHAT (e.g. "a binary
 * stream") is not for the eye. */
void nn_refuse_terminal(const char *output, const char *usage, const char *what);
_Noreturn void nn_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
long long nn_parse_int(const char *opt, const char *s, long long min, long long max);
double nn_parse_double(const char *opt, const char *s, double min, double max);
_Noreturn void nn_print_version(void);
/* Closes stdout and exits 1 with a message if anything written to it failed. */
void nn_close_stdout(void);

/* ---- deterministic RNG (rng.c): xoshiro256** seeded through splitmix64 ---- */
typedef struct {
    uint64_t s[4];
    double spare;         /* second normal deviate of a Box-Muller pair */
    int has_spare;
} nn_rng;

void nn_rng_seed(nn_rng *r, uint64_t seed);
uint64_t nn_rng_u64(nn_rng *r);
uint64_t nn_rng_below(nn_rng *r, uint64_t n);  /* uniform in [0, n), unbiased; n > 0 */
double nn_rng_uniform(nn_rng *r);              /* [0, 1), 53 bits */
double nn_rng_normal(nn_rng *r);               /* standard normal */
void nn_rng_shuffle(nn_rng *r, size_t *v, size_t n);

/* ---- progress line (progress.c) ---- */
extern int nn_progress_forced;  /* set by --progress */
typedef struct {
    const char *what;
    uint64_t total;       /* 0 if unknown */
    double start, last;
    int active;
    int tty;
    char note[64];        /* shown after the counts, e.g. the current loss */
} nn_progress;

void nn_progress_start(nn_progress *p, const char *what, uint64_t total);
void nn_progress_update(nn_progress *p, uint64_t done);
void nn_progress_end(nn_progress *p, uint64_t done);
double nn_now(void);

/* ---- the stream (stream.c) ---- */
typedef enum { NN_U8 = 0, NN_F32 = 1 } nn_dtype;

typedef struct {
    int version;
    char kind[NN_KIND_MAX + 1];
    nn_dtype dtype;
    int ndim;
    uint32_t shape[NN_MAX_DIMS];
    size_t count;           /* values per record: the product of shape */
    size_t nbytes;          /* tensor bytes per record */
    unsigned char *meta;    /* a packed MessagePack map (owned; NULL means empty) */
    size_t meta_len;
} nn_header;

/* A record as read: everything is owned by the reader and valid until its next call. */
typedef struct {
    const char *id, *label, *group;      /* NUL-terminated */
    size_t id_len, label_len, group_len;
    union {                              /* nbytes of tensor data, aligned for any type */
        const void *data;
        const float *f32;
        const uint8_t *u8;
    };
    size_t nbytes;
} nn_record;

const char *nn_dtype_name(nn_dtype d);
size_t nn_dtype_size(nn_dtype d);
/* Fills dtype, shape, count and nbytes; returns 0, or -1 with a reason in err. */
int nn_header_set(nn_header *h, const char *kind, nn_dtype dtype, int ndim,
                  const uint32_t *shape, char *err, size_t errlen);
void nn_header_copy(nn_header *dst, const nn_header *src);
void nn_header_free(nn_header *h);
/* "28x28x1" */
void nn_shape_str(const nn_header *h, char *buf, size_t n);
/* 0 if kind, dtype and shape agree; otherwise -1 and a reason in err. */
int nn_header_compatible(const nn_header *a, const nn_header *b, char *err, size_t errlen);

typedef struct nn_reader nn_reader;
/* spec: a path, "-" for stdin or a ZeroMQ endpoint ("zmq:..."). NULL on failure with a reason in err. */
nn_reader *nn_reader_open(const char *spec, char *err, size_t errlen);
nn_reader *nn_reader_fd(int fd, const char *name);
nn_reader *nn_reader_mem(const void *data, size_t size, const char *name);
/* Reads the next stream's header: 1 read, 0 clean end of input, -1 error. */
int nn_read_header(nn_reader *r, nn_header *h);
/* Reads the next record: 1 read, 0 the trailer was read and agrees, -1 error. */
int nn_read_record(nn_reader *r, nn_record *rec);
/* After the trailer: 0 if the input ends there, -1 (error set) if anything follows. */
int nn_read_end(nn_reader *r);
/* Limits each read(2) to n bytes (0: no limit); the tests read a pipe one byte at a time. */
void nn_reader_max_read(nn_reader *r, size_t n);
const char *nn_reader_error(const nn_reader *r);   /* "NAME: record 17: what is wrong" */
const char *nn_reader_name(const nn_reader *r);
uint64_t nn_reader_records(const nn_reader *r);    /* records read in the current stream */
uint64_t nn_reader_streams(const nn_reader *r);    /* headers read so far */
void nn_reader_close(nn_reader *r);
/* Convenience for stages: open, read the header, die with the reader's message on error. */
nn_reader *nn_open_stream(const char *spec, nn_header *h);
int nn_next_record(nn_reader *r, nn_record *rec);   /* dies on error */

typedef struct nn_writer nn_writer;
/* spec: a path (written to a temporary file, renamed into place by a successful close), a
 * ZeroMQ endpoint ("zmq:...") or "-" for stdout (named "stdout" in messages). NULL on failure with a reason in err. */
nn_writer *nn_writer_open(const char *spec, char *err, size_t errlen);
nn_writer *nn_writer_fd(int fd, const char *name);
/* A stream built in memory; nn_writer_close_mem writes the trailer and hands over the bytes
 * (0, or -1 with error set; the caller then frees with nn_writer_abort). */
nn_writer *nn_writer_mem(const char *name);
int nn_writer_close_mem(nn_writer *w, unsigned char **data, size_t *len);
int nn_write_header(nn_writer *w, const nn_header *h);
int nn_write_record(nn_writer *w, const char *id, const char *label, const char *group,
                    const void *data);
/* Writes the trailer, flushes and commits (renames) the output; 0 or -1 with error set. */
int nn_writer_close(nn_writer *w);
/* Drops the output: a temporary file is removed, nothing is renamed. */
void nn_writer_abort(nn_writer *w);
const char *nn_writer_error(const nn_writer *w);
uint64_t nn_writer_records(const nn_writer *w);
/* Convenience for stages: open or die. */
nn_writer *nn_create_stream(const char *spec, const nn_header *h);
void nn_put_record(nn_writer *w, const char *id, const char *label, const char *group,
                   const void *data);
void nn_finish_stream(nn_writer *w);

/* ---- ZeroMQ endpoints (zmq.c; nn-stream(5), "ZeroMQ endpoints") ----
 * "zmq:tcp://HOST:PORT" or "zmq:ipc://PATH" connects, "zmq:bind:tcp://[*]:PORT" binds. */
#define NN_ZMQ_TIMEOUT_DEFAULT 60.0   /* seconds; NN_ZMQ_TIMEOUT overrides, 0 waits forever */
#define NN_ZMQ_HWM 8                  /* messages queued on each side of a stream */
int nn_is_zmq(const char *spec);      /* starts with "zmq:" */
double nn_zmq_timeout(void);          /* seconds, from NN_ZMQ_TIMEOUT (dies on a bad value) */
int nn_zmq_timeout_ms(void);          /* the same for ZeroMQ's options: -1 for no timeout */
/* Splits "zmq:[bind:|connect:]ADDRESS": 0, or -1 with a reason naming spec. */
int nn_zmq_parse(const char *spec, int *bind, const char **address, char *err, size_t errlen);
/* A socket of the process's context, linger set to the timeout; NULL with a reason. */
void *nn_zmq_socket(int type, char *err, size_t errlen);
int nn_zmq_attach(void *s, const char *spec, int bind, const char *address, char *err,
                  size_t errlen);
/* Closes with linger_ms (-2: keep the socket's), and the context after its last socket. */
void nn_zmq_close(void *s, int linger_ms);
/* The byte pipe under a stream reader or writer (DEALER sockets; see zmq.c). */
typedef struct nn_zpipe nn_zpipe;
nn_zpipe *nn_zpipe_open(const char *spec, int sending, char *err, size_t errlen);
/* Up to n bytes: > 0, 0 at the writer's end mark, -1 with errno (ETIMEDOUT: the timeout). */
ssize_t nn_zpipe_read(nn_zpipe *p, void *dst, size_t n);
/* 0, or -1 with errno (ETIMEDOUT: no reader took it within the timeout). */
int nn_zpipe_write(nn_zpipe *p, const void *buf, size_t n);
/* A writer sends the end mark and lets its messages leave; aborting, it gives up after 1 s. */
int nn_zpipe_close(nn_zpipe *p, int aborting);

/* ---- the worker side of nn-farm (farm.c; nn-farm(1)) ---- */
typedef struct nn_worker nn_worker;
/* Connects to the farm at endpoint ("tcp://HOST:PORT", "ipc://PATH", with or without "zmq:")
 * and asks for tasks; dies on error. From now on nn_die reports the failure to the farm. */
nn_worker *nn_worker_connect(const char *endpoint);
/* Waits for a task: 1 and a reader over its stream (a header, records, a trailer), or 0 when
 * the farm says there are no more. Dies when the farm is silent for NN_ZMQ_TIMEOUT. */
int nn_worker_next(nn_worker *w, nn_reader **task);
uint64_t nn_worker_task(const nn_worker *w);      /* the task's number, from 0 */
/* The writer for the task's result (a whole stream, header first); nn_worker_done closes it
 * and sends it to the farm. */
nn_writer *nn_worker_output(nn_worker *w);
void nn_worker_done(nn_worker *w, nn_writer *out);
void nn_worker_close(nn_worker *w);
/* argv without "--worker X", for the provenance in a result's header: a farm's output is the
 * single-process output. out has room for argc + 1; returns the new count. */
int nn_worker_argv(int argc, char **argv, char **out);

/* ---- header metadata (meta.c): building a MessagePack map, and printing one as JSON ---- */
typedef struct nn_meta nn_meta;
nn_meta *nn_meta_new(void);
void nn_meta_str(nn_meta *m, const char *key, const char *value);
void nn_meta_int(nn_meta *m, const char *key, long long value);
void nn_meta_double(nn_meta *m, const char *key, double value);
void nn_meta_strv(nn_meta *m, const char *key, int n, char *const *values);
void nn_meta_packed(nn_meta *m, const char *key, const void *packed, size_t len);
void nn_meta_u64(nn_meta *m, const char *key, uint64_t value);
void nn_meta_u64v(nn_meta *m, const char *key, int n, const uint64_t *values);
void nn_meta_intv(nn_meta *m, const char *key, int n, const int *values);
/* Replaces h->meta with the map built so far and frees m. */
void nn_meta_finish(nn_meta *m, nn_header *h);
/* The map built so far, as packed bytes (owned by the caller); frees m. */
void nn_meta_take(nn_meta *m, unsigned char **bytes, size_t *len);
/* Standard provenance: {"program", "version", "argv", "input": <input meta>}. */
void nn_meta_provenance(nn_meta *m, int argc, char **argv, const nn_header *input);
/* Looks up a top-level key of a packed map: 0 and the value, or -1 if absent or of another
 * type. */
int nn_meta_get_double(const void *packed, size_t len, const char *key, double *out);
int nn_meta_get_u64(const void *packed, size_t len, const char *key, uint64_t *out);
int nn_meta_get_str(const void *packed, size_t len, const char *key, char *out, size_t outlen);
/* Writes packed MessagePack as JSON (bin as {"bin": N}); -1 if it is not valid msgpack. */
int nn_json_packed(FILE *out, const void *packed, size_t len);
void nn_json_string(FILE *out, const char *s, size_t len);
void nn_json_number(FILE *out, double v);

/* ---- NumPy .npy output (npy.c), written atomically with the count filled in at the end ---- */
typedef struct nn_npy nn_npy;
nn_npy *nn_npy_create(const char *path, const nn_header *h, char *err, size_t errlen);
int nn_npy_append(nn_npy *n, const void *data);
int nn_npy_close(nn_npy *n, char *err, size_t errlen);
void nn_npy_abort(nn_npy *n);

/* ---- images (image.c, resize.c) and IDX files (idx.c) ---- */
typedef struct {
    int w, h, c;          /* c: 1 (gray) or 3 (RGB) */
    float *px;            /* h x w x c, row-major, values in [0, 1] */
} nn_image;
/* Loads a PNG or JPEG (by content) with `channels` channels; -1 with the decoder's reason. */
int nn_image_load(const char *path, int channels, nn_image *img, char *err, size_t errlen);
void nn_image_free(nn_image *img);
/* Keeps the box (x, y, w, h); -1 if it does not lie inside the image. */
int nn_image_crop(nn_image *img, int x, int y, int w, int h);
/* Area averaging along an axis that shrinks, bilinear along one that grows. */
void nn_image_resize(nn_image *img, int w, int h);

typedef struct {
    void *file;           /* gzFile */
    char *path;
    int ndim;
    uint32_t dims[4];
    uint64_t count, next; /* items in the file, items read */
    size_t item_bytes;
} nn_idx;
int nn_idx_open(nn_idx *x, const char *path, char *err, size_t errlen);
int nn_idx_read(nn_idx *x, void *item, char *err, size_t errlen);
void nn_idx_close(nn_idx *x);

/* ---- network layers (layers.c) ---- */
/* Hot elementwise loops get an AVX2 clone, picked at load time on CPUs that have it. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NN_HOT __attribute__((target_clones("avx2", "default")))
#else
#define NN_HOT
#endif
void nn_linear_forward(float *y, const float *x, const float *w, const float *b, int B, int In, int Out);
void nn_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                        const float *w, int B, int In, int Out);
void nn_relu_forward(float *y, const float *x, size_t N);
void nn_relu_backward(float *dx, const float *dy, const float *y, size_t N);
double nn_recon_loss(float *restrict dlogits, const float *restrict logits, const float *restrict x,
                     size_t N, int gaussian, float sigma, float scale);
void nn_reparam_forward(float *z, const float *h, const float *eps, int B, int L);
double nn_reparam_kl_backward(float *dh, const float *dz, const float *h, const float *eps,
                              int B, int L, float beta, float scale);

/* ---- the VAE (vae.c) ---- */
#define NN_MAX_HIDDEN 8
typedef struct {
    int D, L;                          /* input values, latent size */
    int nhidden, hidden[NN_MAX_HIDDEN];
    int gaussian;                      /* likelihood: 0 Bernoulli, 1 Gaussian */
    float sigma;                       /* the Gaussian's fixed standard deviation */
} nn_vae_arch;

typedef struct {
    nn_vae_arch a;
    int nlayers;                       /* linear layers in the encoder, and in the decoder */
    int enc_in[NN_MAX_HIDDEN + 1], enc_out[NN_MAX_HIDDEN + 1];
    int dec_in[NN_MAX_HIDDEN + 1], dec_out[NN_MAX_HIDDEN + 1];
    size_t enc_w[NN_MAX_HIDDEN + 1], enc_b[NN_MAX_HIDDEN + 1];   /* offsets into the parameters */
    size_t dec_w[NN_MAX_HIDDEN + 1], dec_b[NN_MAX_HIDDEN + 1];
    size_t nparams;
} nn_vae_layout;

typedef struct {
    int B;
    float *enc[NN_MAX_HIDDEN + 2];     /* enc[0] = input, enc[i + 1] = output of layer i */
    float *dec[NN_MAX_HIDDEN + 2];     /* dec[0] = z, dec[nlayers] = logits */
    float *z, *eps;                    /* (B,L) */
    float *d1, *d2;                    /* gradient buffers, (B, widest) */
} nn_vae_work;

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
} nn_adam;

void nn_vae_layout_init(nn_vae_layout *l, const nn_vae_arch *a);
void nn_vae_init_params(const nn_vae_layout *l, float *p, nn_rng *rng);
void nn_vae_work_init(nn_vae_work *w, const nn_vae_layout *l, int B);
void nn_vae_work_free(nn_vae_work *w);
const float *nn_vae_encode(const nn_vae_layout *l, const float *p, nn_vae_work *w, const float *x, int B);
const float *nn_vae_decode_logits(const nn_vae_layout *l, const float *p, nn_vae_work *w,
                                  const float *z, int B);
void nn_vae_step(const nn_vae_layout *l, const float *p, float *g, nn_vae_work *w,
                 const float *x, int B, float beta, float scale, double *recon, double *kl);
void nn_adam_step(float *restrict p, const float *restrict g, const float *restrict g2,
                  float *restrict m, float *restrict v, size_t n, const nn_adam *o, long t);

/* ---- a whole stream as a matrix (matrix.c) ---- */
typedef struct {
    size_t n, d;          /* rows (records), values per row */
    float *x;             /* n x d */
    char **id, **label, **group;   /* per row, when loaded with names (else NULL) */
} nn_matrix;
/* Reads every record; dies naming the record on NaN, infinity or a value outside [lo, hi]
 * (range_hint is appended to that message). */
void nn_matrix_load(const char *spec, nn_header *h, nn_matrix *m, float lo, float hi,
                    const char *range_hint);
/* The same, keeping every record's id, label and group. */
void nn_matrix_load_named(const char *spec, nn_header *h, nn_matrix *m, float lo, float hi);
void nn_matrix_free(nn_matrix *m);

/* ---- model files (model.c) ---- */
typedef enum { NN_MODEL_VAE = 1, NN_MODEL_PCA = 2 } nn_model_type;

typedef struct {
    long epoch, step, best_epoch, bad_epochs;   /* epochs done, Adam steps done */
    double best_val;
    nn_rng rng;
} nn_train_state;

typedef struct {
    nn_model_type type;
    int ndim;
    uint32_t shape[NN_MAX_DIMS];      /* the input records' shape */
    size_t D;                         /* values per input record */
    nn_vae_layout vae;                /* VAE */
    int k;                            /* PCA components */
    size_t nparams;
    float *params;                    /* VAE: the kept parameters; PCA: mean | components | variances */
    float *current, *adam_m, *adam_v; /* VAE checkpoint (NULL when absent) */
    nn_train_state state;
    int has_state;
    unsigned char *options, *input_meta;   /* packed maps */
    size_t options_len, input_meta_len;
} nn_model;

int nn_model_load(const char *path, nn_model *m, char *err, size_t errlen);
void nn_model_save(const char *path, const nn_model *m, const char *program);   /* dies on error */
void nn_model_free(nn_model *m);
size_t nn_model_latent(const nn_model *m);
/* z (n x latent) = the encoder's mean of the images x (n x D); w: a VAE's work for >= n rows. */
void nn_model_encode(const nn_model *m, nn_vae_work *w, const float *x, int n, float *z);
/* x (n x D) = the decoder's mean of z: sigmoid(logits) for a VAE, the PCA back-projection
 * clipped to [0, 1]. */
void nn_model_decode(const nn_model *m, nn_vae_work *w, const float *z, int n, float *x);

/* ---- registration by integer translation (register.c) ---- */
typedef struct {
    int h, w, c;
} nn_image_geom;
/* A region's top-left corner (y0, x0) in an image. */
typedef struct {
    const float *img;
    int y0, x0;
} nn_image_view;
/* The mean squared difference of the h x w regions a and b, over every channel. */
double nn_region_mse(const nn_image_geom *g, nn_image_view a, nn_image_view b, int h, int w);
/* The (dy, dx) within +-R that makes img[y + dy][x + dx] best match ref[y][x] (least squared
 * error over the image without an R-pixel border); ties go to the smaller shift. */
void nn_register_shift(const nn_image_geom *g, const float *ref, const float *img, int R, int *dy, int *dx);
/* dst[y][x] = src[y + dy][x + dx], the border pixels repeated beyond the edges. */
void nn_shift_image(const nn_image_geom *g, const float *src, int dy, int dx, float *dst);
/* A shift per pixel: (fy, fx)[p] within +-R makes img at p + (fy, fx) best match ref around p,
 * by the squared error over the W x W window centred on p (W odd; the edges repeated); ties go
 * to the smaller shift. fy and fx hold h * w values. */
void nn_flow_field(const nn_image_geom *g, const float *ref, const float *img, int R, int W,
                   int8_t *fy, int8_t *fx);
/* dst at p = src at p + (fy, fx)[p], the edges repeated. */
void nn_warp_image(const nn_image_geom *g, const float *src, const int8_t *fy, const int8_t *fx, float *dst);
/* The height, width and channels of h's records; dies naming the stream when they are not images. */
nn_image_geom nn_image_geom_of(const nn_header *h, const char *name);
/* dst: the kind and shape of src, f32, no meta (to be filled by the caller). */
void nn_header_f32_like(nn_header *dst, const nn_header *src);

/* ---- threads (threads.c) ---- */
#define NN_MAX_THREADS 64
/* Runs fn on n jobs of job_size bytes each, jobs[1 ..] in threads of their own and jobs[0] in
 * the calling thread; a job whose thread cannot be started runs in the calling thread at the
 * end. The jobs must not wait for each other. At most NN_MAX_THREADS jobs. */
void nn_run_jobs(void *(*fn)(void *), void *jobs, size_t job_size, int n);
/* A thread count asked for, brought into 1 .. NN_MAX_THREADS. */
int nn_threads(int asked);
/* Job t of nt's contiguous share [*first, *last) of n items (shares of ceil(n / nt)). */
void nn_share(size_t n, int t, int nt, size_t *first, size_t *last);

/* ---- t-SNE (tsne.c; the repulsion methods in tsne.h) ---- */
typedef enum { NN_TSNE_EXACT, NN_TSNE_BH, NN_TSNE_FFT } nn_tsne_method;
typedef struct {
    size_t n;
    size_t *row;          /* CSR: row i is [row[i], row[i + 1]) */
    uint32_t *col;
    double *val;
    float *fval;          /* val in float, for the attraction */
} nn_sparse;
/* The k nearest reference points of each query (exact, squared distances, sorted; ties by
 * index); same = the queries are the reference points, each excluding itself. */
void nn_knn(const float *ref, size_t nref, const float *q, size_t nq, size_t d, int k,
            int same, uint32_t *idx, float *dist2, int nthreads);
double nn_perplexity_row(const float *d2, int k, double perplexity, double *p);
void nn_perplexity_rows(const float *d2, size_t n, int k, double perplexity, double *p, int nthreads);
void nn_tsne_joint(const uint32_t *idx, const double *pcond, size_t n, int k, nn_sparse *P);
void nn_sparse_free(nn_sparse *P);
void nn_tsne_init_pca(const float *x, size_t n, size_t d, int dims, double *y);
void nn_tsne_attraction(const nn_sparse *P, const double *y, int dims, double *attr, int nthreads);
/* One iteration's attraction and repulsion (the Barnes-Hut tree built beside the attraction);
 * returns Z, as nn_tsne_repulsion. */
double nn_tsne_forces(const nn_sparse *P, nn_tsne_method method, const double *y, int dims,
                      double theta, double *attr, double *rep, double *sumw, int nthreads);
double nn_tsne_repulsion(nn_tsne_method method, const double *y, size_t n, int dims,
                         double theta, double *rep, double *sumw, int nthreads);
double nn_tsne_kl(const nn_sparse *P, const double *y, int dims, double z);
void nn_tsne_update(double *y, double *update, double *gains, const double *grad, size_t len,
                    double momentum, double lr);

/* ---- a string-keyed counter, also a map from strings to numbers (strcount.c) ---- */
typedef struct {
    char **keys;
    uint64_t *counts;
    size_t n, cap;        /* entries, slots (a power of two) */
    size_t *order;        /* insertion order: indices into keys */
} nn_strcount;
void nn_strcount_add(nn_strcount *c, const char *key, uint64_t by);
void nn_strcount_set(nn_strcount *c, const char *key, uint64_t value);
uint64_t nn_strcount_get(const nn_strcount *c, const char *key);
void nn_strcount_free(nn_strcount *c);

/* Rows of a named matrix found by (group, label): a person's photo with an emotion. */
typedef struct {
    nn_strcount map;      /* key: the group's length, the group, the label; value: row + 1 */
} nn_row_index;
/* Adds row under (group, label) unless a row is there: returns that earlier row, else -1. */
long nn_row_index_add(nn_row_index *ix, const char *group, const char *label, size_t row);
/* Every row of m, the first of equal (group, label) kept. */
void nn_row_index_build(nn_row_index *ix, const nn_matrix *m);
long nn_row_index_find(const nn_row_index *ix, const char *group, const char *label);   /* -1: none */
void nn_row_index_free(nn_row_index *ix);

#endif
