@testable import RetainReplication
import RetainProto
import RetainState
import Synchronization
import Testing

@Suite("Live feed: the committer writes each batch to a replica that keeps up, and hands back when it does not")
struct LiveFeedTests {
    final class Sent: Sendable {
        let batches = Mutex<[Retain_V1_ReplicationBatch]>([])
        var all: [Retain_V1_ReplicationBatch] { batches.withLock { $0 } }
    }

    private func feed(limitBytes: Int = 100) -> (LiveFeed, LeaderTerm, Sent) {
        let gate = CommitGate()
        gate.change(to: .leader(epoch: 3))
        let term = LeaderTerm(
            epoch: 3, history: EpochHistory(), startSequence: 0, localDurable: 0,
            required: 1, window: RecordWindow(capacity: 1 << 20), gate: gate, leaseValid: { true })
        let sent = Sent()
        let feed = LiveFeed(member: "b", term: term, limitBytes: limitBytes) { batch in
            sent.batches.withLock { $0.append(batch) }
        }
        return (feed, term, sent)
    }

    private func offer(_ feed: LiveFeed, _ first: UInt64, _ last: UInt64, bytes: Int) {
        feed.offer(first: first, last: last, frames: [UInt8](repeating: 7, count: bytes))
    }

    @Test("nothing is sent before the follow task hands over, and only once it has sent everything written")
    func handOver() {
        let (feed, _, sent) = feed()
        offer(feed, 1, 2, bytes: 10)
        #expect(sent.all.isEmpty)
        #expect(!feed.goLive(next: 3, windowLast: { 3 }), "record 3 is written and not sent yet")
        #expect(feed.goLive(next: 4, windowLast: { 3 }))
        offer(feed, 4, 6, bytes: 30)
        let batch = try! #require(sent.all.first)
        #expect(batch.epoch == 3 && batch.firstSequence == 4 && batch.count == 3 && batch.frames.count == 30)
        #expect(feed.position == (true, 7, batch.commitSequence))
    }

    @Test("a batch that does not follow the last one sent hands the stream back to the follow task")
    func gap() {
        let (feed, _, sent) = feed()
        #expect(feed.goLive(next: 1, windowLast: { 0 }))
        offer(feed, 1, 1, bytes: 10)
        offer(feed, 3, 3, bytes: 10)
        #expect(sent.all.map(\.firstSequence) == [1])
        #expect(feed.position.live == false && feed.position.next == 2, "the task goes on from 2")
        offer(feed, 4, 4, bytes: 10)
        #expect(sent.all.count == 1, "a fallen-back feed sends nothing")
    }

    @Test("past the byte limit unacknowledged, the feed falls back; acknowledgements free room")
    func limit() {
        let (feed, term, sent) = feed(limitBytes: 100)
        term.connect("b")
        #expect(feed.goLive(next: 1, windowLast: { 0 }))
        offer(feed, 1, 1, bytes: 60)
        term.acknowledge("b", durable: 1, leaderLast: 1)
        offer(feed, 2, 2, bytes: 60)
        #expect(sent.all.count == 2, "the first batch was acknowledged: 60 bytes outstanding")
        #expect(
            sent.all[1].commitSequence == term.commit && feed.position.commitSent == term.commit,
            "the batch carried the commit point, and the feed remembers it")
        offer(feed, 3, 3, bytes: 60)
        #expect(sent.all.count == 2)
        #expect(feed.position.live == false && feed.position.next == 3, "120 bytes would be outstanding: the task feeds the replica from 3")
    }

    @Test("once the term has ended, nothing more is sent")
    func endedTerm() {
        let (feed, term, sent) = feed()
        #expect(feed.goLive(next: 1, windowLast: { 0 }))
        term.end()
        offer(feed, 1, 1, bytes: 10)
        #expect(sent.all.isEmpty && !feed.position.live)
    }
}
