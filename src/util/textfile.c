/* Reading a whole text file (see src/textfile.h). */
#include "util/textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

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
