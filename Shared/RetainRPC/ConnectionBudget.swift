import Metrics
import NIOCore
import Synchronization

/// What all connections of a server share: the bytes of incoming frames they hold (a
/// process-wide memory budget), and the open connections with whether each has presented a
/// credential, by source address (the connection budget).
///
/// - Memory: each connection charges the bytes it holds for its peer: incomplete or held-back
///   incoming frames, and answers waiting for stream credit. Past ``Limits/memoryBytes`` the
///   heaviest connection is closed first (GOAWAY RESOURCE_EXHAUSTED) and new calls on every
///   connection get RESOURCE_EXHAUSTED with `not_processed` until the total falls back under it.
/// - Connections: at most ``Limits/connections`` in all and ``Limits/connectionsPerAddress`` from
///   one address. When the total is reached, the oldest connection that has not presented a
///   credential is closed to make room; only when every open connection is admitted is a new
///   one refused.
final class ConnectionBudget: Sendable {
    struct Limits: Sendable {
        var connections: Int
        var connectionsPerAddress: Int
        var memoryBytes: Int
    }

    private struct Entry {
        let channel: any Channel
        let address: String
        let opened: NIODeadline
        var admitted: Bool
        let load: Load
    }

    /// The bytes one connection has charged to the memory budget (written by its event loop,
    /// read when the server looks for the heaviest connection).
    final class Load: Sendable {
        fileprivate let bytes = Atomic<Int>(0)
        var current: Int { bytes.load(ordering: .relaxed) }
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var perAddress: [String: Int] = [:]
    }

    let limits: Limits
    private let state = Mutex(State())
    private let bufferedBytes = Atomic<Int>(0)
    private let refusedFull = Counter(label: "rpc_server_connections_refused_total", dimensions: [("reason", "limit")])
    private let refusedAddress = Counter(label: "rpc_server_connections_refused_total", dimensions: [("reason", "per_address")])
    private let evicted = Counter(label: "rpc_server_connections_evicted_total", dimensions: [("reason", "unauthenticated")])
    private let shed = Counter(label: "rpc_server_connections_evicted_total", dimensions: [("reason", "memory")])
    private let memoryGauge = Gauge(label: "rpc_server_buffered_frame_bytes")

    init(limits: Limits) {
        self.limits = limits
    }

    // MARK: Connections

    /// Why a new connection was not taken.
    enum Refusal: Error, CustomStringConvertible {
        case full(Int)
        case address(String, Int)

        var description: String {
            switch self {
            case .full(let limit): "\(limit) connections open, all of them authenticated"
            case .address(let address, let limit): "\(limit) connections open from \(address)"
            }
        }
    }

    /// Takes `channel` in, closing the oldest unauthenticated connection when the server is full;
    /// returns what it charges to the memory budget.
    @discardableResult
    func open(_ channel: any Channel, admitted: Bool, load: Load = Load()) throws(Refusal) -> Load {
        let address = Self.address(of: channel)
        let outcome = state.withLock { state -> Result<(any Channel)?, Refusal> in
            if state.perAddress[address, default: 0] >= limits.connectionsPerAddress {
                return .failure(.address(address, limits.connectionsPerAddress))
            }
            var victim: (any Channel)?
            if state.entries.count >= limits.connections {
                guard let oldest = state.entries.filter({ !$0.value.admitted }).min(by: { $0.value.opened < $1.value.opened })
                else { return .failure(.full(limits.connections)) }
                victim = oldest.value.channel
                remove(oldest.key, from: &state)
            }
            state.entries[ObjectIdentifier(channel)] = Entry(
                channel: channel, address: address, opened: .now(), admitted: admitted, load: load)
            state.perAddress[address, default: 0] += 1
            return .success(victim)
        }
        switch outcome {
        case .failure(let refusal):
            if case .full = refusal { refusedFull.increment() } else { refusedAddress.increment() }
            throw refusal
        case .success(let victim):
            if let victim {
                evicted.increment()
                victim.close(promise: nil)
            }
            return load
        }
    }

    /// Forgets a closed connection.
    func close(_ channel: any Channel) {
        state.withLock { state in remove(ObjectIdentifier(channel), from: &state) }
    }

    /// Marks a connection as having presented a valid credential: it is no longer evicted.
    func markAdmitted(_ channel: any Channel) {
        state.withLock { state in state.entries[ObjectIdentifier(channel)]?.admitted = true }
    }

    /// Open connections.
    var count: Int { state.withLock { $0.entries.count } }

    /// Every open connection.
    var channels: [any Channel] { state.withLock { $0.entries.values.map(\.channel) } }

    private func remove(_ id: ObjectIdentifier, from state: inout State) {
        guard let entry = state.entries.removeValue(forKey: id) else { return }
        state.perAddress[entry.address, default: 1] -= 1
        if state.perAddress[entry.address] == 0 { state.perAddress[entry.address] = nil }
    }

    private static func address(of channel: any Channel) -> String {
        channel.remoteAddress?.ipAddress ?? "unknown"
    }

    // MARK: Memory

    /// Changes the bytes charged by the connection of `load` by `delta`. When a growth takes the
    /// total over the budget, the heaviest connection is shed: returns false when that is the
    /// one that grew (it closes itself), or hands the heaviest other one to `shedOther`.
    func charge(_ delta: Int, by load: Load, shedOther: (any Channel) -> Void = { $0.close(promise: nil) }) -> Bool {
        guard delta != 0 else { return true }
        load.bytes.add(delta, ordering: .relaxed)
        let total = bufferedBytes.add(delta, ordering: .relaxed).newValue
        memoryGauge.record(total)
        guard delta > 0, total > limits.memoryBytes else { return true }
        let heaviest = state.withLock { state in
            state.entries.values.max { $0.load.current < $1.load.current }
        }
        shed.increment()
        guard let heaviest, heaviest.load !== load, heaviest.load.current > load.current else { return false }
        shedOther(heaviest.channel)
        return true
    }

    /// Whether what connections hold uses the whole budget: new calls are refused meanwhile.
    var isExhausted: Bool { bufferedBytes.load(ordering: .relaxed) > limits.memoryBytes }
}
