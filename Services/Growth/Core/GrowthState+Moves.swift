public import RetainMoves
public import RetainProto

/// Moving users between shards (the per-service part of online resharding, docs/CLUSTER.md): a
/// user's whole growth state is one record, the one a snapshot holds, so a user copied to
/// another shard answers there as it did here: total, rank, caps, streak, tasks, and its
/// idempotency keys (an award retried after the move is recognised, not paid twice). The user's
/// past level-change events stay in this shard's event log (positions are one shard's).
extension GrowthState: MovableUsers {
    /// The user's whole state; nil when the user has none.
    public func userRecord(_ userID: String) -> Retain_V1_GrowthUserRecord? {
        users[userID].map { $0.record(userID) }
    }

    /// The ids of the users with a record.
    public var unorderedMovableUserIDs: [String] { users.map { $0.userID } }

    public func holdsUser(_ userID: String) -> Bool { users[userID] != nil }

    public static func userID(of record: Retain_V1_GrowthUserRecord) -> String { record.userId }

    public mutating func importUsers(_ records: [Retain_V1_GrowthUserRecord]) throws(UserMoveError) {
        for record in records { importUser(record) }
    }

    public mutating func removeUsers(_ userIDs: [String]) throws(UserMoveError) {
        for user in userIDs { removeUser(user) }
    }

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

    /// ``refuseIfMoved(_:)`` in the domain's words, for the plans (``GrowthError/move(_:)``).
    func refuseMovedUser(_ userID: String) throws(GrowthError) {
        do { try refuseIfMoved(userID) } catch { throw .move(error) }
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
