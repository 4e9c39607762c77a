import Glibc

/// A plain `pthread` running one closure, joined by ``join()``.
///
/// The group commit runs on a dedicated thread rather than a task: it blocks in `write` and
/// `fdatasync`, which must never stall the concurrency runtime's few cooperative threads.
package final class CommitterThread: Sendable {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private let thread: pthread_t

    /// Starts a thread running `body`.
    package init(_ body: @escaping @Sendable () -> Void) throws(StorageError) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { context in
                guard let context else { return nil }
                let body = Unmanaged<Body>.fromOpaque(context).takeRetainedValue()
                body.run()
                return nil
            }, context)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            throw .io(operation: "pthread_create", file: "committer thread", errno: result)
        }
        self.thread = thread
    }

    /// Waits for the thread to finish.
    package func join() {
        pthread_join(thread, nil)
    }
}
