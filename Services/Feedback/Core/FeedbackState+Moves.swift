public import RetainMoves
public import RetainProto
import RetainState

/// Moving users between shards (the per-service part of online resharding, docs/CLUSTER.md): a
/// user's Feedback state is their items, each with its submission and changes as logged (so the
/// id, times, team, due time, priority and its reasons, history, comments, timeline, resolution
/// and compensation stay as they were decided), and the FAQ groups those items belong to. A
/// moved item keeps its id: ids are not per-shard counters but 48 bits of time and 80 bits
/// hashed from the user, the request id and a sequence (``ItemKey``), so a copy never needs
/// re-keying; a copy whose item id another user's item holds here is refused, never merged.
///
/// Copies and drops rebuild the shard's indexes from the items that stay, through the same code
/// as a snapshot's restore (cost: one pass over the shard's items per call; see the limits in
/// docs/CLUSTER.md). A dropped user's item ids are remembered, so a call about such an item
/// keeps being refused as moved (retryable) rather than NOT_FOUND, also after a restart.
extension FeedbackState: MovableUsers {
    /// The ids of the users with at least one item here.
    public var unorderedMovableUserIDs: [String] {
        indexes.byUser.indices.filter { !indexes.byUser[$0].isEmpty }.map { users[UInt32($0)] }
    }

    public func holdsUser(_ userID: String) -> Bool {
        guard let symbol = users.symbol(userID) else { return false }
        return !FeedbackIndexes.list(indexes.byUser, symbol).isEmpty
    }

    /// The user's items in submission order, and the FAQ groups they belong to; nil when the
    /// user has no item here.
    public func userRecord(_ userID: String) -> Retain_V1_FeedbackUserRecord? {
        let sequences = userSequences(userID)
        guard !sequences.isEmpty else { return nil }
        var groups: [Retain_V1_FaqGroupRecord] = []
        var groupIndex: [String: Int] = [:]
        for sequence in sequences {
            guard let group = faq.group(of: sequence) else { continue }
            let index =
                groupIndex[group.id]
                ?? {
                    groups.append(Retain_V1_FaqGroupRecord(groupId: group.id, category: categories[group.category], text: group.text))
                    groupIndex[group.id] = groups.count - 1
                    return groups.count - 1
                }()
            groups[index].itemIds.append(items[Int(sequence)].key.description)
        }
        return Retain_V1_FeedbackUserRecord(userId: userID, items: sequences.map(itemRecord), faqGroups: groups)
    }

    public static func userID(of record: Retain_V1_FeedbackUserRecord) -> String { record.userId }

    /// Hashes each item's submission and changes (the submission's properties in key order) and
    /// the FAQ group of each item.
    public static func checksum(_ record: Retain_V1_FeedbackUserRecord) -> UInt64 {
        var fingerprint = Fingerprint()
        fingerprint.combine(record.userId)
        for item in record.items {
            var canonical = item
            if let properties = canonical.submitted?.request?.properties {
                fingerprint.combine(sorted: properties)
                canonical.submitted?.request?.properties = [:]
            }
            fingerprint.combine(ProtoCodec.encode(canonical))
        }
        for group in record.faqGroups.sorted(by: { $0.groupId < $1.groupId }) {
            fingerprint.combine(ProtoCodec.encode(group))
        }
        return fingerprint.value
    }

    /// Stores copies, each replacing the user's items here; refused (nothing stored) when an
    /// item id is another user's item here or a record does not replay.
    public mutating func importUsers(_ records: [Retain_V1_FeedbackUserRecord]) throws(UserMoveError) {
        var incoming: [ItemKey: String] = [:]
        for record in records {
            for item in record.items {
                let id = item.submitted?.itemId ?? ""
                guard let key = ItemKey(id), item.submitted?.request?.userId == record.userId else {
                    throw .refused("the copy of user '\(record.userId)' holds a malformed item '\(id)' or another user's item")
                }
                if let other = incoming.updateValue(record.userId, forKey: key) {
                    throw .refused("item \(id) is in the copies of both '\(other)' and '\(record.userId)'")
                }
                if let sequence = sequences[key], users[items[Int(sequence)].user] != record.userId {
                    throw .refused("item \(id) of user '\(record.userId)' has the id of another user's item on this shard")
                }
            }
        }
        let replaced = Set(records.map(\.userId)).filter { holdsUser($0) }
        var next = try rebuilt(without: replaced)
        do {
            for record in records {
                for item in record.items { try next.restoreItem(item) }
                for group in record.faqGroups { try next.restoreFaqGroup(group) }
            }
        } catch {
            throw .refused("a copy does not replay on this shard: \(error)")
        }
        // A user coming back (a reshard rolled back) answers for its items here again.
        for key in incoming.keys { next.movedItems[key] = nil }
        self = next
    }

    /// Removes the users' items (their ids are remembered as moved).
    public mutating func removeUsers(_ userIDs: [String]) throws(UserMoveError) {
        let removed = Set(userIDs)
        var next = try rebuilt(without: removed)
        for user in removed {
            for sequence in userSequences(user) { next.movedItems[items[Int(sequence)].key] = user }
        }
        self = next
    }

    /// Refuses a call about item `id` when its user moved (or is moving) to another shard: the
    /// item is here but its user is fenced, or it was dropped here after a move.
    public func refuseIfItemMoved(_ id: String) throws(UserMoveError) {
        guard let key = ItemKey(id) else { return }
        if let user = movedItems[key] { throw .moved(userID: user) }
        if let sequence = sequences[key] { try refuseIfMoved(users[items[Int(sequence)].user]) }
    }

    /// Empties the items and everything derived from them (indexes, interned names, FAQ groups).
    private mutating func clearItems() {
        items = []
        sequences = [:]
        texts = TextStore()
        requestIDs = []
        submissions = [:]
        details = [:]
        users = SymbolTable()
        categories = SymbolTable()
        teams = SymbolTable()
        channels = SymbolTable()
        agents = SymbolTable()
        indexes = FeedbackIndexes()
        faq = FaqIndex()
    }

    /// The user's items' sequence numbers, in submission order.
    func userSequences(_ userID: String) -> [UInt32] {
        guard let symbol = users.symbol(userID) else { return [] }
        return FeedbackIndexes.list(indexes.byUser, symbol).keys.map(\.sequence).sorted()
    }

    /// This state without the users' items: the items that stay replayed in submission order and
    /// the FAQ groups that keep a member restored, as a snapshot's restore does.
    private func rebuilt(without removed: Set<String>) throws(UserMoveError) -> FeedbackState {
        guard !removed.isEmpty else { return self }
        // Everything not derived from the items (rule sets, fences, moved items, the webhook
        // outbox, whose queued deliveries stay with the shard that queued them) is kept.
        var next = self
        next.clearItems()
        do {
            for sequence in items.indices where !removed.contains(users[items[sequence].user]) {
                try next.restoreItem(itemRecord(UInt32(sequence)))
            }
            for group in faq.groups {
                let kept = group.members.filter { !removed.contains(users[items[Int($0)].user]) }
                guard !kept.isEmpty else { continue }
                try next.restoreFaqGroup(
                    Retain_V1_FaqGroupRecord(
                        groupId: group.id, category: categories[group.category], text: group.text,
                        itemIds: kept.map { items[Int($0)].key.description }))
            }
        } catch {
            throw .malformed("the items that stay do not replay: \(error)")
        }
        return next
    }
}
