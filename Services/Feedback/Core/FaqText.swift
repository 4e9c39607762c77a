/// How the FAQ compares questions: normalise (lower case, punctuation to spaces, white space
/// collapsed), split into words, and compare word sets by Jaccard similarity
/// (|A ∩ B| / |A ∪ B|). Deterministic: no randomness, no locale.
package enum FaqText {
    /// The lowest similarity threshold the configuration may set; the candidate index is built
    /// for it, so any threshold at or above it finds every match.
    package static let minimumThreshold = 0.5

    /// `text` lower-cased, with every character that is not a letter or a digit turned into a
    /// space, and runs of spaces collapsed: "How do I  pay?!" -> "how do i pay".
    package static func normalise(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for character in text.lowercased() {
            if character.isLetter || character.isNumber {
                if pendingSpace, !result.isEmpty { result.append(" ") }
                pendingSpace = false
                result.append(character)
            } else {
                pendingSpace = true
            }
        }
        return result
    }

    /// The distinct words of a normalised text, in the canonical order (by stable hash, then
    /// text), which both the similarity and the candidate prefixes rely on.
    package static func tokens(ofNormalised text: String) -> [String] {
        let words = Set(text.split(separator: " ").map(String.init))
        return words.sorted { lhs, rhs in
            let left = StableHash.of(lhs)
            let right = StableHash.of(rhs)
            return left != right ? left < right : lhs < rhs
        }
    }

    /// Jaccard similarity of two token lists in canonical order; two empty lists are identical.
    package static func similarity(_ lhs: [String], _ rhs: [String]) -> Double {
        if lhs.isEmpty && rhs.isEmpty { return 1 }
        var shared = 0
        var left = 0
        var right = 0
        while left < lhs.count, right < rhs.count {
            if lhs[left] == rhs[right] {
                shared += 1
                left += 1
                right += 1
            } else if precedes(lhs[left], rhs[right]) {
                left += 1
            } else {
                right += 1
            }
        }
        return Double(shared) / Double(lhs.count + rhs.count - shared)
    }

    private static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        let left = StableHash.of(lhs)
        let right = StableHash.of(rhs)
        return left != right ? left < right : lhs < rhs
    }

    /// The first tokens under which a set is indexed and looked up: two sets with similarity at
    /// least ``minimumThreshold`` share a token within both prefixes (the prefix filter of
    /// all-pairs similarity joins). An empty set has the prefix [""].
    package static func prefix(of tokens: [String]) -> ArraySlice<String> {
        guard !tokens.isEmpty else { return [""] }
        let length = tokens.count - Int((minimumThreshold * Double(tokens.count)).rounded(.up)) + 1
        return tokens.prefix(length)
    }

    /// The id of a new group: `faq_` and 16 hex digits of the stable hash of the category and
    /// the normalised text; `attempt` > 0 only when that id is taken by another text.
    package static func groupID(category: String, normalised: String, attempt: Int = 0) -> String {
        var hash = StableHash()
        hash.combine(category)
        hash.combine(byte: 0)
        hash.combine(normalised)
        if attempt > 0 { hash.combine(UInt64(attempt)) }
        let hex = String(hash.value, radix: 16)
        return "faq_" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
