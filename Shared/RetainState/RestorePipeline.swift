import Dispatch
import RetainStorage
import Synchronization

/// A thread that works through the inputs a restore submits, in the order submitted, and
/// hands the results back in that order: the restoring thread decodes some of a snapshot's
/// records while this thread decodes others (Growth at a million users: runs of users), on
/// two cores instead of one. The restoring thread keeps the order: it takes each result with
/// ``next()`` where the input it came from belongs. Dropping the pipeline stops the thread
/// after the input in hand (those waiting are dropped) and joins it.
///
/// When no thread can be started, ``submit(_:)`` does the work on the caller's thread.
package final class RestorePipeline<Input: Sendable, Output: Sendable>: Sendable {
    private let channel: Channel
    private let thread: CommitterThread?
    /// Inputs submitted whose output was not taken yet (only the submitting thread changes it).
    private let submitted = Mutex(0)

    /// Starts the thread that runs `work` on each input.
    package init(_ work: @escaping @Sendable (consuming Input) -> Output) {
        let channel = Channel(work)
        self.channel = channel
        // The thread holds the channel, not the pipeline, so that dropping the pipeline stops it.
        thread = try? CommitterThread { channel.run() }
    }

    deinit {
        channel.stop()
        thread?.join()
    }

    /// Inputs submitted whose output was not taken yet.
    package var pending: Int { submitted.withLock { $0 } }

    /// Queues `input` for the thread.
    package func submit(_ input: consuming Input) {
        submitted.withLock { $0 += 1 }
        if thread == nil {
            channel.finish(channel.work(input))
        } else {
            channel.queue(input)
        }
    }

    /// Whether the oldest output not taken is ready.
    package var hasOutput: Bool { channel.hasOutput }

    /// The oldest output not taken, once it is ready.
    package func next() -> Output {
        let output = channel.next()
        submitted.withLock { $0 -= 1 }
        return output
    }

    /// A first-in first-out queue whose taken elements are moved out (nil left behind), so that
    /// the taker holds the only reference to what it took and can change it without a copy.
    private struct MovingQueue<Element>: ~Copyable {
        private var elements: [Element?] = []
        /// Index of the next element to take (elements before it were taken).
        private var next = 0

        var isEmpty: Bool { next == elements.count }

        mutating func append(_ element: consuming Element) {
            var moved: Element? = consume element
            elements.append(nil)
            swap(&elements[elements.count - 1], &moved)
        }

        /// The oldest element not taken, moved out; nil when there is none.
        mutating func take() -> Element? {
            guard next < elements.count else { return nil }
            var taken: Element?
            swap(&taken, &elements[next])
            next += 1
            if next == elements.count {
                elements.removeAll(keepingCapacity: true)
                next = 0
            }
            return taken
        }
    }

    /// The queues the restoring thread and the pipeline's thread share.
    private final class Channel: Sendable {
        private struct Queues: ~Copyable {
            var inputs = MovingQueue<Input>()
            var outputs = MovingQueue<Output>()
            var stopped = false
        }

        let work: @Sendable (consuming Input) -> Output
        private let queues = Mutex(Queues())
        private let inputReady = DispatchSemaphore(value: 0)
        private let outputReady = DispatchSemaphore(value: 0)

        init(_ work: @escaping @Sendable (consuming Input) -> Output) {
            self.work = work
        }

        func queue(_ input: consuming Input) {
            var queued: Input? = consume input
            queues.withLock { $0.inputs.append(queued.take()!) }
            inputReady.signal()
        }

        func finish(_ output: consuming Output) {
            var finished: Output? = consume output
            queues.withLock { $0.outputs.append(finished.take()!) }
            outputReady.signal()
        }

        var hasOutput: Bool {
            queues.withLock { !$0.outputs.isEmpty }
        }

        func next() -> Output {
            outputReady.wait()
            return queues.withLock { $0.outputs.take()! }
        }

        func stop() {
            queues.withLock { $0.stopped = true }
            inputReady.signal()
        }

        /// The pipeline thread's loop: each input in turn, until stopped.
        func run() {
            while true {
                inputReady.wait()
                let input: Input? = queues.withLock { queues in
                    guard !queues.stopped else { return nil }
                    return queues.inputs.take()
                }
                guard let input else { return }
                finish(work(input))
            }
        }
    }
}
