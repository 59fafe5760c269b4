/* Test helpers (see support.h). */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *ts_test_source_path(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", TS_SOURCE_DIR, rel);
    return buf;
}

const char *ts_test_temp_path(const char *stem, const char *suffix)
{
    static char buf[4096];
    static int counter;
    snprintf(buf, sizeof buf, "%s-%ld-%d%s", stem, (long)getpid(), counter++, suffix);
    return buf;
}

char *ts_test_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long n = ftell(f);
    rewind(f);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}
