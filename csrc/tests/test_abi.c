/* test_abi.c — dnic_check_abi / DNIC_CHECK_ABI(): the caller's compiled-in
 * version and struct sizes pass; another version, or one struct of
 * another size, is DNIC_ERR_ABI with a detail naming the version or the
 * struct and both sizes. And the one layer numbering: dnic_dni_iface_at_layer
 * takes the 0-based layer where dnic_dni_iface counts from the top.
 */
#include "harness.h"

#include <string.h>

#define SIZES_BUT(field, value)                                                                                  \
    dnic_check_abi(DNIC_ABI_VERSION, sizeof(dnic_layer_desc), sizeof(dnic_net_desc), sizeof(dnic_optim_config), \
                   field == 3 ? value : sizeof(dnic_iface_desc), sizeof(dnic_tensor_info),                     \
                   sizeof(dnic_softmax_probe_config), sizeof(dnic_softmax_probe_info), sizeof(dnic_blas_info_t), \
                   sizeof(dnic_gemm_info_t), field == 9 ? value : sizeof(dnic_isa_info_t))

static void test_abi(void) {
    EXPECT(DNIC_CHECK_ABI(), DNIC_OK);
    CHECK(dnic_abi_version() == DNIC_ABI_VERSION, "library ABI %d, header %d", dnic_abi_version(), DNIC_ABI_VERSION);

    EXPECT(dnic_check_abi(DNIC_ABI_VERSION + 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), DNIC_ERR_ABI);
    CHECK(strstr(dnic_last_error(), MSG("DNIC_ABI_VERSION %d, the library is %d", DNIC_ABI_VERSION + 1,
                                        DNIC_ABI_VERSION)) != NULL, "detail: %s", dnic_last_error());

    size_t wrong = sizeof(dnic_iface_desc) - 8; /* e.g. a binding that forgot the padding before an int64 */
    EXPECT(SIZES_BUT(3, wrong), DNIC_ERR_ABI);
    CHECK(strstr(dnic_last_error(), MSG("sizeof(dnic_iface_desc) is %zu bytes in the caller, %zu in the library",
                                        wrong, sizeof(dnic_iface_desc))) != NULL, "detail: %s", dnic_last_error());
    EXPECT(SIZES_BUT(9, 1), DNIC_ERR_ABI);
    CHECK(strstr(dnic_last_error(), "sizeof(dnic_isa_info_t) is 1 bytes") != NULL, "detail: %s", dnic_last_error());
    CHECK(strcmp(dnic_status_str(DNIC_ERR_ABI), "unknown status") != 0, "DNIC_ERR_ABI has no text");
}

static void test_layer_numbering(void) {
    dnic_layer_desc L[4] = {{6, DNIC_ACT_RELU, 0}, {6, DNIC_ACT_RELU, 0}, {6, DNIC_ACT_RELU, 0},
                            {3, DNIC_ACT_IDENTITY, 0}};
    dnic_net_t *n = make_net(5, 4, L, DNIC_LOSS_SOFTMAX_CE, 4, DNIC_INIT_HE_UNIFORM, 1);
    if (!n) return;
    dnic_iface_desc ds[2];
    dnic_iface_desc_defaults(&ds[0], 0); /* given bottom first ... */
    dnic_iface_desc_defaults(&ds[1], 2);
    dnic_dni_t *dni = NULL;
    EXPECT(dnic_dni_create(&dni, n, ds, 2, 3, 1), DNIC_OK);
    if (dni) {
        /* ... numbered top first by dnic_dni_iface, by layer here */
        CHECK(dnic_dni_iface_at_layer(dni, 2) == dnic_dni_iface(dni, 0), "layer 2 is top-first index 0");
        CHECK(dnic_dni_iface_at_layer(dni, 0) == dnic_dni_iface(dni, 1), "layer 0 is top-first index 1");
        CHECK(dnic_dni_iface_index(dni, 2) == 0 && dnic_dni_iface_index(dni, 0) == 1, "indices of layers 2, 0");
        CHECK(dnic_dni_iface_index(dni, 1) == -1, "no interface on layer 1");
        CHECK(dnic_dni_iface_at_layer(dni, 1) == NULL, "no interface on layer 1");
        CHECK(strstr(dnic_last_error(), "no interface on layer 1") != NULL, "detail: %s", dnic_last_error());
        CHECK(dnic_dni_iface_at_layer(NULL, 0) == NULL, "NULL dni");
        /* the width an interface reads is its layer's (0-based from the input) */
        CHECK(dnic_iface_out_dim(dnic_dni_iface_at_layer(dni, 2)) == dnic_net_layer_width(n, 2), "width of layer 2");
        dnic_dni_free(dni);
    }
    dnic_net_free(n);
}

int main(void) {
    test_abi();
    test_layer_numbering();
    return harness_finish("abi");
}
