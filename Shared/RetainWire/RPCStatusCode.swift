/// A status code with the numbers and meanings of gRPC's.
public struct RPCStatusCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Success.
    public static let ok = Self(rawValue: 0)
    /// The caller cancelled the call.
    public static let cancelled = Self(rawValue: 1)
    /// An error with no better code.
    public static let unknown = Self(rawValue: 2)
    /// The request is invalid whatever the state of the system; the message names the field.
    public static let invalidArgument = Self(rawValue: 3)
    /// The deadline passed before the call completed.
    public static let deadlineExceeded = Self(rawValue: 4)
    /// The requested entity does not exist.
    public static let notFound = Self(rawValue: 5)
    /// The entity the call would create exists already.
    public static let alreadyExists = Self(rawValue: 6)
    /// The caller is known but may not do this.
    public static let permissionDenied = Self(rawValue: 7)
    /// A limit or quota is exhausted (frame size, rate, concurrency).
    public static let resourceExhausted = Self(rawValue: 8)
    /// The system is not in the state the call needs (an illegal transition, a balance too low).
    public static let failedPrecondition = Self(rawValue: 9)
    /// A concurrency conflict; retry at a higher level.
    public static let aborted = Self(rawValue: 10)
    /// A value outside its valid range.
    public static let outOfRange = Self(rawValue: 11)
    /// The method is not implemented by this server.
    public static let unimplemented = Self(rawValue: 12)
    /// An invariant broke inside the server.
    public static let `internal` = Self(rawValue: 13)
    /// The service cannot answer now; safe to retry when the call is idempotent.
    public static let unavailable = Self(rawValue: 14)
    /// Unrecoverable data loss or corruption.
    public static let dataLoss = Self(rawValue: 15)
    /// The call carries no valid credential.
    public static let unauthenticated = Self(rawValue: 16)

    private static let names = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
        "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]

    /// The code's gRPC name, for example `NOT_FOUND`.
    public var name: String {
        rawValue < Self.names.count ? Self.names[Int(rawValue)] : "CODE_\(rawValue)"
    }

    /// Looks a code up by its gRPC name.
    public init?(name: String) {
        guard let index = Self.names.firstIndex(of: name.uppercased()) else { return nil }
        self.init(rawValue: UInt32(index))
    }

    public var description: String { name }
}
