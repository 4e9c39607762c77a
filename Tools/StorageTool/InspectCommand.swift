import ArgumentParser
import RetainStorage

/// `retain-storage inspect <dir>`: what a data directory holds and whether recovery accepts it.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show the snapshots and log segments of a data directory and verify every checksum.",
        discussion: """
            Prints each snapshot (covered sequence, records, size, compression ratio) and each log \
            segment (sequence range, records, size), then whether recovery would start. Read-only; \
            safe beside a running service. Exits with status 1 if recovery would refuse to start.
            """)

    @Argument(help: "The data directory.")
    var directory: String

    func run() throws {
        let inspection = try StorageInspector.inspect(directory: directory)
        print(inspection)
        if inspection.recoveryProblem != nil { throw ExitCode(1) }
    }
}
