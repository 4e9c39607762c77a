/// An error that ends a call with a status code, a message and optional details.
public struct RPCError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The status code sent to the caller.
    public var code: RPCStatusCode
    /// A message for developers; for invalid arguments it names the field.
    public var message: String
    /// Machine-readable details, for example `["field": "user_id"]`.
    public var details: [String: String]

    public init(_ code: RPCStatusCode, _ message: String, details: [String: String] = [:]) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { "\(code.name): \(message)" }

    /// INVALID_ARGUMENT naming the offending field.
    public static func invalidArgument(field: String, _ problem: String) -> RPCError {
        RPCError(.invalidArgument, "\(field): \(problem)", details: ["field": field])
    }

    /// NOT_FOUND for an entity of a kind with an id.
    public static func notFound(_ kind: String, _ id: String) -> RPCError {
        RPCError(.notFound, "\(kind) '\(id)' not found")
    }
}
