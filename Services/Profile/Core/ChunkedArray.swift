/// A growable array stored as fixed-size chunks, each its own copy-on-write buffer.
///
/// A snapshot takes a copy of the whole state while writes go on; with one flat array, the first
/// write after the copy would duplicate every element. Here it duplicates one chunk (and the small
/// array of chunk references), so memory stays flat while a snapshot is written, and growth never
/// reallocates more than one chunk.
package struct ChunkedArray<Element> {
    /// Elements per chunk (a power of two).
    package static var chunkSize: Int { 1 << chunkShift }
    private static var chunkShift: Int { 12 }

    private var chunks: [[Element]] = []
    /// Number of elements.
    package private(set) var count = 0

    package init() {}

    /// Appends an element.
    package mutating func append(_ element: Element) {
        if count & (Self.chunkSize - 1) == 0 {
            var chunk: [Element] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        count += 1
    }

    /// The element at `index`, read or modified in place.
    package subscript(index: Int) -> Element {
        get { chunks[index >> Self.chunkShift][index & (Self.chunkSize - 1)] }
        _modify { yield &chunks[index >> Self.chunkShift][index & (Self.chunkSize - 1)] }
    }

    /// Calls `body` with a pointer to the element at `index`, valid only inside it: reads one
    /// field without copying the element.
    @inline(__always)
    package func withPointer<R>(_ index: Int, _ body: (UnsafePointer<Element>) throws -> R) rethrows -> R {
        try chunks[index >> Self.chunkShift].withUnsafeBufferPointer { try body($0.baseAddress! + (index & (Self.chunkSize - 1))) }
    }

    /// Calls `body` with each chunk's elements in order, with the index of the chunk's first
    /// element: the fast way to scan every element without copying any.
    package func forEachChunk(_ body: (_ firstIndex: Int, _ elements: UnsafeBufferPointer<Element>) throws -> Void) rethrows {
        for (number, chunk) in chunks.enumerated() {
            try chunk.withUnsafeBufferPointer { try body(number << Self.chunkShift, $0) }
        }
    }

    /// Reserves room for `capacity` elements in total (used when restoring a snapshot).
    package mutating func reserveCapacity(_ capacity: Int) {
        chunks.reserveCapacity((capacity + Self.chunkSize - 1) >> Self.chunkShift)
    }
}

extension ChunkedArray: Sendable where Element: Sendable {}
