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

    /// The queues the restoring thread and the pipeline's thread share.
    private final class Channel: Sendable {
        /// Taken elements are moved out (nil left behind), so that the taker holds the only
        /// reference to what it took and can change it without a copy.
        private struct Queues: ~Copyable {
            var inputs: [Input?] = []
            /// Index of the next input to take (inputs before it were taken).
            var nextInput = 0
            var outputs: [Output?] = []
            var nextOutput = 0
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
            queues.withLock { queues in
                queues.inputs.append(nil)
                swap(&queues.inputs[queues.inputs.count - 1], &queued)
            }
            inputReady.signal()
        }

        func finish(_ output: consuming Output) {
            var finished: Output? = consume output
            queues.withLock { queues in
                queues.outputs.append(nil)
                swap(&queues.outputs[queues.outputs.count - 1], &finished)
            }
            outputReady.signal()
        }

        var hasOutput: Bool {
            queues.withLock { $0.nextOutput < $0.outputs.count }
        }

        func next() -> Output {
            outputReady.wait()
            return queues.withLock { queues in
                var output: Output?
                swap(&output, &queues.outputs[queues.nextOutput])
                queues.nextOutput += 1
                if queues.nextOutput == queues.outputs.count {
                    queues.outputs.removeAll(keepingCapacity: true)
                    queues.nextOutput = 0
                }
                return output!
            }
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
                    guard !queues.stopped, queues.nextInput < queues.inputs.count else { return nil }
                    var input: Input?
                    swap(&input, &queues.inputs[queues.nextInput])
                    queues.nextInput += 1
                    if queues.nextInput == queues.inputs.count {
                        queues.inputs.removeAll(keepingCapacity: true)
                        queues.nextInput = 0
                    }
                    return input
                }
                guard let input else { return }
                finish(work(input))
            }
        }
    }
}
