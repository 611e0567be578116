/* nn-cat: concatenate, inspect, filter and export nn-streams. */
#include "nn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] = "nn-cat [OPTION]... [FILE]...";
static const char SUMMARY[] =
    "Concatenate nn-streams (FILE, or - for standard input; default -) to one stream, or\n"
    "print their header and label counts, print records as JSON, or export to NumPy.";

enum { O_OUTPUT, O_INFO, O_JSON, O_DATA, O_HEAD, O_FILTER, O_TO, O_PROGRESS };
static const nn_opt OPTS[] = {
    [O_OUTPUT] = {"output", 'o', 1, "FILE", "write the stream to FILE (default -, stdout)"},
    [O_INFO] = {"info", 0, 0, NULL, "print the header, record count and counts per label"},
    [O_JSON] = {"json", 0, 0, NULL, "print one JSON object per record"},
    [O_DATA] = {"data", 0, 0, NULL, "with --json, include the tensor values"},
    [O_HEAD] = {"head", 'n', 1, "N", "stop after N records (after filtering)"},
    [O_FILTER] = {"filter", 'f', 1, "FIELD=VALUE",
                  "keep records whose id, label or group is VALUE; repeatable"},
    [O_TO] = {"to", 0, 2, "npy FILE",
              "write the tensors to FILE (.npy) and id, label, group to a .tsv beside it"},
    [O_PROGRESS] = {"progress", 0, 0, NULL, "show progress on stderr even if not a terminal"},
    {0},
};

enum mode { MODE_STREAM, MODE_INFO, MODE_JSON, MODE_NPY };
enum { FIELD_ID, FIELD_LABEL, FIELD_GROUP, NFIELDS };
static const char *const FIELD_NAMES[NFIELDS] = {"id", "label", "group"};

typedef struct {
    enum mode mode;
    const char *output;
    const char *npy_path;
    int with_data;
    long long head;                 /* -1: no limit */
    const char **filter[NFIELDS];   /* accepted values per field; NULL: any */
    int nfilter[NFIELDS];
    char **inputs;
    int ninputs;
} options;

static void set_mode(options *o, enum mode m)
{
    if (o->mode != MODE_STREAM && o->mode != m)
        nn_usage_error(USAGE, "--info, --json and --to exclude each other");
    o->mode = m;
}

static void add_filter(options *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    for (int f = 0; eq && f < NFIELDS; f++)
        if (strlen(FIELD_NAMES[f]) == (size_t)(eq - arg) &&
            strncmp(arg, FIELD_NAMES[f], (size_t)(eq - arg)) == 0) {
            o->filter[f] = nn_xrealloc(o->filter[f], (size_t)(o->nfilter[f] + 1) * sizeof(char *));
            o->filter[f][o->nfilter[f]++] = eq + 1;
            return;
        }
    nn_usage_error(USAGE, "--filter: '%s' is not FIELD=VALUE with FIELD id, label or group", arg);
}

static void parse_options(options *o, nn_opt_parser *p, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->output = "-";
    o->head = -1;
    nn_opt_init(p, OPTS, USAGE, SUMMARY, argc, argv);
    int k;
    while ((k = nn_opt_next(p)) >= 0) {
        switch (k) {
        case O_OUTPUT: o->output = p->arg[0]; break;
        case O_INFO: set_mode(o, MODE_INFO); break;
        case O_JSON: set_mode(o, MODE_JSON); break;
        case O_DATA: o->with_data = 1; break;
        case O_HEAD: o->head = nn_parse_int("--head", p->arg[0], 0, (long long)1 << 62); break;
        case O_FILTER: add_filter(o, p->arg[0]); break;
        case O_TO:
            if (strcmp(p->arg[0], "npy") != 0)
                nn_usage_error(USAGE, "--to: unknown format '%s' (known: npy)", p->arg[0]);
            set_mode(o, MODE_NPY);
            o->npy_path = p->arg[1];
            break;
        case O_PROGRESS: nn_progress_forced = 1; break;
        }
    }
    if (o->with_data && o->mode != MODE_JSON) nn_usage_error(USAGE, "--data needs --json");
    if (strcmp(o->output, "-") != 0 && o->mode != MODE_STREAM)
        nn_usage_error(USAGE, "--output applies to stream output, not --info, --json or --to");
    static char *stdin_only[] = {"-"};
    o->inputs = p->npos ? p->pos : stdin_only;
    o->ninputs = p->npos ? p->npos : 1;
    for (int i = 0, dashes = 0; i < o->ninputs; i++)
        if (strcmp(o->inputs[i], "-") == 0 && ++dashes > 1)
            nn_usage_error(USAGE, "standard input (-) can be read only once");
    if (o->mode == MODE_STREAM && strcmp(o->output, "-") == 0 && isatty(STDOUT_FILENO))
        nn_usage_error(USAGE, "refusing to write a binary stream to a terminal "
                              "(use --info, --json, or -o FILE)");
}

static int keep(const options *o, const nn_record *r)
{
    const char *v[NFIELDS] = {r->id, r->label, r->group};
    for (int f = 0; f < NFIELDS; f++) {
        if (!o->nfilter[f]) continue;
        int any = 0;
        for (int i = 0; i < o->nfilter[f] && !any; i++) any = strcmp(v[f], o->filter[f][i]) == 0;
        if (!any) return 0;
    }
    return 1;
}

/* Where the kept records go: one of the four outputs. */
typedef struct {
    const options *o;
    nn_header hdr;
    nn_writer *stream;
    nn_npy *npy;
    nn_atomic tsv_file;
    FILE *tsv;
    nn_strcount labels, groups;
    uint64_t records, streams;
} sink;

static char *tsv_path(const char *npy)
{
    size_t n = strlen(npy);
    char *p = nn_xmalloc(n + 5);
    if (n > 4 && strcmp(npy + n - 4, ".npy") == 0) n -= 4;
    memcpy(p, npy, n);
    strcpy(p + n, ".tsv");
    return p;
}

static void tsv_field(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\t') fputs("\\t", f);
        else if (*s == '\n') fputs("\\n", f);
        else if (*s == '\r') fputs("\\r", f);
        else if (*s == '\\') fputs("\\\\", f);
        else fputc(*s, f);
    }
}

static void sink_open(sink *s, const options *o, const nn_header *h)
{
    memset(s, 0, sizeof *s);
    s->o = o;
    nn_header_copy(&s->hdr, h);
    char err[640];
    if (o->mode == MODE_STREAM) s->stream = nn_create_stream(o->output, h);
    if (o->mode != MODE_NPY) return;
    if (!(s->npy = nn_npy_create(o->npy_path, h, err, sizeof err))) nn_die("%s", err);
    char *path = tsv_path(o->npy_path);
    if (nn_atomic_open(&s->tsv_file, path, err, sizeof err) != 0) nn_die("%s", err);
    free(path);
    s->tsv = fdopen(dup(s->tsv_file.fd), "w");
    if (!s->tsv) nn_die("%s: %s", s->tsv_file.path, strerror(errno));
    fputs("id\tlabel\tgroup\n", s->tsv);
}

static void json_record(const sink *s, const nn_record *r)
{
    fputs("{\"id\":", stdout);
    nn_json_string(stdout, r->id, r->id_len);
    fputs(",\"label\":", stdout);
    nn_json_string(stdout, r->label, r->label_len);
    fputs(",\"group\":", stdout);
    nn_json_string(stdout, r->group, r->group_len);
    fputs(",\"shape\":[", stdout);
    for (int i = 0; i < s->hdr.ndim; i++) printf(i ? ",%u" : "%u", s->hdr.shape[i]);
    putchar(']');
    if (s->o->with_data) {
        fputs(",\"data\":[", stdout);
        for (size_t i = 0; i < s->hdr.count; i++) {
            if (i) putchar(',');
            if (s->hdr.dtype == NN_F32) nn_json_number(stdout, r->f32[i]);
            else printf("%u", r->u8[i]);
        }
        putchar(']');
    }
    fputs("}\n", stdout);
}

static void sink_put(sink *s, const nn_record *r)
{
    switch (s->o->mode) {
    case MODE_STREAM: nn_put_record(s->stream, r->id, r->label, r->group, r->data); break;
    case MODE_JSON:
        json_record(s, r);
        if (ferror(stdout)) nn_die("stdout: write error: %s", strerror(errno));
        break;
    case MODE_INFO:
        nn_strcount_add(&s->labels, r->label, 1);
        nn_strcount_add(&s->groups, r->group, 1);
        break;
    case MODE_NPY: {
        char err[640];
        if (nn_npy_append(s->npy, r->data) != 0) {
            nn_npy_close(s->npy, err, sizeof err);   /* fails, with the write error's message */
            nn_die("%s", err);
        }
        tsv_field(s->tsv, r->id);
        fputc('\t', s->tsv);
        tsv_field(s->tsv, r->label);
        fputc('\t', s->tsv);
        tsv_field(s->tsv, r->group);
        fputc('\n', s->tsv);
        break;
    }
    }
    s->records++;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_info(const sink *s)
{
    const nn_header *h = &s->hdr;
    char shape[128];
    nn_shape_str(h, shape, sizeof shape);
    printf("inputs:  ");
    for (int i = 0; i < s->o->ninputs; i++) printf(" %s", s->o->inputs[i]);
    printf("\nformat:   nn-stream version %d\nkind:     %s\ndtype:    %s\n", h->version, h->kind,
           nn_dtype_name(h->dtype));
    printf("shape:    %s (%zu values, %zu bytes a record)\nmeta:     ", shape, h->count, h->nbytes);
    nn_json_packed(stdout, h->meta, h->meta_len);
    printf("\nstreams:  %llu\nrecords:  %llu\ngroups:   %zu\nlabels:   %zu\n",
           (unsigned long long)s->streams, (unsigned long long)s->records, s->groups.n,
           s->labels.n);
    const char **keys = nn_xcalloc(s->labels.n, sizeof *keys);
    for (size_t i = 0; i < s->labels.n; i++) keys[i] = s->labels.keys[s->labels.order[i]];
    qsort(keys, s->labels.n, sizeof *keys, by_key);
    for (size_t i = 0; i < s->labels.n; i++)
        printf("  %10llu  %s\n", (unsigned long long)nn_strcount_get(&s->labels, keys[i]),
               keys[i]);
    free(keys);
}

static void sink_close(sink *s)
{
    char err[640];
    switch (s->o->mode) {
    case MODE_STREAM: nn_finish_stream(s->stream); break;
    case MODE_INFO: print_info(s); /* fall through */
    case MODE_JSON: nn_close_stdout(); break;
    case MODE_NPY: {
        /* The .tsv is committed first: the .npy, the file users load, appears last. */
        int failed = ferror(s->tsv);
        if (fclose(s->tsv) != 0 || failed)
            nn_die("%s: write error: %s", s->tsv_file.path, strerror(errno ? errno : EIO));
        if (nn_atomic_commit(&s->tsv_file, err, sizeof err) != 0) nn_die("%s", err);
        if (nn_npy_close(s->npy, err, sizeof err) != 0) nn_die("%s", err);
        break;
    }
    }
    nn_strcount_free(&s->labels);
    nn_strcount_free(&s->groups);
    nn_header_free(&s->hdr);
}

static void check_compatible(const nn_header *first, const char *first_name, nn_reader *r,
                             const nn_header *h)
{
    char why[300], where[40] = "";
    if (nn_header_compatible(first, h, why, sizeof why) == 0) return;
    if (nn_reader_streams(r) > 1)
        snprintf(where, sizeof where, "stream %llu: ", (unsigned long long)nn_reader_streams(r));
    nn_die("%s: %sheader: %s of %s (streams to concatenate must agree)", nn_reader_name(r), where,
           why, first_name);
}

/* Copies every stream of one input (its first header already read) into the sink; returns 1
 * once --head is reached. */
static int copy_input(sink *s, nn_reader *r, const nn_header *first, const char *first_name,
                      nn_progress *prog)
{
    const options *o = s->o;
    nn_record rec;
    nn_header next = {0};
    int done = 0;
    while (1) {
        s->streams++;
        done = o->head >= 0 && s->records >= (uint64_t)o->head;
        while (!done && nn_next_record(r, &rec) > 0) {
            if (keep(o, &rec)) sink_put(s, &rec);
            done = o->head >= 0 && s->records >= (uint64_t)o->head;
            nn_progress_update(prog, s->records);
        }
        if (done) break;
        int rc = nn_read_header(r, &next);
        if (rc < 0) nn_die("%s", nn_reader_error(r));
        if (rc == 0) break;
        check_compatible(first, first_name, r, &next);
    }
    nn_header_free(&next);
    return done;
}

int main(int argc, char **argv)
{
    nn_init(argv[0]);
    options o;
    nn_opt_parser p;
    parse_options(&o, &p, argc, argv);

    /* Every input's first header is read before any record is written, so a mismatch between
     * inputs loses nothing. */
    nn_reader **in = nn_xcalloc((size_t)o.ninputs, sizeof *in);
    nn_header *hdr = nn_xcalloc((size_t)o.ninputs, sizeof *hdr);
    for (int i = 0; i < o.ninputs; i++) {
        in[i] = nn_open_stream(o.inputs[i], &hdr[i]);
        if (i) check_compatible(&hdr[0], o.inputs[0], in[i], &hdr[i]);
    }
    sink s;
    sink_open(&s, &o, &hdr[0]);
    nn_progress prog;
    nn_progress_start(&prog, "records", 0);
    for (int i = 0; i < o.ninputs && !copy_input(&s, in[i], &hdr[0], o.inputs[0], &prog); i++)
        ;
    nn_progress_end(&prog, s.records);
    sink_close(&s);
    for (int i = 0; i < o.ninputs; i++) {
        nn_reader_close(in[i]);
        nn_header_free(&hdr[i]);
    }
    free(in);
    free(hdr);
    for (int f = 0; f < NFIELDS; f++) free(o.filter[f]);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
