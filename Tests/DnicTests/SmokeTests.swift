import XCTest
import CDnic
@testable import Dnic

final class SmokeTests: XCTestCase {
    func testOpenMPTeamIsLargerThanOne() {
        XCTAssertEqual(dnic_has_openmp(), 1, "the Swift build of CDnic lost OpenMP")
        XCTAssertEqual(dnic_set_num_threads(2), DNIC_OK)
        XCTAssertEqual(dnic_get_num_threads(), 2)
    }
}
