import ConsoleCore
import RetainProto
import RetainRPC
import RetainWire

/// Reads what the pages show from the suite, through the gateway, with the session's API key.
/// Each call becomes a ``Loaded`` value: a section whose scope the key lacks is not called at
/// all (the gateway would refuse it), and a refusal or failure stays in its section.
struct SuiteReader: Sendable {
    let client: RPCClient
    let session: ConsoleSession
    /// Deadline of each call.
    let timeout: Duration

    var options: CallOptions { CallOptions(timeout: timeout, authorization: session.authorization) }

    /// One unary call for a section that needs `scope`.
    func call<I, O>(_ method: RPCMethod<I, O>, _ request: I, scope: String) async -> Loaded<O> {
        guard session.permissions.has(scope) else { return .denied(scope: scope) }
        do {
            return .value(try await client.unary(method, request, options: options))
        } catch let error as RPCError {
            return Self.loaded(error, scope: scope)
        } catch {
            return .failed("\(error)")
        }
    }

    /// One unary call that any valid key may make (retain.v1.RuleSets reads): never skipped, and
    /// a refusal names `admin`.
    func call<I, O>(_ method: RPCMethod<I, O>, _ request: I) async -> Loaded<O> {
        do {
            return .value(try await client.unary(method, request, options: options))
        } catch let error as RPCError {
            return Self.loaded(error, scope: "admin")
        } catch {
            return .failed("\(error)")
        }
    }

    /// A refusal for PERMISSION_DENIED (the scope the gateway names, else `scope`), a failure
    /// in words otherwise.
    static func loaded<T>(_ error: RPCError, scope: String) -> Loaded<T> {
        if error.code == .permissionDenied { return .denied(scope: error.details["required_scope"] ?? scope) }
        return .failed(error.description)
    }
}
