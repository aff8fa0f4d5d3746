/* status.c — status strings, the library version and the ABI check. */
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
    case DNIC_ERR_ABI: return "the caller was compiled against another version of dnic.h";
    }
    return "unknown status";
}

int dnic_abi_version(void) { return DNIC_ABI_VERSION; }

static dnic_status size_check(const char *name, size_t caller, size_t library) {
    if (caller == library) return DNIC_OK;
    return dnic__fail(DNIC_ERR_ABI, "dnic_check_abi: sizeof(%s) is %zu bytes in the caller, %zu in the library "
                      "(DNIC_ABI_VERSION %d): rebuild against this library's dnic.h", name, caller, library,
                      DNIC_ABI_VERSION);
}

dnic_status dnic_check_abi(int abi_version, size_t sizeof_layer_desc, size_t sizeof_net_desc,
                           size_t sizeof_optim_config, size_t sizeof_iface_desc, size_t sizeof_tensor_info,
                           size_t sizeof_softmax_probe_config, size_t sizeof_softmax_probe_info,
                           size_t sizeof_blas_info, size_t sizeof_gemm_info, size_t sizeof_isa_info) {
    /* the version first: a caller of another version may pass other sizes */
    if (abi_version != DNIC_ABI_VERSION)
        return dnic__fail(DNIC_ERR_ABI, "dnic_check_abi: the caller was compiled against DNIC_ABI_VERSION %d, "
                          "the library is %d (dnic %s)", abi_version, DNIC_ABI_VERSION, DNIC_VERSION);
    const struct { const char *name; size_t caller, library; } sizes[] = {
        {"dnic_layer_desc", sizeof_layer_desc, sizeof(dnic_layer_desc)},
        {"dnic_net_desc", sizeof_net_desc, sizeof(dnic_net_desc)},
        {"dnic_optim_config", sizeof_optim_config, sizeof(dnic_optim_config)},
        {"dnic_iface_desc", sizeof_iface_desc, sizeof(dnic_iface_desc)},
        {"dnic_tensor_info", sizeof_tensor_info, sizeof(dnic_tensor_info)},
        {"dnic_softmax_probe_config", sizeof_softmax_probe_config, sizeof(dnic_softmax_probe_config)},
        {"dnic_softmax_probe_info", sizeof_softmax_probe_info, sizeof(dnic_softmax_probe_info)},
        {"dnic_blas_info_t", sizeof_blas_info, sizeof(dnic_blas_info_t)},
        {"dnic_gemm_info_t", sizeof_gemm_info, sizeof(dnic_gemm_info_t)},
        {"dnic_isa_info_t", sizeof_isa_info, sizeof(dnic_isa_info_t)},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        dnic_status st = size_check(sizes[i].name, sizes[i].caller, sizes[i].library);
        if (st != DNIC_OK) return st;
    }
    return DNIC_OK;
}
