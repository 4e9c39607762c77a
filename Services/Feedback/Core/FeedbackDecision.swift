public import RetainProto

/// What a write request comes to: a retry answered with the first answer, or a new change to log.
public enum FeedbackDecision<Replay: Sendable>: Sendable {
    /// A retry: answer with this (replayed = true) and log nothing.
    case replay(Replay)
    /// New: log this entry, then answer from the state.
    case log(Retain_V1_FeedbackLogEntry)
}
