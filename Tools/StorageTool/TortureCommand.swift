import ArgumentParser
import Foundation
import Glibc
import Logging
import RetainStorage
import Synchronization

/// `retain-storage torture`: the child process of the crash test (hidden).
///
/// Recovers the directory and checks every record in it, then appends under concurrent load the
/// way a service does — each writer takes the state lock, appends, releases, waits until durable —
/// and prints each sequence on its own line to standard output only once it is durable. A
/// background thread takes snapshots by the snapshot policy. The parent kills it with SIGKILL at
/// random moments and checks that every printed sequence survived.
struct TortureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "torture",
        abstract: "Append verifiable records under load until killed (used by the crash test).",
        shouldDisplay: false)

    @Option(help: "The data directory.")
    var dir: String

    @Option(help: "always, or interval:<milliseconds>.")
    var durability: DurabilityArgument = .always

    @Option(help: "Concurrent writers.")
    var writers: Int = 8

    @Option(help: "Take a snapshot after this many records.")
    var snapshotEvery: Int = 5_000

    @Option(help: "Log segment size in bytes (small, to exercise rollover).")
    var segmentBytes: Int = 256 << 10

    @Option(help: "Stop after this many seconds (default: run until killed).")
    var seconds: Double?

    /// The service-like state: every applied sequence, in order, behind the state lock.
    final class State: Sendable {
        let applied = Mutex<[UInt64]>([])
    }

    struct VerificationFailure: Error, CustomStringConvertible {
        var description: String
    }

    func run() async throws {
        RetainStorageTool.bootstrapLogging(level: .warning)
        var configuration = StorageConfiguration(durability: durability.durability)
        configuration.segmentBytes = segmentBytes
        configuration.snapshotEveryRecords = snapshotEvery
        let store = try DurableStore(directory: dir, configuration: configuration, logger: Logger(label: "torture"))
        let state = State()
        do {
            var applied: [UInt64] = []
            try recover(store, into: &applied)
            state.applied.withLock { $0 = applied }
        } catch {
            FileHandle.standardError.write(Data("torture: recovery check failed: \(error)\n".utf8))
            throw ExitCode(3)
        }

        let deadline = seconds.map { ContinuousClock.now + .milliseconds(Int($0 * 1000)) }
        let stop = Mutex(false)
        // A crash test that dies itself must not leave this running: exit when the parent goes.
        let parent = getppid()
        Thread {
            while getppid() == parent { usleep(100_000) }
            Glibc.exit(5)
        }.start()
        let snapshotter = Thread {
            while !stop.withLock({ $0 }) {
                usleep(10_000)
                guard store.snapshotDue else { continue }
                let copy = state.applied.withLock { $0 }
                guard let covered = copy.last, covered > store.snapshotSequence else { continue }
                do {
                    try store.writeSnapshot(coveringSequence: covered) { writer in
                        for sequence in copy { try writer.append(TorturePayload.make(sequence)) }
                    }
                } catch {
                    FileHandle.standardError.write(Data("torture: snapshot failed: \(error)\n".utf8))
                    Glibc.exit(4)
                }
            }
        }
        snapshotter.start()

        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(writers, 1) {
                group.addTask {
                    while deadline.map({ ContinuousClock.now < $0 }) ?? true {
                        let sequence = try state.applied.withLock { (applied) throws(StorageError) -> UInt64 in
                            let next = store.lastSequence + 1
                            let sequence = try store.append(TorturePayload.make(next))
                            precondition(sequence == next, "store assigned \(sequence), expected \(next)")
                            applied.append(sequence)
                            return sequence
                        }
                        try await store.waitDurable(sequence)
                        writeLine("\(sequence)")
                    }
                }
            }
            try await group.waitForAll()
        }
        stop.withLock { $0 = true }
        store.close()
    }

    /// Recovers `store`, checking that the records are exactly 1, 2, 3, ... with their payloads.
    private func recover(_ store: DurableStore, into applied: inout [UInt64]) throws {
        var expected: UInt64 = 1
        var sequences: [UInt64] = []
        _ = try store.recover(
            snapshot: { reader in
                while let record = try reader.next() {
                    guard TorturePayload.matches(record, sequence: expected) else {
                        throw VerificationFailure(description: "snapshot record \(expected) has the wrong payload")
                    }
                    sequences.append(expected)
                    expected += 1
                }
                guard reader.coveredSequence == expected - 1 else {
                    throw VerificationFailure(
                        description: "snapshot covers \(reader.coveredSequence) but holds \(expected - 1) records")
                }
            },
            replay: { sequence, payload in
                guard sequence == expected, TorturePayload.matches(payload, sequence: sequence) else {
                    throw VerificationFailure(description: "log record \(sequence) found where \(expected) was expected")
                }
                sequences.append(sequence)
                expected += 1
            })
        applied = sequences
    }

    /// Writes one line to standard output with a single unbuffered `write`.
    private func writeLine(_ text: String) {
        var line = text + "\n"
        line.withUTF8 { bytes in _ = Glibc.write(STDOUT_FILENO, bytes.baseAddress, bytes.count) }
    }
}
