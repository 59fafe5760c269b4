/* Small HDF5 helpers (see src/io/h5util.h). */
#include "io/h5util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5_hl.h>
#include <libdeflate.h>

/* HDF5's own checksum, exported by every HDF5 since 1.8.7 (it declares it in a header it does
 * not install): the exact function its fletcher32 filter computes. */
extern uint32_t H5_checksum_fletcher32(const void *data, size_t len);

/* HDF5 closes the files still open when the process exits. A file whose close failed (after a
 * write failed on a full disk) is left half torn down by HDF5 1.10, and closing it again at
 * exit crashes the process after the error has been reported. The library closes every file it
 * opens, so HDF5's cleanup at exit has nothing to do: it is switched off, which HDF5 allows
 * only before its first call. */
__attribute__((constructor)) static void no_hdf5_cleanup_at_exit(void)
{
    H5dont_atexit();
}

ts_h5_quiet ts_h5_quiet_begin(void)
{
    ts_h5_quiet q = {NULL, NULL};
    H5Eget_auto2(H5E_DEFAULT, &q.func, &q.data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return q;
}

void ts_h5_quiet_end(ts_h5_quiet q)
{
    H5Eset_auto2(H5E_DEFAULT, q.func, q.data);
}

void ts_h5_close(hid_t *id)
{
    if (*id < 0)
        return;
    /* a close after a failure must not wipe the failure's reason off HDF5's error stack
     * (every HDF5 call clears it) */
    hid_t failure = H5Eget_num(H5E_DEFAULT) > 0 ? H5Eget_current_stack() : H5I_INVALID_HID;
    switch (H5Iget_type(*id)) {
    case H5I_FILE:
        H5Fclose(*id);
        break;
    case H5I_GROUP:
        H5Gclose(*id);
        break;
    case H5I_DATASET:
        H5Dclose(*id);
        break;
    case H5I_DATASPACE:
        H5Sclose(*id);
        break;
    case H5I_DATATYPE:
        H5Tclose(*id);
        break;
    case H5I_GENPROP_LST:
        H5Pclose(*id);
        break;
    case H5I_ATTR:
        H5Aclose(*id);
        break;
    default:
        break;
    }
    if (failure >= 0)
        H5Eset_current_stack(failure);
    *id = H5I_INVALID_HID;
}

/* What the walk of the error stack finds: the first errno HDF5 recorded (its file drivers
 * write "errno = N" into their descriptions), and the innermost description. */
typedef struct reason {
    int os_errno;
    char inner[256];
} reason;

static herr_t note_error(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    reason *r = data;
    const char *at = e->desc ? strstr(e->desc, "errno = ") : NULL;
    if (at && !r->os_errno)
        r->os_errno = atoi(at + 8);
    char minor[128] = "";
    if (H5Eget_msg(e->min_num, NULL, minor, sizeof minor) < 0)
        minor[0] = '\0';
    /* a driver's description of a failed system call is long (time, descriptor, buffer...):
     * its errno says it better */
    if (!at)
        snprintf(r->inner, sizeof r->inner, "%s%s%s%s", e->desc ? e->desc : "",
                 minor[0] ? " (" : "", minor, minor[0] ? ")" : "");
    return 0;
}

void ts_h5_reason(char *buf, size_t cap)
{
    reason r = {0, ""};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, note_error, &r);
    if (r.os_errno > 0)
        snprintf(buf, cap, "%s", strerror(r.os_errno));
    else
        snprintf(buf, cap, "%s", r.inner[0] ? r.inner : "HDF5 call failed");
}

ts_status ts_h5_open(const char *path, bool write, hid_t *file, ts_error *err)
{
    *file = H5I_INVALID_HID;
    if (access(path, write ? R_OK | W_OK : R_OK) != 0)
        return ts_error_set(err, TS_EINPUT, "%s: cannot %s: %s", path,
                            write ? "open for writing" : "read", strerror(errno));
#if H5_VERSION_GE(1, 12, 0)
    htri_t is_hdf5 = H5Fis_accessible(path, H5P_DEFAULT);
#else
    htri_t is_hdf5 = H5Fis_hdf5(path);
#endif
    if (is_hdf5 <= 0)
        return ts_error_set(err, TS_EINPUT, "%s: not an HDF5 file", path);
    *file = H5Fopen(path, write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*file < 0) {
        char why[256];
        ts_h5_reason(why, sizeof why);
        return ts_error_set(err, TS_EINPUT, "%s: cannot open as HDF5%s: %s", path,
                            write ? " for writing" : "", why);
    }
    return TS_OK;
}

ts_status ts_h5_open_image(const void *image, size_t size, const char *name, hid_t *file,
                           ts_error *err)
{
    /* HDF5 reads a superblock signature at offsets 0, 512, 1024, ...: fewer bytes than one
     * signature are no file at all (and an empty image is refused before HDF5 sees it) */
    *file = size >= 8 ? H5LTopen_file_image((void *)image, size, 0) : H5I_INVALID_HID;
    if (*file < 0)
        return ts_error_set(err, TS_EINPUT, "%s: not an HDF5 file", name);
    return TS_OK;
}

hid_t ts_h5_file_access(bool latest)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_libver_bounds(fapl, latest ? H5F_LIBVER_LATEST : H5F_LIBVER_V18,
                                          H5F_LIBVER_LATEST) < 0)
        ts_h5_close(&fapl);
    return fapl;
}

/* Links and attributes kept compact however many (HDF5's largest counts). */
static hid_t compact_storage(hid_t plist)
{
    if (plist >= 0 && (H5Pset_link_phase_change(plist, 65535, 65535) < 0 ||
                       H5Pset_attr_phase_change(plist, 65535, 65535) < 0))
        ts_h5_close(&plist);
    return plist;
}

hid_t ts_h5_group_create(void)
{
    return compact_storage(H5Pcreate(H5P_GROUP_CREATE));
}

hid_t ts_h5_file_create(void)
{
    return compact_storage(H5Pcreate(H5P_FILE_CREATE));
}

uint32_t ts_h5_fletcher32(const void *data, size_t len)
{
    return H5_checksum_fletcher32(data, len);
}

uint32_t ts_h5_strings_crc32(const char *const *s, size_t n)
{
    uint32_t crc = libdeflate_crc32(0, NULL, 0);
    for (size_t i = 0; i < n; i++) {
        const char *t = s[i] ? s[i] : "";
        crc = libdeflate_crc32(crc, t, strlen(t) + 1);
    }
    return crc;
}

static bool string_attr(hid_t loc, const char *name, char *buf, size_t cap, bool fixed_only)
{
    buf[0] = '\0';
    if (H5Aexists(loc, name) <= 0)
        return false;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t ftype = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    hid_t space = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
    hid_t mtype = H5I_INVALID_HID;
    bool ok = false;
    if (ftype >= 0 && space >= 0 && H5Tget_class(ftype) == H5T_STRING &&
        H5Sget_simple_extent_npoints(space) == 1 && (mtype = H5Tcopy(H5T_C_S1)) >= 0 &&
        H5Tset_cset(mtype, H5Tget_cset(ftype)) >= 0) { /* HDF5 converts no ASCII <-> UTF-8 */
        if (H5Tis_variable_str(ftype) != 0) {
            if (fixed_only)
                goto done;
            char *s = NULL;
            if (H5Tset_size(mtype, H5T_VARIABLE) >= 0 && H5Aread(a, mtype, &s) >= 0) {
                snprintf(buf, cap, "%s", s ? s : "");
                ok = true;
            }
            if (s)
                H5free_memory(s);
        } else {
            size_t size = H5Tget_size(ftype);
            char *s = size > 0 && size < ((size_t)1 << 20) ? malloc(size + 1) : NULL;
            if (s && H5Tset_size(mtype, size + 1) >= 0 &&
                H5Tset_strpad(mtype, H5T_STR_NULLTERM) >= 0 && H5Aread(a, mtype, s) >= 0) {
                s[size] = '\0';
                snprintf(buf, cap, "%s", s);
                ok = true;
            }
            free(s);
        }
    }
done:
    ts_h5_close(&mtype);
    ts_h5_close(&space);
    ts_h5_close(&ftype);
    ts_h5_close(&a);
    return ok;
}

bool ts_h5_string_attr(hid_t loc, const char *name, char *buf, size_t cap)
{
    return string_attr(loc, name, buf, cap, false);
}

bool ts_h5_fixed_string_attr(hid_t loc, const char *name, char *buf, size_t cap)
{
    return string_attr(loc, name, buf, cap, true);
}

bool ts_h5_u64_attr(hid_t loc, const char *name, uint64_t *v)
{
    if (H5Aexists(loc, name) <= 0)
        return false;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t type = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    hid_t space = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
    bool ok = type >= 0 && space >= 0 && H5Tget_class(type) == H5T_INTEGER &&
              H5Sget_simple_extent_npoints(space) == 1 && H5Aread(a, H5T_NATIVE_UINT64, v) >= 0;
    ts_h5_close(&space);
    ts_h5_close(&type);
    ts_h5_close(&a);
    return ok;
}

void ts_h5_free_strings(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

/* Variable-length strings: read as pointers HDF5 allocates, copied, released. */
static bool read_variable(hid_t dset, hid_t mtype, size_t n, size_t max_len, char **out)
{
    char **raw = calloc(n ? n : 1, sizeof *raw);
    bool ok = raw && H5Tset_size(mtype, H5T_VARIABLE) >= 0 &&
              H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0;
    for (size_t i = 0; ok && i < n; i++) {
        const char *s = raw[i] ? raw[i] : "";
        ok = strlen(s) <= max_len && (out[i] = strdup(s)) != NULL;
    }
    for (size_t i = 0; raw && i < n; i++)
        if (raw[i])
            H5free_memory(raw[i]);
    free(raw);
    return ok;
}

/* Fixed-length strings: read into one buffer of n strings of size + 1 bytes, NUL-terminated. */
static bool read_fixed(hid_t dset, hid_t ftype, hid_t mtype, size_t n, size_t max_len, char **out)
{
    size_t size = H5Tget_size(ftype);
    if (size == 0 || size > max_len || n > SIZE_MAX / (size + 1))
        return false;
    char *buf = malloc(n * (size + 1) + 1);
    bool ok = buf && H5Tset_size(mtype, size + 1) >= 0 &&
              H5Tset_strpad(mtype, H5T_STR_NULLTERM) >= 0 &&
              H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
    for (size_t i = 0; ok && i < n; i++) {
        buf[i * (size + 1) + size] = '\0';
        ok = (out[i] = strdup(buf + i * (size + 1))) != NULL;
    }
    free(buf);
    return ok;
}

char **ts_h5_read_strings(hid_t dset, size_t n, size_t max_len)
{
    hid_t ftype = H5Dget_type(dset), mtype = H5I_INVALID_HID;
    char **out = n < SIZE_MAX / sizeof(char *) ? calloc(n ? n : 1, sizeof *out) : NULL;
    bool ok = out && ftype >= 0 && H5Tget_class(ftype) == H5T_STRING &&
              (mtype = H5Tcopy(H5T_C_S1)) >= 0 && H5Tset_cset(mtype, H5Tget_cset(ftype)) >= 0;
    if (ok)
        ok = H5Tis_variable_str(ftype) > 0 ? read_variable(dset, mtype, n, max_len, out)
                                           : read_fixed(dset, ftype, mtype, n, max_len, out);
    ts_h5_close(&mtype);
    ts_h5_close(&ftype);
    if (!ok) {
        ts_h5_free_strings(out, n);
        return NULL;
    }
    return out;
}
