/* nn-split: one stream in, train / val / test streams out, seeded and independent of the
 * order in which records arrive.
 *
 * Each unit (a record's id, or its group with --by group) gets a hash of the seed and its
 * name. By default units are sorted by that hash and dealt to the split furthest below its
 * share of records, which meets the ratios as closely as whole units allow; this needs the
 * counts, so a stream from a pipe is spooled to a temporary file and read twice. With
 * --streaming the hash alone picks the split, record by record, in constant memory, and the
 * ratios hold only on average. */
#include "nn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char USAGE[] = "nn-split [OPTION]... [INPUT]";
static const char SUMMARY[] =
    "Split a stream (INPUT, default -) into train, val and test streams; sizes and label\n"
    "counts are reported on stderr.";

enum { O_TRAIN, O_VAL, O_TEST, O_RATIOS, O_SEED, O_BY, O_STRATIFY, O_HOLDOUT, O_STREAMING,
       O_QUIET };
static const nn_opt OPTS[] = {
    [O_TRAIN] = {"train", 0, 1, "FILE", "write the train split to FILE"},
    [O_VAL] = {"val", 0, 1, "FILE", "write the validation split to FILE"},
    [O_TEST] = {"test", 0, 1, "FILE", "write the test split to FILE"},
    [O_RATIOS] = {"ratios", 'r', 1, "T,V,S", "shares of train, val, test (default 0.8,0.1,0.1)"},
    [O_SEED] = {"seed", 0, 1, "N", "seed of the assignment (default 0)"},
    [O_BY] = {"by", 0, 1, "id|group", "keep each group (person) whole in one split (default id)"},
    [O_STRATIFY] = {"stratify", 0, 0, NULL, "keep the label proportions in every split"},
    [O_HOLDOUT] = {"holdout", 0, 1, "G,G,...", "these groups go to the test split"},
    [O_STREAMING] = {"streaming", 0, 0, NULL, "assign record by record (constant memory, "
                                              "ratios on average)"},
    [O_QUIET] = {"quiet", 'q', 0, NULL, "do not report the splits on stderr"},
    {0},
};

enum { TRAIN, VAL, TEST, NSPLITS };
static const char *const SPLIT_NAMES[NSPLITS] = {"train", "val", "test"};

typedef struct {
    const char *out[NSPLITS];
    double ratio[NSPLITS];
    const char *ratios_arg;
    uint64_t seed;
    int by_group, stratify, streaming, quiet;
    nn_strcount holdout;            /* groups held out (count unused) */
    const char *input;
} options;

static void parse_ratios(options *o, const char *arg)
{
    double r[NSPLITS] = {0}, sum = 0;
    char *copy = nn_xstrdup(arg), *rest = copy;
    int n = 0;
    for (char *tok; (tok = strsep(&rest, ","));) {
        if (n == NSPLITS) nn_usage_error(USAGE, "--ratios: at most three shares (train,val,test)");
        r[n++] = nn_parse_double("--ratios", tok, 0, 1e9);
    }
    free(copy);
    for (int i = 0; i < NSPLITS; i++) sum += r[i];
    if (n == 0 || sum <= 0) nn_usage_error(USAGE, "--ratios: '%s' has no positive share", arg);
    for (int i = 0; i < NSPLITS; i++) o->ratio[i] = r[i] / sum;
    o->ratios_arg = arg;
}

static void parse_options(options *o, nn_opt_parser *p, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    parse_ratios(o, "0.8,0.1,0.1");
    nn_opt_init(p, OPTS, USAGE, SUMMARY, argc, argv);
    int k;
    while ((k = nn_opt_next(p)) >= 0) {
        const char *a = p->arg[0];
        switch (k) {
        case O_TRAIN: case O_VAL: case O_TEST: o->out[k - O_TRAIN] = a; break;
        case O_RATIOS: parse_ratios(o, a); break;
        case O_SEED: o->seed = (uint64_t)nn_parse_int("--seed", a, 0, INT64_MAX); break;
        case O_BY:
            if (strcmp(a, "group") == 0) o->by_group = 1;
            else if (strcmp(a, "id") == 0) o->by_group = 0;
            else nn_usage_error(USAGE, "--by: '%s' is not id or group", a);
            break;
        case O_STRATIFY: o->stratify = 1; break;
        case O_HOLDOUT: {
            char *copy = nn_xstrdup(a), *rest = copy;
            for (char *g; (g = strsep(&rest, ","));) {
                if (!*g) nn_usage_error(USAGE, "--holdout: '%s' has an empty group name", a);
                nn_strcount_add(&o->holdout, g, 1);
            }
            free(copy);
            break;
        }
        case O_STREAMING: o->streaming = 1; break;
        case O_QUIET: o->quiet = 1; break;
        }
    }
    if (p->npos > 1) nn_usage_error(USAGE, "one INPUT at most");
    o->input = p->npos ? p->pos[0] : "-";
    if (!o->out[TRAIN] && !o->out[VAL] && !o->out[TEST])
        nn_usage_error(USAGE, "no output: give --train, --val and/or --test");
    for (int i = 0; i < NSPLITS; i++)
        if (o->ratio[i] > 0 && !o->out[i])
            nn_usage_error(USAGE, "the %s share is %g but --%s is not given (set its ratio to 0 "
                                  "to drop it)", SPLIT_NAMES[i], o->ratio[i], SPLIT_NAMES[i]);
    if (o->holdout.n && !o->out[TEST]) nn_usage_error(USAGE, "--holdout needs --test");
    for (int i = 0; i < NSPLITS; i++)
        for (int j = i + 1; j < NSPLITS; j++)
            if (o->out[i] && o->out[j] && strcmp(o->out[i], o->out[j]) == 0)
                nn_usage_error(USAGE, "--%s and --%s name the same output '%s'", SPLIT_NAMES[i],
                               SPLIT_NAMES[j], o->out[i]);
    for (int i = 0; i < NSPLITS; i++)
        if (o->out[i] && strcmp(o->out[i], "-") == 0 && isatty(STDOUT_FILENO))
            nn_usage_error(USAGE, "refusing to write a binary stream to a terminal (--%s -)",
                           SPLIT_NAMES[i]);
    if (o->stratify && o->by_group)
        nn_usage_error(USAGE, "--stratify and --by group cannot both hold exactly: choose one");
    if (o->stratify && o->streaming)
        nn_usage_error(USAGE, "--stratify needs the label counts: not with --streaming");
}

/* ---------------------------------------------------------------- assignment */

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t unit_hash(uint64_t seed, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *key; key++) h = (h ^ (unsigned char)*key) * 0x100000001b3ULL;
    return mix(h ^ mix(seed + 0x9e3779b97f4a7c15ULL));
}

static const char *unit_key(const options *o, const nn_record *r)
{
    return o->by_group ? r->group : r->id;
}

/* Streaming: the hash, as a number in [0, 1), against the cumulative ratios. */
static int split_by_hash(const options *o, const char *key)
{
    double u = (double)(unit_hash(o->seed, key) >> 11) * 0x1.0p-53, edge = 0;
    for (int i = 0; i < NSPLITS; i++)
        if (u < (edge += o->ratio[i])) return i;
    return o->ratio[TEST] > 0 ? TEST : o->ratio[VAL] > 0 ? VAL : TRAIN;
}

typedef struct {
    const char *key, *label;
    uint64_t hash, records;
} unit;

static int by_hash(const void *pa, const void *pb)
{
    const unit *a = pa, *b = pb;
    if (a->hash != b->hash) return a->hash < b->hash ? -1 : 1;
    return strcmp(a->key, b->key);
}

static int by_label_then_hash(const void *pa, const void *pb)
{
    int c = strcmp(((const unit *)pa)->label, ((const unit *)pb)->label);
    return c ? c : by_hash(pa, pb);
}

/* Deals units[0..n) (sorted by hash) to the split furthest below its share of records. */
static void deal(const options *o, const unit *u, size_t n, nn_strcount *assign)
{
    uint64_t total = 0, have[NSPLITS] = {0};
    for (size_t i = 0; i < n; i++) total += u[i].records;
    for (size_t i = 0; i < n; i++) {
        int best = -1;
        double best_gap = 0;
        for (int s = 0; s < NSPLITS; s++) {
            if (o->ratio[s] <= 0) continue;
            double gap = o->ratio[s] * (double)total - (double)have[s];
            if (best < 0 || gap > best_gap) best = s, best_gap = gap;
        }
        have[best] += u[i].records;
        nn_strcount_add(assign, u[i].key, (uint64_t)best + 1);
    }
}

/* First pass: the units and their record counts. Returns the assignment: key -> split + 1. */
static void plan(const options *o, nn_reader *r, nn_writer *spool, nn_strcount *assign)
{
    nn_strcount count = {0}, unit_label = {0};
    nn_strcount labels = {0};      /* label name -> index + 1, to remember each unit's label */
    nn_strcount seen_holdout = {0};
    nn_record rec;
    while (nn_next_record(r, &rec) > 0) {
        if (spool) nn_put_record(spool, rec.id, rec.label, rec.group, rec.data);
        if (nn_strcount_get(&o->holdout, rec.group)) {
            nn_strcount_add(&seen_holdout, rec.group, 1);
            continue;
        }
        const char *key = unit_key(o, &rec);
        if (!nn_strcount_get(&labels, rec.label)) nn_strcount_add(&labels, rec.label, labels.n + 1);
        /* A unit's label for --stratify: the smallest of its records' labels, whatever their
         * order. */
        uint64_t have = nn_strcount_get(&unit_label, key), mine = nn_strcount_get(&labels, rec.label);
        if (!have || strcmp(rec.label, labels.keys[labels.order[have - 1]]) < 0)
            nn_strcount_set(&unit_label, key, mine);
        nn_strcount_add(&count, key, 1);
    }
    for (size_t i = 0; i < o->holdout.n; i++) {
        const char *g = o->holdout.keys[o->holdout.order[i]];
        if (!nn_strcount_get(&seen_holdout, g)) nn_warn("--holdout: no record has group '%s'", g);
    }
    nn_strcount_free(&seen_holdout);
    unit *u = nn_xcalloc(count.n, sizeof *u);
    for (size_t i = 0; i < count.n; i++) {
        size_t slot = count.order[i];
        u[i].key = count.keys[slot];
        u[i].records = count.counts[slot];
        u[i].hash = unit_hash(o->seed, u[i].key);
        u[i].label = labels.keys[labels.order[nn_strcount_get(&unit_label, u[i].key) - 1]];
    }
    qsort(u, count.n, sizeof *u, o->stratify ? by_label_then_hash : by_hash);
    for (size_t i = 0, j; i < count.n; i = j) {
        j = i + 1;
        while (o->stratify && j < count.n && strcmp(u[j].label, u[i].label) == 0) j++;
        if (!o->stratify) j = count.n;
        deal(o, u + i, j - i, assign);
    }
    free(u);
    nn_strcount_free(&count);
    nn_strcount_free(&unit_label);
    nn_strcount_free(&labels);
}

/* ---------------------------------------------------------------- output */

typedef struct {
    nn_writer *out[NSPLITS];
    nn_strcount labels[NSPLITS], groups[NSPLITS];
    uint64_t records[NSPLITS];
} outputs;

static void open_outputs(const options *o, outputs *w, const nn_header *in, int argc, char **argv)
{
    memset(w, 0, sizeof *w);
    for (int s = 0; s < NSPLITS; s++) {
        if (!o->out[s]) continue;
        nn_header h;
        nn_header_copy(&h, in);
        nn_meta *m = nn_meta_new();
        nn_meta_provenance(m, argc, argv, in);
        nn_meta_str(m, "split", SPLIT_NAMES[s]);
        nn_meta_int(m, "seed", (long long)o->seed);
        nn_meta_str(m, "ratios", o->ratios_arg);
        nn_meta_str(m, "by", o->by_group ? "group" : "id");
        nn_meta_finish(m, &h);
        w->out[s] = nn_create_stream(o->out[s], &h);
        nn_header_free(&h);
    }
}

static void put(const options *o, outputs *w, int s, const nn_record *r)
{
    if (!o->out[s]) return;
    nn_put_record(w->out[s], r->id, r->label, r->group, r->data);
    nn_strcount_add(&w->labels[s], r->label, 1);
    nn_strcount_add(&w->groups[s], r->group, 1);
    w->records[s]++;
}

static int split_of(const options *o, const nn_strcount *assign, const nn_record *r)
{
    if (nn_strcount_get(&o->holdout, r->group)) return TEST;
    if (o->streaming) return split_by_hash(o, unit_key(o, r));
    int s = (int)nn_strcount_get(assign, unit_key(o, r)) - 1;
    if (s < 0) nn_die("%s: changed between the two passes (record '%s' is new)", o->input, r->id);
    return s;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line a split: records, groups, and the count of each label, labels sorted by name. */
static void report(const outputs *w)
{
    for (int s = 0; s < NSPLITS; s++) {
        const nn_strcount *c = &w->labels[s];
        fprintf(stderr, "%s: %-5s %6llu records %5zu groups ", nn_prog, SPLIT_NAMES[s],
                (unsigned long long)w->records[s], w->groups[s].n);
        char **names = nn_xcalloc(c->n, sizeof *names);
        for (size_t i = 0; i < c->n; i++) names[i] = c->keys[c->order[i]];
        qsort(names, c->n, sizeof *names, by_name);
        for (size_t i = 0; i < c->n; i++)
            fprintf(stderr, "%s%s %llu", i ? ", " : " ", names[i],
                    (unsigned long long)nn_strcount_get(c, names[i]));
        free(names);
        fputc('\n', stderr);
    }
}

/* A stream that can be read twice: the input itself when it is a regular file, otherwise a
 * spool of it in an unlinked temporary file. */
static int seekable(const char *path)
{
    struct stat st;
    return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static nn_writer *open_spool(const nn_header *h, int *fd)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/nn-split.XXXXXX", dir);
    *fd = mkstemp(path);
    if (*fd < 0) nn_die("%s: cannot create a spool file: %s", path, strerror(errno));
    unlink(path);
    nn_writer *w = nn_writer_fd(*fd, "spool");
    if (nn_write_header(w, h) != 0) nn_die("%s", nn_writer_error(w));
    return w;
}

int main(int argc, char **argv)
{
    nn_init(argv[0]);
    options o;
    nn_opt_parser p;
    parse_options(&o, &p, argc, argv);
    nn_header h = {0};
    nn_reader *r = nn_open_stream(o.input, &h);
    nn_strcount assign = {0};
    if (!o.streaming) {
        int fd = -1;
        nn_writer *spool = seekable(o.input) ? NULL : open_spool(&h, &fd);
        plan(&o, r, spool, &assign);
        if (nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
        nn_reader_close(r);
        if (spool) {
            if (nn_writer_close(spool) != 0) nn_die("%s", nn_writer_error(spool));
            lseek(fd, 0, SEEK_SET);
            r = nn_reader_fd(fd, o.input);
        } else
            r = nn_reader_open(o.input, NULL, 0);
        nn_header again = {0};
        char why[300];
        if (!r || nn_read_header(r, &again) <= 0) nn_die("%s: cannot read it again", o.input);
        if (nn_header_compatible(&h, &again, why, sizeof why) != 0)
            nn_die("%s: changed between the two passes: %s", o.input, why);
        nn_header_free(&again);
    }
    outputs w;
    open_outputs(&o, &w, &h, argc, argv);
    nn_record rec;
    while (nn_next_record(r, &rec) > 0) put(&o, &w, split_of(&o, &assign, &rec), &rec);
    if (nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
    for (int s = 0; s < NSPLITS; s++)
        if (w.out[s]) nn_finish_stream(w.out[s]);
    if (!o.quiet) report(&w);

    for (int s = 0; s < NSPLITS; s++) {
        nn_strcount_free(&w.labels[s]);
        nn_strcount_free(&w.groups[s]);
    }
    nn_strcount_free(&assign);
    nn_strcount_free(&o.holdout);
    nn_reader_close(r);
    nn_header_free(&h);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
