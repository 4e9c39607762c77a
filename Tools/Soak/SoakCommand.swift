public import ArgumentParser
import Foundation

/// `retain soak`: starts the four services and the gateway as real processes (authentication
/// on), runs mixed load for `--duration` while it kills, stops and restarts members and cuts
/// client connections, then checks that every acknowledged write is present exactly once and
/// prints calls, faults, the verification and each process's resident memory over time.
/// Exits 1 when any acknowledged write was lost or duplicated.
public struct SoakCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Run the suite under mixed load with faults; verify every acknowledged write and report memory.")

    @Option(help: "Seconds of load.")
    var duration: Int = 180

    @Option(help: "Operations in flight at once.")
    var concurrency: Int = 8

    @Option(name: .customLong("fault-interval"), help: "Seconds between faults.")
    var faultInterval: Double = 20

    @Option(name: .customLong("bin-dir"), help: "Where the retain-* executables are (default: next to this one).")
    var binDirectory: String?

    @Option(name: .customLong("data-dir"), help: "Directory for the data directories (default: a temporary one, removed afterwards).")
    var dataDirectory: String?

    public init() {}

    public func validate() throws {
        guard duration > 0, concurrency > 0, faultInterval > 0 else {
            throw ValidationError("--duration, --concurrency and --fault-interval must be positive")
        }
    }

    public func run() async throws {
        var configuration = SoakRun.Configuration()
        configuration.duration = .seconds(duration)
        configuration.concurrency = concurrency
        configuration.faultInterval = .milliseconds(Int(faultInterval * 1000))
        if let binDirectory { configuration.binaries = URL(fileURLWithPath: binDirectory) }
        configuration.dataDirectory = dataDirectory.map { URL(fileURLWithPath: $0) }
        let report = try await SoakRun(configuration: configuration).run { line in
            print("retain soak: \(line)")
            fflush(nil)
        }
        print(report.text)
        if !report.passed { throw ExitCode(1) }
    }
}
