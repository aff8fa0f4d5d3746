import CDnic
import Foundation

/// The standard training workloads of `dnic bench train`, measured against
/// references taken in the same run: dnic_sgemm through the GEMM backend in
/// use on the step's own GEMM shapes, and the machine's FMA peak.
public struct TrainBenchmark {
    public enum Workload: String, CaseIterable, Sendable {
        /// 784-256-256-256-10 relu, batch 256, SGD
        case w1
        /// 20 hidden layers × 256 relu, batch 256, SGD
        case w2

        public var hidden: Int { self == .w1 ? 3 : 20 }
    }

    public struct Result: Codable, Sendable {
        public var workload: String
        public var rule: String
        public var threads: Int
        public var batch: Int
        public var stepsTimed: Int
        public var samplesPerSecond: Double
        public var stepMilliseconds: Double
        /// GEMM FLOPs of one training step (forward, backward, interface).
        public var stepGFLOP: Double
        public var trainingGFLOPS: Double
        /// The backend's sgemm on exactly the step's GEMM shapes, back to back, each
        /// GEMM with its own operands (the step's memory footprint).
        public var sgemmGFLOPS: Double
        /// The same with one shared set of operands, which stays in cache:
        /// an upper bound no real step reaches.
        public var sgemmHotGFLOPS: Double
        public var ratioToHotSgemm: Double
        public var fmaPeakGFLOPS: Double
        public var fmaISA: String
        public var ratioToSgemm: Double
        public var ratioToPeak: Double
        public var blasKernel: String
        /// The GEMM backend that ran step and reference ("onednn") and its ISA.
        public var gemmBackend: String
        public var gemmISA: String
        /// The instruction set of dnic's own element-wise kernels ("avx512").
        public var kernelISA: String
        public var peakMemoryMiB: Double
        public var schedule: String = "locked"
        /// Other schedules and rules timed in the same run (bench --schedule pipeline).
        public var comparison: [Comparison]?

        enum CodingKeys: String, CodingKey {
            case workload, rule, threads, batch
            case stepsTimed = "steps_timed", samplesPerSecond = "samples_per_sec", stepMilliseconds = "step_ms"
            case stepGFLOP = "step_gflop", trainingGFLOPS = "training_gflops", sgemmGFLOPS = "sgemm_gflops"
            case sgemmHotGFLOPS = "sgemm_hot_gflops", ratioToHotSgemm = "ratio_to_hot_sgemm"
            case fmaPeakGFLOPS = "fma_peak_gflops", fmaISA = "fma_isa", ratioToSgemm = "ratio_to_sgemm"
            case ratioToPeak = "ratio_to_peak", blasKernel = "blas_kernel", peakMemoryMiB = "peak_memory_mib"
            case gemmBackend = "gemm_backend", gemmISA = "gemm_isa", kernelISA = "kernel_isa", schedule, comparison
        }
    }

    /// One schedule and rule timed beside another in the same run.
    public struct Comparison: Codable, Sendable {
        public var name: String
        public var threads: Int
        public var samplesPerSecond: Double

        public init(name: String, threads: Int, samplesPerSecond: Double) {
            self.name = name
            self.threads = threads
            self.samplesPerSecond = samplesPerSecond
        }

        enum CodingKeys: String, CodingKey { case name, threads, samplesPerSecond = "samples_per_sec" }
    }

    public let workload: Workload
    public let rule: Rule
    public let batch: Int
    public var steps: Int
    public let schedule: ScheduleKind
    /// Where the rule's interfaces go (nil: the rule's default, the middle for sg).
    public let placement: Placement?

    /// The standard batch is 256; `batch` (1 ... 60000) changes it.
    public init(workload: Workload, rule: Rule, batch: Int = 256, steps: Int? = nil, schedule: ScheduleKind = .locked,
                placement: Placement? = nil) {
        self.placement = placement
        self.workload = workload
        self.rule = rule
        self.batch = batch
        self.schedule = schedule
        self.steps = steps ?? (workload == .w1 ? 300 : 100) * max(1, 256 / batch)
    }

    /// MNIST-shaped random data: 60,000 × 784 in [0, 1), 10 classes, seeded.
    public static func syntheticMNIST(count: Int = 60_000) -> Dataset {
        var rng: UInt64 = 0x5EED_2026
        var x = [Float](repeating: 0, count: count * 784)
        for i in x.indices { x[i] = dnic_rng_uniform(&rng) }
        let y = (0..<count).map { _ in Int32(dnic_rng_next(&rng) % 10) }
        return Dataset(name: "mnist-shaped", features: x, labels: y, count: count, dim: 784, classes: 10)
    }

    /// A GEMM the step performs: C (m, n) = op(A) (m, k) op(B) (k, n).
    struct Gemm { let transA: Int32, transB: Int32, m: Int, n: Int, k: Int }

    func config() -> RunConfig {
        var c = RunConfig()
        c.model.layers = Array(repeating: LayerSpec(width: 256), count: workload.hidden)
        c.optimizer = OptimizerSpec(kind: .sgd, lr: 0.01)
        c.interfaces = InterfaceSpec(rule: rule)
        c.training.batch = batch
        c.training.schedule = schedule
        if let placement { c.interfaces.at = placement }
        return c
    }

    /// `--sg-at balanced[:K]` measured and planned once, on this machine at
    /// the current thread count, so that every row and round of a comparison
    /// trains the same blocks; nil plan (self unchanged) for any other placement.
    public func planned() throws -> (bench: TrainBenchmark, plan: PlacementPlan?) {
        var c = config()
        guard let plan = try PlacementPlanner.resolve(&c, inputDim: 784, classes: 10) else { return (self, nil) }
        return (TrainBenchmark(workload: workload, rule: rule, batch: batch, steps: steps, schedule: schedule,
                               placement: c.interfaces.at), plan)
    }

    /// The GEMMs of one step, as the C core issues them.
    func gemms(_ config: RunConfig, boundaries: [Int]) -> [Gemm] {
        let dims = [784] + config.model.layers.map(\.width) + [10]
        var out = [Gemm]()
        for l in 0..<(dims.count - 1) {
            let (i, o) = (dims[l], dims[l + 1])
            out.append(Gemm(transA: 0, transB: 0, m: batch, n: o, k: i))     // forward
            out.append(Gemm(transA: 1, transB: 0, m: i, n: o, k: batch))     // dW
            if l > 0 { out.append(Gemm(transA: 0, transB: 1, m: batch, n: i, k: o)) } // dx
        }
        for k in boundaries {
            let dh = dims[k]
            switch rule {
            case .sg:
                out.append(Gemm(transA: 0, transB: 0, m: batch, n: dh, k: dh)) // prediction hA
                out.append(Gemm(transA: 1, transB: 0, m: dh, n: dh, k: batch)) // dA
            case .sgprop:
                out.append(Gemm(transA: 0, transB: 0, m: batch, n: dh, k: dh))
                out.append(Gemm(transA: 1, transB: 0, m: dh, n: dh, k: batch))
                out.append(Gemm(transA: 0, transB: 1, m: batch, n: dh, k: dh)) // dL_S/dh
            default:
                break
            }
        }
        return out
    }

    static func flops(_ g: [Gemm]) -> Double { g.reduce(0) { $0 + 2.0 * Double($1.m * $1.n * $1.k) } }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + 1e-9 * Double(t.tv_nsec)
    }

    /// Seconds per round of the step's GEMMs through cblas_sgemm (median of
    /// 5). Each GEMM gets its own operands, as in the step, so the reference
    /// touches as much memory as the step does (one shared set of small
    /// buffers would stay in cache and flatter the reference).
    func sgemmSeconds(_ shapes: [Gemm], sharedOperands: Bool = false) -> Double {
        let largest = shapes.map { max($0.m * $0.k, $0.k * $0.n, $0.m * $0.n) }.max() ?? 1
        var operands = shapes.map { g in
            sharedOperands ? ([Float](), [Float](), [Float]()) :
            ([Float](repeating: 0.5, count: g.m * g.k), [Float](repeating: 0.25, count: g.k * g.n),
             [Float](repeating: 0, count: g.m * g.n))
        }
        var shared = ([Float](repeating: 0.5, count: largest), [Float](repeating: 0.25, count: largest),
                      [Float](repeating: 0, count: largest))
        func round() {
            for (i, g) in shapes.enumerated() {
                let lda = g.transA == 0 ? g.k : g.m, ldb = g.transB == 0 ? g.n : g.k
                if sharedOperands {
                    dnic_sgemm(g.transA, g.transB, Int32(g.m), Int32(g.n), Int32(g.k), 1, shared.0, Int32(lda),
                               shared.1, Int32(ldb), 0, &shared.2, Int32(g.n))
                } else {
                    dnic_sgemm(g.transA, g.transB, Int32(g.m), Int32(g.n), Int32(g.k), 1, operands[i].0, Int32(lda),
                               operands[i].1, Int32(ldb), 0, &operands[i].2, Int32(g.n))
                }
            }
        }
        for _ in 0..<5 { round() }
        var times = [Double]()
        for _ in 0..<5 {
            let t0 = Self.now()
            let reps = max(steps / 5, 10)
            for _ in 0..<reps { round() }
            times.append((Self.now() - t0) / Double(reps))
        }
        return times.sorted()[2]
    }

    /// Seconds per training step (median of five windows after a warm-up)
    /// and the trainer that ran them. Under the pipeline a step is a tick
    /// fed one batch: in steady state one batch finishes per tick; under
    /// async a batch queued, and the bounded queues make the feeding rate
    /// the rate batches finish.
    func timeSteps(data: Dataset) throws -> (seconds: Double, trainer: Trainer) {
        let config = self.config()
        let split = DataSplit(train: data, validation: nil, test: data.subset(Array(0..<batch), name: "probe"))
        let trainer = try Trainer(config: config, data: split)
        var rng: UInt64 = 7
        let order = shuffledIndices(data.count, rng: &rng)
        var batches = BatchGatherer(data: data, batch: batch)
        var position = 0
        func step() throws {
            if position + batch > data.count { position = 0 }
            _ = try trainer.schedule.step(&batches, order, from: position, rows: batch)
            position += batch
        }
        for _ in 0..<10 { try step() }
        // median of five windows: this machine is noisy
        var windows = [Double]()
        let per = max(steps / 5, 1)
        for _ in 0..<5 {
            let t0 = Self.now()
            for _ in 0..<per { try step() }
            windows.append((Self.now() - t0) / Double(per))
        }
        // async workers stop here, so nothing runs beside what is timed next
        try trainer.schedule.settle(&trainer.state)
        return (windows.sorted()[2], trainer)
    }

    /// Training samples per second, with no references (for comparisons
    /// between schedules inside one run).
    public func samplesPerSecond(data: Dataset) throws -> Double {
        Double(batch) / (try timeSteps(data: data).seconds)
    }

    public func run(data: Dataset) throws -> Result {
        let config = self.config()
        let (stepSeconds, trainer) = try timeSteps(data: data)
        let shapes = gemms(config, boundaries: trainer.dni.boundaries)
        let per = max(steps / 5, 1)
        let gemmSeconds = sgemmSeconds(shapes)
        let hotSeconds = sgemmSeconds(shapes, sharedOperands: true)
        var isa: UnsafePointer<CChar>?
        let peak = dnic_measure_fma_peak(0.3, &isa)
        let flop = Self.flops(shapes)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let gemm = CoreSystem.gemmInfo()
        return Result(workload: workload.rawValue, rule: rule.rawValue, threads: CoreSystem.threads, batch: batch,
                      stepsTimed: per * 5, samplesPerSecond: Double(batch) / stepSeconds,
                      stepMilliseconds: stepSeconds * 1e3, stepGFLOP: flop / 1e9,
                      trainingGFLOPS: flop / stepSeconds / 1e9, sgemmGFLOPS: flop / gemmSeconds / 1e9,
                      sgemmHotGFLOPS: flop / hotSeconds / 1e9, ratioToHotSgemm: hotSeconds / stepSeconds,
                      fmaPeakGFLOPS: peak, fmaISA: isa.map { String(cString: $0) } ?? "?",
                      ratioToSgemm: gemmSeconds / stepSeconds, ratioToPeak: flop / stepSeconds / 1e9 / peak,
                      blasKernel: CoreSystem.blasInfo().corename, gemmBackend: gemm.name, gemmISA: gemm.isa,
                      kernelISA: CoreSystem.kernelISAInfo().active, peakMemoryMiB: Double(usage.ru_maxrss) / 1024, schedule: schedule.rawValue)
    }
}
