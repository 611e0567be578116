/* nn-mkfaces: small drawn faces for the emotion-transfer tests. Each person has their own face
 * position, brightness and eye spacing; the emotion is a drawn feature: the mouth's curve
 * (normal flat, happy corners up, sad corners down) or an open mouth with raised brows
 * (surprised). Records "pNN.LABEL", label the emotion, group the person "pNN". */
#include "nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SIZE 24

static const char USAGE[] = "nn-mkfaces [OPTION]...";
enum { O_PERSONS, O_SEED };
static const nn_opt OPTS[] = {
    [O_PERSONS] = {"persons", 'n', 1, "N", "persons, each with every emotion (default 12)"},
    [O_SEED] = {"seed", 0, 1, "S", "seed of the persons' features (default 1)"},
    {0},
};

static const char *const EMOTIONS[] = {"normal", "happy", "sad", "surprised"};

typedef struct {
    int cx, cy, eye_gap;
    float skin;
} person;

static void dot(float *img, int x, int y, float v)
{
    if (x >= 0 && x < SIZE && y >= 0 && y < SIZE) img[y * SIZE + x] = v;
}

static void draw(float *img, const person *p, int emotion)
{
    for (int y = 0; y < SIZE; y++)
        for (int x = 0; x < SIZE; x++) {
            double u = (x - p->cx) / 9.0, v = (y - p->cy) / 10.5;
            img[y * SIZE + x] = u * u + v * v <= 1 ? p->skin : 0.1f;
        }
    for (int s = -1; s <= 1; s += 2)
        for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++) dot(img, p->cx + s * p->eye_gap + dx - (s < 0), p->cy - 3 + dy, 0.05f);
    int brow = emotion == 3 ? p->cy - 7 : p->cy - 5;
    for (int s = -1; s <= 1; s += 2)
        for (int dx = -1; dx <= 1; dx++) dot(img, p->cx + s * p->eye_gap + dx, brow, 0.2f);
    if (emotion == 3) {
        for (int dy = -2; dy <= 2; dy++)
            for (int dx = -2; dx <= 2; dx++)
                if (dx * dx + dy * dy <= 5) dot(img, p->cx + dx, p->cy + 5 + dy, 0.05f);
        return;
    }
    for (int dx = -4; dx <= 4; dx++) {
        int bend = emotion == 0 ? 0 : (dx * dx + 4) / 8;   /* 0 at the centre, 2 at the corners */
        dot(img, p->cx + dx, p->cy + 5 + (emotion == 1 ? -bend : bend), 0.05f);
    }
}

int main(int argc, char **argv)
{
    nn_init(argv[0]);
    nn_opt_parser p;
    nn_opt_init(&p, OPTS, USAGE, "Write drawn faces with emotions as a 24x24 image stream to stdout.", argc, argv);
    int persons = 12, k;
    long long seed = 1;
    while ((k = nn_opt_next(&p)) >= 0) {
        if (k == O_PERSONS) persons = (int)nn_parse_int("--persons", p.arg[0], 1, 99);
        if (k == O_SEED) seed = nn_parse_int("--seed", p.arg[0], 0, 1LL << 62);
    }
    nn_rng rng;
    nn_rng_seed(&rng, (uint64_t)seed);
    nn_header h = {0};
    uint32_t shape[3] = {SIZE, SIZE, 1};
    char err[256];
    if (nn_header_set(&h, "image", NN_F32, 3, shape, err, sizeof err) != 0) nn_die("%s", err);
    nn_writer *w = nn_create_stream("-", &h);
    float img[SIZE * SIZE];
    char id[64], group[16];
    for (int i = 0; i < persons; i++) {
        person q = {.cx = 11 + (int)nn_rng_below(&rng, 3), .cy = 11 + (int)nn_rng_below(&rng, 3),
                    .eye_gap = 3 + (int)nn_rng_below(&rng, 2), .skin = 0.55f + 0.3f * (float)nn_rng_uniform(&rng)};
        snprintf(group, sizeof group, "p%02d", i + 1);
        for (int e = 0; e < 4; e++) {
            draw(img, &q, e);
            snprintf(id, sizeof id, "%s.%s", group, EMOTIONS[e]);
            nn_put_record(w, id, EMOTIONS[e], group, img);
        }
    }
    nn_finish_stream(w);
    nn_header_free(&h);
    nn_opt_free(&p);
    return 0;
}
