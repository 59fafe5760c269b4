/* Small HDF5 helpers (see src/h5util.h). */
#include "io/h5util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    *id = H5I_INVALID_HID;
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
    if (*file < 0)
        return ts_error_set(err, TS_EINPUT, "%s: cannot open as HDF5%s", path,
                            write ? " for writing" : "");
    return TS_OK;
}

char *ts_h5_read_string(hid_t loc, const char *group, const char *name)
{
    if (H5Lexists(loc, group, H5P_DEFAULT) <= 0)
        return NULL;
    hid_t g = H5Gopen2(loc, group, H5P_DEFAULT), d = H5I_INVALID_HID, t = H5Tcopy(H5T_C_S1);
    char *s = NULL, *copy = NULL;
    if (g >= 0 && H5Lexists(g, name, H5P_DEFAULT) > 0 &&
        (d = H5Dopen2(g, name, H5P_DEFAULT)) >= 0 && t >= 0 &&
        H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
        H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0 && s) {
        copy = strdup(s);
        H5free_memory(s);
    }
    ts_h5_close(&t);
    ts_h5_close(&d);
    ts_h5_close(&g);
    return copy;
}
