import GrowthCore
import RetainProto
import RetainRPC
import RetainServiceKit
import RetainState
import RetainWire

extension GrowthService {
    /// Events replayed per read of the state.
    static let watchBatch = 256

    /// Serves WatchLevelChanges: a heartbeat carrying the stream id and head, every durable
    /// event after the requested position, then new ones as they become durable, with a
    /// heartbeat whenever the stream was idle for the heartbeat interval. Ends with UNAVAILABLE
    /// when the server shuts down (resume from the last position received).
    func watch(
        _ request: Retain_V1_WatchLevelChangesRequest,
        _ writer: RPCStreamWriter<Retain_V1_WatchLevelChangesResponse>
    ) async throws {
        // Replicated: the stream is served by the shard's leader (its events are the committed
        // ones); a replica refuses, naming the leader, and a deposed leader ends the stream.
        if let refusal = store.commitGate?.writeRefusal() { throw RPCError(refusal) }
        let streamID = store.read { $0.streamID }
        var cursor: UInt64
        let head = notifier.head
        if request.fromEnd {
            cursor = head
        } else {
            guard request.afterPosition <= head else {
                throw RPCError(.outOfRange, "after_position \(request.afterPosition) is beyond the newest event (\(head))")
            }
            let first = store.read { $0.firstRetainedPosition }
            guard request.afterPosition + 1 >= first else {
                throw RPCError(
                    .outOfRange, "events before position \(first) were pruned; after_position \(request.afterPosition) cannot be resumed")
            }
            cursor = request.afterPosition
        }
        try await writer.send(Retain_V1_WatchLevelChangesResponse(headPosition: head, streamId: streamID))
        while true {
            if let refusal = store.commitGate?.writeRefusal() { throw RPCError(refusal) }
            let head = notifier.head
            if cursor < head {
                let (events, first) = store.read {
                    ($0.events(after: cursor, upTo: head, limit: Self.watchBatch), $0.firstRetainedPosition)
                }
                guard cursor + 1 >= first, !events.isEmpty else {
                    throw RPCError(.outOfRange, "events before position \(first) were pruned while the stream was behind (at \(cursor))")
                }
                for event in events {
                    try await writer.send(Retain_V1_WatchLevelChangesResponse(event: event, headPosition: head, streamId: streamID))
                    cursor = event.position
                }
                await Task.yield()
                continue
            }
            switch await notifier.wait(beyond: cursor, timeout: configuration.heartbeatInterval) {
            case .advanced:
                continue
            case .timedOut:
                try await writer.send(Retain_V1_WatchLevelChangesResponse(headPosition: notifier.head, streamId: streamID))
            case .closed:
                throw RPCError(.unavailable, "the server is shutting down; resume after position \(cursor)")
            case .cancelled:
                throw CancellationError()
            }
        }
    }
}
