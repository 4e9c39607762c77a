import RetainProto
import RetainRPC
import RetainState
import Synchronization

/// A replica's acknowledgements to its leader: the durable point is sent from the committer's
/// durable tap itself, on the thread that made it durable, straight to the connection's event
/// loop (``RPCClient/startUnary(_:_:options:completion:)``), instead of waking a task to send it
/// (one hand-off between threads fewer on every commit round). Up to `maximumInFlight` calls are
/// in flight, each carrying the newest durable point when it starts; the leader keeps the highest.
///
/// What is sent is never more than the local log holds durable, and never beyond what this
/// replica agreed with the leader (`agreedThrough`), as before. When no connection is up, or a
/// call fails, the follow task's acknowledge loop sends it (it connects and retries).
final class Acknowledger: Sendable {
    private struct State {
        /// The highest durable point sent (in flight or answered).
        var sent: UInt64 = 0
        /// The highest durable point the leader answered.
        var answered: UInt64 = 0
        var inFlight = 0
    }

    let member: String
    let epoch: UInt64
    private let client: RPCClient
    private let log: any ReplicatedLog
    private let gate: CommitGate
    /// What this replica may acknowledge at most (its agreement with the leader).
    private let agreedThrough: @Sendable () -> UInt64
    /// Wakes the acknowledge loop (a call could not start, or failed).
    private let fallback: AsyncSignal
    private let maximumInFlight: Int
    private let state = Mutex(State())

    init(
        member: String, epoch: UInt64, client: RPCClient, log: any ReplicatedLog, gate: CommitGate,
        agreedThrough: @escaping @Sendable () -> UInt64, fallback: AsyncSignal, maximumInFlight: Int = 4
    ) {
        self.member = member
        self.epoch = epoch
        self.client = client
        self.log = log
        self.gate = gate
        self.agreedThrough = agreedThrough
        self.fallback = fallback
        self.maximumInFlight = maximumInFlight
    }

    /// What may be acknowledged now: the local durable point, within the agreement.
    var acknowledgeable: UInt64 { min(log.durableSequence, agreedThrough()) }

    /// Whether the durable point moved past what was sent and no call is in flight (the loop's
    /// cue to send it itself).
    var needsLoop: Bool {
        let durable = acknowledgeable
        return state.withLock { $0.inFlight == 0 && durable > $0.sent }
    }

    /// Sends the durable point now if it moved and a call may start (from the durable tap, after
    /// an applied batch, and when a call is answered). Quick: encodes and hands off.
    func acknowledgeNow() {
        let durable = acknowledgeable
        let start = state.withLock { state -> Bool in
            guard durable > state.sent, state.inFlight < maximumInFlight else { return false }
            state.sent = durable
            state.inFlight += 1
            return true
        }
        guard start else { return }
        let started = client.startUnary(
            Retain_V1_Replication.acknowledge,
            Retain_V1_ReplicaAcknowledgement(member: member, epoch: epoch, durableSequence: durable),
            options: CallOptions(timeout: .seconds(2))
        ) { [self] result in
            switch result {
            case .success(let answer):
                state.withLock { state in
                    state.inFlight -= 1
                    state.answered = max(state.answered, durable)
                }
                gate.advance(to: min(answer.commitSequence, log.lastSequence))
                // Something became durable while the calls were all in flight: send it.
                acknowledgeNow()
            case .failure:
                failed()
            }
        }
        if !started { failed() }
    }

    /// Records what the loop sent and the leader answered.
    func sentByLoop(_ durable: UInt64) {
        state.withLock { state in
            state.sent = max(state.sent, durable)
            state.answered = max(state.answered, durable)
        }
    }

    private func failed() {
        state.withLock { state in
            state.inFlight -= 1
            // Send again what may not have arrived.
            state.sent = state.answered
        }
        fallback.signal()
    }
}
