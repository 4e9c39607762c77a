public import RetainMoves
public import RetainProto
import RetainState

/// Profile users move between shards (online resharding, docs/CLUSTER.md) through the shared
/// mechanism (``MovableUsers``): a user's whole state is one ``Retain_V1_ProfileUserRecord`` —
/// the profile and activity summary (in the snapshot's packed layout, with the record's own
/// symbols), the duplicate-event keys, contact touches, event facts, experiment assignments,
/// campaign memberships and an open churn-warning episode. A copy appends the user at a new
/// index and adds them to the funnel, retention and active-user counts; a removal leaves a tombstone at
/// the user's index (indices are never reused: every table refers to users by index), takes
/// the user out of those counts, and forgets what every per-user table holds of them. The
/// user's event keys stay in the shard's duplicate-event set (the user is fenced here).
extension ProfileState: MovableUsers {
    /// The deletion time that marks a tombstone: a user that moved away (never a real time).
    package static let movedAwayMarker = Int64.min

    public var unorderedMovableUserIDs: [String] {
        var ids: [String] = []
        ids.reserveCapacity(users.count)
        for index in 0..<users.count {
            let id = users.withPointer(index) { $0.pointee.id }
            if !id.isEmpty { ids.append(id) }
        }
        return ids
    }

    public func holdsUser(_ userID: String) -> Bool { !userID.isEmpty && userIndex(userID) != nil }

    public static func userID(of record: Retain_V1_ProfileUserRecord) -> String { record.userId }

    public func userRecord(_ userID: String) -> Retain_V1_ProfileUserRecord? {
        guard !userID.isEmpty, let index = userIndex(userID) else { return nil }
        var user = users[Int(index)]
        // The record's own symbols, in a fixed order of names, so the same user gives the same
        // bytes on every shard whatever its symbol table.
        var local = SymbolTable<Int32>()
        func localSymbol(_ symbol: Int32) -> Int32 { local.intern(symbols[symbol]) }
        user.channel = localSymbol(user.channel)
        user.campaign = localSymbol(user.campaign)
        user.region = localSymbol(user.region)
        user.timeZone = localSymbol(user.timeZone)
        user.tags = user.tags.map { symbols[$0] }.sorted().map { local.intern($0) }
        user.attributes = user.attributes.map { (symbols[$0.key], $0.value) }.sorted { $0.0 < $1.0 }
            .map { UserAttribute(key: local.intern($0.0), value: $0.1) }
        user.purchaseTotals = user.purchaseTotals.map { (symbols[$0.asset], $0.value) }.sorted { $0.0 < $1.0 }
            .map { PurchaseTotal(asset: local.intern($0.0), value: $0.1) }
        var writer = PackedWriter(capacity: 512)
        user.pack(
            into: &writer, note: user.isDeleted ? deletionNotes[index] : nil,
            registrationKey: registrationKeys.first(where: { $0.value == index })?.key ?? "")
        var record = Retain_V1_ProfileUserRecord(
            userId: userID, symbols: local.strings, packed: writer.bytes, eventKeys: user.eventKeys.keys,
            eventKeysIncomplete: index < unlistedEventKeyUsers, contacts: contacts[index] ?? [], eventFacts: eventFacts[index] ?? [],
            churnEpisodeSinceMs: churnEpisodes[userID] ?? 0)
        for id in experiments.keys.sorted() {
            let experiment = experiments[id]!
            guard let assignment = experiment.assignments[index] else { continue }
            record.assignments.append(
                Retain_V1_ProfileMovedAssignment(
                    experimentId: id, variant: experiment.variantNames[Int(assignment.variant)], assignedAtMs: assignment.atMs,
                    converted: UInt32(assignment.converted), variants: experiment.variants,
                    definitionVersion: experiment.definitionVersion))
        }
        for id in campaigns.keys.sorted() {
            let campaign = campaigns[id]!
            guard let position = campaign.positions[index] else { continue }
            let member = campaign.members[Int(position)]
            record.memberships.append(
                Retain_V1_ProfileMovedMembership(
                    campaign: campaign.definition, group: member.group, enrolledAtMs: member.enrolledAtMs,
                    touches: UInt32(member.touches), lastChannel: member.lastChannel, lastTouchAtMs: member.lastTouchAtMs,
                    returnedAtMs: member.returnedAtMs, lastRefusal: member.lastRefusal, retryAtMs: member.retryAtMs))
        }
        return record
    }

    /// A checksum of everything the record holds of the user (definitions that travel along,
    /// the campaigns' and experiments', are the shards' own and left out); maps in key order.
    public static func checksum(_ record: Retain_V1_ProfileUserRecord) -> UInt64 {
        var hash = Fingerprint()
        hash.combine(record.userId)
        for symbol in record.symbols { hash.combine(symbol) }
        hash.combine("")
        hash.combine(record.packed)
        hash.combine(Int64(record.eventKeys.count))
        for key in record.eventKeys { hash.combine(Int64(bitPattern: key)) }
        hash.combine(record.eventKeysIncomplete ? "incomplete" : "complete")
        for contact in record.contacts { hash.combine(ProtoCodec.encode(contact)) }
        hash.combine("")
        for fact in record.eventFacts {
            var plain = fact
            plain.properties = [:]
            hash.combine(ProtoCodec.encode(plain))
            hash.combine(sorted: fact.properties)
        }
        hash.combine("")
        for assignment in record.assignments {
            hash.combine(assignment.experimentId)
            hash.combine(assignment.variant)
            hash.combine(assignment.assignedAtMs)
            hash.combine(Int64(assignment.converted))
        }
        hash.combine("")
        for membership in record.memberships {
            hash.combine(membership.campaign?.campaignId ?? "")
            for number in [
                Int64(membership.group.rawValue), membership.enrolledAtMs, Int64(membership.touches),
                Int64(membership.lastChannel.rawValue), membership.lastTouchAtMs, membership.returnedAtMs,
                Int64(membership.lastRefusal.rawValue), membership.retryAtMs,
            ] {
                hash.combine(number)
            }
        }
        hash.combine("")
        hash.combine(record.churnEpisodeSinceMs)
        return hash.value
    }

    public mutating func importUsers(_ records: [Retain_V1_ProfileUserRecord]) throws(UserMoveError) {
        // Every record decodes before anything changes.
        var decoded: [(record: Retain_V1_ProfileUserRecord, user: UserRecord, note: DeletionNote?, key: String)] = []
        decoded.reserveCapacity(records.count)
        for record in records {
            var note: DeletionNote?
            var key = ""
            let user: UserRecord
            do {
                user = try record.packed.withUnsafeBytes { raw throws(PackedError) in
                    var reader = PackedReader(raw)
                    let user = try UserRecord.unpack(
                        from: &reader, symbols: Int32(record.symbols.count), note: &note, registrationKey: &key)
                    guard reader.atEnd else { throw PackedError(offset: reader.offset) }
                    return user
                }
            } catch {
                throw .malformed("the profile record of user '\(record.userId)' does not decode: \(error)")
            }
            guard user.id == record.userId, !user.id.isEmpty, user.deletedAtMs != Self.movedAwayMarker else {
                throw .malformed("the profile record of user '\(record.userId)' holds user '\(user.id)'")
            }
            for assignment in record.assignments where assignment.variant.isEmpty {
                throw .malformed("user '\(record.userId)': an assignment of experiment '\(assignment.experimentId)' names no variant")
            }
            for membership in record.memberships where (membership.campaign?.campaignId ?? "").isEmpty {
                throw .malformed("user '\(record.userId)': a campaign membership names no campaign")
            }
            decoded.append((record, user, note, key))
        }
        let replaced = Set(decoded.compactMap { userIndex($0.record.userId) })
        if !replaced.isEmpty { leaveTombstones(replaced) }
        for (record, stored, note, key) in decoded { append(record, stored, note: note, registrationKey: key) }
    }

    public mutating func removeUsers(_ userIDs: [String]) throws(UserMoveError) {
        let indices = Set(userIDs.compactMap { $0.isEmpty ? nil : userIndex($0) })
        if !indices.isEmpty { leaveTombstones(indices) }
    }

    /// Adds one copied user at a new index, its symbols taken into the shard's table.
    private mutating func append(_ record: Retain_V1_ProfileUserRecord, _ stored: UserRecord, note: DeletionNote?, registrationKey: String)
    {
        let mapping = record.symbols.map { symbols.intern($0) }
        var user = stored
        user.channel = mapping[Int(user.channel)]
        user.campaign = mapping[Int(user.campaign)]
        user.region = mapping[Int(user.region)]
        user.timeZone = mapping[Int(user.timeZone)]
        user.tags = user.tags.map { mapping[Int($0)] }.sorted()
        user.attributes = user.attributes.map { UserAttribute(key: mapping[Int($0.key)], value: $0.value) }.sorted { $0.key < $1.key }
        user.purchaseTotals = user.purchaseTotals.map { PurchaseTotal(asset: mapping[Int($0.asset)], value: $0.value) }
        user.eventKeys = EventKeyList(record.eventKeys)
        onlyListedEventKeys += user.eventKeys.count
        let index = Int32(users.count)
        users.append(user)
        ids.insert(hash: UserIndex.hash(user.id), index: index)
        if let note { deletionNotes[index] = note }
        if !registrationKey.isEmpty { registrationKeys[registrationKey] = index }
        if !record.contacts.isEmpty { contacts[index] = record.contacts }
        if !record.eventFacts.isEmpty { eventFacts[index] = record.eventFacts }
        if record.churnEpisodeSinceMs != 0 { churnEpisodes[user.id] = record.churnEpisodeSinceMs }
        for moved in record.assignments {
            var experiment = experiments[moved.experimentId] ?? Experiment()
            if experiment.variantNames.isEmpty { experiment.define(moved.variants, version: moved.definitionVersion) }
            if !experiment.variantNames.contains(moved.variant) { experiment.variantNames.append(moved.variant) }
            experiment.assignments[index] = Assignment(
                variant: UInt32(experiment.variantNames.firstIndex(of: moved.variant)!), atMs: moved.assignedAtMs,
                converted: UInt8(truncatingIfNeeded: moved.converted))
            experiments[moved.experimentId] = experiment
        }
        for moved in record.memberships {
            let definition = moved.campaign!
            var campaign = campaigns.removeValue(forKey: definition.campaignId) ?? CampaignRecord(definition: definition)
            var member = CampaignMemberState(userIndex: index, group: moved.group, enrolledAtMs: moved.enrolledAtMs)
            member.touches = UInt8(clamping: moved.touches)
            member.lastChannel = moved.lastChannel
            member.lastTouchAtMs = moved.lastTouchAtMs
            member.returnedAtMs = moved.returnedAtMs
            member.lastRefusal = moved.lastRefusal
            member.retryAtMs = moved.retryAtMs
            let position = Int32(campaign.members.count)
            campaign.positions[index] = position
            campaign.members.append(member)
            if member.group == .treated, member.returnedAtMs != 0 { campaign.returns.append(position) }
            campaigns[definition.campaignId] = campaign
        }
        countInFunnel(index)
        countInRetention(index)
        countActiveDays(of: user, delta: 1)
    }

    /// Replaces the users at `indices` by tombstones: out of the funnel and the active-user
    /// counts, out of every per-user table, their ids no longer found (a tombstone's id is
    /// empty, its deletion time ``movedAwayMarker``, so every report skips it).
    private mutating func leaveTombstones(_ indices: Set<Int32>) {
        for index in indices {
            let user = users[Int(index)]
            if !user.isDeleted {
                removeFromFunnel(index)
                removeFromRetention(index)
            }
            countActiveDays(of: user, delta: -1)
            contacts[index] = nil
            eventFacts[index] = nil
            deletionNotes[index] = nil
            churnEpisodes[user.id] = nil
            for id in experiments.keys where experiments[id]!.assignments[index] != nil {
                experiments[id]!.assignments[index] = nil
            }
            users[Int(index)] = UserRecord(
                id: "", inviter: "", registeredAtMs: user.registeredAtMs, updatedAtMs: user.updatedAtMs,
                deletedAtMs: Self.movedAwayMarker, registrationFingerprint: 0, channel: 0, campaign: 0, region: 0, timeZone: 0,
                age: 0, gender: 0, tags: [], attributes: [], purchaseTotals: [],
                activity: ActivitySummary(registrationDay: user.activity.registrationDay))
            stageCache.changed(index)
        }
        if registrationKeys.values.contains(where: { indices.contains($0) }) {
            registrationKeys = registrationKeys.filter { !indices.contains($0.value) }
        }
        for id in campaigns.keys where campaigns[id]!.positions.keys.contains(where: { indices.contains($0) }) {
            var campaign = campaigns.removeValue(forKey: id)!
            var newPosition: [Int32] = []  // old position -> new (-1: removed)
            newPosition.reserveCapacity(campaign.members.count)
            var members: [CampaignMemberState] = []
            members.reserveCapacity(campaign.members.count)
            for member in campaign.members {
                if indices.contains(member.userIndex) {
                    newPosition.append(-1)
                } else {
                    newPosition.append(Int32(members.count))
                    members.append(member)
                }
            }
            campaign.members = members
            campaign.positions = Dictionary(uniqueKeysWithValues: members.enumerated().map { ($1.userIndex, Int32($0)) })
            campaign.returns = campaign.returns.map { newPosition[Int($0)] }.filter { $0 >= 0 }
            campaigns[id] = campaign
        }
    }
}
