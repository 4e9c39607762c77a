import Foundation
public import RetainProto
import RetainStorage

/// Which epoch wrote which part of a shard's log, kept in `<data-dir>/EPOCHS` (one line per
/// epoch: `epoch first_sequence`), as PostgreSQL keeps timeline history files.
///
/// Within one epoch only its leader writes records, in order, so two logs that hold the same
/// epoch at the same sequence hold the same record there and before it. Comparing histories
/// finds where a replica's log stops agreeing with its leader's.
public struct EpochHistory: Sendable, Equatable {
    /// One epoch's start.
    public struct Entry: Sendable, Equatable {
        public var epoch: UInt64
        public var firstSequence: UInt64

        public init(epoch: UInt64, firstSequence: UInt64) {
            self.epoch = epoch
            self.firstSequence = firstSequence
        }
    }

    /// Oldest first; epochs and first sequences never decrease.
    public private(set) var entries: [Entry]

    public init(entries: [Entry] = []) {
        self.entries = entries
    }

    /// The history as sent on the wire.
    public var message: [Retain_V1_EpochStart] {
        entries.map { Retain_V1_EpochStart(epoch: $0.epoch, firstSequence: $0.firstSequence) }
    }

    public init(message: [Retain_V1_EpochStart]) {
        entries = message.map { Entry(epoch: $0.epoch, firstSequence: $0.firstSequence) }
    }

    /// The newest epoch (0 before any).
    public var latestEpoch: UInt64 { entries.last?.epoch ?? 0 }

    /// The epoch that wrote `sequence` (0 for records written before replication began).
    public func epoch(at sequence: UInt64) -> UInt64 {
        entries.last(where: { $0.firstSequence <= sequence })?.epoch ?? 0
    }

    /// Starts `epoch` at `firstSequence`. Entries of the same epoch are not repeated, and an
    /// entry that starts where a later one would is replaced (an epoch that wrote nothing).
    public mutating func begin(epoch: UInt64, firstSequence: UInt64) {
        if let last = entries.last, last.epoch == epoch { return }
        entries.removeAll { $0.firstSequence >= firstSequence }
        entries.append(Entry(epoch: epoch, firstSequence: firstSequence))
    }

    /// The last sequence through which a log with this history and `last` as its last sequence
    /// agrees with a log of `leader` history whose last sequence is `leaderLast`.
    public func agreement(last: UInt64, leader: EpochHistory, leaderLast: UInt64) -> UInt64 {
        let bound = min(last, leaderLast)
        // Every point where either history changes epoch, in order: between two such points
        // both logs are written by one epoch each, so they agree there iff the epochs match.
        var points = Set(entries.map(\.firstSequence) + leader.entries.map(\.firstSequence))
        points.insert(1)
        for point in points.sorted() where point <= bound {
            if epoch(at: point) != leader.epoch(at: point) { return point - 1 }
        }
        return bound
    }

    // MARK: File

    static let fileName = "EPOCHS"

    /// Reads `<directory>/EPOCHS`; empty when it does not exist.
    public static func load(directory: String) throws -> EpochHistory {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return EpochHistory() }
        var history = EpochHistory()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let epoch = UInt64(fields[0]), let first = UInt64(fields[1]) else {
                throw ReplicationError.corruptHistory(path: path, line: String(line))
            }
            history.entries.append(Entry(epoch: epoch, firstSequence: first))
        }
        return history
    }

    /// Writes `<directory>/EPOCHS` durably (a temporary file, fsync, rename, fsync of the directory).
    public func save(directory: String) throws {
        let text = entries.map { "\($0.epoch) \($0.firstSequence)\n" }.joined()
        try DataDirectory(path: directory).replaceDurably(Self.fileName, with: Array(text.utf8))
    }
}
