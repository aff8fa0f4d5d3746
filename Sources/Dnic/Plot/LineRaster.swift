import Foundation

/// A LinePlot drawn into 8-bit RGB pixels for PNG: the same frame, axes,
/// ticks, lines in the same colours and dash patterns, point markers,
/// legend and words as its SVG, the words in one size (Glyphs, 11 px).
struct LineRaster {
    let width = LinePlot.width, height = LinePlot.height
    private(set) var pixels: [UInt8]

    init(_ plot: LinePlot) {
        pixels = [UInt8](repeating: 255, count: LinePlot.width * LinePlot.height * 3)
        let f = plot.frame
        let black: (UInt8, UInt8, UInt8) = (0, 0, 0)
        let (left, top) = (LinePlot.left, LinePlot.top)
        line(from: (left, top + f.h), to: (left + f.w, top + f.h), black, thickness: 1)
        line(from: (left, top), to: (left, top + f.h), black, thickness: 1)
        text(plot.title, x: left + f.w / 2, y: 22, anchor: .middle)
        for t in SVG.ticks(f.x0, f.x1) where t >= f.x0 && t <= f.x1 {
            line(from: (f.px(t), top + f.h), to: (f.px(t), top + f.h + 5), black, thickness: 1)
            text(SVG.number(t), x: f.px(t), y: top + f.h + 18, anchor: .middle)
        }
        for t in SVG.ticks(f.y0, f.y1) where t >= f.y0 && t <= f.y1 {
            line(from: (left - 5, f.py(t)), to: (left, f.py(t)), black, thickness: 1)
            text(SVG.number(t), x: left - 8, y: f.py(t) + 4, anchor: .end)
        }
        text(plot.xLabel, x: left + f.w / 2, y: Double(height) - 14, anchor: .middle)
        text(plot.yLabel, x: 18, y: top + f.h / 2, anchor: .middle, rotated: true)
        for (i, s) in plot.series.enumerated() {
            let colour = Self.rgb(LinePlot.palette[(s.colour ?? i) % LinePlot.palette.count])
            let dash = (s.dash ?? "").split(separator: " ").compactMap { Double($0) }
            let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite }.map { (f.px($0.x), f.py($0.y)) }
            var travelled = 0.0
            for (a, b) in zip(pts, pts.dropFirst()) { travelled = line(from: a, to: b, colour, dash: dash, at: travelled) }
            for p in pts { disc(p, radius: 3, colour) }
            let ly = top + 12 + Double(i) * 18 - 4, lx = left + f.w + 16
            line(from: (lx, ly), to: (lx + 22, ly), colour, dash: dash)
            text(s.label, x: lx + 28, y: ly + 4, anchor: .start)
        }
    }

    static func rgb(_ hex: String) -> (UInt8, UInt8, UInt8) {
        let v = UInt32(hex.dropFirst(), radix: 16) ?? 0
        return (UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF))
    }

    private mutating func set(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = c.0; pixels[i + 1] = c.1; pixels[i + 2] = c.2
    }

    enum Anchor { case start, middle, end }

    /// `s` in black with its baseline at y, anchored at x as SVG's
    /// text-anchor; `rotated`: turned a quarter anticlockwise about (x, y).
    private mutating func text(_ s: String, x: Double, y: Double, anchor: Anchor, rotated: Bool = false) {
        let width = Double(Glyphs.width(s))
        var pen = anchor == .start ? 0 : anchor == .middle ? -width / 2 : -width
        for c in s.unicodeScalars {
            let g = Glyphs.glyph(c)
            for r in 0 ..< g.rows {
                for col in 0 ..< g.width {
                    let a = g.coverage[g.coverage.startIndex + r * g.width + col]
                    guard a > 0 else { continue }
                    let (dx, dy) = (Int(pen.rounded()) + g.left + col, r - g.top)
                    let (px, py) = rotated ? (Int(x) + dy, Int(y) - dx) : (Int(x) + dx, Int(y) + dy)
                    blend(px, py, a)
                }
            }
            pen += Double(g.advance)
        }
    }

    /// Black over the pixel with coverage `a` (0 ... 255).
    private mutating func blend(_ x: Int, _ y: Int, _ a: UInt8) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        for k in i ..< i + 3 { pixels[k] = UInt8((Int(pixels[k]) * (255 - Int(a)) + 127) / 255) }
    }

    private mutating func disc(_ p: (Double, Double), radius: Double, _ c: (UInt8, UInt8, UInt8)) {
        let r = Int(radius.rounded(.up))
        for dy in -r ... r { for dx in -r ... r where Double(dx * dx + dy * dy) <= radius * radius {
            set(Int(p.0.rounded()) + dx, Int(p.1.rounded()) + dy, c)
        } }
    }

    /// A line `thickness` pixels wide, stepped in half pixels; with a dash
    /// pattern (on, off, …) drawn only in its "on" stretches, the pattern
    /// continuing from `at` along a polyline. Returns the length reached.
    @discardableResult
    private mutating func line(from a: (Double, Double), to b: (Double, Double), _ c: (UInt8, UInt8, UInt8),
                               thickness: Int = 2, dash: [Double] = [], at start: Double = 0) -> Double {
        let length = ((b.0 - a.0) * (b.0 - a.0) + (b.1 - a.1) * (b.1 - a.1)).squareRoot()
        let steps = max(1, Int((length * 2).rounded(.up)))
        let period = dash.reduce(0, +)
        for k in 0 ... steps {
            let t = Double(k) / Double(steps)
            if period > 0 {
                var phase = (start + t * length).truncatingRemainder(dividingBy: period), on = true
                for d in dash { if phase < d { break }; phase -= d; on.toggle() }
                if !on { continue }
            }
            let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
            for o in 0 ..< thickness {
                let off = Double(o) - Double(thickness - 1) / 2
                // widen across the line's main direction
                if abs(b.0 - a.0) >= abs(b.1 - a.1) { set(Int(x.rounded()), Int((y + off).rounded()), c) }
                else { set(Int((x + off).rounded()), Int(y.rounded()), c) }
            }
        }
        return start + length
    }
}

extension LinePlot {
    /// The plot as PNG bytes (LineRaster).
    public func png() throws -> Data {
        let r = LineRaster(self)
        return try PNG.encode(rgb: r.pixels, width: r.width, height: r.height)
    }
}
