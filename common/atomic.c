/* Output files that appear whole or not at all. */
#include "nn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int nn_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static void unlink_tmp(void *arg)
{
    nn_atomic *a = arg;
    if (a->tmp) unlink(a->tmp);
}

int nn_atomic_open(nn_atomic *a, const char *path, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    if (nn_is_zmq(path)) {
        /* Streams go to endpoints (nn_writer_open); pictures, logs and models are files. */
        snprintf(err, errlen, "%s: this output must be a file, not a ZeroMQ endpoint", path);
        return -1;
    }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        a->fd = open(path, O_WRONLY | O_CLOEXEC);
        if (a->fd < 0) {
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
            return -1;
        }
        a->path = nn_xstrdup(path);
        return 0;
    }
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t n = strlen(path) + 32;
    a->tmp = nn_xmalloc(n);
    snprintf(a->tmp, n, "%.*s.%s.tmp.XXXXXX", (int)dirlen, path, path + dirlen);
    a->fd = mkstemp(a->tmp);
    if (a->fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        free(a->tmp);
        a->tmp = NULL;
        return -1;
    }
    a->path = nn_xstrdup(path);
    nn_at_fail(unlink_tmp, a);
    return 0;
}

int nn_atomic_commit(nn_atomic *a, char *err, size_t errlen)
{
    int rc = 0;
    if (a->tmp) {
        /* mkstemp creates 0600; give the file the mode a plain open() would have. */
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(a->fd, 0666 & ~mask) != 0) rc = -1;
    }
    if (close(a->fd) != 0) rc = -1;
    a->fd = -1;
    if (rc == 0 && a->tmp && rename(a->tmp, a->path) != 0) rc = -1;
    if (rc != 0) snprintf(err, errlen, "%s: cannot write: %s", a->path, strerror(errno));
    if (a->tmp) {
        if (rc != 0) unlink(a->tmp);
        nn_cancel_at_fail(unlink_tmp, a);
    }
    free(a->tmp);
    free(a->path);
    a->tmp = a->path = NULL;
    return rc;
}

void nn_atomic_abort(nn_atomic *a)
{
    if (a->fd >= 0) close(a->fd);
    a->fd = -1;
    if (a->tmp) {
        unlink(a->tmp);
        nn_cancel_at_fail(unlink_tmp, a);
    }
    free(a->tmp);
    free(a->path);
    a->tmp = a->path = NULL;
}
