import RetainState
public import RetainProto

extension ProfileState {
    /// Most free-form attributes a user may have.
    public static let maximumAttributes = 100
    /// Most tags a user may have.
    public static let maximumTags = 100

    /// The log entry for a (validated) attribute update; `.notFound` for an unknown or deleted
    /// user, `.invalid` when the user would hold more than 100 attributes.
    public func planAttributeUpdate(
        _ request: Retain_V1_UpdateAttributesRequest, now: Int64
    ) throws(ProfileError) -> Retain_V1_ProfileLogEntry {
        let user = users[Int(try liveUserIndex(request.userId))]
        var keys = Set(user.attributes.map { symbols[$0.key] })
        for key in request.removeAttributes { keys.remove(key) }
        for key in request.setAttributes.keys { keys.insert(key) }
        guard keys.count <= Self.maximumAttributes else {
            throw ProfileError.invalid(
                field: "set_attributes",
                reason: "the user would have \(keys.count) attributes; at most \(Self.maximumAttributes) are allowed")
        }
        return Retain_V1_ProfileLogEntry(attributeUpdate: Retain_V1_ProfileAttributeUpdate(request: request, atMs: now))
    }

    mutating func applyAttributeUpdate(_ entry: Retain_V1_ProfileAttributeUpdate) throws(ProfileError) {
        guard let request = entry.request, let userIndex = userIndex(request.userId) else {
            throw ProfileError.notFound(what: "user", id: entry.request?.userId ?? "")
        }
        var user = users[Int(userIndex)]
        if request.hasAge { user.age = UInt8(clamping: request.age) }
        if request.hasGender { user.gender = UInt8(clamping: request.gender.rawValue) }
        if request.hasRegion { user.region = symbols.intern(request.region) }
        if request.hasTimeZone { user.timeZone = symbols.intern(request.timeZone) }
        if !request.removeAttributes.isEmpty {
            let removed = Set(request.removeAttributes.compactMap { symbols.symbol($0) })
            user.attributes.removeAll { removed.contains($0.key) }
        }
        for (key, value) in request.setAttributes {
            let symbol = symbols.intern(key)
            if let position = user.attributes.firstIndex(where: { $0.key == symbol }) {
                user.attributes[position].value = value
            } else {
                user.attributes.append(UserAttribute(key: symbol, value: value))
            }
        }
        user.attributes.sort { $0.key < $1.key }
        user.updatedAtMs = entry.atMs
        users[Int(userIndex)] = user
    }

    /// The log entry for adding and removing (validated) tags, or nil when nothing would
    /// change. `.notFound` for an unknown or deleted user; `.refused` when the user would
    /// hold more than 100 tags.
    public func planTagChange(
        userID: String, add: [String], remove: [String], now: Int64
    ) throws(ProfileError) -> Retain_V1_ProfileLogEntry? {
        let user = users[Int(try liveUserIndex(userID))]
        let current = Set(user.tags.map { symbols[$0] })
        let added = Set(add).subtracting(current)
        let removed = Set(remove).intersection(current)
        guard !added.isEmpty || !removed.isEmpty else { return nil }
        let count = current.count + added.count - removed.count
        guard count <= Self.maximumTags else {
            throw ProfileError.refused("user '\(userID)' would have \(count) tags; at most \(Self.maximumTags) are allowed")
        }
        return Retain_V1_ProfileLogEntry(
            tagChange: Retain_V1_ProfileTagChange(
                userId: userID, added: added.sorted(), removed: removed.sorted(), atMs: now))
    }

    mutating func applyTagChange(_ entry: Retain_V1_ProfileTagChange) throws(ProfileError) {
        guard let userIndex = userIndex(entry.userId) else { throw ProfileError.notFound(what: "user", id: entry.userId) }
        var tags = Set(users[Int(userIndex)].tags)
        for tag in entry.removed { if let symbol = symbols.symbol(tag) { tags.remove(symbol) } }
        for tag in entry.added { tags.insert(symbols.intern(tag)) }
        users[Int(userIndex)].tags = tags.sorted()
        users[Int(userIndex)].updatedAtMs = entry.atMs
    }

    /// A user's tags, sorted by name.
    public func tagNames(_ userIndex: Int32) -> [String] {
        users[Int(userIndex)].tags.map { symbols[$0] }.sorted()
    }

    /// What a DeleteUser request does.
    public enum DeletionPlan: Sendable {
        /// Delete: log this entry.
        case delete(Retain_V1_ProfileLogEntry)
        /// The user was already deleted at this time.
        case alreadyDeleted(Int64)
    }

    /// Decides a (validated) deletion; `.notFound` for a user never registered.
    public func planDeletion(userID: String, reason: String, actor: String, now: Int64) throws(ProfileError) -> DeletionPlan {
        guard let userIndex = userIndex(userID) else { throw ProfileError.notFound(what: "user", id: userID) }
        let user = users[Int(userIndex)]
        if user.isDeleted { return .alreadyDeleted(user.deletedAtMs) }
        return .delete(
            Retain_V1_ProfileLogEntry(
                deletion: Retain_V1_ProfileDeletion(
                    userId: userID, reason: reason, actor: actor, atMs: now)))
    }

    mutating func applyDeletion(_ entry: Retain_V1_ProfileDeletion) throws(ProfileError) {
        guard let userIndex = userIndex(entry.userId) else { throw ProfileError.notFound(what: "user", id: entry.userId) }
        guard !users[Int(userIndex)].isDeleted else { return }
        removeFromFunnel(userIndex)
        removeFromRetention(userIndex)
        users[Int(userIndex)].deletedAtMs = max(entry.atMs, 1)
        deletionNotes[userIndex] = DeletionNote(reason: entry.reason, actor: entry.actor)
        eventFacts[userIndex] = nil
    }
}
