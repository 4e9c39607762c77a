import GRPCCore
import RetainRPC
import RetainWire

/// One gRPC call as the native call that carries it (handed to the native server in process):
/// its options (credential, trace id, idempotency key, deadline, metadata) and the translation of
/// what the native call ends with.
struct NativeCall: Sendable {
    /// The native call's options, from the gRPC request's metadata.
    let options: RetainRPC.CallOptions
    /// When the caller's `grpc-timeout` runs out, if it sent one.
    let deadline: ContinuousClock.Instant?

    /// - Throws: INVALID_ARGUMENT (as a gRPC error) for metadata the native header cannot carry.
    init(metadata: Metadata) throws(GRPCCore.RPCError) {
        do {
            options = try RetainRPC.CallOptions(grpcMetadata: metadata)
        } catch {
            throw error.grpcError
        }
        deadline = options.timeout.map { ContinuousClock.now + $0 }
    }

    /// Runs `body`, which reads the answers of the in-process native call `call`: the call is
    /// cancelled when the gRPC call is (the client reset the stream, or its deadline passed), and
    /// a native status comes out as a gRPC status.
    ///
    /// grpc-swift also cancels every running call when its server begins a graceful shutdown
    /// (a hint for long streams); the front door lets them finish instead, as the native port
    /// does in a drain: while `draining` is true, only the native deadline ends a call. (A
    /// cancelled task, the whole server stopping, cancels the call through ``InProcessCall/next()``.)
    func run<T>(_ call: InProcessCall, draining: FrontDoorState, _ body: () async throws -> T) async throws -> T {
        do {
            return try await withRPCCancellationHandler {
                try await body()
            } onCancelRPC: {
                if !draining.isDraining { call.cancel() }
            }
        } catch let error as RetainWire.RPCError {
            throw translated(error).grpcError
        } catch let error as GRPCCore.RPCError {
            throw error
        } catch is CancellationError {
            throw translated(RetainWire.RPCError(.cancelled, "cancelled")).grpcError
        }
    }

    /// A native call cut short once the caller's deadline passed ended because of that
    /// deadline: DEADLINE_EXCEEDED, as the native port itself says.
    func translated(_ error: RetainWire.RPCError) -> RetainWire.RPCError {
        if error.code == .cancelled, let deadline, ContinuousClock.now >= deadline {
            return RetainWire.RPCError(.deadlineExceeded, "deadline exceeded")
        }
        return error
    }
}
