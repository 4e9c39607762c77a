public import RetainProto

/// What a shard knows of users moving away from it and to it (online resharding,
/// docs/CLUSTER.md): the users it fenced, and which ring versions its reports are right for.
/// Kept in a service's state, changed only by ``MovableUsers/applyMoves(_:)``.
public struct UserFences: Sendable, Equatable {
    /// Users fenced on this shard: they moved (or are moving) to another shard, and every call
    /// about them is refused (``UserMoveError/moved(userID:)``).
    public internal(set) var fenced = Set<String>()
    /// The ring version the last fence moves users to (0: none).
    public internal(set) var fenceVersion: UInt64 = 0
    /// Whether a fenced user was dropped since that fence.
    public internal(set) var droppedSinceFence = false
    /// The newest ring version that gave this shard copied users (0: none).
    public internal(set) var importedVersion: UInt64 = 0

    /// No fences.
    public init() {}

    /// The fences of a snapshot record.
    public init(_ record: Retain_V1_UserFencesRecord) {
        self.init(
            fenced: record.fencedUsers, fenceVersion: record.fenceVersion, droppedSinceFence: record.droppedSinceFence,
            importedVersion: record.importedVersion)
    }

    /// The fences of their parts (a service that keeps them in its own snapshot fields).
    public init(fenced: [String], fenceVersion: UInt64, droppedSinceFence: Bool, importedVersion: UInt64) {
        self.fenced = Set(fenced)
        self.fenceVersion = fenceVersion
        self.droppedSinceFence = droppedSinceFence
        self.importedVersion = importedVersion
    }

    /// The snapshot record (fenced users sorted).
    public var record: Retain_V1_UserFencesRecord {
        Retain_V1_UserFencesRecord(
            fencedUsers: fenced.sorted(), fenceVersion: fenceVersion, droppedSinceFence: droppedSinceFence,
            importedVersion: importedVersion)
    }

    /// Whether the user is fenced here (moved away, or moving).
    public func contains(_ userID: String) -> Bool { fenced.contains(userID) }
}
