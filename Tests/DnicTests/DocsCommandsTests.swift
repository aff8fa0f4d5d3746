import Foundation
import XCTest

/// Every command in README.md and docs/*.md runs. A fenced shell block
/// (```sh, ```bash, ```shell) is preceded by one of
///
///     <!-- runnable -->
///     <!-- not runnable: why (needs mpirun, root, minutes of training …) -->
///
/// and a runnable one may add quick forms, one comment line each, between
/// the marker and the fence, for commands that take minutes as written:
///
///     <!-- quick: dnic train += --steps 20 -->    appended to every `dnic train …`
///                                                  of the block (the later flag wins)
///     <!-- quick: --epochs 20 => --steps 40 -->   the block's text, replaced
///
/// Each runnable block runs alone in an empty directory, every line a
/// command (a trailing `\` and a here-document continue it), with the
/// built `dnic` first on PATH and OMP_NUM_THREADS=1, bounded by `timeout`.
/// A failure names the file, the line, the command and its output.
final class DocsCommandsTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// README.md and docs/*.md, relative to the package root.
    static var documents: [String] {
        let docs = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)) ?? []
        return ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    }

    static func blocks() throws -> (blocks: [DocShellBlock], problems: [String]) {
        var blocks: [DocShellBlock] = [], problems: [String] = []
        for document in documents {
            let text = try String(contentsOf: root.appendingPathComponent(document), encoding: .utf8)
            let parsed = DocShellBlock.parse(text, file: document)
            blocks += parsed.blocks
            problems += parsed.problems
        }
        return (blocks, problems)
    }

    func testEveryShellBlockSaysWhetherItRuns() throws {
        let (blocks, problems) = try Self.blocks()
        for problem in problems { XCTFail(problem) }
        XCTAssertTrue(blocks.contains { $0.runnable }, "no runnable block in \(Self.documents)")
    }

    func testTheReadmeKeepsTheTwoCommands() throws {
        // CI and the hooks look for these two lines in the README
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(readme.contains("\n## The two commands\n"))
        for command in ["bash scripts/main.sh", "bash scripts/test.sh"] {
            XCTAssertTrue(readme.split(separator: "\n").contains { $0 == command }, "README.md lacks the line \(command)")
        }
    }

    /// Docs that stand alone: every relative link of README.md and
    /// docs/*.md names a file of the repository and, after `#`, a heading
    /// (GitHub's anchor for it) or an `<a id>` of that file.
    func testEveryLinkLeadsSomewhere() throws {
        for document in Self.documents {
            let text = Self.outsideCodeBlocks(try String(contentsOf: Self.root.appendingPathComponent(document), encoding: .utf8))
            for link in Self.matches(#"\]\(([^)\s]+)\)"#, in: text) where !link.contains("://") && !link.hasPrefix("mailto:") {
                let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let target = parts[0].isEmpty ? document : Self.resolve(parts[0], from: document)
                let url = Self.root.appendingPathComponent(target)
                guard FileManager.default.fileExists(atPath: url.path) else {
                    XCTFail("\(document): the link \(link) leads to \(target), which does not exist"); continue
                }
                guard parts.count == 2, target.hasSuffix(".md") else { continue }
                let page = Self.outsideCodeBlocks(try String(contentsOf: url, encoding: .utf8))
                let anchors = Set(Self.matches(#"(?m)^#+ (.*)$"#, in: page).map(Self.anchor)
                                  + Self.matches(#"<a id="([^"]+)">"#, in: page))
                XCTAssertTrue(anchors.contains(parts[1]), "\(document): the link \(link): \(target) has no heading #\(parts[1])")
            }
        }
    }

    /// GitHub's anchor of a heading: lower case, spaces to hyphens, only
    /// letters, digits, `-` and `_` kept.
    static func anchor(_ heading: String) -> String {
        String(heading.lowercased().compactMap { c -> Character? in
            c == " " ? "-" : (c.isLetter || c.isNumber || c == "-" || c == "_") ? c : nil
        })
    }

    /// `link` seen from `document` (both relative to the package root),
    /// its `.` and `..` resolved.
    static func resolve(_ link: String, from document: String) -> String {
        var parts = document.split(separator: "/").dropLast().map(String.init)
        for part in link.split(separator: "/").map(String.init) {
            if part == ".." { _ = parts.popLast() } else if part != "." { parts.append(part) }
        }
        return parts.joined(separator: "/")
    }

    /// `text` without its fenced code blocks.
    static func outsideCodeBlocks(_ text: String) -> String {
        var inside = false
        return text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") { inside.toggle(); return false }
            return !inside
        }.joined(separator: "\n")
    }

    /// The first capture group of every match of `pattern` in `text`.
    static func matches(_ pattern: String, in text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: pattern)
        let ns = text as NSString
        return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: 1)) }
    }

    func testRunnableCommandsRun() throws {
        let blocks = try Self.blocks().blocks.filter(\.runnable)
        let start = Date()
        var commands = 0
        for block in blocks {
            commands += try block.commands().count
            let t0 = Date()
            if let failure = try run(block) { XCTFail(failure) }
            print("docs: \(block.file):\(block.fenceLine) \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
        }
        print("docs: \(commands) runnable commands in \(blocks.count) blocks ran in \(Int(Date().timeIntervalSince(start))) s")
    }

    /// Runs one block in a fresh directory; nil when every command succeeded.
    func run(_ block: DocShellBlock) throws -> String? {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dnic-docs-\(UUID().uuidString)")
        let work = scratch.appendingPathComponent("work"), logs = scratch.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let commands = try block.commands()
        let script = scratch.appendingPathComponent("block.sh")
        try block.script(commands, logs: logs.path).write(to: script, atomically: true, encoding: .utf8)
        let bin = CLITests.executable.deletingLastPathComponent().path
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let seconds = 100
        let r = try ProcessRun.launch("/usr/bin/timeout", ["-k", "5", String(seconds), "/bin/bash", script.path],
                                      environment: ["PATH": path], directory: work.path)
        func read(_ name: String) -> String {
            (try? String(contentsOf: logs.appendingPathComponent(name), encoding: .utf8)) ?? ""
        }
        for command in commands {
            let stderr = read("\(command.line).err")
            StderrCaptures.record(["docs", "\(block.file):\(command.line)", command.text], stderr)
        }
        if r.status == 0 { return nil }
        let line = Int(read("current").trimmingCharacters(in: .whitespacesAndNewlines)) ?? block.fenceLine
        let text = commands.first { $0.line == line }?.text ?? "?"
        let status = read("failed").trimmingCharacters(in: .whitespacesAndNewlines)
        let what = r.status == 124 ? "did not end within \(seconds) s" : "exited \(status.isEmpty ? String(r.status) : status)"
        func tail(_ s: String) -> String { s.split(separator: "\n", omittingEmptySubsequences: false).suffix(30).joined(separator: "\n") }
        return "\(block.file):\(line): `\(text)` \(what)\n--- stdout:\n\(tail(read("\(line).out")))\n--- stderr:\n"
            + tail(read("\(line).err")) + (r.stderr.isEmpty ? "" : "\n--- bash:\n\(tail(r.stderr))")
    }
}

/// A fenced shell block of a document, its marker and its quick forms.
struct DocShellBlock {
    let file: String
    /// 1-based line of the opening fence
    let fenceLine: Int
    var runnable = false
    /// `dnic SUBCOMMAND` → arguments appended to it
    var appends: [(subcommand: String, arguments: String)] = []
    var replacements: [(from: String, to: String)] = []
    /// the block's lines with their 1-based line numbers
    var lines: [(number: Int, text: String)] = []

    /// The shell blocks of `text`, and what is wrong with their markers.
    static func parse(_ text: String, file: String) -> (blocks: [DocShellBlock], problems: [String]) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var blocks: [DocShellBlock] = [], problems: [String] = []
        var i = 0
        while i < lines.count {
            let fence = lines[i].trimmingCharacters(in: .whitespaces)
            guard fence.hasPrefix("```") else { i += 1; continue }
            let language = fence.dropFirst(3).trimmingCharacters(in: .whitespaces)
            var end = i + 1
            while end < lines.count, lines[end].trimmingCharacters(in: .whitespaces) != "```" { end += 1 }
            defer { i = end + 1 }
            guard ["sh", "bash", "shell"].contains(language) else { continue }
            var block = DocShellBlock(file: file, fenceLine: i + 1)
            block.lines = (i + 1..<min(end, lines.count)).map { ($0 + 1, lines[$0]) }
            // the comment lines right above the fence, nearest last
            var markers: [String] = []
            var j = i - 1
            while j >= 0, lines[j].hasPrefix("<!--"), lines[j].hasSuffix("-->") {
                markers.insert(String(lines[j].dropFirst(4).dropLast(3)).trimmingCharacters(in: .whitespaces), at: 0)
                j -= 1
            }
            let here = "\(file):\(i + 1)"
            guard let first = markers.first, first == "runnable" || first.hasPrefix("not runnable:") else {
                problems.append("\(here): a shell block without <!-- runnable --> or <!-- not runnable: why --> right above it")
                continue
            }
            block.runnable = first == "runnable"
            if !block.runnable, first.dropFirst("not runnable:".count).trimmingCharacters(in: .whitespaces).isEmpty {
                problems.append("\(here): <!-- not runnable: --> must say why")
            }
            for marker in markers.dropFirst() {
                guard block.runnable, marker.hasPrefix("quick:") else {
                    problems.append("\(here): unexpected <!-- \(marker) --> (quick forms follow <!-- runnable -->)")
                    continue
                }
                let rule = marker.dropFirst("quick:".count).trimmingCharacters(in: .whitespaces)
                let body = block.lines.map(\.text).joined(separator: "\n")
                if let r = rule.range(of: " += "), rule.hasPrefix("dnic ") {
                    let sub = String(rule[rule.index(rule.startIndex, offsetBy: 5)..<r.lowerBound])
                    block.appends.append((sub, String(rule[r.upperBound...])))
                    if !body.contains("dnic \(sub)") { problems.append("\(here): quick rule '\(rule)': no dnic \(sub) in the block") }
                } else if let r = rule.range(of: " => ") {
                    let from = String(rule[..<r.lowerBound]), to = String(rule[r.upperBound...])
                    block.replacements.append((from, to))
                    if !body.contains(from) { problems.append("\(here): quick rule '\(rule)': '\(from)' is not in the block") }
                } else {
                    problems.append("\(here): quick rule '\(rule)' is neither 'dnic SUB += ARGS' nor 'FROM => TO'")
                }
            }
            blocks.append(block)
        }
        return (blocks, problems)
    }

    /// The commands to run: each starts on a line that is not blank or a
    /// comment, and takes the lines a trailing `\` or a here-document
    /// adds; the replacements applied.
    func commands() throws -> [(line: Int, text: String)] {
        var commands: [(line: Int, text: String)] = []
        var k = 0
        while k < lines.count {
            let (number, first) = lines[k]
            k += 1
            let trimmed = first.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            var text = first
            while text.hasSuffix("\\"), k < lines.count { text += "\n" + lines[k].text; k += 1 }
            if let terminator = Self.hereDocumentTerminator(text) {
                while k < lines.count {
                    text += "\n" + lines[k].text
                    k += 1
                    if lines[k - 1].text == terminator { break }
                }
            }
            for (from, to) in replacements { text = text.replacingOccurrences(of: from, with: to) }
            commands.append((number, text))
        }
        return commands
    }

    /// `WORD` of a `<<WORD`, `<<'WORD'` or `<<-WORD` on the line, if any.
    static func hereDocumentTerminator(_ line: String) -> String? {
        guard let r = line.range(of: "<<") else { return nil }
        var rest = line[r.upperBound...].drop { $0 == "-" || $0 == " " }
        if rest.first == "'" || rest.first == "\"" { rest = rest.dropFirst() }
        let word = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return word.isEmpty ? nil : String(word)
    }

    /// A bash script that runs `commands` one by one: before each it notes
    /// the line in LOGS/current, its output goes to LOGS/LINE.out and
    /// LOGS/LINE.err, and the first that fails writes its status to
    /// LOGS/failed and ends the script.
    func script(_ commands: [(line: Int, text: String)], logs: String) -> String {
        var s = "set -o pipefail\n"
        if !appends.isEmpty {
            s += "dnic() {\n    case \"$1\" in\n"
            for sub in Set(appends.map(\.subcommand)).sorted() {
                let args = appends.filter { $0.subcommand == sub }.map(\.arguments).joined(separator: " ")
                s += "    \(sub)) command dnic \"$@\" \(args) ;;\n"
            }
            s += "    *) command dnic \"$@\" ;;\n    esac\n}\n"
        }
        for (line, text) in commands {
            s += "echo \(line) > '\(logs)/current'\n"
            s += "{\n\(text)\n} > '\(logs)/\(line).out' 2> '\(logs)/\(line).err'\n"
            s += "status=$?; if [ \"$status\" -ne 0 ]; then echo \"$status\" > '\(logs)/failed'; exit 1; fi\n"
        }
        return s
    }
}
