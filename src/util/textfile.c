/* Whole files in and out of memory (see src/util/textfile.h). */
#include "util/textfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *ts_read_file(const char *path, int *error)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *error = errno;
        return NULL;
    }
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len - 1, f);
        if (len < cap - 1)
            break;
        char *bigger = realloc(buf, cap *= 2);
        if (!bigger)
            free(buf);
        buf = bigger;
    }
    *error = !buf ? ENOMEM : ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (*error) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

int ts_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0)
        return errno;
    const char *p = data;
    int why = 0;
    while (len > 0 && !why) {
        ssize_t n = write(fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno != EINTR) {
            why = errno;
        } else if (n == 0) {
            why = EIO;
        }
    }
    if (close(fd) != 0 && !why)
        why = errno;
    return why;
}

ts_status ts_read_text_file(const char *path, char **text, ts_error *err)
{
    int error = 0;
    *text = ts_read_file(path, &error);
    if (*text)
        return TS_OK;
    return ts_error_set(err, error == ENOMEM ? TS_ERUNTIME : TS_EINPUT, "%s: cannot read: %s", path,
                        strerror(error));
}
