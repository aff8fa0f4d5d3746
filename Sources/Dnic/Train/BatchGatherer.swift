import CDnic

/// Copies the rows of one batch, picked by an index order, out of a dataset
/// into buffers made once and reused for every step (the training loop
/// allocates nothing per step). Shared by the trainer and the benchmark, so
/// both feed the core the same way.
struct BatchGatherer {
    let data: Dataset
    private var x: [Float]
    private var y: [Int32]
    /// Rows gathered by the last `gather`.
    private(set) var rows = 0

    init(data: Dataset, batch: Int) {
        self.data = data
        x = [Float](repeating: 0, count: batch * data.dim)
        y = [Int32](repeating: 0, count: batch)
    }

    /// Gathers examples order[position ..< position + rows].
    mutating func gather(_ order: [Int32], from position: Int, rows: Int) throws {
        precondition(rows >= 1 && rows <= y.count && position >= 0 && position + rows <= order.count)
        let data = self.data
        try order.withUnsafeBufferPointer { idx in
            let picked = idx.baseAddress! + position
            try data.features.withUnsafeBufferPointer { src in
                try x.withUnsafeMutableBufferPointer { dst in
                    try DnicError.check(dnic_gather_rows(dst.baseAddress, src.baseAddress, picked, Int32(rows),
                                                         data.dim, data.count), "gathering a batch")
                }
            }
            try data.labels.withUnsafeBufferPointer { src in
                try y.withUnsafeMutableBufferPointer { dst in
                    try DnicError.check(dnic_gather_labels(dst.baseAddress, src.baseAddress, picked, Int32(rows),
                                                           data.count), "gathering labels")
                }
            }
        }
        self.rows = rows
    }

    /// Feeds examples order[position ..< position + rows] to `pipeline` for
    /// one tick (async: queues them), gathered by the schedule itself (async
    /// copies them into its inbox on this thread alone, leaving the cores to
    /// its workers); the batches that finished meanwhile, if any.
    mutating func feed(_ pipeline: Pipeline, _ order: [Int32], from position: Int, rows: Int) throws -> Pipeline.Finished? {
        precondition(rows >= 1 && rows <= y.count && position >= 0 && position + rows <= order.count)
        let data = self.data
        self.rows = rows
        return try order.withUnsafeBufferPointer { idx in
            try data.features.withUnsafeBufferPointer { xs in
                try data.labels.withUnsafeBufferPointer { ys in
                    try pipeline.tick(rows: xs.baseAddress!, labels: ys.baseAddress!, count: data.count,
                                      picked: idx.baseAddress! + position, batch: rows)
                }
            }
        }
    }

    /// Runs one training step of `dni` on the batch gathered last.
    func trainStep(_ dni: DNI) throws -> Float {
        try x.withUnsafeBufferPointer { xp in
            try y.withUnsafeBufferPointer { yp in
                try dni.trainStep(x: xp.baseAddress!, labels: yp.baseAddress!, batch: rows)
            }
        }
    }
}
