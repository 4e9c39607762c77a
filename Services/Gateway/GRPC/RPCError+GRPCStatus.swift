import GRPCCore
import RetainWire

extension RetainWire.RPCError {
    /// Trailing metadata keys of a failed call carry the native status's `details`, each as
    /// `retain-detail-<key>` (for example `retain-detail-not_processed: true`).
    static let grpcDetailPrefix = "retain-detail-"

    /// The same status as a gRPC error: the same code (gRPC's numbers are the native ones), the
    /// same message, and the details as trailing metadata.
    var grpcError: GRPCCore.RPCError {
        var trailers = Metadata()
        for (key, value) in details.sorted(by: { $0.key < $1.key }) {
            trailers.addString(value, forKey: Self.grpcDetailPrefix + key.lowercased())
        }
        let code = GRPCCore.RPCError.Code(Status.Code(rawValue: Int(code.rawValue)) ?? .unknown) ?? .unknown
        return GRPCCore.RPCError(code: code, message: message, metadata: trailers)
    }
}
