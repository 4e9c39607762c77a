public import RetainProto
public import RetainState

/// Snapshot layout: a first ``Retain_V1_WebhookSnapshotRecord`` with the subscriptions, the
/// next sequence and how many records follow, then the pending deliveries (queue order) and the
/// dead letters (oldest first) in records of up to 1,000. A host writes them after its own
/// records (or wrapped in its own record type) and hands each back to ``restore(_:)``.
extension WebhookOutbox {
    /// Deliveries per snapshot record.
    static let recordBatch = 1_000

    /// The records of the outbox, first record first.
    public func snapshotRecords() -> [Retain_V1_WebhookSnapshotRecord] {
        var records: [Retain_V1_WebhookSnapshotRecord] = []
        let queued = pending.values.sorted { $0.sequence < $1.sequence }
        for start in stride(from: 0, to: queued.count, by: Self.recordBatch) {
            records.append(Retain_V1_WebhookSnapshotRecord(pending: Array(queued[start..<min(start + Self.recordBatch, queued.count)])))
        }
        let buried = dead.values.sorted(by: Self.buriedEarlier)
        for start in stride(from: 0, to: buried.count, by: Self.recordBatch) {
            records.append(Retain_V1_WebhookSnapshotRecord(dead: Array(buried[start..<min(start + Self.recordBatch, buried.count)])))
        }
        let first = Retain_V1_WebhookSnapshotRecord(
            subscriptions: subscriptions, nextSequence: nextSequence, followingRecords: UInt64(records.count))
        return [first] + records
    }

    /// Writes ``snapshotRecords()`` to `sink` (for hosts whose snapshot is a plain sequence of
    /// records).
    public func writeSnapshot(to sink: inout SnapshotSink) throws {
        for record in snapshotRecords() { try sink.write(record) }
    }

    /// Reads the outbox's records back from `source` (for hosts that wrote them with
    /// ``writeSnapshot(to:)`` last): an older snapshot without them leaves the outbox empty.
    public mutating func restore(from source: inout SnapshotSource) throws {
        guard let first = try source.next(Retain_V1_WebhookSnapshotRecord.self) else { return }
        try restore(first)
        for index in 0..<first.followingRecords {
            guard let record = try source.next(Retain_V1_WebhookSnapshotRecord.self) else {
                throw StateRecoveryError("webhooks snapshot: record \(index + 1) of \(first.followingRecords) is missing")
            }
            try restore(record)
        }
    }

    /// Takes one record back, in the order ``snapshotRecords()`` gave them.
    public mutating func restore(_ record: Retain_V1_WebhookSnapshotRecord) throws {
        if record.nextSequence != 0 {
            subscriptions = record.subscriptions
            nextSequence = record.nextSequence
        }
        for delivery in record.pending { pending[delivery.deliveryId] = delivery }
        for delivery in record.dead { dead[delivery.deliveryId] = delivery }
    }
}
