import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Dnic

/// The pictures every analysis writes: PNG heatmaps decode back through
/// libpng with the colours they were drawn with; SVG figures parse as XML
/// and hold what they were given.
final class PlotTests: XCTestCase {
    func testColormapEndsAndMissingValues() {
        XCTAssertTrue(Colormap.rgb(0) == (68, 1, 84), "\(Colormap.rgb(0))")
        XCTAssertTrue(Colormap.rgb(1) == (253, 231, 37), "\(Colormap.rgb(1))")
        XCTAssertTrue(Colormap.rgb(-3) == Colormap.rgb(0) && Colormap.rgb(7) == Colormap.rgb(1))
        XCTAssertTrue(Colormap.rgb(.nan) == (128, 128, 128))
        // lighter as the value grows: the green channel rises all the way
        let greens = stride(from: 0.0, through: 1.0, by: 0.1).map { Int(Colormap.rgb($0).1) }
        XCTAssertEqual(greens, greens.sorted())
    }

    func testHeatmapPNGDecodesToItsPixels() throws {
        let a = HeatmapPanel(title: "true", rows: 2, cols: 3, values: [0, 1, 2, 3, 4, 5])
        let b = HeatmapPanel(title: "implied", rows: 2, cols: 3, values: [-1, -1, -1, -1, -1, 9])
        let figure = HeatmapFigure(panels: [a, b], columns: 2)
        let png = try figure.png()
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let decoded = try PNG.decode(png)
        XCTAssertEqual(decoded.width, figure.width)
        XCTAssertEqual(decoded.height, figure.height)
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(decoded.rgb[(y * decoded.width + x) * 3 ..< (y * decoded.width + x) * 3 + 3]) }
        XCTAssertEqual(pixel(0, 0), [255, 255, 255], "background")
        let cell = figure.cell
        // each panel on its own scale: a's lowest cell and b's highest cell
        let (ax, ay) = figure.origin(0), (bx, by) = figure.origin(1)
        let low = Colormap.rgb(0), high = Colormap.rgb(1)
        XCTAssertEqual(pixel(ax, ay), [low.0, low.1, low.2])
        XCTAssertEqual(pixel(ax + 2 * cell + cell / 2, ay + cell + cell / 2), [high.0, high.1, high.2])
        XCTAssertEqual(pixel(bx + cell / 2, by + cell / 2), [low.0, low.1, low.2])
        XCTAssertEqual(pixel(bx + 2 * cell, by + cell), [high.0, high.1, high.2])
        // the colour bar: top is the high end
        let barX = ax + 3 * cell + HeatmapFigure.barGap + 1
        XCTAssertEqual(pixel(barX, ay), [high.0, high.1, high.2])
        XCTAssertEqual(pixel(barX, ay + 2 * cell - 1), [low.0, low.1, low.2])
        XCTAssertThrowsError(try PNG.decode(Data([1, 2, 3])))
    }

    func testHeatmapSVGParsesWithTitlesAndScale() throws {
        let panel = HeatmapPanel(title: "layer 1 <RDM>", rows: 4, cols: 4, values: (0 ..< 16).map(Double.init))
        let figure = HeatmapFigure(panels: [panel], columns: 1)
        let parsed = try XMLSummary(figure.svg(embedding: try figure.png()))
        XCTAssertEqual(parsed.elements["image"], 1)
        XCTAssertTrue(parsed.texts.contains("layer 1 <RDM>"), "\(parsed.texts)")
        XCTAssertTrue(parsed.texts.contains("15") && parsed.texts.contains("0"), "\(parsed.texts)")
    }

    func testLinePlotSVGHasEverySeriesAxesAndMarks() throws {
        var plot = LinePlot(title: "norms", xLabel: "layer", yLabel: "‖W‖² share", series: [
            .init(label: "backprop", points: [(0, 0.1), (1, 0.3), (2, 0.6)]),
            .init(label: "sg & co", points: [(0, 0.5), (1, 0.25), (2, .nan)]),
        ])
        plot.marks = [(1, "SG", nil)]
        plot.integerX = true
        let parsed = try XMLSummary(plot.svg())
        XCTAssertEqual(parsed.seriesLabels, ["backprop", "sg & co"])
        XCTAssertEqual(parsed.elements["polyline"], 2)
        XCTAssertEqual(parsed.elements["circle"], 5, "a NaN point is left out")
        for t in ["norms", "layer", "‖W‖² share", "SG", "0", "1", "2", "backprop"] {
            XCTAssertTrue(parsed.texts.contains(t), "missing text \(t) in \(parsed.texts)")
        }
    }

    func testTicksAreRound() {
        XCTAssertEqual(SVG.ticks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(SVG.ticks(-0.25, 0.25), [-0.2, -0.1, 0, 0.1, 0.2])
        XCTAssertEqual(SVG.ticks(-3, 17), [0, 5, 10, 15])
        XCTAssertEqual(SVG.number(0.30000001), "0.3")
        XCTAssertEqual(SVG.number(1234567), "1.235e+06")
        XCTAssertEqual(SVG.number(15000), "15000")
        XCTAssertEqual(SVG.number(-0.0), "0")
    }

    /// More series than colours: colour by one variable, dash by another.
    func testLinePlotSeriesColourAndDash() {
        let plot = LinePlot(title: "t", xLabel: "x", yLabel: "y", series: [
            .init(label: "a", points: [(0, 0), (1, 1)], colour: 3),
            .init(label: "b", points: [(0, 1), (1, 0)], colour: 3, dashed: true),
        ])
        let svg = plot.svg()
        let groups = svg.components(separatedBy: "<g class=\"series\"").dropFirst().map { $0.components(separatedBy: "</g>")[0] }
        XCTAssertEqual(groups.count, 2)
        XCTAssertTrue(groups[0].contains("stroke=\"\(LinePlot.palette[3])\"") && !groups[0].contains("stroke-dasharray"), groups[0])
        XCTAssertTrue(groups[1].contains("stroke=\"\(LinePlot.palette[3])\"") && groups[1].contains("stroke-dasharray=\"6 4\""), groups[1])
        // the plain default: colour by position, solid
        let plain = LinePlot(title: "t", xLabel: "x", yLabel: "y", series: [.init(label: "a", points: [(0, 0)]), .init(label: "b", points: [(1, 1)])]).svg()
        XCTAssertTrue(plain.contains("stroke=\"\(LinePlot.palette[1])\"") && !plain.contains("stroke-dasharray=\"6 4\""))
    }
}

/// What an SVG holds, by parsing it as XML (a parse error throws).
private struct XMLSummary {
    var elements: [String: Int] = [:]
    var texts: [String] = []
    var seriesLabels: [String] = []

    init(_ svg: String) throws {
        final class Collector: NSObject, XMLParserDelegate {
            var summary = XMLSummary(empty: ())
            var inText = false
            var text = ""
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                        qualifiedName: String?, attributes: [String: String] = [:]) {
                summary.elements[name, default: 0] += 1
                if name == "g", attributes["class"] == "series", let label = attributes["data-label"] {
                    summary.seriesLabels.append(label)
                }
                if name == "text" { inText = true; text = "" }
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { text += string } }
            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                if name == "text" { summary.texts.append(text); inText = false }
            }
        }
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        guard parser.parse() else {
            throw DnicError("the SVG does not parse: \(parser.parserError.map { "\($0)" } ?? "?")")
        }
        self = collector.summary
    }

    private init(empty: ()) {}
}
