/* nn-render: pictures of streams. One subcommand per picture; see stages/render/. */
#include "render/render.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name, *what;
    int (*run)(int, char **);
} COMMANDS[] = {
    {"scatter", "a map of 2-D points, coloured by label or group, with a legend", render_scatter},
    {"thumbs", "the images drawn at their points, one a grid cell", render_thumbs},
    {"grid", "images in rows and columns, with captions", render_grid},
    {"curves", "training curves from nn-vae-train's metrics log", render_curves},
    {"html", "an interactive map in one self-contained HTML file", render_html},
    {"projector", "a folder for TensorFlow's Embedding Projector", render_projector},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: nn-render COMMAND [OPTION]... [FILE]...\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) fprintf(out, "  %-9s %s\n", COMMANDS[i].name, COMMANDS[i].what);
    fprintf(out, "Run 'nn-render COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    nn_init(argv[0]);
    if (argc < 2) {
        fprintf(stderr, "nn-render: no COMMAND given\n");
        usage(stderr);
        nn_exit_now(NN_EXIT_USAGE);
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        nn_close_stdout();
        return NN_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) nn_print_version();
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], COMMANDS[i].name) == 0) return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "nn-render: unknown command '%s'\n", argv[1]);
    usage(stderr);
    nn_exit_now(NN_EXIT_USAGE);
}
