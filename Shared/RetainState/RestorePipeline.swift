import Dispatch
import RetainStorage
import Synchronization

/// A thread that works through the inputs a restore submits, in the order submitted, and
/// hands the results back in that order: the restoring thread decodes some of a snapshot's
/// records while this thread decodes others (Growth at a million users: runs of users), on
/// two cores instead of one. The restoring thread keeps the order: it takes each result with
/// ``next()`` where the input it came from belongs.
///
/// When no thread can be started, ``submit(_:)`` does the work on the caller's thread.
package final class RestorePipeline<Input: Sendable, Output: Sendable>: Sendable {
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

    private let queues = Mutex(Queues())
    private let inputReady = DispatchSemaphore(value: 0)
    private let outputReady = DispatchSemaphore(value: 0)
    private let work: @Sendable (consuming Input) -> Output
    private let thread: Mutex<CommitterThread?> = Mutex(nil)
    /// Inputs submitted whose output was not taken yet (only the submitting thread changes it).
    private let submitted = Mutex(0)

    /// Starts the thread that runs `work` on each input.
    package init(_ work: @escaping @Sendable (consuming Input) -> Output) {
        self.work = work
        let started = try? CommitterThread { [unowned(unsafe) self] in self.run() }
        thread.withLock { $0 = started }
    }

    deinit {
        queues.withLock { $0.stopped = true }
        inputReady.signal()
        thread.withLock { $0?.join() }
    }

    /// Inputs submitted whose output was not taken yet.
    package var pending: Int { submitted.withLock { $0 } }

    /// Queues `input` for the thread.
    package func submit(_ input: consuming Input) {
        submitted.withLock { $0 += 1 }
        var queued: Input? = consume input
        guard thread.withLock({ $0 != nil }) else {
            let output = work(queued.take()!)
            queues.withLock { $0.outputs.append(output) }
            outputReady.signal()
            return
        }
        queues.withLock { queues in
            queues.inputs.append(nil)
            swap(&queues.inputs[queues.inputs.count - 1], &queued)
        }
        inputReady.signal()
    }

    /// Whether the oldest output not taken is ready.
    package var hasOutput: Bool {
        queues.withLock { $0.nextOutput < $0.outputs.count }
    }

    /// The oldest output not taken, once it is ready.
    package func next() -> Output {
        outputReady.wait()
        submitted.withLock { $0 -= 1 }
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

    private func run() {
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
            let output = work(input)
            queues.withLock { $0.outputs.append(output) }
            outputReady.signal()
        }
    }
}
