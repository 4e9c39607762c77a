import ArgumentParser
import Logging
import RetainStorage

/// `retain-storage repair <dir>`: drop what recovery refuses, keeping a copy of it.
struct RepairCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Make a data directory recoverable, keeping a copy of everything dropped in <dir>/quarantine-<timestamp>/.",
        discussion: """
            Stop the service first (repair takes the directory's lock). Moves corrupt snapshots and \
            unfinished temporary files to the quarantine, cuts the log at its first damage (copying \
            the cut bytes), and moves later segments to the quarantine. Run `inspect` first to see \
            what it will touch. See docs/STORAGE.md.
            """)

    @Argument(help: "The data directory.")
    var directory: String

    func run() throws {
        RetainStorageTool.bootstrapLogging(level: .error)
        let report = try StorageInspector.repair(directory: directory, logger: Logger(label: "retain-storage.repair"))
        print(report)
    }
}
