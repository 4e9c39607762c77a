public import RetainProto

/// A RecordActivities batch split by the owner of each event's user: one part per shard, each
/// keeping the caller's order, and the merge of the parts' answers back into the caller's order.
public struct ActivityBatchSplit: Sendable {
    /// Why a part got no answer: its shard, and the status it failed with.
    public struct PartFailure: Error, Sendable, Equatable {
        /// The shard's id.
        public var shard: String
        /// The status code.
        public var code: UInt32
        /// The status message.
        public var message: String

        public init(shard: String, code: UInt32, message: String) {
            self.shard = shard
            self.code = code
            self.message = message
        }
    }

    /// The caller's events.
    public let events: [Retain_V1_ActivityEvent]
    /// For each shard that owns at least one event (by index), the indexes of its events in
    /// the caller's list, in order.
    public let parts: [Int: [Int]]

    /// Splits `events` by `owner` (a user id's shard index).
    public init(events: [Retain_V1_ActivityEvent], owner: (String) -> Int) {
        self.events = events
        var parts: [Int: [Int]] = [:]
        for (index, event) in events.enumerated() { parts[owner(event.userId), default: []].append(index) }
        self.parts = parts
    }

    /// The shards with a part, in index order.
    public var shards: [Int] { parts.keys.sorted() }

    /// The request of `shard`'s part.
    public func request(for shard: Int) -> Retain_V1_RecordActivitiesRequest {
        Retain_V1_RecordActivitiesRequest(events: (parts[shard] ?? []).map { events[$0] })
    }

    /// The answer to the caller: each event's outcome at its place, counts added, each part's
    /// item errors pointing into the caller's list; the events of a failed part are
    /// NOT_PROCESSED with an error naming the shard and carrying its status code.
    public func merge(_ results: [Int: Result<Retain_V1_RecordActivitiesResponse, PartFailure>]) -> Retain_V1_RecordActivitiesResponse {
        var merged = Retain_V1_RecordActivitiesResponse()
        merged.outcomes = Array(repeating: .unspecified, count: events.count)
        var errors: [Retain_V1_ItemError] = []
        for shard in shards {
            let indexes = parts[shard] ?? []
            switch results[shard] {
            case .success(let answer):
                for (position, outcome) in answer.outcomes.enumerated() where position < indexes.count {
                    merged.outcomes[indexes[position]] = outcome
                }
                merged.acceptedCount += answer.acceptedCount
                merged.duplicateCount += answer.duplicateCount
                merged.rejectedCount += answer.rejectedCount
                for var error in answer.errors where Int(error.index) < indexes.count {
                    error.index = UInt32(indexes[Int(error.index)])
                    errors.append(error)
                }
            case .failure(let failure):
                for index in indexes {
                    merged.outcomes[index] = .notProcessed
                    errors.append(
                        Retain_V1_ItemError(
                            index: UInt32(index), code: failure.code, field: "",
                            message: "shard '\(failure.shard)' did not answer: \(failure.message)"))
                }
                merged.rejectedCount += UInt32(indexes.count)
            case nil:
                for index in indexes {
                    merged.outcomes[index] = .notProcessed
                    errors.append(
                        Retain_V1_ItemError(
                            index: UInt32(index), code: 14, field: "",
                            message: "shard \(shard) was not asked"))
                }
                merged.rejectedCount += UInt32(indexes.count)
            }
        }
        merged.errors = errors.sorted { $0.index < $1.index }
        return merged
    }
}
