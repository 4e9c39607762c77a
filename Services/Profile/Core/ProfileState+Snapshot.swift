public import RetainState
import RetainProto

/// Snapshots stream ``Retain_V1_ProfileSnapshotRecord`` records: the header (symbols, settings,
/// policy), the users in index order in runs of ``usersPerRecord``, the 4096 shards of the
/// event-id set, one record per user with contact touches, and the experiments (large ones in
/// several records of at most ``assignmentsPerRecord`` assignments).
extension ProfileState {
    /// Users per snapshot record (measured: runs of users restore faster than one record each).
    package static let usersPerRecord = 256
    /// Assignments per experiment record.
    package static let assignmentsPerRecord = 65_536

    public func writeSnapshot(to sink: inout SnapshotSink) throws {
        try sink.write(Retain_V1_ProfileSnapshotRecord(header: Retain_V1_ProfileSnapshotHeader(
            formatVersion: 1, userCount: UInt64(users.count), symbols: symbols.allStrings, settings: settings,
            policy: storedPolicy, eventIdShards: UInt32(EventIDSet.shardCount))))
        var keysByUser: [Int32: String] = [:]
        for (key, userIndex) in registrationKeys { keysByUser[userIndex] = key }
        var run: [Retain_V1_ProfileSnapshotUser] = []
        run.reserveCapacity(Self.usersPerRecord)
        var runStart = 0
        for userIndex in 0..<users.count {
            run.append(snapshotUser(Int32(userIndex), registrationKey: keysByUser[Int32(userIndex)] ?? ""))
            if run.count == Self.usersPerRecord || userIndex == users.count - 1 {
                try sink.write(Retain_V1_ProfileSnapshotRecord(users: Retain_V1_ProfileSnapshotUsers(
                    firstIndex: UInt64(runStart), users: run)))
                run.removeAll(keepingCapacity: true)
                runStart = userIndex + 1
            }
        }
        for shard in 0..<EventIDSet.shardCount {
            let contents = eventIDs.shardContents(shard)
            guard contents.count > 0 else { continue }
            try sink.write(Retain_V1_ProfileSnapshotRecord(eventIds: Retain_V1_ProfileSnapshotEventIDs(
                shard: UInt32(shard), count: UInt32(contents.count), slots: contents.bytes)))
        }
        for userIndex in contacts.keys.sorted() {
            try sink.write(Retain_V1_ProfileSnapshotRecord(contacts: Retain_V1_ProfileSnapshotContacts(
                userIndex: UInt32(userIndex), records: contacts[userIndex]!)))
        }
        for id in experiments.keys.sorted() {
            let experiment = experiments[id]!
            let assigned = experiment.assignments.keys.sorted()
            var start = 0
            repeat {
                let part = assigned[start..<min(start + Self.assignmentsPerRecord, assigned.count)]
                try sink.write(Retain_V1_ProfileSnapshotRecord(experiment: Retain_V1_ProfileSnapshotExperiment(
                    experimentId: id, variants: experiment.variants, userIndices: part.map { UInt32($0) },
                    variantIndices: part.map { experiment.assignments[$0]!.variant },
                    assignedAtMs: part.map { experiment.assignments[$0]!.atMs }, variantNames: experiment.variantNames)))
                start += Self.assignmentsPerRecord
            } while start < assigned.count
        }
    }

    private func snapshotUser(_ userIndex: Int32, registrationKey: String) -> Retain_V1_ProfileSnapshotUser {
        let user = users[Int(userIndex)]
        let note = user.isDeleted ? deletionNotes[userIndex] : nil
        return Retain_V1_ProfileSnapshotUser(
            userId: user.id, channel: UInt32(user.channel), campaign: UInt32(user.campaign), inviterUserId: user.inviter,
            age: UInt32(user.age), gender: Retain_V1_Gender(rawValue: Int32(user.gender)), region: UInt32(user.region),
            timeZone: UInt32(user.timeZone), attributeKeys: user.attributes.map { UInt32($0.key) },
            attributeValues: user.attributes.map(\.value), tags: user.tags.map { UInt32($0) },
            registeredAtMs: user.registeredAtMs, updatedAtMs: user.updatedAtMs, deletedAtMs: user.deletedAtMs,
            deletedReason: note?.reason ?? "", deletedBy: note?.actor ?? "",
            registrationFingerprint: user.registrationFingerprint, registrationRequestId: registrationKey,
            activity: user.activity.encoded(), purchaseAssets: user.purchaseTotals.map { UInt32($0.asset) },
            purchaseValues: user.purchaseTotals.map(\.value))
    }

    public mutating func restore(from source: inout SnapshotSource) throws {
        guard let first = try source.next(Retain_V1_ProfileSnapshotRecord.self), let header = first.header else {
            throw StateRecoveryError("profile snapshot: the first record is not a header")
        }
        guard header.formatVersion == 1 else {
            throw StateRecoveryError("profile snapshot: format version \(header.formatVersion) is not supported")
        }
        symbols = SymbolTable(strings: header.symbols)
        if let settings = header.settings {
            guard let calendar = ZoneCalendar.named(settings.activityTimeZone) else {
                throw StateRecoveryError("profile snapshot: unknown activity time zone '\(settings.activityTimeZone)'")
            }
            self.settings = settings
            self.calendar = calendar
        }
        storedPolicy = header.policy
        let expectedUsers = Int(header.userCount)
        users.reserveCapacity(expectedUsers)
        ids.reserveCapacity(expectedUsers)
        let symbolCount = UInt32(symbols.count)
        func symbol(_ value: UInt32, _ what: String) throws -> Int32 {
            guard value < symbolCount else {
                throw StateRecoveryError("profile snapshot: \(what) symbol \(value) is outside the table of \(symbolCount)")
            }
            return Int32(value)
        }
        while let record = try source.next(Retain_V1_ProfileSnapshotRecord.self) {
            if let run = record.users {
                guard run.firstIndex == UInt64(users.count) else {
                    throw StateRecoveryError("profile snapshot: users from \(run.firstIndex) follow \(users.count) users")
                }
                for stored in run.users {
                    guard let activity = ActivitySummary(encoded: stored.activity),
                          stored.attributeKeys.count == stored.attributeValues.count,
                          stored.purchaseAssets.count == stored.purchaseValues.count else {
                        throw StateRecoveryError("profile snapshot: user '\(stored.userId)' is malformed")
                    }
                    var attributes: [UserAttribute] = []
                    attributes.reserveCapacity(stored.attributeKeys.count)
                    for (key, value) in zip(stored.attributeKeys, stored.attributeValues) {
                        attributes.append(UserAttribute(key: try symbol(key, "attribute"), value: value))
                    }
                    var purchases: [PurchaseTotal] = []
                    for (asset, value) in zip(stored.purchaseAssets, stored.purchaseValues) {
                        purchases.append(PurchaseTotal(asset: try symbol(asset, "asset"), value: value))
                    }
                    let userIndex = Int32(users.count)
                    let hash = UserIndex.hash(stored.userId)
                    guard ids.find(hash: hash, { users.withPointer(Int($0)) { $0.pointee.id == stored.userId } }) == nil else {
                        throw StateRecoveryError("profile snapshot: user '\(stored.userId)' appears twice")
                    }
                    users.append(UserRecord(
                        id: stored.userId, inviter: stored.inviterUserId, registeredAtMs: stored.registeredAtMs,
                        updatedAtMs: stored.updatedAtMs, deletedAtMs: stored.deletedAtMs,
                        registrationFingerprint: stored.registrationFingerprint,
                        channel: try symbol(stored.channel, "channel"), campaign: try symbol(stored.campaign, "campaign"),
                        region: try symbol(stored.region, "region"), timeZone: try symbol(stored.timeZone, "time zone"),
                        age: UInt8(clamping: stored.age), gender: UInt8(clamping: stored.gender.rawValue),
                        tags: try stored.tags.map { try symbol($0, "tag") }, attributes: attributes, purchaseTotals: purchases,
                        activity: activity))
                    ids.insert(hash: hash, index: userIndex)
                    if !stored.registrationRequestId.isEmpty { registrationKeys[stored.registrationRequestId] = userIndex }
                    if stored.deletedAtMs != 0 {
                        deletionNotes[userIndex] = DeletionNote(reason: stored.deletedReason, actor: stored.deletedBy)
                    }
                }
            } else if let shard = record.eventIds {
                do {
                    try eventIDs.restoreShard(Int(shard.shard), count: Int(shard.count), bytes: shard.slots)
                } catch {
                    throw StateRecoveryError("profile snapshot: \(error)")
                }
            } else if let stored = record.contacts {
                guard Int(stored.userIndex) < users.count else {
                    throw StateRecoveryError("profile snapshot: contacts of unknown user index \(stored.userIndex)")
                }
                contacts[Int32(stored.userIndex)] = stored.records
            } else if let stored = record.experiment {
                guard stored.userIndices.count == stored.variantIndices.count,
                      stored.userIndices.count == stored.assignedAtMs.count else {
                    throw StateRecoveryError("profile snapshot: experiment '\(stored.experimentId)' is malformed")
                }
                var experiment = experiments.removeValue(forKey: stored.experimentId) ?? Experiment()
                experiment.variants = stored.variants
                experiment.variantNames = stored.variantNames
                for (position, userIndex) in stored.userIndices.enumerated() {
                    guard Int(userIndex) < users.count, Int(stored.variantIndices[position]) < stored.variantNames.count else {
                        throw StateRecoveryError("profile snapshot: experiment '\(stored.experimentId)' refers to unknown data")
                    }
                    experiment.assignments[Int32(userIndex)] = Assignment(
                        variant: stored.variantIndices[position], atMs: stored.assignedAtMs[position])
                }
                experiments[stored.experimentId] = experiment
            } else {
                throw StateRecoveryError("profile snapshot: a record after the header holds nothing known")
            }
        }
        guard users.count == expectedUsers else {
            throw StateRecoveryError("profile snapshot: \(users.count) users restored, the header announced \(expectedUsers)")
        }
    }
}
