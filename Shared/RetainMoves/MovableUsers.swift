public import RetainProto

/// A service state whose users can move between shards (online resharding, docs/CLUSTER.md):
/// the service says what one user's state is (its record), how to store and remove it, and how
/// to checksum it; the fences, the order of a change's parts, their rules and the ring-version
/// check of reports are this module's (``applyMoves(_:)``, ``refuseIfMoved(_:)``,
/// ``refuseReport(ringVersion:)``), the same for every service.
public protocol MovableUsers {
    /// One user's whole state in this service (Growth: `GrowthUserRecord`).
    associatedtype MovedRecord: ProtoMessage & Sendable

    /// The fences, kept in the state (logged with every change, and in the snapshot).
    var fences: UserFences { get set }

    /// The ids of the users this shard holds state of, in any order (a listing filters them
    /// before it sorts: sorting a million ids per page would stall the shard).
    var unorderedMovableUserIDs: [String] { get }

    /// Whether this shard holds state of the user.
    func holdsUser(_ userID: String) -> Bool

    /// The user's whole state; nil when the shard holds none.
    func userRecord(_ userID: String) -> MovedRecord?

    /// Stores copies of users, each replacing what the shard holds of that user (a copy made
    /// twice is one copy). Must leave the state untouched when it throws.
    mutating func importUsers(_ records: [MovedRecord]) throws(UserMoveError)

    /// Removes the users' state (they moved to another shard). Must leave the state untouched
    /// when it throws.
    mutating func removeUsers(_ userIDs: [String]) throws(UserMoveError)

    /// The user a record is of.
    static func userID(of record: MovedRecord) -> String

    /// A checksum of a user's state, the same on every shard that holds the same state (maps
    /// hashed in key order): comparing it on both shards verifies a copy.
    static func checksum(_ record: MovedRecord) -> UInt64
}

extension MovableUsers {
    /// The ids of the users this shard holds state of, sorted.
    public var movableUserIDs: [String] { unorderedMovableUserIDs.sorted() }

    /// Applies a change: copies stored, copies discarded, fences lifted, fences set, fenced users
    /// removed, in that order. A copy of a fenced user (one that moved away from here) is
    /// refused unless the same change lifts its fence or the copy is for a newer ring than this
    /// shard's last fence (the user comes back: a reshard rolled back), which lifts it; a
    /// removal of a user not fenced, and a discard of one fenced, are refused; a refused change
    /// leaves the state as it was. Deterministic: the same on recovery and on replicas.
    public mutating func applyMoves(_ moves: UserMoves<MovedRecord>) throws(UserMoveError) {
        let returning = moves.ringVersion > fences.fenceVersion
        if !returning,
            let record = moves.imported.first(where: {
                fences.contains(Self.userID(of: $0)) && !moves.unfenced.contains(Self.userID(of: $0))
            })
        {
            throw .refused("user '\(Self.userID(of: record))' moved away from this shard: it cannot be copied here")
        }
        if let user = moves.dropped.first(where: { !fences.contains($0) && !moves.fenced.contains($0) }) {
            throw .refused("user '\(user)' is not fenced: its state cannot be removed")
        }
        if let user = moves.discarded.first(where: { fences.contains($0) }) {
            throw .refused("user '\(user)' is fenced here: it moved away, its state is dropped, not discarded")
        }
        // The state's own parts first (each leaves the state as it was when it throws), the
        // fences after, so a refused change changes nothing.
        if !moves.imported.isEmpty { try importUsers(moves.imported) }
        let discarded = moves.discarded.filter { holdsUser($0) }
        if !discarded.isEmpty { try removeUsers(discarded) }
        let held = moves.dropped.filter { holdsUser($0) }
        if !held.isEmpty { try removeUsers(held) }
        if returning { for record in moves.imported { fences.fenced.remove(Self.userID(of: record)) } }
        if !moves.discarded.isEmpty, moves.ringVersion != 0, moves.ringVersion == fences.importedVersion {
            // The abandoned move's copies are gone: its ring never routed them here.
            fences.importedVersion = moves.ringVersion - 1
        }
        for user in moves.unfenced { fences.fenced.remove(user) }
        if !moves.unfenced.isEmpty, moves.ringVersion != 0, moves.ringVersion == fences.fenceVersion,
            !fences.fenced.contains(where: { holdsUser($0) })
        {
            // The move to that ring was abandoned: the ring before it stays, and is the one
            // reports and new users are routed by (users fenced earlier all left already).
            fences.fenceVersion = moves.ringVersion - 1
            fences.droppedSinceFence = !fences.fenced.isEmpty
        }
        if !moves.imported.isEmpty { fences.importedVersion = max(fences.importedVersion, moves.ringVersion) }
        if !moves.fenced.isEmpty, moves.ringVersion != 0, moves.ringVersion != fences.fenceVersion {
            fences.fenceVersion = moves.ringVersion
            fences.droppedSinceFence = false
        }
        for user in moves.fenced { fences.fenced.insert(user) }
        if !held.isEmpty { fences.droppedSinceFence = true }
    }

    /// Refuses a call about a user this shard fenced: it moved (or is moving) to another shard.
    /// Every write and every read about one user checks it under the state's lock, so once a
    /// fence is applied nothing about the user is written or answered here.
    public func refuseIfMoved(_ userID: String) throws(UserMoveError) {
        if fences.contains(userID) { throw .moved(userID: userID) }
    }

    /// Refuses to create a user (a registration of an id this shard does not hold) for a call
    /// routed by ring version `asked` (0: without a version, taken) older than the ring this
    /// shard's fences move users to: the ring that routed the call is being replaced, and the
    /// new one may give the user to another shard; refused, the call is sent again by the new
    /// ring. A user created before the fence is moved by the driver's last pass.
    public func refuseNewUser(ringVersion asked: UInt64) throws(UserMoveError) {
        guard asked != 0, fences.fenceVersion != 0, asked < fences.fenceVersion else { return }
        throw .ringVersion(asked: asked, reason: "users are moving to ring version \(fences.fenceVersion): a new user is created by it")
    }

    /// Refuses a report (a call not about one user) asked for ring version `asked` (0: asked
    /// without a version, answered) when this shard's users are not the ones that ring gives
    /// it: before any fenced user is dropped it holds the old ring's users (right for versions
    /// before the fence's), after every one is dropped the new ring's (right for the fence's
    /// version and later), in between neither; a shard that received copies for a version is
    /// right from that version on. Checked under the state's lock, with the drops.
    public func refuseReport(ringVersion asked: UInt64) throws(UserMoveError) {
        guard asked != 0 else { return }
        if fences.importedVersion != 0, asked < fences.importedVersion {
            throw .ringVersion(asked: asked, reason: "this shard holds users of ring version \(fences.importedVersion)")
        }
        guard fences.fenceVersion != 0 else { return }
        if asked < fences.fenceVersion {
            if fences.droppedSinceFence {
                throw .ringVersion(asked: asked, reason: "users moving to ring version \(fences.fenceVersion) left already")
            }
            // A fence for ring f is set while ring f - 1 routes: users this shard dropped before
            // (moves to ring f - 1 or older) left rings older than f - 1 behind. A resharding in
            // groups fences again soon after each drop, so without this a slow report for an
            // older ring would be answered without them.
            if asked + 1 < fences.fenceVersion, fences.fenced.contains(where: { !holdsUser($0) }) {
                throw .ringVersion(asked: asked, reason: "users moving to ring version \(fences.fenceVersion - 1) left already")
            }
        } else if fences.fenced.contains(where: { holdsUser($0) }) {
            throw .ringVersion(asked: asked, reason: "users moving to ring version \(fences.fenceVersion) are still here")
        }
    }

    /// The records of the users (those this shard holds), in the order asked, each with its
    /// checksum: ExportUsers' answer.
    public func exportedUsers(_ userIDs: [String]) -> [Retain_V1_MovedUser] {
        userIDs.compactMap { id in
            userRecord(id).map { Retain_V1_MovedUser(userId: id, record: ProtoCodec.encode($0), checksum: Self.checksum($0)) }
        }
    }
}
