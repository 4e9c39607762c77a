public import ArgumentParser

/// A `host:port` argument.
public struct ServerAddress: ExpressibleByArgument, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        let host = String(argument[..<colon])
        self.host = host.isEmpty ? "127.0.0.1" : host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}
