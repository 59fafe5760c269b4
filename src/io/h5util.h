/* Small HDF5 helpers shared by the modules of src/io/ that read or write files (the writer,
 * the reader, blocks). Internal to the library: no other layer speaks HDF5. */
#ifndef TS_H5UTIL_H
#define TS_H5UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "trustsim/error.h"

/* HDF5 prints its error stack by default; a library must not print. A quiet section switches
 * the automatic printing off and restores whatever was set before. */
typedef struct ts_h5_quiet {
    H5E_auto2_t func;
    void *data;
} ts_h5_quiet;

ts_h5_quiet ts_h5_quiet_begin(void);
void ts_h5_quiet_end(ts_h5_quiet q);

/* Close any HDF5 identifier (file, group, dataset, dataspace, datatype, property list,
 * attribute) and set it to H5I_INVALID_HID; does nothing for an invalid one. The reason of a
 * failure before it stays on HDF5's error stack for ts_h5_reason. */
void ts_h5_close(hid_t *id);

/* Why the HDF5 call that just failed failed, from HDF5's error stack, into buf: the operating
 * system's reason when HDF5 recorded one ("No space left on device"), else HDF5's innermost
 * explanation ("data error detected by Fletcher32 checksum"); "HDF5 call failed" when the
 * stack says nothing. Call inside a quiet section, before any other HDF5 call. */
void ts_h5_reason(char *buf, size_t cap);

/* Open an existing HDF5 file for reading (or read-write), with the errors a user can cause
 * named: "PATH: cannot read: <reason>", "PATH: not an HDF5 file", "PATH: cannot open as
 * HDF5: <reason>". Call inside a quiet section. */
ts_status ts_h5_open(const char *path, bool write, hid_t *file, ts_error *err);
/* The same for a file image in memory (copied), read-only; name stands for the path. */
ts_status ts_h5_open_image(const void *image, size_t size, const char *name, hid_t *file,
                           ts_error *err);

/* File access for files this program writes: HDF5's format of 1.8 or later, whose object
 * headers, superblock and heaps of links carry checksums (older readers than HDF5 1.8 cannot
 * open them); `latest` also checksums the chunk indexes (HDF5 1.10 or later to read). */
hid_t ts_h5_file_access(bool latest);

/* Creation properties of a group (ts_h5_group_create) or of a file's root group
 * (ts_h5_file_create) that keep its links and attributes in its object header, which carries
 * a checksum, however many there are (HDF5 otherwise moves more than 8 into a heap whose blocks
 * carry none, and a damaged one can crash HDF5 while it lists them). */
hid_t ts_h5_group_create(void);
hid_t ts_h5_file_create(void);

/* HDF5's Fletcher-32 checksum, the function its fletcher32 filter applies to a chunk (and
 * stores after it, least significant byte first), for chunks compressed outside HDF5. */
uint32_t ts_h5_fletcher32(const void *data, size_t len);

/* The CRC-32 of n strings, each with its terminating NUL (NULL counts as ""): the checksum a
 * string dataset carries as its attribute "crc32", since HDF5 keeps the characters of
 * variable-length strings where its filters do not reach. */
uint32_t ts_h5_strings_crc32(const char *const *s, size_t n);

/* A string attribute of loc (variable or fixed length) into buf; false (buf "") when absent
 * or not a string.
 * ts_h5_fixed_string_attr refuses a variable-length one unread: its characters would come
 * from HDF5's global heap, which carries no checksum, and which HDF5 cannot always parse
 * safely when it is damaged. */
bool ts_h5_string_attr(hid_t loc, const char *name, char *buf, size_t cap);
bool ts_h5_fixed_string_attr(hid_t loc, const char *name, char *buf, size_t cap);
/* A scalar unsigned integer attribute; false when absent or not an integer. */
bool ts_h5_u64_attr(hid_t loc, const char *name, uint64_t *v);

/* The strings of a string dataset (variable or fixed length, any shape of n elements) as n
 * malloc'd copies in a malloc'd array; NULL when unreadable (the reason is on HDF5's stack
 * unless out of memory). Strings longer than max_len are refused. */
char **ts_h5_read_strings(hid_t dset, size_t n, size_t max_len);
void ts_h5_free_strings(char **s, size_t n);

#endif
