public import RetainProto

/// What a `plan` method of ``GrowthState`` decided: an answer that changes nothing (a retry, a
/// second check-in), or a log entry to apply together with the answer to give once it is
/// durable.
public enum GrowthDecision<Answer: Sendable>: Sendable {
    /// Nothing changes; answer at once.
    case unchanged(Answer)
    /// Log `entry`, then answer.
    case changed(Retain_V1_GrowthLogEntry, Answer)

    /// The answer either way.
    public var answer: Answer {
        switch self {
        case .unchanged(let answer), .changed(_, let answer): answer
        }
    }
}
