/// A set of item sequence numbers as bits: 125 KB per million items. Filters combine them with
/// AND and OR a word at a time, count matches with popcount, and read members in storage order.
package struct Bitset: Sendable, Equatable {
    private var words: [UInt64]

    /// An empty set with room for `capacity` numbers (it grows as needed).
    package init(capacity: Int = 0) {
        words = [UInt64](repeating: 0, count: (capacity + 63) / 64)
    }

    /// Adds `member`.
    package mutating func insert(_ member: UInt32) {
        let word = Int(member >> 6)
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: max(word + 1 - words.count, words.count / 2 + 1))) }
        words[word] |= 1 << UInt64(member & 63)
    }

    /// Removes `member`.
    package mutating func remove(_ member: UInt32) {
        let word = Int(member >> 6)
        if word < words.count { words[word] &= ~(1 << UInt64(member & 63)) }
    }

    /// Whether `member` is in the set.
    @inline(__always)
    package func contains(_ member: UInt32) -> Bool {
        let word = Int(member >> 6)
        return word < words.count && words[word] & (1 << UInt64(member & 63)) != 0
    }

    /// Adds every member of `other`.
    package mutating func formUnion(_ other: Bitset) {
        if other.words.count > words.count { words.append(contentsOf: repeatElement(0, count: other.words.count - words.count)) }
        for index in other.words.indices { words[index] |= other.words[index] }
    }

    /// Keeps only the members also in `other`.
    package mutating func formIntersection(_ other: Bitset) {
        for index in words.indices { words[index] &= index < other.words.count ? other.words[index] : 0 }
    }

    /// Number of members.
    package var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Calls `body` with each member in ascending order until it returns false.
    package func forEach(_ body: (UInt32) -> Bool) {
        for (index, word) in words.enumerated() where word != 0 {
            var rest = word
            while rest != 0 {
                let bit = rest.trailingZeroBitCount
                if !body(UInt32(index << 6 | bit)) { return }
                rest &= rest - 1
            }
        }
    }
}
