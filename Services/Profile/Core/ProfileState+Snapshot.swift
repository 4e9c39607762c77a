public import RetainState
import RetainMoves
import RetainWebhooks
import RetainProto
import RetainRuleSets

/// Snapshots stream ``Retain_V1_ProfileSnapshotRecord`` records: the header (symbols, settings,
/// policy), the users in index order in runs of ``usersPerRecord`` (format 2: plain records, a
/// u64 first index, a u32 count, then the packed users of UserRecord+Snapshot.swift; format 1,
/// still read: `ProfileSnapshotUsers` records holding the same bytes), the fences and each user's
/// event keys (``writeEventKeys(to:)``), the 4096 shards of the event-id set, one record per user with contact touches, and the experiments (large ones in
/// several records of at most ``assignmentsPerRecord`` assignments), the campaigns
/// (``writeCampaigns(to:)``), the saved segments, each user's event facts, then the active-user counts of each channel, the
/// webhooks' records and the open churn-warning episodes. The funnel counts are not written:
/// restoring counts them from the users.
extension ProfileState {
    /// Users per snapshot record (measured: runs of users restore faster than one record each).
    package static let usersPerRecord = 256
    /// Assignments per experiment record.
    package static let assignmentsPerRecord = 65_536

    /// The snapshot format written: 2, the users' runs as plain records.
    package static let snapshotFormat: UInt32 = 2
    /// The format ``writeSnapshot(to:)`` writes: ``snapshotFormat``; tests set 1 to write
    /// snapshots as before format 2 and check that they still load.
    @TaskLocal package static var writtenSnapshotFormat: UInt32 = snapshotFormat

    public func writeSnapshot(to sink: inout SnapshotSink) throws {
        let format = Self.writtenSnapshotFormat
        try sink.write(
            Retain_V1_ProfileSnapshotRecord(
                header: Retain_V1_ProfileSnapshotHeader(
                    formatVersion: format, userCount: UInt64(users.count), symbols: symbols.strings, settings: settings,
                    policy: storedPolicy, eventIdShards: UInt32(EventIDSet.shardCount), ruleSetVersions: ruleSets.versions,
                    eventIdKey: 1)))
        var keysByUser: [Int32: String] = [:]
        for (key, userIndex) in registrationKeys { keysByUser[userIndex] = key }
        var first = 0
        var writer = PackedWriter(capacity: Self.usersPerRecord * 420 + 12)
        while first < users.count {
            let last = min(first + Self.usersPerRecord, users.count)
            writer.removeAll()
            if format >= 2 {
                writer.put(UInt64(first))
                writer.put(UInt32(last - first))
            }
            for userIndex in first..<last {
                users.withPointer(userIndex) { user in
                    let index = Int32(userIndex)
                    user.pointee.pack(
                        into: &writer, note: user.pointee.deletedAtMs != 0 ? deletionNotes[index] : nil,
                        registrationKey: keysByUser[index] ?? "")
                }
            }
            if format >= 2 {
                try sink.write(packed: writer)
            } else {
                try sink.write(
                    Retain_V1_ProfileSnapshotRecord(
                        users: Retain_V1_ProfileSnapshotUsers(
                            firstIndex: UInt64(first), count: UInt32(last - first), packed: writer.bytes)))
            }
            first = last
        }
        try sink.write(
            Retain_V1_ProfileSnapshotRecord(
                moves: Retain_V1_ProfileSnapshotMoves(
                    fences: fences.record, unlistedEventKeyUsers: UInt64(unlistedEventKeyUsers),
                    onlyListedEventKeys: UInt64(onlyListedEventKeys))))
        try writeEventKeys(to: &sink)
        for (set, legacy) in [(eventIDs, false), (legacyEventIDs, true)] {
            for shard in 0..<EventIDSet.shardCount {
                let contents = set.shardContents(shard)
                guard contents.slotCount > 0 else { continue }
                try sink.write(
                    Retain_V1_ProfileSnapshotRecord(
                        eventIds: Retain_V1_ProfileSnapshotEventIDs(
                            shard: UInt32(shard), slotCount: UInt32(contents.slotCount), occupied: contents.occupied,
                            hashes: contents.hashes, legacy: legacy)))
            }
        }
        for userIndex in contacts.keys.sorted() {
            try sink.write(
                Retain_V1_ProfileSnapshotRecord(
                    contacts: Retain_V1_ProfileSnapshotContacts(
                        userIndex: UInt32(userIndex), records: contacts[userIndex]!)))
        }
        for id in experiments.keys.sorted() {
            let experiment = experiments[id]!
            let assigned = experiment.assignments.keys.sorted()
            var start = 0
            repeat {
                let part = assigned[start..<min(start + Self.assignmentsPerRecord, assigned.count)]
                try sink.write(
                    Retain_V1_ProfileSnapshotRecord(
                        experiment: Retain_V1_ProfileSnapshotExperiment(
                            experimentId: id, variants: experiment.variants, userIndices: part.map { UInt32($0) },
                            variantIndices: part.map { experiment.assignments[$0]!.variant },
                            assignedAtMs: part.map { experiment.assignments[$0]!.atMs }, variantNames: experiment.variantNames,
                            convertedKinds: part.map { UInt32(experiment.assignments[$0]!.converted) },
                            definitionVersion: experiment.definitionVersion)))
                start += Self.assignmentsPerRecord
            } while start < assigned.count
        }
        try writeCampaigns(to: &sink)
        for name in savedSegments.keys.sorted() {
            try sink.write(Retain_V1_ProfileSnapshotRecord(savedSegment: savedSegments[name]!))
        }
        for record in eventFactRecords() { try sink.write(record) }
        for channel in activeUsers.channelSymbols.sorted() {
            let series = activeUsers.channels[channel]!
            let firstDay = series.filter { !$0.values.isEmpty }.map(\.firstDay).min() ?? 0
            let endDay = series.map(\.endDay).max() ?? firstDay
            func values(_ window: Int) -> [Int32] { (firstDay..<max(firstDay, endDay)).map { series[window].value(on: $0) } }
            try sink.write(
                Retain_V1_ProfileSnapshotRecord(
                    activeUsers: Retain_V1_ProfileSnapshotActiveUsers(
                        channel: UInt32(channel), firstDay: firstDay, daily: values(0), weekly: values(1), monthly: values(2))))
        }
        for record in webhooks.snapshotRecords() { try sink.write(Retain_V1_ProfileSnapshotRecord(webhooks: record)) }
        if !churnEpisodes.isEmpty {
            let users = churnEpisodes.keys.sorted()
            try sink.write(
                Retain_V1_ProfileSnapshotRecord(
                    churnEpisodes: Retain_V1_ProfileSnapshotChurnEpisodes(userIds: users, sinceMs: users.map { churnEpisodes[$0]! })))
        }
    }

    public mutating func restore(from source: inout SnapshotSource) throws {
        guard let first = try source.next(Retain_V1_ProfileSnapshotRecord.self), let header = first.header else {
            throw StateRecoveryError("profile snapshot: the first record is not a header")
        }
        guard header.formatVersion == 1 || header.formatVersion == 2 else {
            throw StateRecoveryError("profile snapshot: format version \(header.formatVersion) is not supported")
        }
        let eventIDKey = header.eventIdKey
        guard eventIDKey <= 1 else { throw StateRecoveryError("profile snapshot: event id key \(eventIDKey) is not supported") }
        symbols = SymbolTable(strings: header.symbols)
        if let settings = header.settings {
            guard let calendar = ZoneCalendar.named(settings.activityTimeZone) else {
                throw StateRecoveryError("profile snapshot: unknown activity time zone '\(settings.activityTimeZone)'")
            }
            self.settings = settings
            self.calendar = calendar
        }
        storedPolicy = header.policy
        do {
            try ruleSets.restore(header.ruleSetVersions)
        } catch {
            throw StateRecoveryError("profile snapshot: \(error)")
        }
        activation = ActivationRule(
            minActiveDays: settings.activationMinActiveDays, withinDays: settings.activationWithinDays)
        var restoredActiveUsers = false
        var restoredMoves = false
        let expectedUsers = Int(header.userCount)
        users.reserveCapacity(expectedUsers)
        ids.reserveCapacity(expectedUsers)
        let symbolCount = Int32(symbols.count)
        if header.formatVersion >= 2 {
            while users.count < expectedUsers {
                guard let bytes = try source.nextBytes() else {
                    throw StateRecoveryError("profile snapshot: it ends after \(users.count) of \(expectedUsers) users")
                }
                var reader = PackedReader(bytes)
                let firstIndex: UInt64
                let count: UInt32
                do {
                    firstIndex = try reader.get()
                    count = try reader.get()
                } catch {
                    throw StateRecoveryError("profile snapshot: a run of users after \(users.count) users is cut short")
                }
                guard count > 0, Int(count) <= expectedUsers - users.count else {
                    throw StateRecoveryError("profile snapshot: a run of \(count) users after \(users.count) of \(expectedUsers)")
                }
                try restoreUsers(
                    firstIndex: firstIndex, count: count, packed: UnsafeRawBufferPointer(rebasing: bytes[12...]),
                    symbols: symbolCount)
            }
        }
        while let record = try source.next(Retain_V1_ProfileSnapshotRecord.self) {
            if let run = record.users {
                try run.packed.withUnsafeBytes { raw in
                    try restoreUsers(firstIndex: run.firstIndex, count: run.count, packed: raw, symbols: symbolCount)
                }
            } else if let shard = record.eventIds {
                do {
                    // A snapshot written before event_id_key holds only (user index, event id) hashes.
                    if shard.legacy || eventIDKey == 0 {
                        try legacyEventIDs.restoreShard(
                            Int(shard.shard), slotCount: Int(shard.slotCount), occupied: shard.occupied, hashes: shard.hashes)
                    } else {
                        try eventIDs.restoreShard(
                            Int(shard.shard), slotCount: Int(shard.slotCount), occupied: shard.occupied, hashes: shard.hashes)
                    }
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
                    stored.userIndices.count == stored.assignedAtMs.count,
                    stored.convertedKinds.isEmpty || stored.convertedKinds.count == stored.userIndices.count
                else {
                    throw StateRecoveryError("profile snapshot: experiment '\(stored.experimentId)' is malformed")
                }
                var experiment = experiments.removeValue(forKey: stored.experimentId) ?? Experiment()
                experiment.variants = stored.variants
                experiment.variantNames = stored.variantNames
                experiment.definitionVersion = stored.definitionVersion
                for (position, userIndex) in stored.userIndices.enumerated() {
                    guard Int(userIndex) < users.count, Int(stored.variantIndices[position]) < stored.variantNames.count else {
                        throw StateRecoveryError("profile snapshot: experiment '\(stored.experimentId)' refers to unknown data")
                    }
                    experiment.assignments[Int32(userIndex)] = Assignment(
                        variant: stored.variantIndices[position], atMs: stored.assignedAtMs[position],
                        converted: stored.convertedKinds.isEmpty ? 0 : UInt8(truncatingIfNeeded: stored.convertedKinds[position]))
                }
                experiments[stored.experimentId] = experiment
            } else if let stored = record.campaign {
                try restoreCampaign(stored)
            } else if let stored = record.activeUsers {
                guard Int(stored.channel) < symbols.count, stored.daily.count == stored.weekly.count,
                    stored.daily.count == stored.monthly.count
                else {
                    throw StateRecoveryError("profile snapshot: the active users of channel symbol \(stored.channel) are malformed")
                }
                restoredActiveUsers = true
                activeUsers.restore(
                    channel: Int32(stored.channel),
                    series: [stored.daily, stored.weekly, stored.monthly].map { DaySeries(firstDay: stored.firstDay, values: $0) })
            } else if let segment = record.savedSegment {
                guard !segment.name.isEmpty else { throw StateRecoveryError("profile snapshot: a saved segment without a name") }
                savedSegments[segment.name] = segment
            } else if let stored = record.webhooks {
                try webhooks.restore(stored)
            } else if let stored = record.churnEpisodes {
                guard stored.userIds.count == stored.sinceMs.count else {
                    throw StateRecoveryError("profile snapshot: the churn-warning episodes are malformed")
                }
                for (user, since) in zip(stored.userIds, stored.sinceMs) { churnEpisodes[user] = since }
            } else if let stored = record.eventFacts {
                try restoreEventFacts(stored)
            } else if let stored = record.moves {
                restoredMoves = true
                fences = UserFences(stored.fences ?? Retain_V1_UserFencesRecord())
                unlistedEventKeyUsers = Int32(clamping: stored.unlistedEventKeyUsers)
                onlyListedEventKeys = Int(clamping: stored.onlyListedEventKeys)
            } else if let stored = record.eventKeys {
                try restoreEventKeys(stored)
            } else {
                throw StateRecoveryError("profile snapshot: a record after the header holds nothing known")
            }
        }
        guard users.count == expectedUsers else {
            throw StateRecoveryError("profile snapshot: \(users.count) users restored, the header announced \(expectedUsers)")
        }
        // Snapshots written before users listed their event keys: the lists of the users so far
        // may miss events (they move with what is listed, docs/CLUSTER.md).
        if !restoredMoves { unlistedEventKeyUsers = Int32(users.count) }
        // Snapshots written before active users were kept: count them from the summaries.
        if !restoredActiveUsers { rebuildActiveUsers() }
        rebuildFunnel()
        rebuildRetentionCounts()
        stageCache.clear()
    }

    /// Restores a run of `count` packed users that starts at user index `firstIndex`.
    private mutating func restoreUsers(
        firstIndex: UInt64, count: UInt32, packed: UnsafeRawBufferPointer, symbols symbolCount: Int32
    ) throws {
        guard firstIndex == UInt64(users.count) else {
            throw StateRecoveryError("profile snapshot: users from \(firstIndex) follow \(users.count) users")
        }
        var reader = PackedReader(packed)
        var note: DeletionNote?
        var registrationKey = ""
        for _ in 0..<count {
            let userIndex = Int32(users.count)
            do {
                users.append(
                    try UserRecord.unpack(from: &reader, symbols: symbolCount, note: &note, registrationKey: &registrationKey))
            } catch {
                throw StateRecoveryError("profile snapshot: user \(users.count) is malformed: \(error)")
            }
            // Ids are unique: the snapshot was written from a state that enforced it, and its
            // checksums guard it since. A user that moved away (a tombstone, its id empty) is
            // found by no id.
            let id = users.withPointer(Int(userIndex)) { $0.pointee.id }
            guard !id.isEmpty else { continue }
            ids.insert(hash: UserIndex.hash(id), index: userIndex)
            if !registrationKey.isEmpty { registrationKeys[registrationKey] = userIndex }
            if let note { deletionNotes[userIndex] = note }
        }
        guard reader.atEnd else {
            throw StateRecoveryError("profile snapshot: bytes left after the users from \(firstIndex)")
        }
    }
}
