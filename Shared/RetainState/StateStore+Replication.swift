import RetainProto
public import RetainStorage
import Synchronization

extension StateStore {
    /// Applies records a replica received from its leader, as log frames (16-byte header, then
    /// the payload) with sequences `firstSequence`, `firstSequence + 1`, ...: each frame's length,
    /// checksum and sequence are checked, its entry decoded, applied to the state and appended to
    /// the local log under the same sequence. Returns the last sequence appended.
    ///
    /// - Throws: ``StateStoreError/unavailable(reason:notProcessed:)`` when the frames do not
    ///   follow the state's last sequence or are damaged, a record does not decode or apply (the
    ///   leader's and this process's code disagree), or the local log cannot take them (the
    ///   state is then rebuilt from the disk, as after any failed append).
    @discardableResult
    public func applyReplicated(firstSequence: UInt64, frames: [UInt8]) throws -> UInt64 {
        guard let store else { throw StateStoreError.unavailable(reason: "a memory-only store cannot replicate", notProcessed: true) }
        var undo: String?
        let result: Result<UInt64, StateStoreError> = frames.withUnsafeBytes { bytes in
            shelf.withLock { shelf in
                store.appendingTogether { () -> Result<UInt64, StateStoreError> in
                    if shelf.stale { return .failure(.recovering) }
                    guard firstSequence == shelf.visible + 1 else {
                        return .failure(
                            .unavailable(
                                reason: "replicated records start at \(firstSequence), the log ends at \(shelf.visible)", notProcessed: true
                            ))
                    }
                    let arena = ProtoArena(blockSize: 16 << 10)
                    let header = LogRecordFrame.headerSize
                    var offset = 0
                    while offset < bytes.count {
                        let sequence = shelf.visible + 1
                        guard offset + header <= bytes.count else { return .failure(Self.damaged(sequence, "a torn frame header")) }
                        let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
                        let stored = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self).littleEndian
                        let framed = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self).littleEndian
                        guard offset + header + length <= bytes.count else { return .failure(Self.damaged(sequence, "a torn frame")) }
                        guard framed == sequence else { return .failure(Self.damaged(sequence, "a frame for sequence \(framed)")) }
                        let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + header)..<(offset + header + length)])
                        var crc = CRC32C()
                        crc.update(payload)
                        guard LogRecordFrame.checksum(payloadCRC: crc, length: UInt32(length), sequence: framed) == stored else {
                            return .failure(Self.damaged(sequence, "a checksum mismatch"))
                        }
                        offset += header + length
                        arena.reset()
                        do {
                            let entry = try ProtoCodec.decode(State.LogEntry.self, from: payload, arena: arena)
                            try shelf.state.apply(entry)
                        } catch {
                            return .failure(
                                .unavailable(
                                    reason: "replicated record \(sequence) does not apply: \(error)", notProcessed: true))
                        }
                        do throws(StorageError) {
                            let appended = try store.append(payload, payloadCRC: crc)
                            guard appended == sequence else {
                                undo = "the log appended \(appended) where the replica expected \(sequence)"
                                shelf.stale = true
                                return .failure(.unavailable(reason: undo!, notProcessed: true))
                            }
                            shelf.visible = sequence
                        } catch {
                            undo = "an append failed: \(error)"
                            shelf.stale = true
                            return .failure(.unavailable(reason: "\(error)", notProcessed: true))
                        }
                    }
                    return .success(shelf.visible)
                }
            }
        }
        if let undo { recoverInPlace(reason: undo) }
        return try result.get()
    }

    private static func damaged(_ sequence: UInt64, _ what: String) -> StateStoreError {
        .unavailable(reason: "replicated frames are damaged at sequence \(sequence): \(what)", notProcessed: true)
    }

    /// The last sequence applied to the state (what a replica tells its leader it holds).
    public var lastSequence: UInt64 { shelf.withLock { $0.visible } }

    /// The local log's write and sync counters (nil memory-only).
    package var logStatistics: CommitStatistics? { store?.commitStatistics }

    /// How far the local log is durable (0 memory-only).
    public var durableSequence: UInt64 { store?.durableSequence ?? 0 }

    /// Hands the log's written batches and durable points to a replicating leader.
    public func setReplicationTaps(_ taps: ReplicationTaps?) {
        store?.setReplicationTaps(taps)
    }

    /// A reader of the local log after `sequence`, for catching a replica up; nil when the log
    /// no longer holds it.
    public func logCursor(after sequence: UInt64) throws -> LogCursor? {
        try store?.logCursor(after: sequence)
    }

    /// Cuts the log after `sequence` and rebuilds the state from the disk: a replica drops a tail
    /// its shard never committed. Answers waiting in the current generation fail (their
    /// outcome is unknown to this process). Blocks while it runs; call it off the event loops.
    ///
    /// - Throws: ``StorageError`` when a snapshot covers records after `sequence`, or the disk
    ///   cannot be read; the store then refuses reads and writes until rebuilt.
    public func rebuild(keepingThrough sequence: UInt64) throws {
        try rebuildFromDisk { store in try store.truncateLog(after: sequence) }
    }

    /// Closes the log for appends, lets `change` rework the directory, and recovers the state
    /// from it, with reads and writes refused and waiting answers failed meanwhile.
    private func rebuildFromDisk(_ change: (DurableStore) throws -> Void) throws {
        guard let store else { return }
        try maintenance.withLock { _ in
            shelf.withLock { shelf in
                shelf.stale = true
                if let gate { gate.change(to: gate.role) }
            }
            store.restartForRecovery()
            try change(store)
            let (state, last) = try Self.recover(store, startWriting: true, logger: logger)
            shelf.withLock { $0 = Shelf(state: state, visible: last) }
        }
    }
}

extension StateStore {
    /// The newest snapshot (path and covered sequence), for a leader sending it to a replica.
    public func newestSnapshot() throws -> (path: String, coveredSequence: UInt64)? {
        try store?.newestSnapshot()
    }

    /// Where a replica downloads its leader's snapshot.
    public var incomingSnapshotPath: String? { store?.incomingSnapshotPath }

    /// Replaces the data with the downloaded snapshot covering `sequence` and rebuilds the state
    /// from it. Answers waiting in the current generation fail. Blocks; call it off the event loops.
    public func installSnapshot(covering sequence: UInt64) throws {
        try rebuildFromDisk { store in try store.replaceWithSnapshot(covering: sequence) }
    }
}
