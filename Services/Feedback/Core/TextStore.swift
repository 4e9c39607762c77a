/// The items' texts, packed one after another in segments of about 1 MiB instead of one heap
/// object per text: a search reads them as a sequential stream of bytes, without reference
/// counting, and each text costs its bytes plus 8 bytes of position.
///
/// ```
///   segments[0]: | text 0 bytes | text 1 bytes | ... |      (appended, never changed)
///   segments[1]: | text k bytes | ...
///   positions[i] = segment << 40 | offset << 16 | length      (24 + 24 + 16 bits)
/// ```
package struct TextStore: Sendable {
    private static let segmentBytes = 1 << 20
    private var segments: [[UInt8]] = []
    /// Per text: segment (24 bits), offset in it (24 bits), length (16 bits).
    private var positions: [UInt64] = []

    package init() {}

    /// Number of texts.
    package var count: Int { positions.count }

    /// Appends `text` (at most 65,535 bytes) and returns its number.
    @discardableResult
    package mutating func append(_ text: String) -> Int {
        var text = text
        let length = text.utf8.count
        precondition(length <= 0xffff, "texts are at most 10,000 bytes")
        if segments.isEmpty || segments[segments.count - 1].count + length > Self.segmentBytes {
            var segment: [UInt8] = []
            segment.reserveCapacity(max(Self.segmentBytes, length))
            segments.append(segment)
        }
        let segment = segments.count - 1
        let offset = segments[segment].count
        text.withUTF8 { segments[segment].append(contentsOf: $0) }
        positions.append(UInt64(segment) << 40 | UInt64(offset) << 16 | UInt64(length))
        return positions.count - 1
    }

    /// Calls `body` with the UTF-8 bytes of text `index`.
    @inline(__always)
    package func withBytes<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let position = positions[index]
        let segment = Int(position >> 40)
        let offset = Int((position >> 16) & 0xff_ffff)
        let length = Int(position & 0xffff)
        return segments[segment].withUnsafeBufferPointer { buffer in
            body(UnsafeBufferPointer(rebasing: buffer[offset..<offset + length]))
        }
    }

    /// Text `index`.
    package subscript(index: Int) -> String {
        withBytes(index) { String(decoding: $0, as: UTF8.self) }
    }
}
