import Synchronization

/// What the soak's clients saw: every call's outcome by kind, and every write that was
/// acknowledged (OK), which the verifier then looks for in the services' state.
///
/// A write is recorded only once it was answered OK; a write whose fate is unknown (its answer
/// was lost to a fault) is kept as *unsettled* and sent again, with the same idempotency key,
/// until it is answered.
final class SoakBook: Sendable {
    /// One acknowledged ledger transfer.
    struct Transfer: Sendable {
        let transferID: String
        let userID: String
        let amount: Int64
    }

    /// One acknowledged growth award.
    struct Award: Sendable {
        let userID: String
        let key: String
        let awarded: Int64
    }

    /// Everything acknowledged so far.
    struct Acknowledged: Sendable {
        /// Registered users.
        var users: Set<String> = []
        /// Activity events per user (distinct event ids).
        var activities: [String: Set<String>] = [:]
        /// Growth awards, by `user/key`.
        var awards: [String: Award] = [:]
        /// Users with an acknowledged check-in.
        var checkIns: Set<String> = []
        /// Ledger transfers, by transfer id.
        var transfers: [String: Transfer] = [:]
        /// Feedback item ids per user, by request id.
        var feedback: [String: [String: String]] = [:]
    }

    /// Calls per kind and status name ("OK", "UNAVAILABLE", ...).
    private let calls = Mutex<[String: [String: Int]]>([:])
    private let acknowledged = Mutex(Acknowledged())
    /// Deliberate re-sends of acknowledged transfers answered as replays, and any that was not.
    private let replays = Mutex((confirmed: 0, duplicated: [String]()))

    /// Counts one call of `kind` that ended with `status`.
    func count(_ kind: String, _ status: String) {
        calls.withLock { $0[kind, default: [:]][status, default: 0] += 1 }
    }

    /// Calls per kind and status so far.
    var callCounts: [String: [String: Int]] { calls.withLock { $0 } }

    /// Records acknowledged writes.
    func acknowledge(_ body: (inout Acknowledged) -> Void) {
        acknowledged.withLock { body(&$0) }
    }

    /// A copy of every acknowledged write.
    var snapshot: Acknowledged { acknowledged.withLock { $0 } }

    /// Records the answer to a deliberate re-send of an acknowledged transfer.
    func replay(of transferID: String, replayed: Bool) {
        replays.withLock { state in
            if replayed { state.confirmed += 1 } else { state.duplicated.append(transferID) }
        }
    }

    /// Re-sends answered as replays, and the transfer ids applied a second time.
    var replayResult: (confirmed: Int, duplicated: [String]) { replays.withLock { $0 } }

    /// Starts timing a fault: from `at` to the first write of `service` ("ledger"; nil: of any
    /// service) sent after it and answered OK. Returns the watch's index for ``failover(_:)``.
    func watchFailover(of service: String?, from at: ContinuousClock.Instant) -> Int {
        watches.withLock { watches in
            watches.append(FailoverWatch(service: service, from: at))
            return watches.count - 1
        }
    }

    /// Notes a write of `service` sent at `sentAt` and answered OK now: it ends the watches of
    /// faults before it.
    func writeAcknowledged(service: String, sentAt: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        watches.withLock { watches in
            for index in watches.indices
            where watches[index].until == nil && watches[index].from <= sentAt
                && (watches[index].service == nil || watches[index].service == service)
            {
                watches[index].until = now
            }
        }
    }

    /// The time from watch `index`'s fault to the first write answered OK after it; nil while
    /// none was.
    func failover(_ index: Int) -> Duration? {
        watches.withLock { watches in watches[index].until.map { $0 - watches[index].from } }
    }

    /// One fault being timed.
    private struct FailoverWatch {
        let service: String?
        let from: ContinuousClock.Instant
        var until: ContinuousClock.Instant?
    }

    private let watches = Mutex<[FailoverWatch]>([])
}
