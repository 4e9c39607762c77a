import GRPCCore
import RetainRPC
import RetainWire

extension RetainRPC.CallOptions {
    /// The metadata keys that fill a `CallHeader` field of their own rather than its map.
    enum GRPCKey {
        static let authorization = "authorization"
        static let traceID = "trace-id"
        static let idempotencyKey = "idempotency-key"
        static let timeout = "grpc-timeout"
    }

    /// The options of the native call that carries a gRPC call: `authorization`, `trace-id` and
    /// `idempotency-key` go to the `CallHeader` fields of those names, `grpc-timeout` to its
    /// deadline, and every other custom key to its metadata map. gRPC's and HTTP/2's own headers
    /// (`grpc-*`, `content-type`, `te`, `user-agent`, pseudo-headers) stay behind.
    ///
    /// - Throws: INVALID_ARGUMENT for a binary (`-bin`) value, which the native header cannot
    ///   carry, or an unreadable `grpc-timeout`.
    init(grpcMetadata metadata: Metadata) throws(RetainWire.RPCError) {
        self.init()
        for (key, value) in metadata {
            switch value {
            case .binary:
                throw RetainWire.RPCError(
                    .invalidArgument, "metadata '\(key)': binary values are not supported (the native call header holds strings)",
                    details: ["field": key])
            case .string(let text):
                switch key {
                case GRPCKey.authorization: authorization = text
                case GRPCKey.traceID: traceID = text
                case GRPCKey.idempotencyKey: idempotencyKey = text
                case GRPCKey.timeout:
                    guard let duration = GRPCTimeout.parse(text) else {
                        throw RetainWire.RPCError(.invalidArgument, "grpc-timeout '\(text.prefix(16))' is not a gRPC timeout")
                    }
                    timeout = max(duration, .microseconds(1))
                default:
                    if Self.isTransportHeader(key) { continue }
                    self.metadata[key] = text
                }
            }
        }
    }

    /// Headers of gRPC over HTTP/2 itself, not the caller's metadata.
    static func isTransportHeader(_ key: String) -> Bool {
        key.hasPrefix("grpc-") || key.hasPrefix(":") || key == "content-type" || key == "te" || key == "user-agent"
    }
}
