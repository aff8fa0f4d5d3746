import CPng
import Foundation

/// One panel of a heatmap figure: a (rows, cols) grid of values, row 0 at
/// the top, drawn on its own colour scale (its finite minimum to maximum,
/// as the paper's Figure 2 does panel by panel).
public struct HeatmapPanel {
    public var title: String
    public var rows: Int
    public var cols: Int
    public var values: [Double]

    public init(title: String, rows: Int, cols: Int, values: [Double]) {
        precondition(rows > 0 && cols > 0 && values.count == rows * cols,
                     "heatmap panel \(title): \(values.count) values for \(rows)x\(cols)")
        self.title = title
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    /// The colour scale: finite min and max (0...1 when nothing is finite,
    /// min - 0.5 ... min + 0.5 when constant).
    public var range: (low: Double, high: Double) {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return (0, 1) }
        return low < high ? (low, high) : (low - 0.5, low + 0.5)
    }
}

/// Panels in a grid (`columns` per row), each with a colour bar on its
/// right: `png()` is the raster (libpng), `svg(embedding:)` the labelled
/// figure (titles, colour-bar values) drawn over that raster.
public struct HeatmapFigure {
    public var panels: [HeatmapPanel]
    public var columns: Int

    /// Pixels: every panel's cells are scaled by one integer so the largest
    /// panel is about `panelSide` pixels on its longer side.
    static let panelSide = 240, margin = 14, titleHeight = 20, barWidth = 12, barGap = 6, barLabels = 64

    public init(panels: [HeatmapPanel], columns: Int) {
        precondition(!panels.isEmpty && columns > 0, "a heatmap figure needs panels")
        self.panels = panels
        self.columns = min(columns, panels.count)
    }

    var cell: Int { max(1, Self.panelSide / max(panels.map { max($0.rows, $0.cols) }.max() ?? 1, 1)) }
    var slotWidth: Int { (panels.map(\.cols).max() ?? 1) * cell + Self.barGap + Self.barWidth + Self.barLabels + Self.margin }
    var slotHeight: Int { Self.titleHeight + (panels.map(\.rows).max() ?? 1) * cell + Self.margin }
    var gridRows: Int { (panels.count + columns - 1) / columns }
    public var width: Int { Self.margin + columns * slotWidth }
    public var height: Int { Self.margin + gridRows * slotHeight }

    /// Top-left pixel of panel i's cells.
    func origin(_ i: Int) -> (x: Int, y: Int) {
        (Self.margin + (i % columns) * slotWidth, Self.margin + (i / columns) * slotHeight + Self.titleHeight)
    }

    /// RGB pixels, row-major, white background.
    public func pixels() -> [UInt8] {
        // width, cell and the origins are computed from every panel: once, not per pixel
        let width = width
        var rgb = [UInt8](repeating: 255, count: width * height * 3)
        func put(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
            let k = (y * width + x) * 3
            rgb[k] = c.0; rgb[k + 1] = c.1; rgb[k + 2] = c.2
        }
        let s = cell
        for (i, p) in panels.enumerated() {
            let (x0, y0) = origin(i)
            let (low, high) = p.range
            for r in 0 ..< p.rows {
                for c in 0 ..< p.cols {
                    let colour = Colormap.rgb((p.values[r * p.cols + c] - low) / (high - low))
                    for dy in 0 ..< s { for dx in 0 ..< s { put(x0 + c * s + dx, y0 + r * s + dy, colour) } }
                }
            }
            // the colour bar: high at the top, low at the bottom
            let barX = x0 + p.cols * s + Self.barGap, barH = p.rows * s
            for y in 0 ..< barH {
                let colour = Colormap.rgb(barH > 1 ? 1 - Double(y) / Double(barH - 1) : 1)
                for dx in 0 ..< Self.barWidth { put(barX + dx, y0 + y, colour) }
            }
        }
        return rgb
    }

    /// The raster as PNG bytes.
    public func png() throws -> Data { try PNG.encode(rgb: pixels(), width: width, height: height) }

    /// The labelled figure: the PNG (embedded as a data URI, so the SVG
    /// stands alone) with every panel's title and its colour bar's values.
    public func svg(embedding png: Data) -> String {
        var out = SVG.header(width: width, height: height)
        out += "<image x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" "
               + "href=\"data:image/png;base64,\(png.base64EncodedString())\"/>\n"
        for (i, p) in panels.enumerated() {
            let (x0, y0) = origin(i)
            let (low, high) = p.range
            let barRight = x0 + p.cols * cell + Self.barGap + Self.barWidth + 4
            out += SVG.text(p.title, x: Double(x0), y: Double(y0 - 6), size: 12)
            // float noise around zero (an RDM's diagonal: −2e-06) is printed as the 0 it is
            func label(_ v: Double) -> String { abs(v) < 1e-5 * max(abs(high), abs(low)) ? "0" : SVG.number(v) }
            out += SVG.text(label(high), x: Double(barRight), y: Double(y0 + 10), size: 10)
            out += SVG.text(label(low), x: Double(barRight), y: Double(y0 + p.rows * cell), size: 10)
        }
        return out + "</svg>\n"
    }

    /// Writes `base`.png and `base`.svg (each atomically).
    public func write(to base: String) throws {
        let png = try png()
        try AtomicFile.write(png, to: base + ".png", what: "the heatmap")
        try AtomicFile.write(Data(svg(embedding: png).utf8), to: base + ".svg", what: "the heatmap figure")
    }
}

/// PNG encoding and decoding through libpng's simplified API.
public enum PNG {
    public static func encode(rgb: [UInt8], width: Int, height: Int) throws -> Data {
        precondition(rgb.count == width * height * 3)
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = png_uint_32(PNG_FORMAT_RGB)
        var size: png_alloc_size_t = 0
        // first call: the size; second: the bytes
        let sized = rgb.withUnsafeBytes {
            png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, png_int_32(width * 3), nil)
        }
        guard sized != 0, size > 0 else { throw DnicError("encoding a PNG: \(message(&image))") }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let written = rgb.withUnsafeBytes { src in
            bytes.withUnsafeMutableBytes { dst in
                png_image_write_to_memory(&image, dst.baseAddress, &size, 0, src.baseAddress, png_int_32(width * 3), nil)
            }
        }
        png_image_free(&image)
        guard written != 0 else { throw DnicError("encoding a PNG: \(message(&image))") }
        return Data(bytes[0 ..< Int(size)])
    }

    /// Decodes PNG bytes to 8-bit RGB (for tests and checks).
    public static func decode(_ data: Data) throws -> (rgb: [UInt8], width: Int, height: Int) {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        let begun = data.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw DnicError("not a PNG: \(message(&image))") }
        image.format = png_uint_32(PNG_FORMAT_RGB)
        let width = Int(image.width), height = Int(image.height)
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        let done = rgb.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, png_int_32(width * 3), nil)
        }
        png_image_free(&image)
        guard done != 0 else { throw DnicError("a broken PNG: \(message(&image))") }
        return (rgb, width, height)
    }

    static func message(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
