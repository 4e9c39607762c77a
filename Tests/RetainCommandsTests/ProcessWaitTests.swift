import Foundation
import RetainProcess
import Synchronization
import Testing

@Suite("Waiting for a child process")
struct ProcessWaitTests {
    /// Foundation's `waitUntilExit()` spins the calling thread on Linux when another thread
    /// started the child (as when a bench or test stops a server it started before an `await`);
    /// a bench stopping its server took a core from the server's snapshot on shutdown.
    @Test("waiting for a child started on another thread sleeps instead of spinning a core")
    func waitingSleeps() throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["0.5"]
        let launched = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        Thread.detachNewThread {
            do { try child.run() } catch { failure.withLock { $0 = error } }
            launched.signal()
        }
        launched.wait()
        if let error = failure.withLock({ $0 }) { throw error }
        let cpuBefore = threadCPUTime()
        let started = ContinuousClock.now
        child.waitForExit()
        let waited = ContinuousClock.now - started
        let cpu = threadCPUTime() - cpuBefore
        #expect(!child.isRunning)
        #expect(child.terminationStatus == 0)
        #expect(waited >= .milliseconds(300))
        #expect(cpu < waited / 5, "the wait used \(cpu) of CPU in \(waited)")
    }

    @Test("a child that has already exited is waited for at once")
    func alreadyExited() throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/false")
        try child.run()
        child.waitForExit()
        let started = ContinuousClock.now
        child.waitForExit()
        #expect(ContinuousClock.now - started < .milliseconds(100))
        #expect(child.terminationStatus == 1)
    }

    private func threadCPUTime() -> Duration {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec)
    }
}
