public import Foundation

extension Process {
    /// Waits until the process has exited, sleeping between looks.
    ///
    /// Use it instead of `waitUntilExit()`: on Linux, Foundation's `waitUntilExit()` runs the
    /// calling thread's run loop again and again until the child is gone, and a run loop without
    /// sources (any thread but the main one) returns at once, so the wait spins a core for as
    /// long as the child lives. A benchmark stopping its server took one of this machine's two
    /// cores from the server's snapshot on shutdown that way.
    public func waitForExit(pollingEvery interval: Duration = .milliseconds(1)) {
        let (seconds, attoseconds) = interval.components
        let microseconds = max(1, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
        while isRunning { usleep(UInt32(clamping: microseconds)) }
        // The child is gone: this returns at once and leaves Foundation's bookkeeping as it expects.
        waitUntilExit()
    }
}
