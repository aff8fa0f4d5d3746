import Foundation

/// DIR/index.html: one self-contained page (no network, no script) with
/// every result DIR holds, in the paper's order: a table of verdicts, then
/// per result its claims beside ours, tables, captioned pictures (linked
/// relatively, so the directory can be copied or served as is) and the
/// command that made it.
public enum ReportPage {
    /// The results in the order the page shows them.
    public static let order = ["table1", "table2", "thm1", "fig2", "fig3", "fig4", "fig5", "fig8"]

    /// The reports DIR holds (each DIR/<id>/result.json), in page order.
    public static func reports(in directory: String) -> [ResultReport] {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return order.compactMap { id in
            let path = PathName.joining(directory, "\(id)/result.json")
            return FileManager.default.contents(atPath: path).flatMap { try? decoder.decode(ResultReport.self, from: $0) }
        }
    }

    public static func write(directory: String) throws {
        let html = page(reports(in: directory))
        try AtomicFile.write(Data(html.utf8), to: PathName.joining(directory, "index.html"), what: "the report page")
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Inline `code` spans of our own sentences as <code>.
    static func inline(_ s: String) -> String {
        let parts = escape(s).components(separatedBy: "`")
        return parts.enumerated().map { $0.offset % 2 == 1 ? "<code>\($0.element)</code>" : $0.element }.joined()
    }

    static func badge(_ v: Verdict) -> String { "<span class=\"verdict \(v.rawValue)\">\(v.rawValue)</span>" }

    static func page(_ reports: [ResultReport]) -> String {
        var h = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>dnic reproduces “Understanding Synthetic Gradients and Decoupled Neural Interfaces”</title>
        <style>
        body { font-family: Georgia, "Times New Roman", serif; line-height: 1.55; color: #1b1b1b; background: #fdfdfb;
               max-width: 62rem; margin: 0 auto; padding: 2rem 1.5rem 4rem; }
        h1 { font-size: 1.9rem; line-height: 1.25; margin-bottom: 0.2rem; }
        h2 { font-size: 1.45rem; border-top: 1px solid #ddd; padding-top: 1.6rem; margin-top: 2.6rem; }
        .sub { color: #555; margin-top: 0; }
        code { font-family: "DejaVu Sans Mono", Menlo, monospace; font-size: 0.86em; background: #f1f1ec; padding: 0.05em 0.3em; \
        border-radius: 3px; }
        pre { background: #f1f1ec; padding: 0.6rem 0.8rem; overflow-x: auto; border-radius: 4px; }
        table { border-collapse: collapse; margin: 0.8rem 0 1.4rem; font-family: "Helvetica Neue", Arial, sans-serif; font-size: 0.9rem; }
        caption { caption-side: top; text-align: left; font-style: italic; padding-bottom: 0.3rem; font-family: Georgia, serif; }
        th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: left; vertical-align: top; }
        th { background: #f3f3ef; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        figure { margin: 1.2rem 0 1.8rem; }
        figure img { max-width: 100%; height: auto; border: 1px solid #e3e3e3; background: white; }
        figcaption { font-size: 0.92rem; color: #333; margin-top: 0.4rem; }
        figcaption b { font-weight: bold; }
        .verdict { display: inline-block; font-family: "Helvetica Neue", Arial, sans-serif; font-size: 0.78rem; font-weight: bold;
                   text-transform: uppercase; letter-spacing: 0.04em; padding: 0.1rem 0.5rem; border-radius: 0.8rem; color: white; }
        .reproduced { background: #2b7a3d; } .partly { background: #b7791f; } .not { background: #b83232; }
        ul.findings { padding-left: 1.2rem; } ul.findings li { margin-bottom: 0.7rem; }
        .meta { font-size: 0.85rem; color: #555; }
        .quick { background: #fff4d6; border-left: 4px solid #e0a800; padding: 0.4rem 0.8rem; }
        </style>
        </head>
        <body>
        <h1>Understanding Synthetic Gradients and Decoupled Neural Interfaces — reproduced with dnic</h1>
        <p class="sub">Czarnecki, Świrszcz, Jaderberg, Osindero, Vinyals, Kavukcuoglu (ICML 2017). Each result below was run by
        <code>dnic reproduce</code>; its verdict is decided by the code from the numbers, by the rule stated before the numbers.</p>

        """
        if reports.isEmpty {
            h += "<p>No results yet: run <code>dnic reproduce all --out DIR</code>.</p>\n"
        } else {
            if reports.contains(where: \.quick) {
                h += "<p class=\"quick\">Results marked <b>quick</b> ran at reduced sizes (<code>--quick</code>): they check the "
                     + "qualitative claims only.</p>\n"
            }
            h += "<table id=\"verdicts\"><caption>Verdicts</caption><tr><th>result</th><th>verdict</th><th>data</th><th>compute</th></tr>\n"
            for r in reports {
                h += "<tr><td><a href=\"#\(r.id)\">\(escape(r.title))</a>\(r.quick ? " (quick)" : "")</td><td>\(badge(r.verdict))</td>"
                    + "<td>\(escape(r.data))</td><td class=\"num\">\(ResultReport.duration(r.computeSeconds))</td></tr>\n"
            }
            h += "</table>\n"
        }
        for r in reports { h += section(r) }
        h += "</body>\n</html>\n"
        return h
    }

    static func section(_ r: ResultReport) -> String {
        var h = "<section id=\"\(r.id)\">\n<h2>\(escape(r.title)) \(badge(r.verdict))</h2>\n"
        h += "<p class=\"meta\">Data: \(escape(r.data))\(r.quick ? " · <b>quick</b> sizes" : "")</p>\n<ul class=\"findings\">\n"
        for f in r.findings {
            h += "<li>\(badge(f.verdict)) <b>Paper:</b> \(inline(f.paper)) <b>Rule:</b> \(inline(f.rule))"
            if let b = f.baseline { h += " <b>Baseline:</b> \(inline(b))" }
            h += " <b>Ours:</b> \(inline(f.ours))</li>\n"
        }
        h += "</ul>\n"
        for t in r.tables {
            h += "<table><caption>\(inline(t.caption))</caption>\n<tr>" + t.header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
            for row in t.rows {
                h += "<tr>" + row.map { cell in
                    let numeric = Double(cell.split(separator: " ").first.map(String.init) ?? "") != nil
                    return "<td\(numeric ? " class=\"num\"" : "")>\(inline(cell))</td>"
                }.joined() + "</tr>\n"
            }
            h += "</table>\n"
        }
        for (i, f) in r.figures.enumerated() {
            h += "<figure><img src=\"\(escape(r.id))/\(escape(f.file))\" alt=\"\(escape(f.caption))\">"
                + "<figcaption><b>\(escape(r.id)), figure \(i + 1).</b> \(inline(f.caption))</figcaption></figure>\n"
        }
        h += "<p><b>Setup.</b> \(inline(r.setup))</p>\n"
        for n in r.notes { h += "<p><b>Note.</b> \(inline(n))</p>\n" }
        h += "<pre>\(escape(r.command))</pre>\n"
        h += "<p class=\"meta\">\(r.runs) runs (\(r.skippedRuns) found complete in the directory) · "
             + "\(ResultReport.duration(r.computeSeconds)) of compute · "
            + "\(ResultReport.duration(r.wallSeconds)) wall time of the last invocation · dnic \(escape(r.dnicVersion)) · "
            + "<a href=\"\(escape(r.id))/summary.md\">summary.md</a></p>\n</section>\n"
        return h
    }
}
