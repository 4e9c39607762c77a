/// Holds back the answer of an inline call until something it depends on is settled: a read
/// answered from state whose latest changes are not durable yet waits for them.
///
/// An inline handler returns nil to answer at once (the common case, which costs nothing) or a
/// gate; the connection keeps the encoded answer and sends it when the gate opens, or ends the
/// call with the error the gate reports instead.
public struct AnswerGate: Sendable {
    /// Calls its argument once, from any thread: with nil when the answer may go, or with the
    /// error to answer instead.
    public let wait: @Sendable (_ opened: @escaping @Sendable ((any Error)?) -> Void) -> Void

    /// A gate that opens when `wait` calls back.
    public init(_ wait: @escaping @Sendable (_ opened: @escaping @Sendable ((any Error)?) -> Void) -> Void) {
        self.wait = wait
    }
}
