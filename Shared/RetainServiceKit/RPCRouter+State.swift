public import RetainProto
public import RetainRPC
public import RetainState
import RetainStorage
public import RetainWire

extension RPCRouter {
    /// Registers a method that reads the state: it runs under the state lock, on the
    /// connection's event loop, and answers at once, unless the state it read holds changes that
    /// are not durable yet: then the answer waits for them (see ``StateStore``).
    @inlinable
    public mutating func read<I, O, S>(
        _ method: RPCMethod<I, O>, from store: StateStore<S>,
        _ body: @escaping @Sendable (I, ServerContext, borrowing S) throws -> O
    ) {
        unaryGated(method) { request, context in
            try store.readForAnswer(
                replicaRead: context.allowsReplicaRead, maxStalenessMs: try context.maximumStalenessMs
            ) { state in try body(request, context, state) }
        }
    }

    /// Registers a method that changes the state through the single write path: `body` runs
    /// under the state lock and logs its changes through the transaction; the answer goes out
    /// once they (or, for a write that changed nothing, the state it looked at) are durable.
    /// A storage problem answers UNAVAILABLE, never a false success.
    public mutating func write<I, O, S>(
        _ method: RPCMethod<I, O>, to store: StateStore<S>,
        _ body: @escaping @Sendable (I, ServerContext, inout StateTransaction<S>) throws -> O
    ) {
        unaryDeferred(method) { request, context, responder in
            try store.write(answering: responder, { transaction in try body(request, context, &transaction) }) { answer in
                responder.succeed(answer)
            }
        }
    }
}

extension StateStore {
    /// Reads for an answer: the value, and the gate that holds it back until the state it was
    /// read from is durable (nil when it already is). For ``RPCRouter/unaryGated(_:_:)``.
    @inlinable
    public func readForAnswer<R>(
        replicaRead: Bool = false, maxStalenessMs: Int64? = nil, _ body: (borrowing State) throws -> R
    ) throws -> (R, AnswerGate?) {
        let observation = try StateStoreError.mapped { try observe(replicaRead: replicaRead, maxStalenessMs: maxStalenessMs, body) }
        return (observation.value, gate(observation.sequence, generation: observation.generation))
    }

    /// A gate that holds an answer read at `sequence` (in replication `generation`) until it is
    /// durable and committed; nil when it already is.
    public func gate(_ sequence: UInt64, generation: UInt64? = nil) -> AnswerGate? {
        if isDurable(sequence, generation: generation) { return nil }
        return AnswerGate { [self] opened in
            whenDurable(sequence: sequence, generation: generation) { result in
                switch result {
                case .success: opened(nil)
                case .failure(let error): opened(RPCError(error))
                }
            }
        }
    }

    /// The single write path of a service's RPC layer: decide and log under the lock (`body`),
    /// then, once durable, `reply` (with the body's value). Storage errors answer through
    /// `responder` as UNAVAILABLE (`not_processed` when the write is known not to have happened)
    /// or RESOURCE_EXHAUSTED (a change over the record limit); errors `body` throws propagate.
    public func write<R: Sendable>(
        answering responder: ServerResponder, _ body: (inout StateTransaction<State>) throws -> R,
        reply: @escaping @Sendable (R) -> Void
    ) throws {
        let commit = try StateStoreError.mapped { try write(body) }
        whenDurable(commit) { result in
            switch result {
            case .success(let value): reply(value)
            case .failure(let error): responder.finish(RPCError(error))
            }
        }
    }
}

extension StateStore {
    /// Reads for a caller and waits until what was read is durable (and committed): for handlers
    /// that run as tasks. A replica answers only when the call allows a replica read; refusals
    /// throw their status.
    public func readDurably<R: Sendable>(for context: ServerContext, _ body: (borrowing State) throws -> R) async throws -> R {
        do {
            return try await readDurably(replicaRead: context.allowsReplicaRead, maxStalenessMs: try context.maximumStalenessMs, body)
        } catch let error as StateStoreError {
            throw RPCError(error)
        }
    }
}

extension RPCError {
    /// The status a store's refusal answers with.
    public init(_ error: StateStoreError) {
        switch error {
        case .unavailable(_, let notProcessed):
            self.init(.unavailable, error.description, details: notProcessed ? ["not_processed": "true"] : [:])
        case .recordTooLarge:
            self.init(.resourceExhausted, error.description)
        case .overloaded:
            self.init(.resourceExhausted, error.description, details: ["not_processed": "true"])
        case .notLeader(let leader):
            var details = ["not_processed": "true", "not_leader": "true"]
            if let leader { details["leader"] = leader }
            self.init(.unavailable, error.description, details: details)
        case .tooStale(let staleness, let bound, let leader):
            var details = ["not_processed": "true", "too_stale": "true", "max_staleness_ms": "\(bound)"]
            if let staleness { details["staleness_ms"] = "\(staleness)" }
            if let leader { details["leader"] = leader }
            self.init(.unavailable, error.description, details: details)
        }
    }
}

extension StateStoreError {
    /// Runs `body`, turning a store's refusal into its status.
    @inlinable
    static func mapped<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as StateStoreError {
            throw RPCError(error)
        }
    }
}

extension ServerContext {
    /// Whether the caller accepts an answer from a replica (metadata `read-from: replica`): it
    /// holds only committed records and may be behind the leader by the replication lag.
    public var allowsReplicaRead: Bool { metadata("read-from") == "replica" }

    /// The staleness a replica read accepts at most, in ms (metadata `max-staleness-ms`, a whole
    /// number of milliseconds); nil when the call sets none (any replica answers).
    /// - Throws: INVALID_ARGUMENT naming the metadata key when it is not a whole number >= 0.
    public var maximumStalenessMs: Int64? {
        get throws(RPCError) {
            guard let text = metadata("max-staleness-ms") else { return nil }
            guard let value = Int64(text), value >= 0 else {
                throw RPCError.invalidArgument(
                    field: "metadata.max-staleness-ms", "must be a whole number of milliseconds, 0 or more, not \(FieldFormat.quoted(text))"
                )
            }
            return value
        }
    }
}
