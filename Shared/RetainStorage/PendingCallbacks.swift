/// Durability callbacks waiting for their sequence, kept in sequence order.
///
/// Callers register in nearly increasing order, so insertion searches from the back; completion
/// pops from the front. The front is an index into the array, compacted now and then.
struct PendingCallbacks {
    typealias Callback = @Sendable (Result<Void, StorageError>) -> Void

    private var entries: [(sequence: UInt64, callback: Callback)] = []
    private var head = 0

    /// Whether no callback waits.
    var isEmpty: Bool { head == entries.count }

    /// Adds `callback` for `sequence`, after any already waiting for the same sequence.
    mutating func insert(_ sequence: UInt64, _ callback: @escaping Callback) {
        var index = entries.count
        while index > head, entries[index - 1].sequence > sequence { index -= 1 }
        entries.insert((sequence, callback), at: index)
    }

    /// Removes and returns, in order, the callbacks for sequences up to `sequence`.
    mutating func popAll(through sequence: UInt64) -> [(sequence: UInt64, callback: Callback)] {
        var end = head
        while end < entries.count, entries[end].sequence <= sequence { end += 1 }
        guard end > head else { return [] }
        let ready = Array(entries[head..<end])
        head = end
        if head == entries.count {
            entries.removeAll(keepingCapacity: entries.capacity <= 4096)
            head = 0
        } else if head > 1024, head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
        return ready
    }

    /// Removes and returns every waiting callback, in order.
    mutating func popAll() -> [(sequence: UInt64, callback: Callback)] {
        popAll(through: .max)
    }
}
