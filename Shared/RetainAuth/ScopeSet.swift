/// A set of scopes: what a credential allows.
///
/// Every service has a `read` and a `write` scope, named `<service>:read` and `<service>:write`
/// (service = profile, growth, ledger, feedback, gateway, echo); `admin` implies every scope.
/// Stored as a bit set so that the per-call check is one AND.
public struct ScopeSet: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The services that have scopes, in bit order (read = bit 2i, write = bit 2i+1).
    public static let services = ["profile", "growth", "ledger", "feedback", "gateway", "echo"]

    /// Every administrative method, and every other scope.
    public static let admin = ScopeSet(rawValue: 1 << 31)

    /// `<service>:read`, or nil for a service without scopes.
    public static func read(_ service: String) -> ScopeSet? {
        services.firstIndex(of: service).map { ScopeSet(rawValue: 1 << UInt32(2 * $0)) }
    }

    /// `<service>:write`, or nil for a service without scopes.
    public static func write(_ service: String) -> ScopeSet? {
        services.firstIndex(of: service).map { ScopeSet(rawValue: 1 << UInt32(2 * $0 + 1)) }
    }

    /// Reads a comma-separated list of scope names (`profile:read,ledger:write`); "" is the
    /// empty set. Throws ``ScopeError`` naming the first unknown scope.
    public init(parsing text: some StringProtocol) throws(ScopeError) {
        self = []
        for name in text.split(separator: ",", omittingEmptySubsequences: true) {
            try insert(Self.named(Substring(name).trimmingSpaces))
        }
    }

    /// Reads a list of scope names.
    public init(names: [String]) throws(ScopeError) {
        self = []
        for name in names { try insert(Self.named(Substring(name))) }
    }

    private static func named(_ name: Substring) throws(ScopeError) -> ScopeSet {
        if name == "admin" { return .admin }
        let parts = name.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, let index = services.firstIndex(where: { $0 == parts[0] }) {
            switch parts[1] {
            case "read": return ScopeSet(rawValue: 1 << UInt32(2 * index))
            case "write": return ScopeSet(rawValue: 1 << UInt32(2 * index + 1))
            default: break
            }
        }
        throw ScopeError(name: String(name))
    }

    /// The scope names, in a fixed order (`admin` first).
    public var names: [String] {
        var names: [String] = contains(.admin) ? ["admin"] : []
        for (index, service) in Self.services.enumerated() {
            if rawValue & (1 << UInt32(2 * index)) != 0 { names.append("\(service):read") }
            if rawValue & (1 << UInt32(2 * index + 1)) != 0 { names.append("\(service):write") }
        }
        return names
    }

    /// The canonical comma-separated form, as tokens carry it.
    public var description: String { names.joined(separator: ",") }

    /// Whether these scopes allow what `required` asks: `admin` allows everything.
    @inlinable
    public func allows(_ required: ScopeSet) -> Bool {
        rawValue & Self.admin.rawValue != 0 || rawValue & required.rawValue == required.rawValue
    }
}

/// A scope name that is not one of ``ScopeSet``'s.
public struct ScopeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The unknown name.
    public let name: String
    public var description: String {
        "unknown scope '\(name)' (expected admin or <service>:read|write, service one of \(ScopeSet.services.joined(separator: ", ")))"
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
