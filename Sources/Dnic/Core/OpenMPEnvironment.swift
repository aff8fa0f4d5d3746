import Foundation

/// The OpenMP runtimes' environment variables (OMP_*, GOMP_*, KMP_*),
/// checked and fixed before either runtime reads them: a table of what LLVM's
/// libomp (which dnic links) and GNU libgomp (which OpenBLAS and oneDNN
/// bring in when the C core dlopens them at its first GEMM) both accept.
///
/// libomp reads them at its first OpenMP call (it scans `environ` then),
/// libgomp in its ELF constructor, i.e. at that dlopen. Neither happens
/// before `main` (measured: KMP_SETTINGS prints nothing for `dnic
/// --version`, and a getenv breakpoint sees no OMP_ variable read before the
/// first GEMM), so fixing the environment first thing in `main` is early
/// enough and no re-exec is needed. On junk both runtimes print several
/// lines of their own, and libomp aborts or hangs on some (OMP_NUM_THREADS
/// empty, -1, "2,abc", "+2"; OMP_STACKSIZE too large; KMP_GTID_MODE …), or
/// starts one thread per requested count (OMP_NUM_THREADS=99999: ~32,000
/// threads). So each variable is checked against the grammar both runtimes
/// accept: junk or empty → one warning line and the variable removed (the
/// runtime's default applies); a thread count above the CPUs this process
/// may run on → capped with one warning line; a valid value is passed on,
/// tidied (spaces removed) where the runtimes differ on spaces. KMP_*
/// variables other than the documented ones below are libomp's internal
/// tuning knobs, several of which crash it on values it does not expect;
/// they are removed with a warning rather than passed on unchecked.
public enum OpenMPEnvironment {
    /// A change to one OpenMP variable: its new value (nil: removed) and
    /// the warning to print (nil: a silent tidy-up of a valid value).
    public struct Fix: Equatable, Sendable {
        public let name: String
        public let value: String?
        public let warning: String?
    }

    /// Checks the OpenMP variables and applies the fixes to this process's
    /// environment; returns the warnings, one line each. Must run before
    /// any other thread exists (setenv is not thread-safe) and before any
    /// OpenMP call.
    public static func clean() -> [String] {
        let needed = fixes(ProcessInfo.processInfo.environment, cpus: usableCPUs())
        for fix in needed {
            if let value = fix.value { setenv(fix.name, value, 1) } else { unsetenv(fix.name) }
        }
        return needed.compactMap(\.warning)
    }

    /// The fixes `environment` needs, in name order; `cpus` bounds thread counts.
    public static func fixes(_ environment: [String: String], cpus: Int) -> [Fix] {
        environment.keys.sorted().compactMap { name in
            let value = environment[name]!
            if let rule = rules[name] { return rule.fix(name, value, cpus: cpus) }
            if name.hasPrefix("KMP_") {
                return Fix(name: name, value: nil,
                           warning: "\(name) is an LLVM OpenMP tuning variable dnic does not check; ignoring it")
            }
            return nil
        }
    }

    /// The CPUs this process may run on (its affinity mask: taskset, a
    /// cpuset), the bound of OpenMP thread counts. It is what both runtimes
    /// use by default, so a larger count only oversubscribes them; a count
    /// beyond it is what dnic's own --threads is for. sched_getaffinity is
    /// looked up at run time: Swift's Glibc module does not declare it.
    public static func usableCPUs() -> Int {
        typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
        if let symbol = dlsym(dlopen(nil, RTLD_NOW), "sched_getaffinity") {
            let getAffinity = unsafeBitCast(symbol, to: GetAffinity.self)
            var mask = [UInt8](repeating: 0, count: 1024) // 8192 CPUs
            if mask.withUnsafeMutableBytes({ getAffinity(0, $0.count, $0.baseAddress!) }) == 0 {
                let count = mask.reduce(0) { $0 + $1.nonzeroBitCount }
                if count > 0 { return count }
            }
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Each variable either runtime reads, with the grammar its value must follow.
    public static let rules: [String: OpenMPRule] = [
        "OMP_NUM_THREADS": .teamSizes,
        "OMP_THREAD_LIMIT": .limit, "OMP_TEAMS_THREAD_LIMIT": .limit, "OMP_NUM_TEAMS": .limit,
        "KMP_ALL_THREADS": .limit, "KMP_DEVICE_THREAD_LIMIT": .limit, "KMP_TEAMS_THREAD_LIMIT": .limit,
        "OMP_MAX_ACTIVE_LEVELS": .level, "OMP_MAX_TASK_PRIORITY": .level, "OMP_DEFAULT_DEVICE": .level, "GOMP_DEBUG": .level,
        "OMP_DYNAMIC": .boolean, "OMP_NESTED": .boolean, "OMP_CANCELLATION": .boolean, "OMP_DISPLAY_AFFINITY": .boolean,
        "KMP_SETTINGS": .boolean, "KMP_WARNINGS": .boolean, "KMP_VERSION": .boolean, "KMP_DUPLICATE_LIB_OK": .boolean,
        // libomp itself writes KMP_INIT_AT_FORK=FALSE into the environment of
        // every child its process forks (a Python program using the dnic
        // package that runs `dnic`, say): a valid value passes silently
        "KMP_INIT_AT_FORK": .boolean,
        "OMP_DISPLAY_ENV": .words(["true", "false", "verbose"]),
        "OMP_WAIT_POLICY": .words(["active", "passive"]),
        "OMP_TARGET_OFFLOAD": .words(["mandatory", "disabled", "default"]),
        "OMP_TOOL": .words(["enabled", "disabled"]),
        "KMP_LIBRARY": .words(["serial", "turnaround", "throughput"]),
        "KMP_TOPOLOGY_METHOD": .words(["all", "cpuid_leaf31", "cpuid_leaf11", "x2apic_id", "x2apic", "cpuid_leaf4", "apic_id",
                                       "apic", "cpuinfo", "/proc/cpuinfo", "flat", "hwloc", "group"]),
        "OMP_PROC_BIND": .procBind,
        "OMP_SCHEDULE": .schedule,
        "OMP_STACKSIZE": .stackSize(unit: 1024), "GOMP_STACKSIZE": .stackSize(unit: 1024), "KMP_STACKSIZE": .stackSize(unit: 1),
        "GOMP_SPINCOUNT": .spinCount,
        "KMP_BLOCKTIME": .blockTime,
        "OMP_PLACES": .places,
        "GOMP_CPU_AFFINITY": .cpuList,
        "KMP_AFFINITY": .kmpAffinity,
        "KMP_HW_SUBSET": .hwSubset,
        "OMP_AFFINITY_FORMAT": .text,
        "OMP_ALLOCATOR": .words(["omp_default_mem_alloc", "omp_large_cap_mem_alloc", "omp_const_mem_alloc", "omp_high_bw_mem_alloc",
                                 "omp_low_lat_mem_alloc", "omp_cgroup_mem_alloc", "omp_pteam_mem_alloc", "omp_thread_mem_alloc"]),
    ]
}

/// What an OpenMP variable's value must look like, for both libomp and
/// libgomp (where they differ, the stricter of the two).
public enum OpenMPRule: Equatable, Sendable {
    /// OMP_NUM_THREADS: team sizes per nesting level, "4" or "4,2"; each capped at the CPUs.
    case teamSizes
    /// A limit on threads or teams, 1 … Int32.max: it never starts a thread,
    /// so only what the runtimes cannot hold is capped.
    case limit
    /// A whole number, 0 … Int32.max.
    case level
    /// true or false (libgomp takes no other spelling).
    case boolean
    /// One of `words`, any case.
    case words([String])
    /// true, false, or a list of primary, master, close, spread.
    case procBind
    /// [monotonic:|nonmonotonic:]static|dynamic|guided|auto[,CHUNK]
    case schedule
    /// A size with an optional B, K, M or G; a bare number counts `unit` bytes.
    case stackSize(unit: Int)
    /// A count with an optional k, M, G or T, or infinite.
    case spinCount
    /// Milliseconds, or infinite.
    case blockTime
    /// Abstract places with an optional (N), or explicit {…} places.
    case places
    /// CPU numbers, N-M or N-M:S ranges, separated by spaces or commas.
    case cpuList
    /// KMP_AFFINITY: modifiers, a type and its permute and offset numbers.
    case kmpAffinity
    /// KMP_HW_SUBSET: items such as 1s, 4c@2, 2t (libomp's own format).
    case hwSubset
    /// Any text that is not empty.
    case text

    static let stackRange = 16 << 10 ... 1 << 30

    /// nil when `value` passes as it is.
    func fix(_ name: String, _ value: String, cpus: Int) -> OpenMPEnvironment.Fix? {
        let shown = "\(name)=\(messageText(value))"
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return .init(name: name, value: nil, warning: "\(name) is set but empty; ignoring it") }
        let dropped = OpenMPEnvironment.Fix(name: name, value: nil, warning: "\(shown) \(expectation); ignoring it")
        func keep(_ tidy: String) -> OpenMPEnvironment.Fix? { tidy == value ? nil : .init(name: name, value: tidy, warning: nil) }
        let bare = trimmed.filter { !$0.isWhitespace }
        switch self {
        case .teamSizes:
            let sizes = bare.split(separator: ",", omittingEmptySubsequences: false).map { Self.whole($0) }
            guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 1 }) else { return dropped }
            let capped = sizes.map { min($0!, cpus) }
            let text = capped.map(String.init).joined(separator: ",")
            if capped != sizes.map({ $0! }) {
                return .init(name: name, value: text,
                             warning: "\(shown) asks for more threads than the \(cpus) CPU(s) dnic may run on; using \(text)")
            }
            return keep(text)
        case .limit, .level:
            guard let n = Self.whole(Substring(bare)), n >= (self == .limit ? 1 : 0) else { return dropped }
            let most = Int(Int32.max)
            if n > most { return .init(name: name, value: "\(most)", warning: "\(shown) is too large; using \(most)") }
            return keep("\(n)")
        case .boolean:
            guard ["true", "false"].contains(bare.lowercased()) else { return dropped }
            return keep(bare)
        case .words(let words):
            guard words.contains(bare.lowercased()) else { return dropped }
            return keep(bare)
        case .procBind:
            let parts = bare.lowercased().split(separator: ",", omittingEmptySubsequences: false)
            let alone = parts.count == 1 && ["true", "false"].contains(parts[0])
            guard alone || parts.allSatisfy({ ["primary", "master", "close", "spread"].contains($0) }) else { return dropped }
            return keep(bare)
        case .schedule:
            var kind = Substring(bare.lowercased())
            if let colon = kind.firstIndex(of: ":") {
                guard ["monotonic", "nonmonotonic"].contains(kind[..<colon]) else { return dropped }
                kind = kind[kind.index(after: colon)...]
            }
            let parts = kind.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count <= 2, ["static", "dynamic", "guided", "auto"].contains(parts[0]),
                  parts.count == 1 || (Self.whole(parts[1]) ?? 0) >= 1 else { return dropped }
            return keep(bare)
        case .stackSize(let unit):
            guard let bytes = Self.size(bare, unit: unit) else { return dropped }
            let range = Self.stackRange
            if !range.contains(bytes) {
                let use = bytes < range.lowerBound ? "16K" : "1G"
                return .init(name: name, value: use, warning: "\(shown) is \(bytes < range.lowerBound ? "less than 16K" : "more than 1G") "
                                                              + "per thread; using \(use)")
            }
            return keep(bare)
        case .spinCount:
            if ["infinite", "infinity"].contains(bare.lowercased()) { return keep(bare) }
            guard let count = Self.size(bare, unit: 1, units: ["k": 1_000, "m": 1_000_000, "g": 1_000_000_000, "t": 1_000_000_000_000])
            else { return dropped }
            if count == Int.max { return .init(name: name, value: "infinite", warning: "\(shown) is too large; using infinite") }
            return keep(bare)
        case .blockTime:
            if ["infinite", "infinity"].contains(bare.lowercased()) { return keep(bare) }
            guard let ms = Self.whole(Substring(bare)) else { return dropped }
            let most = Int(Int32.max)
            if ms > most { return .init(name: name, value: "\(most)", warning: "\(shown) is too large; using \(most)") }
            return keep("\(ms)")
        case .places:
            guard Self.isPlaceList(bare) else { return dropped }
            return keep(bare)
        case .cpuList:
            let items = trimmed.split(whereSeparator: { $0 == "," || $0.isWhitespace })
            guard !items.isEmpty, items.allSatisfy(Self.isCPURange) else { return dropped }
            return keep(trimmed)
        case .kmpAffinity:
            guard Self.isKMPAffinity(bare) else { return dropped }
            return keep(bare)
        case .hwSubset:
            let items = bare.split(separator: ",", omittingEmptySubsequences: false)
            guard items.allSatisfy(Self.isHardwareItem) else { return dropped }
            return keep(bare)
        case .text:
            return nil
        }
    }

    /// What a value must be, for the warning.
    var expectation: String {
        switch self {
        case .teamSizes: return "is not a thread count (a whole number from 1, or a comma-separated list of them)"
        case .limit: return "is not a whole number from 1"
        case .level: return "is not a whole number"
        case .boolean: return "is not true or false"
        case .words(let words): return "is not one of \(words.joined(separator: ", "))"
        case .procBind: return "is not true, false, or a comma-separated list of primary, master, close, spread"
        case .schedule: return "is not a schedule (static, dynamic, guided or auto, optionally followed by ,CHUNK)"
        case .stackSize: return "is not a size (a whole number with an optional B, K, M or G)"
        case .spinCount: return "is not a count (a whole number with an optional k, M, G or T, or infinite)"
        case .blockTime: return "is not a time in milliseconds (a whole number, or infinite)"
        case .places: return "is not a place list (threads, cores, sockets, ll_caches or numa_domains, optionally with (N), or {…} places)"
        case .cpuList: return "is not a CPU list (numbers and ranges N-M or N-M:S, separated by spaces or commas)"
        case .kmpAffinity: return "is not an affinity setting (such as granularity=core,compact)"
        case .hwSubset: return "is not a hardware subset (such as 1s,4c,2t)"
        case .text: return "is empty"
        }
    }

    /// A whole number written in decimal digits; Int.max when it overflows.
    static func whole(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text) ?? Int.max
    }

    /// A number with an optional unit letter (any case) among `units`;
    /// Int.max when it overflows.
    static func size(_ text: String, unit: Int,
                      units: [Character: Int] = ["b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30]) -> Int? {
        var digits = Substring(text), factor = unit
        if let last = text.last?.lowercased().first, let f = units[last] {
            digits = digits.dropLast()
            factor = f
        }
        guard let n = whole(digits) else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: factor)
        return overflow || n == Int.max ? Int.max : product
    }

    /// A KMP_HW_SUBSET item: a count and a layer (1s, 4c, 2t, 1L2, 2cores),
    /// an optional @offset and :attribute.
    static func isHardwareItem(_ item: Substring) -> Bool {
        let layer = "(s|sockets?|packages?|n|numa|numa_domains?|nodes?|d|dies?|l1|l2|l3|ll|ll_caches?|tiles?|m|modules?"
            + "|c|cores?|t|threads?)"
        return (try? Regex(#"\^?[0-9]+"# + layer + #"(@[0-9]+)?(:[a-z0-9_]+)?"#))
            .map { item.lowercased().wholeMatch(of: $0) != nil } ?? false
    }

    /// N, N-M or N-M:S.
    static func isCPURange(_ item: Substring) -> Bool {
        item.wholeMatch(of: /[0-9]+(-[0-9]+(:[0-9]+)?)?/) != nil
    }

    /// OMP_PLACES: an abstract name with an optional (N), or a
    /// comma-separated list of places, each `{RES,…}` with an optional
    /// `:LEN[:STRIDE]`, `!` to exclude, RES being `N[:LEN[:STRIDE]]`.
    static func isPlaceList(_ text: String) -> Bool {
        let lower = text.lowercased()
        if lower.wholeMatch(of: /(threads|cores|sockets|ll_caches|numa_domains)(\([1-9][0-9]*\))?/) != nil { return true }
        let interval = #"!?[0-9]+(:[0-9]+(:-?[0-9]+)?)?"#
        let place = #"!?\{"# + interval + "(," + interval + #")*\}(:[0-9]+(:-?[0-9]+)?)?"#
        return (try? Regex(place + "(," + place + ")*"))
            .map { lower.wholeMatch(of: $0) != nil } ?? false
    }

    /// KMP_AFFINITY: comma-separated modifiers (verbose, warnings, respect,
    /// granularity=…, proclist=[…], and their no- forms), at most one type,
    /// then up to two numbers (permute, offset).
    static func isKMPAffinity(_ text: String) -> Bool {
        var tokens: [Substring] = [], depth = 0, start = text.startIndex
        for i in text.indices {
            if text[i] == "[" { depth += 1 } else if text[i] == "]" { depth -= 1 } else if text[i] == ",", depth == 0 {
                tokens.append(text[start ..< i])
                start = text.index(after: i)
            }
        }
        tokens.append(text[start...])
        let modifiers: Set<Substring> = ["verbose", "noverbose", "warnings", "nowarnings", "respect", "norespect",
                                         "duplicates", "noduplicates", "dups", "nodups", "reset", "noreset"]
        let types: Set<Substring> = ["none", "compact", "scatter", "explicit", "balanced", "disabled", "logical", "physical"]
        var numbers = 0
        for token in tokens.map({ Substring($0.lowercased()) }) {
            if modifiers.contains(token) || types.contains(token) { continue }
            if token.wholeMatch(of: /granularity=[a-z0-9_]+/) != nil { continue }
            if token.wholeMatch(of: /proclist=\[[0-9,{}\-]+\]/) != nil { continue }
            if whole(token) != nil, numbers < 2 { numbers += 1; continue }
            return false
        }
        return true
    }
}
