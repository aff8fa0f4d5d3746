/// Text a user or a file supplied, made safe to quote in a one-line error:
/// control characters (a newline in a tensor name, a carriage return in a
/// CSV field) become escapes such as \n or \u{1B}, and long text is elided
/// with "…", so no message echoes more than about 80 characters of it (a
/// config value may be 100 MB long).

/// `text` escaped and cut after `limit` characters.
public func messageText(_ text: some StringProtocol, limit: Int = 40) -> String {
    var out = ""
    for (i, c) in text.unicodeScalars.enumerated() {
        if i == limit { return out + "…" }
        out += escaped(c)
    }
    return out
}

/// A path escaped and, past `limit` characters, elided in the middle: the
/// file name at its end is what tells a user which file is meant.
public func pathText(_ path: some StringProtocol, limit: Int = 80) -> String {
    let scalars = Array(path.unicodeScalars)
    guard scalars.count > limit else { return scalars.map(escaped).joined() }
    let tail = limit * 2 / 3, head = limit - tail
    return scalars[..<head].map(escaped).joined() + "…" + scalars[(scalars.count - tail)...].map(escaped).joined()
}

private func escaped(_ c: Unicode.Scalar) -> String {
    switch c {
    case "\n": return "\\n"
    case "\r": return "\\r"
    case "\t": return "\\t"
    case _ where c.properties.generalCategory == .control || c.properties.generalCategory == .format
        || c == "\u{2028}" || c == "\u{2029}":
        return "\\u{" + String(c.value, radix: 16, uppercase: true) + "}"
    default: return String(c)
    }
}
