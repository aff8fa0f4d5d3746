import Foundation

/// SVG text pieces shared by the figures.
enum SVG {
    static func header(width: Int, height: Int) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" +
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" "
            + "font-family=\"sans-serif\">\n" +
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func text(_ s: String, x: Double, y: Double, size: Int, anchor: String = "start", rotate: Bool = false) -> String {
        let turn = rotate ? " transform=\"rotate(-90 \(fmt(x)) \(fmt(y)))\"" : ""
        return "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\"\(turn)>\(escape(s))</text>\n"
    }

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    /// A value for a label: 4 significant digits, no trailing zeros.
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "\(v)" }
        if v == v.rounded(), abs(v) < 1e6 { return String(format: "%.0f", v) == "-0" ? "0" : String(format: "%.0f", v) }
        var s = String(format: "%.4g", v)
        if s.contains("."), !s.contains("e") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s == "-0" ? "0" : s
    }

    /// About `count` round tick values covering low...high (1, 2 or 5 times a power of 10 apart).
    static func ticks(_ low: Double, _ high: Double, count: Int = 6) -> [Double] {
        guard high > low, low.isFinite, high.isFinite else { return [low] }
        let raw = (high - low) / Double(max(count, 1))
        let power = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
        var out = [Double]()
        var k = ceil(low / step - 1e-9)
        while k * step <= high + step * 1e-9 {
            // k * step printed to 12 digits: 3 * 0.2 is 0.6, not 0.6000000000000001
            out.append(Double(String(format: "%.12g", k * step)) ?? k * step)
            k += 1
        }
        return out
    }
}

/// A line plot as SVG: axes with ticks and labels, one coloured line (with
/// point markers) per series, a legend, and optional vertical marks (e.g.
/// where the synthetic gradients sit).
public struct LinePlot {
    public struct Series {
        public var label: String
        public var points: [(x: Double, y: Double)]
        /// Palette index (nil: the series' position) and a dashed line, for
        /// plots with more series than colours (colour by one variable, dash by another).
        public var colour: Int?
        public var dashed: Bool
        /// Another dash pattern than dashed's "6 4" (a third line style: "2 3", dotted).
        public var dashPattern: String?
        /// The SVG dash pattern, nil for a solid line.
        var dash: String? { dashPattern ?? (dashed ? "6 4" : nil) }
        public init(label: String, points: [(x: Double, y: Double)], colour: Int? = nil, dashed: Bool = false) {
            self.label = label
            self.points = points
            self.colour = colour
            self.dashed = dashed
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Vertical dashed marks: x, a short label (drawn above the plot when
    /// there are few marks), and the series whose colour it takes (nil: grey).
    public var marks: [(x: Double, label: String, series: Int?)] = []
    /// Integer ticks on x (layer numbers).
    public var integerX = false

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    static let width = 760, height = 420, left = 70.0, right = 250.0, top = 40.0, bottom = 56.0

    /// The data's ranges (y padded by 5%) and the drawing area: where a
    /// value lands in pixels, shared by svg() and the raster (LineRaster).
    struct Frame {
        var x0, x1, y0, y1: Double
        let w = Double(LinePlot.width) - LinePlot.left - LinePlot.right
        let h = Double(LinePlot.height) - LinePlot.top - LinePlot.bottom
        func px(_ x: Double) -> Double { LinePlot.left + (x - x0) / (x1 - x0) * w }
        func py(_ y: Double) -> Double { LinePlot.top + (1 - (y - y0) / (y1 - y0)) * h }
    }

    var frame: Frame {
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        var xs = finite.map(\.x) + marks.map(\.x), ys = finite.map(\.y)
        if xs.isEmpty { xs = [0, 1] }
        if ys.isEmpty { ys = [0, 1] }
        var (x0, x1) = (xs.min()!, xs.max()!), (y0, y1) = (ys.min()!, ys.max()!)
        if x0 == x1 { x0 -= 0.5; x1 += 0.5 }
        if y0 == y1 { y0 -= 0.5; y1 += 0.5 }
        let pad = (y1 - y0) * 0.05
        return Frame(x0: x0, x1: x1, y0: y0 - pad, y1: y1 + pad)
    }

    public func svg() -> String {
        let f = frame
        let (x0, x1, y0, y1, w, h) = (f.x0, f.x1, f.y0, f.y1, f.w, f.h)
        func px(_ x: Double) -> Double { f.px(x) }
        func py(_ y: Double) -> Double { f.py(y) }

        var out = SVG.header(width: Self.width, height: Self.height)
        out += SVG.text(title, x: Self.left + w / 2, y: 22, size: 14, anchor: "middle")
        out += "<g class=\"axes\" stroke=\"black\" fill=\"none\">\n"
        out += "<line x1=\"\(SVG.fmt(Self.left))\" y1=\"\(SVG.fmt(Self.top + h))\" x2=\"\(SVG.fmt(Self.left + w))\" "
               + "y2=\"\(SVG.fmt(Self.top + h))\"/>\n"
        out += "<line x1=\"\(SVG.fmt(Self.left))\" y1=\"\(SVG.fmt(Self.top))\" x2=\"\(SVG.fmt(Self.left))\" "
               + "y2=\"\(SVG.fmt(Self.top + h))\"/>\n"
        out += "</g>\n"
        let xTicks = integerX ? Array(stride(from: ceil(x0), through: floor(x1), by: max(1, ((x1 - x0) / 10).rounded(.up))))
                              : SVG.ticks(x0, x1)
        for t in xTicks where t >= x0 && t <= x1 {
            out += "<line x1=\"\(SVG.fmt(px(t)))\" y1=\"\(SVG.fmt(Self.top + h))\" x2=\"\(SVG.fmt(px(t)))\" "
                   + "y2=\"\(SVG.fmt(Self.top + h + 5))\" stroke=\"black\"/>\n"
            out += SVG.text(SVG.number(t), x: px(t), y: Self.top + h + 18, size: 11, anchor: "middle")
        }
        for t in SVG.ticks(y0, y1) where t >= y0 && t <= y1 {
            out += "<line x1=\"\(SVG.fmt(Self.left - 5))\" y1=\"\(SVG.fmt(py(t)))\" x2=\"\(SVG.fmt(Self.left))\" "
                   + "y2=\"\(SVG.fmt(py(t)))\" stroke=\"black\"/>\n"
            out += SVG.text(SVG.number(t), x: Self.left - 8, y: py(t) + 4, size: 11, anchor: "end")
        }
        out += SVG.text(xLabel, x: Self.left + w / 2, y: Double(Self.height) - 14, size: 12, anchor: "middle")
        out += SVG.text(yLabel, x: 18, y: Self.top + h / 2, size: 12, anchor: "middle", rotate: true)
        let labelled = marks.count <= 8
        for m in marks where m.x >= x0 && m.x <= x1 {
            let colour = m.series.map { Self.palette[$0 % Self.palette.count] } ?? "#888"
            out += "<line class=\"mark\" x1=\"\(SVG.fmt(px(m.x)))\" y1=\"\(SVG.fmt(Self.top))\" x2=\"\(SVG.fmt(px(m.x)))\" "
                   + "y2=\"\(SVG.fmt(Self.top + h))\" stroke=\"\(colour)\" stroke-dasharray=\"4 3\"/>\n"
            if labelled, !m.label.isEmpty { out += SVG.text(m.label, x: px(m.x), y: Self.top - 4, size: 10, anchor: "middle") }
        }
        if !marks.isEmpty {
            let note = marks.contains { $0.series != nil } ? "dashed: interfaces, in their model's colour" : "dashed: interfaces"
            out += SVG.text(note, x: Self.left + w + 16, y: Self.top + h, size: 10)
        }
        for (i, s) in series.enumerated() {
            let colour = Self.palette[(s.colour ?? i) % Self.palette.count]
            let dash = s.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
            let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            let path = pts.map { "\(SVG.fmt(px($0.x))),\(SVG.fmt(py($0.y)))" }.joined(separator: " ")
            out += "<g class=\"series\" data-label=\"\(SVG.escape(s.label))\">\n"
            out += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>\n"
            for p in pts { out += "<circle cx=\"\(SVG.fmt(px(p.x)))\" cy=\"\(SVG.fmt(py(p.y)))\" r=\"3\" fill=\"\(colour)\"/>\n" }
            out += "</g>\n"
            let ly = Self.top + 12 + Double(i) * 18, lx = Self.left + w + 16
            out += "<line x1=\"\(SVG.fmt(lx))\" y1=\"\(SVG.fmt(ly - 4))\" x2=\"\(SVG.fmt(lx + 22))\" y2=\"\(SVG.fmt(ly - 4))\" "
                   + "stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>\n"
            out += SVG.text(s.label, x: lx + 28, y: ly, size: 11)
        }
        return out + "</svg>\n"
    }

    /// Writes the plot to `path` (atomically).
    public func write(to path: String) throws {
        try AtomicFile.write(Data(svg().utf8), to: path, what: "the plot")
    }
}

/// A number as the plots and reports print it (%g).
public func SVGNumber(_ v: Double) -> String { String(format: "%g", v) }

/// SG marks for a plot: a grey "SG" where every model has an interface,
/// else one mark per model in the colour of its (first) series; models
/// have `seriesPerModel` consecutive series each.
public func markList(_ models: [(String, [Int])], seriesPerModel: Int = 1) -> [(x: Double, label: String, series: Int?)] {
    let positions = Set(models.flatMap(\.1)).sorted()
    return positions.flatMap { k -> [(x: Double, label: String, series: Int?)] in
        let having = models.indices.filter { models[$0].1.contains(k) }
        if having.count == models.count { return [(Double(k), "SG", nil)] }
        return having.map { (Double(k), "SG", $0 * seriesPerModel) }
    }
}
