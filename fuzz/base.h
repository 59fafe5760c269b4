/* The base scenario of the targets that change one (see fuzz/base.c). */
#ifndef TS_FUZZ_BASE_H
#define TS_FUZZ_BASE_H

const char *fuzz_base_text(void);

#endif
