import RetainProto

/// The level-change events an instance retains for followers, oldest first, in chunks of
/// ``chunkSize``: appending never copies the whole list and a full list of a million events
/// holds no more than one chunk of spare room (a single array doubles, so just past a power of
/// two it holds almost as much spare room as events: about 45 MiB at a million users).
/// Dropping the oldest events drops whole chunks.
struct RetainedEvents: Sequence, Sendable {
    /// Events per chunk. 4096 (about 400 KB).
    static let chunkSize = 4096

    /// Every chunk but the last holds `chunkSize` events.
    private var chunks: [[Retain_V1_LevelChangeEvent]] = []
    /// Events of the first chunk dropped already.
    private var head = 0

    /// Retained events.
    private(set) var count = 0

    init() {}

    /// The newest event.
    var last: Retain_V1_LevelChangeEvent? { count == 0 ? nil : chunks[chunks.count - 1].last }

    /// Adds the newest event.
    mutating func append(_ event: Retain_V1_LevelChangeEvent) {
        if chunks.isEmpty || chunks[chunks.count - 1].count == Self.chunkSize { chunks.append([]) }
        chunks[chunks.count - 1].append(event)
        count += 1
    }

    /// Drops the `k` oldest events (all of them when there are fewer).
    mutating func removeFirst(_ k: Int) {
        guard k < count else {
            self = RetainedEvents()
            return
        }
        head += k
        count -= k
        let whole = head / Self.chunkSize
        if whole > 0 {
            chunks.removeFirst(whole)
            head -= whole * Self.chunkSize
        }
    }

    /// The events at positions `range` of the retained ones (0: the oldest).
    subscript(range: Range<Int>) -> [Retain_V1_LevelChangeEvent] {
        var events: [Retain_V1_LevelChangeEvent] = []
        events.reserveCapacity(range.count)
        for index in range {
            let position = head + index
            events.append(chunks[position / Self.chunkSize][position % Self.chunkSize])
        }
        return events
    }

    func makeIterator() -> DropFirstSequence<FlattenSequence<[[Retain_V1_LevelChangeEvent]]>>.Iterator {
        chunks.joined().dropFirst(head).makeIterator()
    }
}
