import Foundation
@testable import RetainReplication
import RetainState
import Synchronization
import Testing

/// A live feed's follow task in a quiet spell waits for the commit point to move instead of
/// looking every commit interval (an idle leader's wake-ups); it must still hear at once of a
/// commit, of the term's end, and of its feed falling back.
@Suite("Quiet waits: a follow task waiting out a quiet spell wakes when there is something to send")
struct QuietWaitTests {
    private func term() -> (LeaderTerm, CommitGate) {
        let gate = CommitGate()
        gate.change(to: .leader(epoch: 1))
        let term = LeaderTerm(
            epoch: 1, history: EpochHistory(), startSequence: 0, localDurable: 0,
            required: 1, window: RecordWindow(capacity: 1 << 20), gate: gate, leaseValid: { true })
        term.connect("b")
        term.adoptSync(["b"])
        return (term, gate)
    }

    /// Seconds `body`'s wait took, with `trigger` run once the wait has begun.
    private func timedWait(
        _ body: @escaping @Sendable () async -> Void, trigger: @Sendable () async throws -> Void
    ) async throws -> Double {
        let started = ContinuousClock.now
        let waiting = Task { await body() }
        try await Task.sleep(for: .milliseconds(50))
        try await trigger()
        await waiting.value
        return (ContinuousClock.now - started) / .seconds(1)
    }

    @Test("the commit point moving wakes the wait long before its timeout")
    func commitWakes() async throws {
        let (term, gate) = term()
        let signal = AsyncSignal()
        let seconds = try await timedWait({ await term.waitForCommit(after: 0, signal: signal, timeout: .seconds(20)) }) {
            term.localDurable(5)
            term.acknowledge("b", durable: 5, leaderLast: 5)
        }
        #expect(gate.committedSequence == 5)
        #expect(seconds < 10, "woke after \(seconds) s")
    }

    @Test("the end of the term wakes the wait")
    func endWakes() async throws {
        let (term, _) = term()
        let signal = AsyncSignal()
        let seconds = try await timedWait({ await term.waitForCommit(after: 0, signal: signal, timeout: .seconds(20)) }) {
            term.end()
        }
        #expect(seconds < 10, "woke after \(seconds) s")
    }

    @Test("a commit point already past returns at once; a quiet one waits out the timeout")
    func alreadyPast() async throws {
        let (term, _) = term()
        term.localDurable(3)
        term.acknowledge("b", durable: 3, leaderLast: 3)
        let signal = AsyncSignal()
        let started = ContinuousClock.now
        await term.waitForCommit(after: 2, signal: signal, timeout: .seconds(20))
        #expect(ContinuousClock.now - started < .seconds(10))
        let quiet = ContinuousClock.now
        await term.waitForCommit(after: 3, signal: signal, timeout: .milliseconds(200))
        #expect(ContinuousClock.now - quiet >= .milliseconds(190), "nothing moved: the wait lasts its timeout")
    }

    @Test("a live feed that falls back wakes its task's wait")
    func fallBackWakes() async throws {
        let (term, _) = term()
        let feed = LiveFeed(member: "b", term: term, limitBytes: 1 << 20) { _ in }
        #expect(feed.goLive(next: 1, windowLast: { 0 }))
        let seconds = try await timedWait({ await term.waitForCommit(after: 0, signal: feed.idle, timeout: .seconds(20)) }) {
            // A batch that does not follow the last one sent: the feed hands the stream back.
            feed.offer(first: 5, last: 5, frames: [1, 2, 3])
        }
        #expect(feed.position.live == false)
        #expect(seconds < 10, "woke after \(seconds) s")
    }
}
