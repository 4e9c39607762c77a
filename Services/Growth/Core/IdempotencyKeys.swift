import RetainProto

/// A user's remembered idempotency keys (awards and claims) with their first answers. Most
/// users hold one or a few keys, so the records are a plain array searched in order; past
/// ``indexThreshold`` keys a dictionary from key to position is kept beside it.
struct IdempotencyKeys: Sendable {
    /// The records, in the order they were remembered.
    private(set) var records: [Retain_V1_GrowthIdempotencyRecord] = []
    /// Positions in `records` by key; nil while there are at most `indexThreshold` records.
    private var index: [String: Int]?

    /// Up to this many records are searched linearly. 8.
    static let indexThreshold = 8

    init() {}

    /// The keys of snapshot records; a repeated key keeps its last record.
    init(_ records: [Retain_V1_GrowthIdempotencyRecord]) {
        for record in records {
            if let position = position(of: record.key) {
                self.records[position] = record
            } else {
                insert(record)
            }
        }
    }

    /// How many keys are remembered.
    var count: Int { records.count }

    /// The record of `key`, if it is remembered.
    subscript(key: String) -> Retain_V1_GrowthIdempotencyRecord? {
        position(of: key).map { records[$0] }
    }

    /// Remembers a key that is not remembered yet.
    mutating func insert(_ record: Retain_V1_GrowthIdempotencyRecord) {
        records.append(record)
        if index != nil {
            index?[record.key] = records.count - 1
        } else if records.count > Self.indexThreshold {
            rebuildIndex()
        }
    }

    /// Forgets the records recorded before `cutoff`.
    mutating func removeRecorded(before cutoff: Int64) {
        records.removeAll { $0.recordedAtMs < cutoff }
        rebuildIndex()
    }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        return records.firstIndex { $0.key == key }
    }

    private mutating func rebuildIndex() {
        guard records.count > Self.indexThreshold else {
            index = nil
            return
        }
        var positions: [String: Int] = [:]
        positions.reserveCapacity(records.count)
        for (position, record) in records.enumerated() { positions[record.key] = position }
        index = positions
    }
}
