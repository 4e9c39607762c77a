public import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A client of etcd's v3 API through its JSON gateway over plain HTTP/1.1.
///
/// Retain needs only a handful of etcd calls (leases, puts, compare-and-swap, watches) to
/// decide who leads each shard; speaking the gateway's JSON keeps the dependency on etcd to
/// SwiftNIO's HTTP codec instead of a gRPC stack and generated code.
///
/// Members are tried in the order given; the client sticks to one that answers and moves to the
/// next when a connection fails or a call times out, so a three-member etcd keeps working when
/// one member dies or hangs. Unary calls reuse keep-alive connections; each watch has its own.
///
/// Retries: a call whose connection could not be opened is always tried on the next member. A
/// call that is safe to repeat (`get`, `range`, `keepAliveOnce`, and `grantLease`, whose extra
/// lease would expire by itself) is tried on the next member too when it got no answer in time or
/// the member said it cannot serve (gRPC code 14, such as "no leader"). A write (`put`,
/// `delete`, `txn`, `revokeLease`) whose request was sent is not: it may have been applied, so it
/// throws `.unavailable` and the next call goes to the next member. A caller that retries a
/// create-if-absent `txn` after that should treat "exists with my lease" as success.
public final class EtcdClient: Sendable {
    /// How the client talks to etcd.
    public struct Configuration: Sendable {
        /// The longest one attempt of a call may take, connecting included. Default 2 s.
        ///
        /// A call that moves on to other members (see the type's documentation) may take this long
        /// once per member it tries; a write whose request was sent is never tried twice.
        public var requestTimeout: Duration = .seconds(2)
        /// When set, a watch asks etcd for progress notifications and ends with `.unavailable`
        /// when nothing (event or notification) arrived for this long, so a watch on a member that
        /// hangs does not wait forever. etcd sends progress notifications every
        /// `--experimental-watch-progress-notify-interval` (10 minutes unless set; `EtcdProcess`
        /// sets 1 s), so this must be a few times that. Default nil: a watch waits as long as its
        /// connection stays open.
        public var watchIdleTimeout: Duration? = nil
        /// How many idle keep-alive connections are kept for unary calls. Default 4.
        public var maximumIdleConnections = 4
        /// The largest answer read, in bytes; a longer one fails the call. Default 16 MiB.
        public var maximumAnswerSize = 16 << 20

        /// The defaults.
        public init() {}
    }

    let configuration: Configuration
    let logger: Logger
    let group: any EventLoopGroup
    /// The members, parsed (invalid strings left out).
    let endpointList: [EtcdEndpoint]
    private let endpoints: Mutex<EtcdEndpoints?>
    private let invalidEndpoints: [String]
    let pool: EtcdConnectionPool
    let watches = Mutex(EtcdWatchRegistry())
    /// How many connections unary calls opened: keep-alive reuse keeps it near the number of
    /// concurrent calls.
    let connectionsOpened = Atomic<Int>(0)

    /// A client of the etcd members at `endpoints` (such as `["http://127.0.0.1:2379"]`) whose
    /// calls give up on a member after `requestTimeout`.
    public convenience init(endpoints: [String], requestTimeout: Duration = .seconds(2), logger: Logger) {
        var configuration = Configuration()
        configuration.requestTimeout = requestTimeout
        self.init(endpoints: endpoints, configuration: configuration, logger: logger)
    }

    /// A client of the etcd members at `endpoints` with the given configuration.
    ///
    /// Strings that are not `http://HOST:PORT` are logged and left out; when none is left, every
    /// call throws `.unavailable`.
    public init(endpoints: [String], configuration: Configuration, logger: Logger) {
        let parsed = endpoints.map { ($0, EtcdEndpoint($0)) }
        self.endpointList = parsed.compactMap(\.1)
        self.invalidEndpoints = parsed.filter { $0.1 == nil }.map(\.0)
        self.endpoints = Mutex(endpointList.isEmpty ? nil : EtcdEndpoints(endpointList))
        self.configuration = configuration
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup.singleton
        self.pool = EtcdConnectionPool(maximumIdle: configuration.maximumIdleConnections)
        if !invalidEndpoints.isEmpty {
            logger.error("ignoring invalid etcd endpoints (expected http://HOST:PORT)", metadata: ["endpoints": "\(invalidEndpoints)"])
        }
    }

    deinit {
        pool.close()
    }

    /// The endpoint calls go to first: the one that answered last.
    public var currentEndpoint: String? {
        endpoints.withLock { endpoints in endpoints.map { $0.all[$0.current].description } }
    }

    // MARK: Leases

    /// Grants a lease that lives `ttlSeconds` unless kept alive; returns its id.
    ///
    /// etcd may grant a longer TTL than asked (never shorter).
    public func grantLease(ttlSeconds: Int) async throws -> Int64 {
        let answer = try await call("/v3/lease/grant", ["TTL": String(ttlSeconds)], retryAfterSend: true)
        if let error = answer[string: "error"], !error.isEmpty {
            throw EtcdError(.server(code: 0, message: error), error)
        }
        let id = answer[int64: "ID"]
        guard id != 0 else { throw EtcdError(.protocolError, "lease grant answered without an ID: \(answer.fields)") }
        return id
    }

    /// Renews `lease` once; returns the TTL etcd now gives it, in seconds.
    ///
    /// - Returns: the remaining TTL; 0 or less means the lease no longer exists (it expired or was
    ///   revoked) and keys attached to it are gone.
    public func keepAliveOnce(lease: Int64) async throws -> Int64 {
        // A stream on the gateway: one answer per request, each line `{"result": {...}}`.
        let answer = try await call("/v3/lease/keepalive", ["ID": String(lease)], retryAfterSend: true)
        guard let result = answer[object: "result"] else {
            throw EtcdError(.protocolError, "lease keepalive answered without a result: \(answer.fields)")
        }
        return result[int64: "TTL"]
    }

    /// Revokes `lease`, deleting every key attached to it.
    ///
    /// Throws `.server` with `isLeaseNotFound` when the lease had already expired or been revoked.
    public func revokeLease(_ lease: Int64) async throws {
        _ = try await call("/v3/lease/revoke", ["ID": String(lease)], retryAfterSend: false)
    }

    // MARK: Keys

    /// The key-value at `key`, or nil when there is none.
    public func get(_ key: String) async throws -> EtcdKeyValue? {
        let answer = try await call("/v3/kv/range", EtcdRequests.range(key: key), retryAfterSend: true)
        return answer[objects: "kvs"].first?.keyValue
    }

    /// Every key-value whose key starts with `prefix`, sorted by key, and the store's revision
    /// at the time of the read (watch from `revision + 1` to see every later change).
    public func range(prefix: String) async throws -> (values: [EtcdKeyValue], revision: Int64) {
        let answer = try await call("/v3/kv/range", EtcdRequests.range(prefix: prefix), retryAfterSend: true)
        return (answer[objects: "kvs"].map(\.keyValue), answer.headerRevision)
    }

    /// Sets `key` to `value`, attached to `lease` when given; returns the revision of the write.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8], lease: Int64? = nil) async throws -> Int64 {
        let answer = try await call("/v3/kv/put", EtcdRequests.put(key: key, value: value, lease: lease), retryAfterSend: false)
        return answer.headerRevision
    }

    /// Removes `key` (nothing happens when it does not exist).
    public func delete(_ key: String) async throws {
        _ = try await call("/v3/kv/deleterange", EtcdRequests.delete(key: key), retryAfterSend: false)
    }

    /// Runs a compare-and-swap transaction.
    public func txn(_ txn: EtcdTxn) async throws -> EtcdTxnResult {
        let answer = try await call("/v3/kv/txn", EtcdRequests.txn(txn), retryAfterSend: false)
        return EtcdRequests.txnResult(answer)
    }

    // MARK: Lifecycle

    /// Closes every connection and ends every watch; later calls throw `.unavailable`.
    public func shutdown() async {
        endpoints.withLock { $0 = nil }
        pool.close()
        let channels = watches.withLock { $0.closeAll() }
        for channel in channels {
            try? await channel.close()
        }
    }

    // MARK: Calls

    /// POSTs `body` to `path` on the current member, moving on as the type's documentation says,
    /// and returns etcd's answer or throws its error.
    private func call(_ path: String, _ body: [String: Any], retryAfterSend: Bool) async throws(EtcdError) -> EtcdJSON {
        let bytes = EtcdJSON.encode(body)
        guard let order = endpoints.withLock({ $0?.order() }) else {
            if endpointList.isEmpty { throw EtcdError(.unavailable, "no valid etcd endpoint in \(invalidEndpoints)") }
            throw EtcdError(.unavailable, "the etcd client is shut down")
        }
        var failures: [String] = []
        for index in order {
            let endpoint = endpointList[index]
            // One attempt, connecting included, takes at most the request timeout.
            let deadline = ContinuousClock.now + configuration.requestTimeout
            let connection: EtcdHTTPConnection
            if let idle = pool.take(endpoint: index) {
                connection = idle
            } else {
                do {
                    connectionsOpened.add(1, ordering: .relaxed)
                    connection = try await EtcdHTTPConnection.connect(
                        to: endpoint, index: index, group: group, timeout: configuration.requestTimeout,
                        maximumBodySize: configuration.maximumAnswerSize)
                } catch {
                    failures.append("\(endpoint): \(error)")
                    failed(index, path: path, reason: "\(error)")
                    continue
                }
            }
            let response: EtcdHTTPResponse
            do {
                response = try await connection.post(path, body: bytes, timeout: max(deadline - .now, .milliseconds(1)))
            } catch {
                connection.close()
                // The caller gave up (a stopped lease keeper, say): no fault of the member.
                if Task.isCancelled { throw EtcdError(.unavailable, "\(path) cancelled") }
                failures.append("\(endpoint): \(error)")
                failed(index, path: path, reason: "\(error)")
                if retryAfterSend { continue }
                throw EtcdError(
                    .unavailable, "\(endpoint) gave no answer to \(path) (\(error)); the write may have been applied",
                    cause: error)
            }
            if response.keepAlive { pool.giveBack(connection) } else { connection.close() }
            let answer = try Self.firstObject(of: response)
            if let error = answer.serverError {
                // "no leader", "leader changed", "request timed out": this member cannot serve now.
                if retryAfterSend, case .server(code: 14, _) = error.kind {
                    failures.append("\(endpoint): \(error.message)")
                    failed(index, path: path, reason: error.message)
                    continue
                }
                answered(index)
                throw error
            }
            guard response.status == 200 else {
                throw EtcdError(.protocolError, "\(path) answered HTTP \(response.status) without an error: \(answer.fields)")
            }
            answered(index)
            return answer
        }
        throw EtcdError(.unavailable, "no etcd endpoint answered \(path): \(failures.joined(separator: "; "))")
    }

    /// The first JSON object of an answer (streamed calls such as keepalive end each object with a newline).
    private static func firstObject(of response: EtcdHTTPResponse) throws(EtcdError) -> EtcdJSON {
        let bytes = response.body.readableBytesView
        let line = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).first ?? bytes[...]
        return try EtcdJSON(parsing: line)
    }

    private func answered(_ index: Int) {
        endpoints.withLock { $0?.answered(index) }
    }

    /// Moves calls away from the member at `index` and forgets its idle connections.
    func failed(_ index: Int, path: String, reason: String) {
        let next = endpoints.withLock { endpoints -> String? in
            endpoints?.failed(index)
            return endpoints.map { $0.all[$0.current].description }
        }
        pool.drop(endpoint: index)
        logger.warning(
            "etcd member did not answer; moving on",
            metadata: [
                "endpoint": "\(endpointList[index])", "path": "\(path)", "reason": "\(reason)",
                "next": "\(next ?? "none")",
            ])
    }

    /// The members in the order the next call tries them.
    func endpointOrder() -> [Int]? {
        endpoints.withLock { $0?.order() }
    }
}
