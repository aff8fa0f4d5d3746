// swift-tools-version:6.0
// dnic: a Swift shell (library Dnic, CLI `dnic`) over the portable C99 core
// in csrc/, which the Makefile also builds alone as libdnic.
import Foundation
import PackageDescription

// Open MPI's headers (libopenmpi-dev): where they are, the MPI transport
// (csrc/mpi, target CDnicMPI) is built and `dnic train --mpi` runs; without
// them everything else builds and tests as before.
let mpiHeaders = ["x86_64-linux-gnu", "aarch64-linux-gnu"].map { "/usr/lib/\($0)/openmpi/include/mpi.h" }
// DNIC_NO_MPI=1 builds without it even where it is (to check that build).
let haveMPI = mpiHeaders.contains { FileManager.default.fileExists(atPath: $0) }
    && ProcessInfo.processInfo.environment["DNIC_NO_MPI"] == nil
let mpiTargets: [Target] = haveMPI ? [
    .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
    .target(name: "CDnicMPI", dependencies: ["CDnic", "CMPI"], path: "csrc/mpi", publicHeadersPath: "include",
            cSettings: [.unsafeFlags(["-fopenmp", "-O2"])]),
] : []

let package = Package(
    name: "dnic",
    products: [
        .executable(name: "dnic", targets: ["DnicCLI"]),
        .library(name: "Dnic", targets: ["Dnic"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // The C core. -fopenmp must be an unsafe flag: .define("_OPENMP")
        // would compile but leave every pragma inert (silently one thread). Swift's
        // clang links LLVM's libomp (omp5); OpenBLAS's GOMP_* calls bind to
        // libomp's compatibility entry points, so one OpenMP runtime serves
        // both. -O2 keeps debug builds (and so `swift test`) usably fast.
        .target(
            name: "CDnic",
            path: "csrc",
            exclude: ["tests", "dnic.pc.in", "mpi"],
            publicHeadersPath: "include",
            cSettings: [.unsafeFlags(["-fopenmp", "-O2", "-fno-math-errno", "-fno-trapping-math"])],
            linkerSettings: [.linkedLibrary("omp5"), .linkedLibrary("m"), .linkedLibrary("dl")]
        ),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPng", path: "Sources/CPng", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .target(name: "Dnic", dependencies: ["CDnic", "CZlib", "CPng", .product(name: "Yams", package: "Yams")]
                    + (haveMPI ? ["CDnicMPI"] : [])),
        .executableTarget(
            name: "DnicCLI",
            dependencies: ["Dnic", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // DnicCLI: the CLI tests run the built `dnic` executable
        // Fuzz harness for every parser (built with -sanitize=fuzzer by `make fuzz`;
        // a normal build replays inputs given on the command line).
        .executableTarget(name: "DnicFuzz", dependencies: ["Dnic"]),
        // Hostile/: committed hostile input files, found through #filePath
        .testTarget(name: "DnicTests", dependencies: ["Dnic", "CDnic", "DnicCLI"], exclude: ["Hostile"]),
    ] + mpiTargets
)
