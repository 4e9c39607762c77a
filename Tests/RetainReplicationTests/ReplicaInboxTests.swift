@testable import RetainReplication
import RetainProto
import Synchronization
import Testing

@Suite("Replica inbox: batches queued for the handshake, then applied where they arrive, in order")
struct ReplicaInboxTests {
    final class Applied: Sendable {
        let sequences = Mutex<[UInt64]>([])
        var all: [UInt64] { sequences.withLock { $0 } }
        func add(_ batch: Retain_V1_ReplicationBatch) { sequences.withLock { $0.append(batch.firstSequence) } }
    }

    struct Refused: Error {}

    private func batch(_ sequence: UInt64) -> Retain_V1_ReplicationBatch {
        Retain_V1_ReplicationBatch(epoch: 1, firstSequence: sequence, count: 1)
    }

    @Test("batches that came before the switch are taken first; after it, each is applied as it arrives")
    func queuedThenInline() async throws {
        let inbox = ReplicaInbox()
        let applied = Applied()
        inbox.received(batch(1))
        inbox.received(batch(2))
        let apply: @Sendable (Retain_V1_ReplicationBatch) throws -> Void = { applied.add($0) }
        // Something is queued: the switch waits until the task has taken it.
        #expect(!inbox.goInline(apply: apply))
        try apply(try await inbox.next())
        inbox.received(batch(3))
        #expect(!inbox.goInline(apply: apply))
        try apply(try await inbox.next())
        try apply(try await inbox.next())
        #expect(inbox.goInline(apply: apply))
        inbox.received(batch(4))
        inbox.received(batch(5))
        #expect(applied.all == [1, 2, 3, 4, 5])
    }

    @Test("a batch that fails to apply inline ends the inbox with its error, cancels the stream, and drops what follows")
    func inlineFailure() async throws {
        let inbox = ReplicaInbox()
        let cancelled = Atomic<Int>(0)
        inbox.attach { cancelled.add(1, ordering: .relaxed) }
        let applied = Applied()
        #expect(
            inbox.goInline { batch in
                if batch.firstSequence == 2 { throw Refused() }
                applied.add(batch)
            })
        inbox.received(batch(1))
        inbox.received(batch(2))
        inbox.received(batch(3))
        #expect(applied.all == [1])
        #expect(cancelled.load(ordering: .relaxed) == 1)
        await #expect(throws: Refused.self) { try await inbox.waitForEnd() }
    }

    @Test("the task waiting for a batch wakes when one arrives, and throws how the stream ended once nothing is queued")
    func waitsAndEnds() async throws {
        let inbox = ReplicaInbox()
        async let first = inbox.next()
        try await Task.sleep(for: .milliseconds(50))
        inbox.received(batch(7))
        #expect(try await first.firstSequence == 7)
        inbox.received(batch(8))
        inbox.ended(Refused())
        // What was queued before the end is still taken, then the end.
        #expect(try await inbox.next().firstSequence == 8)
        await #expect(throws: Refused.self) { try await inbox.next() }
        // The leader ending the stream (no error) is a protocol violation for a follower.
        let ended = ReplicaInbox()
        ended.ended(nil)
        await #expect(throws: ReplicationError.self) { try await ended.waitForEnd() }
    }
}
