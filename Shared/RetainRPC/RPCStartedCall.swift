import Synchronization

/// A call started with callbacks (``RPCClient/startServerStreaming(_:_:options:onAnswer:onEnd:)``):
/// the handle that cancels it.
public struct RPCStartedCall: Sendable {
    private let cancelCall: @Sendable () -> Void

    init(cancel: @escaping @Sendable () -> Void) {
        self.cancelCall = cancel
    }

    /// Cancels the call: the server is sent CANCEL and the call's end is told CANCELLED, unless
    /// it ended already. Safe to call more than once, from any thread.
    public func cancel() { cancelCall() }
}

/// A flag set once: tells the first of several callers that it was first.
final class OnceFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    /// Whether the flag is set.
    var isSet: Bool { flag.load(ordering: .acquiring) }

    /// Sets the flag; true for the caller that set it first.
    func set() -> Bool { !flag.exchange(true, ordering: .acquiringAndReleasing) }
}
