public import RetainProto
public import RetainRPC
public import RetainState
import RetainStorage

extension RPCRouter {
    /// Registers a method that reads the state: it runs under the state lock, on the
    /// connection's event loop, and answers at once.
    public mutating func read<I, O, S>(
        _ method: RPCMethod<I, O>, from store: StateStore<S>,
        _ body: @escaping @Sendable (I, ServerContext, borrowing S) throws -> O
    ) {
        unary(method) { request, context in
            try store.read { state in try body(request, context, state) }
        }
    }

    /// Registers a method that changes the state: `body` runs under the state lock and logs
    /// its changes through the transaction; the answer goes out once they are durable. A
    /// storage failure answers UNAVAILABLE, never a false success.
    public mutating func write<I, O, S>(
        _ method: RPCMethod<I, O>, to store: StateStore<S>,
        _ body: @escaping @Sendable (I, ServerContext, inout StateTransaction<S>) throws -> O
    ) {
        unaryDeferred(method) { request, context, responder in
            let commit = try store.write { transaction in try body(request, context, &transaction) }
            store.whenDurable(commit) { result in
                switch result {
                case .success(let answer):
                    responder.succeed(answer)
                case .failure(let error):
                    responder.finish(RPCError(.unavailable, "storage unavailable: \(error)"))
                }
            }
        }
    }
}
