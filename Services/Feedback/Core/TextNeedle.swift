/// A case-insensitive "contains" test over item texts. ASCII texts are searched byte by byte
/// folding A-Z, with no allocation; a text or needle with other characters is compared after
/// `lowercased()` (Unicode rules).
package struct TextNeedle: Sendable {
    private let lowered: String
    private let bytes: [UInt8]
    private let isASCII: Bool

    package init(_ text: String) {
        lowered = text.lowercased()
        bytes = Array(lowered.utf8)
        isASCII = bytes.allSatisfy { $0 < 0x80 }
    }

    /// Whether `text` contains the needle, ignoring case.
    package func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { matches(utf8: $0) }
    }

    /// Whether the UTF-8 text `haystack` contains the needle, ignoring case.
    package func matches(utf8 haystack: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return true }
        if isASCII, let found = asciiSearch(haystack) { return found }
        return String(decoding: haystack, as: UTF8.self).lowercased().contains(lowered)
    }

    /// Byte search folding A-Z; nil when the text has non-ASCII bytes (lower-casing those needs
    /// Unicode rules).
    private func asciiSearch(_ haystack: UnsafeBufferPointer<UInt8>) -> Bool? {
        let count = bytes.count
        let first = bytes[0]
        let last = haystack.count - count
        var index = 0
        while index < haystack.count {
            let byte = haystack[index]
            if byte >= 0x80 { return nil }
            if index <= last, Self.fold(byte) == first {
                var matched = 1
                while matched < count, Self.fold(haystack[index + matched]) == bytes[matched] { matched += 1 }
                if matched == count {
                    // A match found before any non-ASCII byte still holds: folding only widens.
                    return true
                }
            }
            index += 1
        }
        return false
    }

    @inline(__always)
    private static func fold(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte
    }
}
