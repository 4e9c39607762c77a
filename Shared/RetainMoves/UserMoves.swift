public import RetainProto

/// One change of the users a shard holds, as a log entry carries it: copies stored (each
/// replacing what the shard holds of that user), fences lifted, fences set, fenced users' state
/// removed. ``MovableUsers/applyMoves(_:)`` applies it; `Record` is the service's per-user record.
public struct UserMoves<Record: Sendable>: Sendable {
    /// Copies of users, each replacing what the shard holds of that user.
    public var imported: [Record]
    /// Users fenced from this change on.
    public var fenced: [String]
    /// Users whose fence is lifted (an abandoned move).
    public var unfenced: [String]
    /// Fenced users whose state is removed (they stay fenced).
    public var dropped: [String]
    /// The ring version the copies or the fences are for (0: none).
    public var ringVersion: UInt64
    /// Copies of users this shard does not serve, removed: an abandoned move's copies at its
    /// target (`ringVersion` is the abandoned move's); not fenced here.
    public var discarded: [String]

    public init(
        imported: [Record] = [], fenced: [String] = [], unfenced: [String] = [], dropped: [String] = [], ringVersion: UInt64 = 0,
        discarded: [String] = []
    ) {
        self.imported = imported
        self.fenced = fenced
        self.unfenced = unfenced
        self.dropped = dropped
        self.ringVersion = ringVersion
        self.discarded = discarded
    }
}

extension UserMoves where Record: ProtoMessage {
    /// The change a shared ``Retain_V1_UsersMoved`` log entry holds, its records decoded;
    /// ``UserMoveError/malformed(_:)`` when one does not decode.
    public init(_ entry: Retain_V1_UsersMoved) throws(UserMoveError) {
        var records: [Record] = []
        records.reserveCapacity(entry.imported.count)
        for user in entry.imported {
            do {
                records.append(try ProtoCodec.decode(Record.self, from: user.record))
            } catch {
                throw .malformed("the record of user '\(user.userId)' does not decode: \(error)")
            }
        }
        self.init(
            imported: records, fenced: entry.fenced, unfenced: entry.unfenced, dropped: entry.dropped,
            ringVersion: entry.ringVersion, discarded: entry.discarded)
    }
}

extension Retain_V1_UsersMoved {
    /// The log entry of a change, its records encoded.
    public init<Record: ProtoMessage>(_ moves: UserMoves<Record>, userID: (Record) -> String) {
        self.init(
            imported: moves.imported.map { Retain_V1_MovedUser(userId: userID($0), record: ProtoCodec.encode($0)) },
            fenced: moves.fenced, unfenced: moves.unfenced, dropped: moves.dropped, ringVersion: moves.ringVersion,
            discarded: moves.discarded)
    }
}
