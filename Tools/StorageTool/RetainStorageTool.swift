import ArgumentParser
import Logging

/// `retain-storage`: inspect, repair and benchmark Retain data directories.
@main
struct RetainStorageTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retain-storage",
        abstract: "Inspect, repair and benchmark Retain storage directories (write-ahead log + zstd snapshots).",
        discussion: "The on-disk formats, durability modes and the repair procedure are described in docs/STORAGE.md.",
        subcommands: [InspectCommand.self, RepairCommand.self, BenchCommand.self, TortureCommand.self])

    /// Sends log messages at `level` and above to standard error.
    static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
