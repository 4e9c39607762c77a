/// One etcd member's client address.
struct EtcdEndpoint: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    /// Reads `http://HOST:PORT` (or `HOST:PORT`); the path, if any, is ignored.
    init?(_ text: String) {
        var rest = Substring(text)
        if rest.hasPrefix("http://") { rest = rest.dropFirst("http://".count) }
        if rest.hasPrefix("https://") { return nil }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = rest[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        self.host = String(host)
        self.port = port
    }

    var description: String { "http://\(host):\(port)" }
}

/// Which member to ask first: the one that answered last, so a client sticks to a working member
/// and moves on only when it fails.
///
/// ```
///   calls go to `current`; a failure of `current` moves it to the next one (wrapping)
///   [ e0 ] [ e1 ] [ e2 ]        order() from current 1:  1, 2, 0
/// ```
struct EtcdEndpoints: Sendable {
    let all: [EtcdEndpoint]
    private(set) var current = 0

    init(_ all: [EtcdEndpoint]) {
        precondition(!all.isEmpty, "an etcd client needs at least one endpoint")
        self.all = all
    }

    /// Indices of every endpoint, the current one first.
    func order() -> [Int] {
        (0..<all.count).map { (current + $0) % all.count }
    }

    /// `index` answered: stick to it.
    mutating func answered(_ index: Int) {
        current = index
    }

    /// `index` failed: if it is the current one, the next one becomes current.
    mutating func failed(_ index: Int) {
        if index == current { current = (index + 1) % all.count }
    }
}
