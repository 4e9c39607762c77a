import NIOCore

/// One timer for the deadlines of a connection's calls, armed at the earliest deadline it was
/// given (a timer per call cost a scheduled task and its promise, armed and cancelled: thousands
/// of instructions a call, and every call the gateway forwards carries a deadline). A call that
/// ends leaves it armed; when it fires, the connection ends the calls whose deadline passed
/// (``Sweep``) and arms it again at the earliest deadline left. Used on the connection's event
/// loop only, by the client's and the server's connection handlers.
struct DeadlineTimer {
    private var scheduled: Scheduled<Void>?
    /// When the timer fires; nil when it is not armed.
    private var firesAt: NIODeadline?

    /// Arms the timer at `deadline` to run `fire` on `loop`, unless it is armed at that time
    /// or earlier already.
    mutating func arm(at deadline: NIODeadline, on loop: any EventLoop, _ fire: @escaping () -> Void) {
        if let firesAt, firesAt <= deadline { return }
        scheduled?.cancel()
        firesAt = deadline
        scheduled = loop.assumeIsolated().scheduleTask(deadline: deadline, fire)
    }

    /// Says the timer fired: it is no longer armed.
    mutating func fired() {
        scheduled = nil
        firesAt = nil
    }

    /// Disarms the timer (the connection is gone).
    mutating func cancel() {
        scheduled?.cancel()
        fired()
    }

    /// The calls whose deadline passed at one moment, and the earliest deadline of the others.
    struct Sweep {
        let now: NIODeadline
        private(set) var passed: [UInt32] = []
        private(set) var earliestLeft: NIODeadline?

        init(now: NIODeadline = .now()) {
            self.now = now
        }

        /// Counts call `id` with `deadline` (nil: none).
        mutating func add(_ id: UInt32, _ deadline: NIODeadline?) {
            guard let deadline else { return }
            if deadline <= now {
                passed.append(id)
            } else if earliestLeft.map({ deadline < $0 }) ?? true {
                earliestLeft = deadline
            }
        }
    }
}
