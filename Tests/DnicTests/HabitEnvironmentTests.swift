import Foundation
import XCTest
@testable import Dnic

/// The OpenMP environment as users leave it: junk, empty, or far more
/// threads than the machine has. dnic checks each variable its OpenMP
/// runtimes read before they see it: junk or empty → one warning line and
/// the runtime's default, a thread count above the CPUs dnic may run on →
/// capped with one warning line. It used to abort inside libomp (53-line
/// report), hang in omp_set_num_threads, or start ~32,000 threads.
final class HabitEnvironmentTests: XCTestCase {
    static let tiny = ["train", "--data", "synth:xor-2d", "--hidden", "1", "--width", "8", "--steps", "20"]

    /// "test accuracy 0.7 (test loss 0.5)": the result, without timings.
    func result(_ stdout: String) -> String? {
        guard let line = stdout.split(separator: "\n").last(where: { $0.hasPrefix("test accuracy") }),
              let end = line.firstIndex(of: ")") else { return nil }
        return String(line[...end])
    }

    func testJunkThreadCountsWarnOnceAndTrainAsWithout() throws {
        let reference = try Habit.run(Self.tiny + ["--threads", "1"], env: ["OMP_NUM_THREADS": nil], seconds: 60)
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let expected = try XCTUnwrap(result(reference.stdout))
        for value in ["abc", "", "-1", "0", "+2", "2,abc", "1,", " "] {
            for threads in [["--threads", "1"], []] {
                let r = try Habit.run(Self.tiny + threads, env: ["OMP_NUM_THREADS": value], seconds: 60)
                let what = "OMP_NUM_THREADS='\(value)' \(threads)"
                XCTAssertEqual(r.status, 0, "\(what): \(r.stderr)")
                XCTAssertEqual(Habit.lines(r.stderr).count, 1, "\(what): \(r.stderr)")
                XCTAssertTrue(r.stderr.hasPrefix("dnic: warning: OMP_NUM_THREADS") && r.stderr.contains("ignoring it"), "\(what): \(r.stderr)")
                if threads.isEmpty { XCTAssertNotNil(result(r.stdout), what) } else { XCTAssertEqual(result(r.stdout), expected, what) }
            }
        }
    }

    /// A count above the CPUs is capped at them, per nesting level: never
    /// more threads than CPUs from the environment. The bound follows the
    /// affinity mask (taskset).
    func testHugeThreadCountIsCappedAtTheCPUs() throws {
        let cpus = OpenMPEnvironment.usableCPUs()
        let r = try Habit.run(Self.tiny, env: ["OMP_NUM_THREADS": "99999"], seconds: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(Habit.lines(r.stderr), ["dnic: warning: OMP_NUM_THREADS=99999 asks for more threads than the \(cpus) CPU(s) dnic may run on; using \(cpus)"])
        XCTAssertTrue(r.stdout.contains(", \(cpus) thread(s),"), r.stdout)
        let info = try Habit.run(["info"], env: ["OMP_NUM_THREADS": "99999,7"], wrapper: ["/usr/bin/taskset", "-c", "0"], seconds: 60)
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertEqual(Habit.lines(info.stderr), ["dnic: warning: OMP_NUM_THREADS=99999,7 asks for more threads than the 1 CPU(s) dnic may run on; using 1,1"])
        XCTAssertTrue(info.stdout.contains("openmp: yes, threads 1\n"), info.stdout)
    }

    /// Every variable dnic handles, with junk: exit 0, exactly one line
    /// naming it, and the run trains. Several of these crashed libomp
    /// (KMP_GTID_MODE, KMP_FORCE_REDUCTION, KMP_FORKJOIN_BARRIER,
    /// KMP_CPUINFO_FILE, OMP_STACKSIZE=100G, …) or made it print lines of
    /// its own.
    func testEveryOpenMPVariableWithJunkWarnsOnce() throws {
        var cases = OpenMPEnvironment.rules.keys.sorted().map { name in
            (name, OpenMPEnvironment.rules[name] == .text ? "" : "abc")
        }
        cases += [("OMP_STACKSIZE", "100G"), ("OMP_SCHEDULE", "static,0"), ("OMP_DYNAMIC", "1"), ("KMP_GTID_MODE", "0"),
                  ("KMP_FORCE_REDUCTION", "abc"), ("KMP_FORKJOIN_BARRIER", ""), ("KMP_CPUINFO_FILE", "abc"),
                  ("KMP_ADAPTIVE_LOCK_PROPS", ""), ("KMP_SPIN_BACKOFF_PARAMS", "")]
        for (name, value) in cases {
            let r = try Habit.run(Self.tiny + ["--threads", "1"], env: [name: value], seconds: 60)
            XCTAssertEqual(r.status, 0, "\(name)='\(value)': \(r.stderr)")
            XCTAssertEqual(Habit.lines(r.stderr).count, 1, "\(name)='\(value)': \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("dnic: warning: \(name)"), "\(name)='\(value)': \(r.stderr)")
            XCTAssertNotNil(result(r.stdout), "\(name)='\(value)' trained")
        }
    }

    /// Valid settings pass silently (both runtimes take them as tidied).
    func testValidOpenMPSettingsPassSilently() throws {
        let valid = ["OMP_NUM_THREADS": " 1 , 1 ", "OMP_PROC_BIND": "close, spread", "OMP_SCHEDULE": "static, 4",
                     "OMP_DYNAMIC": " false ", "OMP_STACKSIZE": "4 M", "OMP_PLACES": "cores", "OMP_WAIT_POLICY": "PASSIVE",
                     "GOMP_SPINCOUNT": "10k", "KMP_BLOCKTIME": "0",
                     "OMP_MAX_ACTIVE_LEVELS": "1", "OMP_THREAD_LIMIT": "99999",
                     "KMP_INIT_AT_FORK": "FALSE"]  // what libomp leaves in a forked child's environment
        let r = try Habit.run(Self.tiny + ["--threads", "1"], env: valid, seconds: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        XCTAssertNotNil(result(r.stdout))
    }

    /// The grammar itself: what is tidied, capped, or dropped.
    func testOpenMPFixes() {
        func fix(_ name: String, _ value: String, cpus: Int = 4) -> OpenMPEnvironment.Fix? {
            OpenMPEnvironment.fixes([name: value], cpus: cpus).first
        }
        XCTAssertNil(fix("OMP_NUM_THREADS", "4,2"))
        XCTAssertEqual(fix("OMP_NUM_THREADS", " 3 , 2")?.value, "3,2")
        XCTAssertEqual(fix("OMP_NUM_THREADS", "8,1")?.value, "4,1")
        XCTAssertEqual(fix("OMP_NUM_THREADS", "99999999999999999999999")?.value, "4")
        XCTAssertNil(fix("OMP_NUM_THREADS", "1,,1")?.value)
        XCTAssertNil(fix("OMP_PROC_BIND", "spread,close"))
        XCTAssertNotNil(fix("OMP_PROC_BIND", "true,close")?.warning)
        XCTAssertNil(fix("OMP_SCHEDULE", "nonmonotonic:dynamic,16"))
        XCTAssertNil(fix("OMP_PLACES", "{0:4}:2:4,!{7}"))
        XCTAssertNil(fix("OMP_PLACES", "sockets(2)"))
        XCTAssertNotNil(fix("OMP_PLACES", "cores(0)")?.warning)
        XCTAssertEqual(fix("KMP_STACKSIZE", "1")?.value, "16K")
        XCTAssertNil(fix("KMP_HW_SUBSET", "1s,4c@2,2t"))
        XCTAssertNil(fix("KMP_HW_SUBSET", "2sockets,1L2,4cores:intel_core"))
        XCTAssertNotNil(fix("KMP_HW_SUBSET", "c")?.warning)
        XCTAssertNil(fix("GOMP_CPU_AFFINITY", "0-3:2 5,7"))
        XCTAssertNil(fix("KMP_AFFINITY", "verbose,granularity=core,proclist=[0,{1,2}],explicit"))
        XCTAssertEqual(fix("GOMP_SPINCOUNT", "99999999999999999999T")?.value, "infinite")
        XCTAssertNil(fix("OMP_DISPLAY_ENV", "VERBOSE"))
        XCTAssertNil(fix("OMP_UNKNOWN_THING", "abc"), "a name no runtime reads is left alone")
        XCTAssertNotNil(fix("KMP_LOCK_KIND", "tas")?.warning, "an internal libomp knob is removed")
    }

    /// dnic ends within 2 s of SIGTERM even when the step and the
    /// checkpoint it would finish take longer (here a 1.5 s step and a
    /// 216 MB checkpoint; the previous code took 3.4 s), with
    /// OMP_NUM_THREADS far above the CPUs. On a machine fast enough to stop
    /// cleanly in time the run ends with its usual line and checkpoint.
    func testSIGTERMEndsTheRunWithinTwoSeconds() throws {
        let dir = try Habit.directory(self)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Habit.dnic)
        process.arguments = ["train", "--data", "synth:xor-2d", "--hidden", "3", "--width", "3000", "--batch", "2000", "--steps", "1000",
                             "--threads", "1", "--save", dir + "/run.st"]
        var env = ProcessInfo.processInfo.environment
        env["OMP_NUM_THREADS"] = "99999"
        process.environment = env
        let out = dir + "/out.txt", err = dir + "/err.txt"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: out)
        process.standardError = FileHandle(forWritingAtPath: err)
        try process.run()
        // the header's last line is printed just before stops are taken
        let started = Date()
        while !((try? String(contentsOfFile: out, encoding: .utf8))?.contains("\nrule ") ?? false) {
            guard process.isRunning, Date().timeIntervalSince(started) < 120 else { return XCTFail("training did not start") }
            usleep(10_000)
        }
        let signalled = Date()
        process.terminate() // SIGTERM
        while process.isRunning, Date().timeIntervalSince(signalled) < 3 { usleep(10_000) }
        let ended = !process.isRunning
        if !ended { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        XCTAssertTrue(ended, "still running 3 s after SIGTERM")
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 143)
        let lines = Habit.lines(try String(contentsOfFile: err, encoding: .utf8))
        XCTAssertEqual(lines.count, 2, "\(lines)")
        XCTAssertTrue(lines.first?.contains("OMP_NUM_THREADS=99999") ?? false, "\(lines)")
        if lines.last?.hasPrefix("dnic: SIGTERM at step 1; checkpoint saved") ?? false {
            XCTAssertEqual(Set(Habit.contents(dir).keys), ["out.txt", "err.txt", "run.st"])
            return
        }
        XCTAssertTrue(lines.last?.hasPrefix("dnic: SIGTERM: the run did not stop within 1.5 s; ended at once") ?? false, "\(lines)")
        XCTAssertEqual(Set(Habit.contents(dir).keys), ["out.txt", "err.txt"], "no checkpoint half-written, no temporary file")
    }
}
