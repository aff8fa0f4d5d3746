import CDnic
import Foundation
import XCTest
@testable import Dnic

/// A C call's failure reaches a Swift message with the core's detail
/// (dnic_last_error): which argument, its value and what is allowed, one
/// line, without the C function names.
final class CoreErrorDetailTests: XCTestCase {
    /// A network description whose output layer is relu: the C core refuses
    /// it, and the message says which layer and why.
    func testCreateFailureCarriesTheDetail() throws {
        var layers = [dnic_layer_desc(width: 4, act: DNIC_ACT_RELU, batchnorm: 0),
                      dnic_layer_desc(width: 3, act: DNIC_ACT_RELU, batchnorm: 0)]
        var desc = dnic_net_desc()
        dnic_net_desc_defaults(&desc)
        desc.input_dim = 5
        desc.n_layers = 2
        desc.max_batch = 4
        var net: OpaquePointer?
        let status = layers.withUnsafeMutableBufferPointer { buffer -> dnic_status in
            desc.layers = UnsafePointer(buffer.baseAddress)
            return dnic_net_create(&net, &desc, 1)
        }
        XCTAssertNil(net)
        XCTAssertThrowsError(try DnicError.check(status, "creating the network")) { error in
            let message = (error as? DnicError)?.message ?? ""
            XCTAssertTrue(message.hasPrefix("creating the network: an argument is out of range (layers[1].act = 1: "
                                            + "the output layer's activation must be DNIC_ACT_IDENTITY"), message)
            XCTAssertFalse(message.contains("dnic_net_create"), message)
            XCTAssertFalse(message.contains("\n"), message)
            XCTAssertEqual((error as? DnicError)?.status, DNIC_ERR_ARG)
        }
    }

    /// A pipeline block's nested detail loses every C function name.
    func testNestedFunctionNamesAreDropped() {
        XCTAssertEqual(DnicError.userDetail("dnic_pipe_tick: block 1: dnic_loss_forward_backward: labels[2] = 40 is outside 0..3"),
                       "block 1: labels[2] = 40 is outside 0..3")
        XCTAssertEqual(DnicError.userDetail("dnic_iface_write_signal (PRED): B = 8 but the last forward had 4 rows"),
                       "B = 8 but the last forward had 4 rows")
        XCTAssertEqual(DnicError.userDetail(""), "")
    }
}
