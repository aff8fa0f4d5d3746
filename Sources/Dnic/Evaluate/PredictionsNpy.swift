// Predictions as the .npy `dnic predict --out FILE.npy` writes: one array,
// so numpy's np.load gives it back as is.

import Foundation

extension Predictions {
    /// The classes as int32 of shape (rows,); with `probabilities`, the
    /// probabilities alone as float32 of shape (rows, classes), whose argmax
    /// along axis 1 is the class (one array per file, as np.save writes).
    public func npy(probabilities withProbabilities: Bool) throws -> Data {
        guard withProbabilities else { return NpyWriter.int32(classes.map { Int32($0) }, shape: [classes.count]) }
        guard let p = probabilities else {
            throw DnicError("the model's loss is \(loss.rawValue): its outputs are not probabilities; leave out --proba")
        }
        return NpyWriter.float32(p, shape: [classes.count, classCount])
    }
}
