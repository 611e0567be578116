/* Option parsing: long and short options, "--opt=value", options with two arguments, options
 * and operands in any order, "--" to end options. */
#include "nn.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *current_usage = "";

void nn_usage_error(const char *usage, const char *fmt, ...)
{
    if (!usage) usage = current_usage;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", nn_prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\nTry '%s --help' for more information.\n", usage, nn_prog);
    nn_exit_now(NN_EXIT_USAGE);
}

void nn_refuse_terminal(const char *output, const char *usage, const char *what)
{
    if (strcmp(output, "-") == 0 && isatty(STDOUT_FILENO))
        nn_usage_error(usage, "refusing to write %s to a terminal (use -o FILE)", what);
}

void nn_opt_init(nn_opt_parser *p, const nn_opt *opts, const char *usage, const char *summary,
                 int argc, char **argv)
{
    memset(p, 0, sizeof *p);
    p->opts = opts;
    p->usage = usage;
    p->summary = summary;
    current_usage = usage;
    p->argc = argc;
    p->argv = argv;
    p->i = 1;
    p->pos = nn_xcalloc((size_t)argc + 1, sizeof *p->pos);
}

void nn_opt_free(nn_opt_parser *p)
{
    free(p->pos);
    p->pos = NULL;
}

static int find_long(const nn_opt_parser *p, const char *name, size_t len)
{
    for (int k = 0; p->opts[k].name; k++)
        if (strlen(p->opts[k].name) == len && memcmp(p->opts[k].name, name, len) == 0) return k;
    return -1;
}

static int find_short(const nn_opt_parser *p, char c)
{
    for (int k = 0; p->opts[k].name; k++)
        if (p->opts[k].short_name == c) return k;
    return -1;
}

/* Takes the option's arguments: `inline_arg` (from --opt=value or -xVALUE) first, then argv. */
static int take_args(nn_opt_parser *p, int k, const char *shown, const char *inline_arg)
{
    int need = p->opts[k].nargs;
    p->arg[0] = p->arg[1] = NULL;
    if (need == 0) {
        if (inline_arg) nn_usage_error(p->usage, "option '%s' takes no argument", shown);
        return k;
    }
    for (int j = 0; j < need; j++) {
        if (j == 0 && inline_arg) {
            p->arg[0] = inline_arg;
            continue;
        }
        if (p->i >= p->argc)
            nn_usage_error(p->usage, "option '%s' needs %s %s", shown,
                           need == 1 ? "an argument" : "two arguments", p->opts[k].argname);
        p->arg[j] = p->argv[p->i++];
    }
    return k;
}

static const nn_opt BUILTIN[] = {
    {"help", 'h', 0, NULL, "print this help and exit"},
    {"version", 'V', 0, NULL, "print the version and exit"},
};

static void print_option(const nn_opt *o, FILE *out)
{
    char left[96];
    int n = 0;
    if (o->short_name) n = snprintf(left, sizeof left, "-%c, ", o->short_name);
    snprintf(left + n, sizeof left - (size_t)n, "--%s%s%s", o->name, o->nargs ? " " : "",
             o->nargs ? o->argname : "");
    fprintf(out, "  %-26s %s\n", left, o->help);
}

/* -h/--help and -V/--version, which every program has: they end the program. */
_Noreturn static void builtin(const nn_opt_parser *p, int help)
{
    if (!help) nn_print_version();
    printf("usage: %s\n%s\n\nOptions:\n", p->usage, p->summary);
    for (int k = 0; p->opts[k].name; k++) print_option(&p->opts[k], stdout);
    for (int k = 0; k < 2; k++) print_option(&BUILTIN[k], stdout);
    nn_close_stdout();
    exit(NN_EXIT_OK);
}

int nn_opt_next(nn_opt_parser *p)
{
    while (p->i < p->argc) {
        char *a = p->argv[p->i++];
        if (p->only_positional || a[0] != '-' || a[1] == '\0') {
            p->pos[p->npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            p->only_positional = 1;
            continue;
        }
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            int k = find_long(p, name, len);
            for (int b = 0; k < 0 && b < 2; b++)
                if (strlen(BUILTIN[b].name) == len && memcmp(BUILTIN[b].name, name, len) == 0) {
                    if (eq) nn_usage_error(p->usage, "option '--%s' takes no argument", BUILTIN[b].name);
                    builtin(p, b == 0);
                }
            if (k < 0) nn_usage_error(p->usage, "unknown option '--%.*s'", (int)len, name);
            char shown[128];
            snprintf(shown, sizeof shown, "--%s", p->opts[k].name);
            return take_args(p, k, shown, eq ? eq + 1 : NULL);
        }
        int k = find_short(p, a[1]);
        if (k < 0 && (a[1] == 'h' || a[1] == 'V') && !a[2]) builtin(p, a[1] == 'h');
        if (k < 0) nn_usage_error(p->usage, "unknown option '-%c'", a[1]);
        if (a[2] && p->opts[k].nargs == 0)
            nn_usage_error(p->usage, "option '-%c' takes no argument (write flags apart)", a[1]);
        char shown[4] = {'-', a[1], 0, 0};
        return take_args(p, k, shown, a[2] ? a + 2 : NULL);
    }
    return -1;
}

long long nn_parse_int(const char *opt, const char *s, long long min, long long max)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        nn_usage_error(NULL, "%s: '%s' is not an integer in [%lld, %lld]", opt, s, min, max);
    return v;
}

double nn_parse_double(const char *opt, const char *s, double min, double max)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || isnan(v) || v < min || v > max)
        nn_usage_error(NULL, "%s: '%s' is not a number in [%g, %g]", opt, s, min, max);
    return v;
}

void nn_print_version(void)
{
    printf("%s (neuro-noodle) %s\n", nn_prog, NN_VERSION);
    nn_close_stdout();
    exit(NN_EXIT_OK);
}
