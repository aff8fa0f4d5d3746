/* status.c — status strings and the library version. */
#include "base/internal.h"

const char *dnic_version(void) { return DNIC_VERSION; }

const char *dnic_status_str(dnic_status s) {
    switch (s) {
    case DNIC_OK: return "ok";
    case DNIC_ERR_NULL: return "a required pointer was NULL";
    case DNIC_ERR_SIZE: return "a size or count is zero, negative or too large";
    case DNIC_ERR_ARG: return "an argument is out of range";
    case DNIC_ERR_BATCH_TOO_LARGE: return "batch is larger than the network's max_batch";
    case DNIC_ERR_NOMEM: return "out of memory";
    case DNIC_ERR_LABEL: return "a label is outside the class range, or a target outside what the loss takes";
    case DNIC_ERR_NONFINITE: return "a value is NaN or infinite";
    case DNIC_ERR_STATE: return "call out of order";
    case DNIC_ERR_UNAVAILABLE: return "the library this needs cannot be loaded";
    case DNIC_ERR_PEER: return "another rank of the run failed, disagrees or went silent";
    }
    return "unknown status";
}
