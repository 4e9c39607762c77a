import RetainState

/// Reading the users of a snapshot of format 2 on two threads: decoding a million users is
/// most of a restore's work, and the thread that inflates the snapshot leaves most of a second
/// core free. The restoring thread hands some runs (a copy of their bytes) to a
/// ``RestorePipeline`` thread and decodes the others itself, as many ahead of it as the
/// thread keeps up with (``userRunsAhead``); either way the users reach the table in the
/// snapshot's order. A run that does not decode is the error once the runs before it are in
/// (a snapshot that ends early, or a run's count out of range, is refused as it is read).
extension GrowthState {
    /// Runs of users at most on the pipeline's thread, not yet added to the table: 4; tests
    /// set 0 (every run decoded on the restoring thread) or 1 (runs on both threads).
    @TaskLocal package static var userRunsAhead = 4
    /// Runs decoded and waiting for an earlier one before the restoring thread waits. 8.
    static let userRunsWaiting = 8

    /// Reads the runs of `count` users, giving each user to `add` in the snapshot's order.
    static func readUserRuns(
        count: UInt64, from source: inout SnapshotSource, _ add: (String, consuming UserGrowth) -> Void
    ) throws {
        guard count > 0 else { return }
        let pipeline = RestorePipeline<UserRunBytes, DecodedUserRun> { run in
            run.bytes.withUnsafeBytes { bytes in
                decodeUserRun(bytes, users: run.users, after: run.first, of: count, buffer: run.bytes)
            }
        }
        let runsAhead = userRunsAhead
        /// Runs read, oldest first, not yet added: decoded here or on the pipeline.
        var order: [DecodedUserRun?] = []
        var spareBuffers: [[UInt8]] = []

        /// Adds the oldest runs, while they are decoded, waiting for the pipeline's while more
        /// than `waiting` runs are read and not added.
        func addRuns(waitingAbove waiting: Int) throws {
            while !order.isEmpty {
                if order[0] == nil, !pipeline.hasOutput, order.count <= waiting { return }
                var run = order.removeFirst() ?? pipeline.next()
                if let failure = run.failure { throw failure }
                for index in run.ids.indices {
                    add(run.ids[index], run.users[index].take()!)
                }
                if run.buffer.capacity > 0 {
                    var buffer: [UInt8] = []
                    swap(&buffer, &run.buffer)
                    spareBuffers.append(buffer)
                }
            }
        }

        var read: UInt64 = 0
        while read < count {
            let (bytes, inRun) = try nextRun(of: "users", after: read, of: count, from: &source)
            if pipeline.pending < runsAhead {
                var buffer = spareBuffers.popLast() ?? []
                buffer.removeAll(keepingCapacity: true)
                buffer.append(contentsOf: bytes)
                pipeline.submit(UserRunBytes(bytes: consume buffer, users: Int(inRun), first: read))
                order.append(nil)
            } else {
                order.append(decodeUserRun(bytes, users: Int(inRun), after: read, of: count, buffer: []))
            }
            read += inRun
            try addRuns(waitingAbove: userRunsWaiting)
        }
        try addRuns(waitingAbove: 0)
    }

    /// Decodes the `users` users of a run record (after its count) that starts after `first`
    /// of `count` users, keeping `buffer` in the result to be used again.
    private static func decodeUserRun(
        _ bytes: UnsafeRawBufferPointer, users: Int, after first: UInt64, of count: UInt64, buffer: [UInt8]
    ) -> DecodedUserRun {
        var run = DecodedUserRun(buffer: buffer)
        run.ids.reserveCapacity(users)
        run.users.reserveCapacity(users)
        var reader = PackedReader(bytes)
        reader.offset = 4
        do {
            for _ in 0..<users {
                let (userID, user) = try UserGrowth.unpack(from: &reader)
                run.ids.append(userID)
                run.users.append(consume user)
            }
        } catch {
            run.failure = StateRecoveryError("growth snapshot: users after \(first) of \(count) are malformed: \(error)")
            return run
        }
        if !reader.atEnd {
            run.failure = StateRecoveryError("growth snapshot: bytes left after a run of users ending at \(first + UInt64(users))")
        }
        return run
    }
}

/// A run record's bytes handed to the pipeline's thread.
private struct UserRunBytes: Sendable {
    var bytes: [UInt8]
    /// Users in the run.
    var users: Int
    /// Users before the run.
    var first: UInt64
}

/// A run's users, decoded, or why they are not.
private struct DecodedUserRun: Sendable {
    var ids: [String] = []
    /// Each taken out (nil left) as it is added to the table, so that no copy is made.
    var users: [UserGrowth?] = []
    var failure: StateRecoveryError?
    /// The bytes the run was decoded from, when they were copied for the pipeline: used again
    /// for a later run.
    var buffer: [UInt8]

    init(buffer: [UInt8]) {
        self.buffer = buffer
    }
}
