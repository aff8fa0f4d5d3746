/// The colour scale of every heatmap: a perceptually ordered dark-blue →
/// green → yellow ramp (close to matplotlib's viridis, from nine of its
/// stops), so a larger value always reads as lighter.
public enum Colormap {
    static let stops: [(r: Double, g: Double, b: Double)] = [
        (0.267, 0.005, 0.329), (0.283, 0.141, 0.458), (0.254, 0.265, 0.530),
        (0.207, 0.372, 0.553), (0.164, 0.471, 0.558), (0.128, 0.567, 0.551),
        (0.135, 0.659, 0.518), (0.267, 0.749, 0.441), (0.478, 0.821, 0.318),
        (0.741, 0.873, 0.150), (0.993, 0.906, 0.144),
    ]

    /// The colour of t in [0, 1] (clamped; NaN is grey) as 8-bit RGB.
    public static func rgb(_ t: Double) -> (UInt8, UInt8, UInt8) {
        guard t.isFinite else { return (128, 128, 128) }
        let x = min(max(t, 0), 1) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2)
        let f = x - Double(i)
        let a = stops[i], b = stops[i + 1]
        func byte(_ u: Double, _ v: Double) -> UInt8 { UInt8((255 * (u + (v - u) * f)).rounded()) }
        return (byte(a.r, b.r), byte(a.g, b.g), byte(a.b, b.b))
    }
}
