import NIOCore
import NIOHTTP1
import Synchronization

extension EtcdClient {
    /// Streams every change to keys starting with `prefix`, in revision order.
    ///
    /// The watch has its own connection to the current member. The stream ends by throwing when
    /// the connection drops, the member cannot be reached, etcd cancels the watch (for example
    /// because `fromRevision` was compacted), or (with `Configuration.watchIdleTimeout`) nothing
    /// arrives for too long; it never reconnects by itself. To miss nothing, watch again from the
    /// last event's `revision + 1` (or from `range(prefix:).revision + 1` after a fresh read).
    ///
    /// - Parameters:
    ///   - prefix: the key prefix; "" watches every key.
    ///   - fromRevision: the first revision to report, which may be in the past; nil for changes
    ///     after the watch is set up.
    public func watch(prefix: String, fromRevision: Int64? = nil) -> AsyncThrowingStream<EtcdWatchEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: EtcdWatchEvent.self, throwing: (any Error).self)
        let task = Task {
            await self.runWatch(prefix: prefix, fromRevision: fromRevision, continuation: continuation)
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Connects to the first member that accepts, sends the watch request and feeds events to
    /// `continuation` until the stream ends.
    private func runWatch(
        prefix: String, fromRevision: Int64?,
        continuation: AsyncThrowingStream<EtcdWatchEvent, any Error>.Continuation
    ) async {
        let idleTimeout = configuration.watchIdleTimeout
        let body = EtcdJSON.encode(EtcdRequests.watch(prefix: prefix, fromRevision: fromRevision, progressNotify: idleTimeout != nil))
        guard let order = endpointOrder() else {
            continuation.finish(throwing: EtcdError(.unavailable, "the etcd client is shut down or has no valid endpoint"))
            return
        }
        var failures: [String] = []
        for index in order {
            guard !Task.isCancelled else {
                continuation.finish()
                return
            }
            let endpoint = endpointList[index]
            let channel: any Channel
            do {
                channel = try await EtcdHTTPConnection.open(endpoint, group: group, timeout: configuration.requestTimeout) { channel in
                    let handler = EtcdWatchHandler(
                        maximumLineLength: self.configuration.maximumAnswerSize,
                        firstLineTimeout: TimeAmount(self.configuration.requestTimeout),
                        idleTimeout: idleTimeout.map { TimeAmount($0) },
                        onLine: { line in
                            do {
                                let events = try EtcdRequests.watchEvents(EtcdJSON(parsing: line))
                                for event in events { continuation.yield(event) }
                                return true
                            } catch {
                                continuation.finish(throwing: error)
                                return false
                            }
                        },
                        onEnd: { error, memberSuspect in
                            if memberSuspect { self.failed(index, path: "/v3/watch", reason: error.message) }
                            continuation.finish(throwing: error)
                        })
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            } catch {
                failures.append("\(endpoint): \(error)")
                failed(index, path: "/v3/watch", reason: "\(error)")
                continue
            }
            guard let id = watches.withLock({ $0.add(channel) }) else {
                channel.close(promise: nil)
                continuation.finish(throwing: EtcdError(.unavailable, "the etcd client is shut down"))
                return
            }
            let head = EtcdHTTPConnection.requestHead("/v3/watch", endpoint: endpoint, contentLength: body.count)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(bytes: body))), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            await withTaskCancellationHandler {
                try? await channel.closeFuture.get()
            } onCancel: {
                channel.close(promise: nil)
            }
            watches.withLock { $0.remove(id) }
            // The handler has finished the stream with the reason; this only covers a cancelled consumer.
            continuation.finish()
            return
        }
        continuation.finish(throwing: EtcdError(.unavailable, "no etcd endpoint accepted the watch: \(failures.joined(separator: "; "))"))
    }
}
