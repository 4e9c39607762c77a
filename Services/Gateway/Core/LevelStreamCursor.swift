public import RetainProto

/// Where a follower of one Growth instance's level-change stream stands: the stream id it
/// follows and the position of the last event it handled, so that a broken stream resumes
/// after that event. Positions count only within one stream id: a message from another stream
/// (the instance's data directory was replaced) sends the follower back to the first event.
public struct LevelStreamCursor: Sendable, Equatable {
    /// What the follower does after reading a message's stream id.
    public enum Verdict: Sendable, Equatable {
        /// The message belongs to the stream followed: handle it.
        case handle
        /// Another stream: drop the call and open it again with ``request`` (from the start).
        case reopen
    }

    /// The stream followed; empty until the first message.
    public private(set) var streamID = ""
    /// The last event handled; 0 before the first.
    public private(set) var position: UInt64 = 0
    /// True when the next call asks for the events from the stream's end (set after the events
    /// a follower needed were pruned), until its first message tells where the end was.
    public private(set) var fromEnd = false

    public init() {}

    /// The request that resumes the stream after the last event handled.
    public var request: Retain_V1_WatchLevelChangesRequest {
        Retain_V1_WatchLevelChangesRequest(afterPosition: fromEnd ? 0 : position, fromEnd: fromEnd)
    }

    /// Reads the stream id and head of `message`, the first thing done with every message.
    public mutating func observe(_ message: Retain_V1_WatchLevelChangesResponse) -> Verdict {
        if streamID.isEmpty {
            streamID = message.streamId
        } else if message.streamId != streamID {
            streamID = message.streamId
            position = 0
            fromEnd = false
            return .reopen
        }
        if fromEnd {
            // The first message of a from-end call: its head is where the call started.
            position = message.headPosition
            fromEnd = false
        }
        return .handle
    }

    /// Records that every event up to `position` was handled.
    public mutating func handled(upTo position: UInt64) {
        self.position = max(self.position, position)
    }

    /// Gives up on the events the instance no longer holds: the next call starts at the end.
    public mutating func skipToEnd() {
        fromEnd = true
    }
}
