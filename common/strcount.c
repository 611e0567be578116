/* Counting strings (labels, groups): open addressing with linear probing, FNV-1a hashing. */
#include "nn.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static size_t slot(const nn_strcount *c, const char *key)
{
    size_t i = (size_t)hash(key) & (c->cap - 1);
    while (c->keys[i] && strcmp(c->keys[i], key) != 0) i = (i + 1) & (c->cap - 1);
    return i;
}

static void rehash(nn_strcount *c)
{
    nn_strcount old = *c;
    c->cap = old.cap ? 2 * old.cap : 16;
    c->keys = nn_xcalloc(c->cap, sizeof *c->keys);
    c->counts = nn_xcalloc(c->cap, sizeof *c->counts);
    c->order = nn_xmalloc(c->cap * sizeof *c->order);
    for (size_t k = 0; k < c->n; k++) {
        size_t i = slot(c, old.keys[old.order[k]]);
        c->keys[i] = old.keys[old.order[k]];
        c->counts[i] = old.counts[old.order[k]];
        c->order[k] = i;
    }
    free(old.keys);
    free(old.counts);
    free(old.order);
}

void nn_strcount_add(nn_strcount *c, const char *key, uint64_t by)
{
    if (2 * (c->n + 1) > c->cap) rehash(c);
    size_t i = slot(c, key);
    if (!c->keys[i]) {
        c->keys[i] = nn_xstrdup(key);
        c->order[c->n++] = i;
    }
    c->counts[i] += by;
}

void nn_strcount_set(nn_strcount *c, const char *key, uint64_t value)
{
    nn_strcount_add(c, key, 0);
    c->counts[slot(c, key)] = value;
}

uint64_t nn_strcount_get(const nn_strcount *c, const char *key)
{
    if (!c->cap) return 0;
    size_t i = slot(c, key);
    return c->keys[i] ? c->counts[i] : 0;
}

void nn_strcount_free(nn_strcount *c)
{
    for (size_t i = 0; i < c->cap; i++) free(c->keys[i]);
    free(c->keys);
    free(c->counts);
    free(c->order);
    memset(c, 0, sizeof *c);
}
