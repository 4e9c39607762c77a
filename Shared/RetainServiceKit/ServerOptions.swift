public import ArgumentParser
public import Logging

/// The flags every Retain executable shares: where to listen, where to keep data, how much to log.
public struct ServerOptions: ParsableArguments, Sendable {
    /// Address to listen on.
    @Option(help: "Address to listen on.")
    public var host: String = "127.0.0.1"

    /// Port to listen on; 0 picks a free one (printed on start).
    @Option(help: "Port to listen on; 0 picks a free one (printed on start).")
    public var port: Int = 0

    /// Directory for the write-ahead log and snapshots.
    @Option(name: .customLong("data-dir"), help: "Directory for the write-ahead log and snapshots.")
    public var dataDirectory: String?

    /// Log level: trace, debug, info, notice, warning, error, critical.
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    public var logLevel: Logger.Level = .info

    /// Largest frame payload accepted, in bytes.
    @Option(name: .customLong("max-frame-bytes"), help: "Largest frame payload accepted, in bytes.")
    public var maximumFrameBytes: Int = 4 << 20

    /// Calls answered later that may run at once on one connection.
    @Option(name: .customLong("max-concurrent-calls"), help: "Calls that may run at once on one connection.")
    public var maximumConcurrentCalls: Int = 1024

    public init() {}
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
