import Foundation
import RetainProcess
import Testing

/// A process announces `listening on` only once SIGTERM means a graceful stop: a supervisor (or
/// a test) that stops it the moment it reads the line gets exit status 0, never a process killed
/// by the signal (status 15), which is what it got while the line came before the signal trap.
@Suite("graceful stop right after start", .serialized)
struct GracefulStopTests {
    @Test("SIGTERM sent as soon as `listening on` is read ends the process gracefully, every time")
    func stopAtOnce() throws {
        for round in 0..<12 {
            let server = try ServerProcess("retain-echo", arguments: ["--ops-port=-1"])
            #expect(server.stop() == 0, "round \(round): \(server.log)")
        }
    }
}
