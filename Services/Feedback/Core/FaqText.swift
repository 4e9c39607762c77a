/// How the FAQ compares questions: normalise (lower case, punctuation to spaces, white space
/// collapsed), split into tokens, and compare token sets by Jaccard similarity
/// (|A ∩ B| / |A ∪ B|). Deterministic: no randomness, no locale.
///
/// Tokens: a run of other letters and digits is one word ("iphone"); a run of CJK characters
/// (Chinese, Japanese kana, Korean), which carries no spaces between words, gives its
/// overlapping character pairs ("收货地址" -> 收货, 货地, 地址), after the question words and
/// particles that only say it is a question (``cjkStopPhrases``: 怎么, 如何, 我的, 吗...) are
/// cut out, so "怎么修改收货地址" and "如何修改我的收货地址" share 4 of 5 tokens. A piece of one
/// character left between cut-outs is a token of its own.
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

    /// Chinese question words and particles that say a text is a question rather than what it
    /// asks, cut out of CJK runs before pairing (longest first where two start at one place).
    package static let cjkStopPhrases: [[Character]] = [
        "请问", "为什么", "为何", "怎么", "怎样", "怎么样", "如何", "什么", "哪里", "哪儿", "能否", "是否", "可以",
        "能不能", "可不可以", "我的", "我们", "一下", "吗", "呢", "吧", "啊", "呀",
    ].map { Array($0) }.sorted { $0.count > $1.count }

    /// Whether `character` belongs to a script written without spaces between words: CJK
    /// ideographs (with extensions and compatibility forms), kana, Hangul.
    package static func isCJK(_ character: Character) -> Bool {
        guard let scalar = character.unicodeScalars.first else { return false }
        switch scalar.value {
        case 0x3040...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xAC00...0xD7AF, 0xF900...0xFAFF, 0x20000...0x3134F:
            return true
        default:
            return false
        }
    }

    /// The distinct tokens of a normalised text (see the type's summary), in the canonical order
    /// (by stable hash, then text), which both the similarity and the candidate prefixes rely on.
    package static func tokens(ofNormalised text: String) -> [String] {
        var words = Set<String>()
        for word in text.split(separator: " ") {
            var run: [Character] = []
            var runIsCJK = false
            func flush() {
                guard !run.isEmpty else { return }
                if runIsCJK { addPairs(of: run, to: &words) } else { words.insert(String(run)) }
                run.removeAll(keepingCapacity: true)
            }
            for character in word {
                let cjk = isCJK(character)
                if cjk != runIsCJK { flush() }
                runIsCJK = cjk
                run.append(character)
            }
            flush()
        }
        return words.sorted { lhs, rhs in
            let left = StableHash.of(lhs)
            let right = StableHash.of(rhs)
            return left != right ? left < right : lhs < rhs
        }
    }

    /// Adds the character pairs of a CJK run, with its question words and particles cut out.
    private static func addPairs(of run: [Character], to tokens: inout Set<String>) {
        var piece: [Character] = []
        func flush() {
            if piece.count == 1 { tokens.insert(String(piece[0])) }
            if piece.count > 1 {
                for index in 0..<(piece.count - 1) { tokens.insert(String([piece[index], piece[index + 1]])) }
            }
            piece.removeAll(keepingCapacity: true)
        }
        var index = 0
        while index < run.count {
            if let stop = cjkStopPhrases.first(where: { phrase in
                index + phrase.count <= run.count && run[index..<(index + phrase.count)].elementsEqual(phrase)
            }) {
                flush()
                index += stop.count
            } else {
                piece.append(run[index])
                index += 1
            }
        }
        flush()
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
