public import RetainProto

/// Moving users between shards (the per-service part of online resharding, docs/CLUSTER.md): a
/// user's whole growth state is one record, the one a snapshot holds, so a user copied to
/// another shard answers there as it did here: total, rank, caps, streak, tasks, and its
/// idempotency keys (an award retried after the move is recognised, not paid twice). The user's
/// past level-change events stay in this shard's event log (positions are one shard's).
extension GrowthState {
    /// The user's whole state; nil when the user has none.
    public func userRecord(_ userID: String) -> Retain_V1_GrowthUserRecord? {
        users[userID].map { $0.record(userID) }
    }

    /// The ids of the users with a record, sorted.
    public var userIDs: [String] { users.map { $0.userID }.sorted() }

    /// Replaces the user's state with `record` (a copy from the shard the user moves from),
    /// on the boards too. Copying the same record again changes nothing: a copy replaces, it
    /// never adds.
    public mutating func importUser(_ record: Retain_V1_GrowthUserRecord) {
        removeUser(record.userId)
        let user = UserGrowth(record)
        if let newest = user.weeks.map(\.week).max(), newest > newestWeek {
            newestWeek = newest
            let oldest = oldestKeptWeek
            weekly = weekly.filter { $0.key >= oldest }
        }
        overall.update(from: nil, to: user.boardKey(record.userId))
        let oldest = oldestKeptWeek
        for week in user.weeks where week.week >= oldest {
            weekly[week.week, default: Leaderboard()].update(
                from: nil, to: LeaderboardKey(score: week.score, reachedAtMs: week.reachedAtMs, userID: record.userId))
        }
        users.put(record.userId, user)
    }

    /// Removes the user and its rows on the boards (it moved to another shard).
    public mutating func removeUser(_ userID: String) {
        guard let user = users.remove(userID) else { return }
        overall.update(from: user.boardKey(userID), to: nil)
        for week in user.weeks {
            weekly[week.week]?.update(from: LeaderboardKey(score: week.score, reachedAtMs: week.reachedAtMs, userID: userID), to: nil)
        }
    }

    /// Refuses a call about a user this shard fenced: it moved (or is moving) to another shard.
    /// Every plan and every read about one user checks it under the state's lock, so once a
    /// fence is applied nothing about the user is written or answered here.
    public func refuseIfMoved(_ userID: String) throws(GrowthError) {
        if fenced.contains(userID) { throw .moved(userID: userID) }
    }

    /// Copies stored, fences set or lifted, fenced users removed, in that order. A copy of a
    /// fenced user (one that moved away from here) and a removal of an unfenced one are refused.
    mutating func apply(_ entry: Retain_V1_GrowthUsersMoved) throws {
        if let user = entry.imported.first(where: { fenced.contains($0.userId) && !entry.unfenced.contains($0.userId) }) {
            throw GrowthError.refused("user '\(user.userId)' moved away from this shard: it cannot be copied here")
        }
        if let user = entry.dropped.first(where: { !fenced.contains($0) && !entry.fenced.contains($0) }) {
            throw GrowthError.refused("user '\(user)' is not fenced: its state cannot be removed")
        }
        for user in entry.unfenced { fenced.remove(user) }
        for record in entry.imported { importUser(record) }
        if !entry.imported.isEmpty { importedVersion = max(importedVersion, entry.ringVersion) }
        if !entry.fenced.isEmpty, entry.ringVersion != 0, entry.ringVersion != fenceVersion {
            fenceVersion = entry.ringVersion
            droppedSinceFence = false
        }
        for user in entry.fenced { fenced.insert(user) }
        for user in entry.dropped where users[user] != nil {
            removeUser(user)
            droppedSinceFence = true
        }
    }

    /// Refuses a report (a call not about one user) asked for ring version `asked` (0: asked
    /// without a version, answered) when this shard's users are not the ones that ring gives
    /// it: before any fenced user is dropped it holds the old ring's users (right for versions
    /// before the fence's), after every one is dropped the new ring's (right for the fence's
    /// version and later), in between neither; a shard that received copies for a version is
    /// right from that version on. Checked under the state's lock, with the drops.
    public func refuseReport(ringVersion asked: UInt64) throws(GrowthError) {
        guard asked != 0 else { return }
        if importedVersion != 0, asked < importedVersion {
            throw .ringVersion(asked: asked, reason: "this shard holds users of ring version \(importedVersion)")
        }
        guard fenceVersion != 0 else { return }
        if asked < fenceVersion {
            if droppedSinceFence { throw .ringVersion(asked: asked, reason: "users moving to ring version \(fenceVersion) left already") }
        } else if fenced.contains(where: { users[$0] != nil }) {
            throw .ringVersion(asked: asked, reason: "users moving to ring version \(fenceVersion) are still here")
        }
    }

    /// A checksum of a user's state, the same on every shard that holds the same state (a
    /// record's maps are encoded in no fixed order, so each day's counts by action are hashed
    /// sorted): comparing the checksums of a moved user on both shards verifies the copy.
    public static func checksum(_ record: Retain_V1_GrowthUserRecord) -> UInt64 {
        var canonical = record
        var fingerprint = Fingerprint()
        for index in canonical.days.indices {
            for (action, growth) in canonical.days[index].byAction.sorted(by: { $0.key < $1.key }) {
                fingerprint.combine(action)
                fingerprint.combine(growth)
            }
            fingerprint.combine("")
            canonical.days[index].byAction = [:]
        }
        fingerprint.combine(ProtoCodec.encode(canonical))
        return fingerprint.value
    }
}
