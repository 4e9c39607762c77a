import Synchronization

/// Idle keep-alive connections of one client, so calls do not open a TCP connection each.
///
/// A call takes an idle connection to the member it wants (or opens one) and gives it back when
/// the answer is complete; concurrent calls use separate connections, so no request ever waits
/// behind another's answer. At most `maximumIdle` are kept.
final class EtcdConnectionPool: Sendable {
    private struct State {
        var idle: [EtcdHTTPConnection] = []
        var closed = false
    }

    private let maximumIdle: Int
    private let state = Mutex(State())

    init(maximumIdle: Int) {
        self.maximumIdle = maximumIdle
    }

    /// An open idle connection to endpoint `index`, if there is one; drops closed ones.
    func take(endpoint index: Int) -> EtcdHTTPConnection? {
        state.withLock { state in
            state.idle.removeAll { !$0.isActive }
            guard let position = state.idle.lastIndex(where: { $0.endpointIndex == index }) else { return nil }
            return state.idle.remove(at: position)
        }
    }

    /// Keeps `connection` for the next call, or closes it when the pool is full or closed.
    func giveBack(_ connection: EtcdHTTPConnection) {
        let keep = state.withLock { state in
            guard !state.closed, connection.isActive else { return false }
            state.idle.removeAll { !$0.isActive }
            guard state.idle.count < maximumIdle else { return false }
            state.idle.append(connection)
            return true
        }
        if !keep { connection.close() }
    }

    /// Closes every idle connection to endpoint `index` (after it failed).
    func drop(endpoint index: Int) {
        let dropped = state.withLock { state in
            let dropped = state.idle.filter { $0.endpointIndex == index }
            state.idle.removeAll { $0.endpointIndex == index }
            return dropped
        }
        dropped.forEach { $0.close() }
    }

    /// Closes every idle connection; later ones given back are closed too.
    func close() {
        let idle = state.withLock { state in
            state.closed = true
            defer { state.idle = [] }
            return state.idle
        }
        idle.forEach { $0.close() }
    }
}
