import RetainProto
import RetainWire
import Synchronization
import Testing

/// A settable clock for tests.
final class TestClock: Sendable {
    private let storage: Mutex<Int64>
    init(_ value: Int64) { storage = Mutex(value) }
    var value: Int64 {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}

/// Expects `body` to throw an RPCError with `code`; returns its message.
@discardableResult
func expectCode(
    _ code: RPCStatusCode, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> String {
    let error = #expect(throws: RPCError.self, sourceLocation: sourceLocation) { try body() }
    #expect(error?.code == code, sourceLocation: sourceLocation)
    return error?.message ?? ""
}
