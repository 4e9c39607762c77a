import RetainState
import RetainProto

/// Each user's event keys (``UserRecord/eventKeys``: the duplicate-event set's hashes of the
/// user's events, listed so they move with the user) in snapshots: runs of
/// ``ProfileState/usersPerRecord`` users, a count per user then the keys; runs without a key are
/// left out.
extension ProfileState {
    /// Writes the runs of users' event keys.
    func writeEventKeys(to sink: inout SnapshotSink) throws {
        var first = 0
        while first < users.count {
            let last = min(first + Self.usersPerRecord, users.count)
            var counts: [UInt32] = []
            var keys: [UInt64] = []
            counts.reserveCapacity(last - first)
            for index in first..<last {
                users.withPointer(index) { user in
                    counts.append(UInt32(user.pointee.eventKeys.count))
                    keys.append(contentsOf: user.pointee.eventKeys.keys)
                }
            }
            if !keys.isEmpty {
                try sink.write(
                    Retain_V1_ProfileSnapshotRecord(
                        eventKeys: Retain_V1_ProfileSnapshotEventKeys(firstIndex: UInt64(first), counts: counts, keys: keys)))
            }
            first = last
        }
    }

    /// Restores one run of users' event keys (the users are restored before).
    mutating func restoreEventKeys(_ run: Retain_V1_ProfileSnapshotEventKeys) throws {
        let first = Int(clamping: run.firstIndex)
        guard first + run.counts.count <= users.count,
            run.counts.reduce(0, { $0 + Int($1) }) == run.keys.count
        else {
            throw StateRecoveryError("profile snapshot: the event keys of users from \(run.firstIndex) are malformed")
        }
        var start = 0
        for (offset, count) in run.counts.enumerated() where count > 0 {
            users[first + offset].eventKeys = EventKeyList(Array(run.keys[start..<start + Int(count)]))
            start += Int(count)
        }
    }
}
