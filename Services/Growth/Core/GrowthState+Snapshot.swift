public import RetainState
import RetainWebhooks
import RetainProto
import RetainRuleSets
import RetainMoves

extension GrowthState {
    /// Snapshot layout: a header (with the rule-set versions), one record per user, the retained
    /// events, oldest first, then the webhooks' records (absent from snapshots of earlier versions).
    public func writeSnapshot(to sink: inout SnapshotSink) throws {
        try sink.write(
            Retain_V1_GrowthSnapshotHeader(
                format: 1, streamId: streamID, userCount: UInt64(users.count), eventCount: UInt64(events.count),
                nextEventPosition: nextEventPosition, newestWeek: newestWeek, fencedUsers: fences.fenced.sorted(),
                fenceVersion: fences.fenceVersion, droppedSinceFence: fences.droppedSinceFence,
                importedVersion: fences.importedVersion,
                ruleSetVersions: ruleSets.versions))
        for (userID, user) in users {
            try sink.write(user.record(userID))
        }
        for event in events { try sink.write(event) }
        try webhooks.writeSnapshot(to: &sink)
    }

    /// Rebuilds users and events from the records, and the leaderboards from the users.
    public mutating func restore(from source: inout SnapshotSource) throws {
        guard let header = try source.next(Retain_V1_GrowthSnapshotHeader.self) else {
            throw StateRecoveryError("growth snapshot: no header record")
        }
        guard header.format == 1 else { throw StateRecoveryError("growth snapshot: unknown format \(header.format)") }
        streamID = header.streamId
        nextEventPosition = header.nextEventPosition
        newestWeek = header.newestWeek
        fences = UserFences(
            fenced: header.fencedUsers, fenceVersion: header.fenceVersion, droppedSinceFence: header.droppedSinceFence,
            importedVersion: header.importedVersion)
        do {
            try ruleSets.restore(header.ruleSetVersions)
        } catch {
            throw StateRecoveryError("growth snapshot: \(error)")
        }
        users.reserveCapacity(Int(header.userCount))
        var overallKeys: [LeaderboardKey] = []
        overallKeys.reserveCapacity(Int(header.userCount))
        var weeklyKeys: [Int32: [LeaderboardKey]] = [:]
        let oldest = oldestKeptWeek
        for index in 0..<header.userCount {
            guard let record = try source.next(Retain_V1_GrowthUserRecord.self) else {
                throw StateRecoveryError("growth snapshot: user record \(index) of \(header.userCount) is missing")
            }
            let user = UserGrowth(record)
            if user.total > 0 { overallKeys.append(user.boardKey(record.userId)) }
            for week in user.weeks where week.week >= oldest && week.score > 0 {
                weeklyKeys[week.week, default: []].append(
                    LeaderboardKey(score: week.score, reachedAtMs: week.reachedAtMs, userID: record.userId))
            }
            users.put(record.userId, user)
        }
        overall = Leaderboard(keys: overallKeys)
        weekly = weeklyKeys.mapValues { Leaderboard(keys: $0) }
        for index in 0..<header.eventCount {
            guard let event = try source.next(Retain_V1_LevelChangeEvent.self) else {
                throw StateRecoveryError("growth snapshot: event record \(index) of \(header.eventCount) is missing")
            }
            events.append(event)
        }
        if let last = events.last, last.position != headPosition {
            throw StateRecoveryError("growth snapshot: newest event is at \(last.position), header says \(headPosition)")
        }
        try webhooks.restore(from: &source)
    }
}
