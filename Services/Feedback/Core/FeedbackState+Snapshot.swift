public import RetainState
import RetainWebhooks
package import RetainProto
import RetainRuleSets
import RetainMoves

/// Snapshot layout (see feedback_storage.proto): a header, one record per item in submission
/// order (its submission and changes, replayed on restore so indexes are rebuilt by the same
/// code as live writes), one record per FAQ group, then the webhooks' records (absent from
/// snapshots of earlier versions).
extension FeedbackState {
    public func writeSnapshot(to sink: inout SnapshotSink) throws {
        try sink.write(
            Retain_V1_FeedbackSnapshotHeader(
                itemCount: UInt64(items.count), faqGroupCount: UInt64(faq.groups.count), ruleSetVersions: ruleSets.versions,
                userFences: fences.fenced.isEmpty && fences == UserFences() ? nil : fences.record,
                movedItems: Dictionary(grouping: movedItems, by: \.value).sorted { $0.key < $1.key }.map { user, items in
                    Retain_V1_FeedbackMovedItems(userId: user, itemIds: items.map(\.key.description).sorted())
                }))
        for sequence in items.indices {
            try sink.write(itemRecord(UInt32(sequence)))
        }
        for group in faq.groups {
            try sink.write(
                Retain_V1_FaqGroupRecord(
                    groupId: group.id, category: categories[group.category], text: group.text,
                    itemIds: group.members.map { items[Int($0)].key.description }))
        }
        try webhooks.writeSnapshot(to: &sink)
    }

    public mutating func restore(from source: inout SnapshotSource) throws {
        guard let header = try source.next(Retain_V1_FeedbackSnapshotHeader.self) else {
            throw StateRecoveryError("feedback snapshot without a header")
        }
        do {
            try ruleSets.restore(header.ruleSetVersions)
        } catch {
            throw StateRecoveryError("feedback snapshot: \(error)")
        }
        items.reserveCapacity(Int(header.itemCount))
        for index in 0..<header.itemCount {
            guard let record = try source.next(Retain_V1_FeedbackItemRecord.self) else {
                throw StateRecoveryError("feedback snapshot ends after \(index) of \(header.itemCount) items")
            }
            try restoreItem(record)
        }
        for index in 0..<header.faqGroupCount {
            guard let record = try source.next(Retain_V1_FaqGroupRecord.self) else {
                throw StateRecoveryError("feedback snapshot ends after \(index) of \(header.faqGroupCount) FAQ groups")
            }
            try restoreFaqGroup(record)
        }
        fences = UserFences(header.userFences ?? Retain_V1_UserFencesRecord())
        for moved in header.movedItems {
            for id in moved.itemIds {
                guard let key = ItemKey(id) else { throw StateRecoveryError("moved item id '\(id)' is malformed") }
                movedItems[key] = moved.userId
            }
        }
        try webhooks.restore(from: &source)
    }

    /// Restores one FAQ group and its members (items already restored).
    package mutating func restoreFaqGroup(_ record: Retain_V1_FaqGroupRecord) throws {
        faq.create(id: record.groupId, category: categories.intern(record.category), text: record.text)
        for id in record.itemIds {
            guard let key = ItemKey(id), let sequence = sequences[key] else {
                throw StateRecoveryError("FAQ group \(record.groupId) names unknown item \(id)")
            }
            let resolvedAt = fold(sequence, history: false).item.resolution?.resolvedAtMs ?? 0
            faq.join(id: record.groupId, sequence: sequence, resolvedAtMs: resolvedAt)
            refreshFaqLiveness(sequence)
        }
    }

    /// The snapshot record of item `sequence`.
    package func itemRecord(_ sequence: UInt32) -> Retain_V1_FeedbackItemRecord {
        let stored = items[Int(sequence)]
        let detail = details[sequence]
        let request = Retain_V1_SubmitFeedbackRequest(
            userId: users[stored.user], requestId: requestIDs[Int(sequence)], kind: .init(rawValue: Int32(stored.kind)),
            category: categories[stored.baseCategory], text: texts[Int(sequence)], channel: channels[stored.channel],
            reference: detail?.reference, urgent: stored.flags & StoredItem.submitterUrgent != 0,
            important: stored.flags & StoredItem.submitterImportant != 0,
            submittedAtMs: stored.createdAtMs, properties: detail?.properties ?? [:])
        return Retain_V1_FeedbackItemRecord(
            submitted: Retain_V1_FeedbackSubmitted(
                itemId: stored.key.description, request: request, createdAtMs: stored.createdAtMs,
                loggedAtMs: stored.createdAtMs, team: teams[stored.baseTeam], dueAtMs: stored.baseDueAtMs,
                priority: PriorityRules.priority(urgent: stored.flags & 4 != 0, important: stored.flags & 8 != 0),
                priorityReasons: detail?.priorityReasons ?? []),
            changes: (detail?.changes ?? []).map(\.logEntry))
    }
}
