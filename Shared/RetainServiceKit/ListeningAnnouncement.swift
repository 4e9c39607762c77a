import Foundation
import ServiceLifecycle

/// Prints the `<name> listening on HOST:PORT` line that tests and `retain up` wait for, from
/// inside the service group: by then the group traps SIGTERM and SIGINT, so a reader that stops
/// the process right after reading the line gets a graceful shutdown, not a killed process.
struct ListeningAnnouncement: Service {
    let line: String

    func run() async throws {
        print(line)
        fflush(nil)
        try? await gracefulShutdown()
    }
}
