import Foundation
public import ServiceLifecycle

/// Prints the `<name> listening on HOST:PORT` line that tests and `retain up` wait for, from
/// inside the service group: by then the group traps SIGTERM and SIGINT, so a reader that stops
/// the process right after reading the line gets a graceful shutdown, not a killed process.
public struct ListeningAnnouncement: Service {
    let line: String

    /// Prints `line` when the group starts it.
    public init(line: String) {
        self.line = line
    }

    public func run() async throws {
        print(line)
        fflush(nil)
        try? await gracefulShutdown()
    }
}
