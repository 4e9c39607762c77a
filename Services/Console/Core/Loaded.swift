/// What a page section got from the suite: the answer, a refusal because the key lacks a
/// scope, or a failure in words. A section that cannot load says so in its place; the rest of
/// the page still shows.
public enum Loaded<Value: Sendable>: Sendable {
    /// The answer.
    case value(Value)
    /// The key lacks `scope` (the console did not call, or the gateway said PERMISSION_DENIED).
    case denied(scope: String)
    /// The call failed; the message says how (a status name and the server's message).
    case failed(String)

    /// The answer, if any.
    public var value: Value? {
        if case .value(let value) = self { return value }
        return nil
    }

    /// The answer mapped, a refusal or failure kept.
    public func map<T>(_ transform: (Value) -> T) -> Loaded<T> {
        switch self {
        case .value(let value): .value(transform(value))
        case .denied(let scope): .denied(scope: scope)
        case .failed(let message): .failed(message)
        }
    }
}
