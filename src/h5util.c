/* Small HDF5 helpers (see src/h5util.h). */
#include "h5util.h"

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
