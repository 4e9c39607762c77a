import GrowthService
import Testing

@Suite("level-event notifier")
struct LevelEventNotifierTests {
    @Test("a wait ends when the head passes the position, at once if it already has")
    func advance() async {
        let notifier = LevelEventNotifier()
        notifier.advance(to: 3)
        #expect(await notifier.wait(beyond: 2, timeout: .seconds(5)) == .advanced)
        async let waited = notifier.wait(beyond: 3, timeout: .seconds(5))
        try? await Task.sleep(for: .milliseconds(50))
        notifier.advance(to: 2)  // never back
        #expect(notifier.head == 3)
        notifier.advance(to: 4)
        #expect(await waited == .advanced)
    }

    @Test("a wait times out, ends on close, and ends on cancellation")
    func endings() async {
        let notifier = LevelEventNotifier()
        #expect(await notifier.wait(beyond: 0, timeout: .milliseconds(30)) == .timedOut)
        let cancelled = Task { await notifier.wait(beyond: 0, timeout: .seconds(30)) }
        try? await Task.sleep(for: .milliseconds(50))
        cancelled.cancel()
        #expect(await cancelled.value == .cancelled)
        async let closed = notifier.wait(beyond: 0, timeout: .seconds(30))
        try? await Task.sleep(for: .milliseconds(50))
        notifier.close()
        #expect(await closed == .closed)
        #expect(await notifier.wait(beyond: 0, timeout: .seconds(30)) == .closed)
    }
}
