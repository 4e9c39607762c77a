/// The FAQ's groups of near-identical resolved questions, kept up to date as questions are
/// resolved. Which group a question joins is decided when it is resolved (``match``) and
/// recorded in the log entry, so replay never depends on the configuration.
package struct FaqIndex: Sendable {
    /// A group of questions of one category.
    package struct Group: Sendable {
        /// Stable id.
        package var id: String
        /// Category (symbol).
        package var category: UInt32
        /// Normalised text of the question that started it.
        package var text: String
        /// Its tokens in canonical order.
        package var tokens: [String]
        /// Member items, in the order they joined.
        package var members: [UInt32]
        /// The members that count now (resolved or closed questions still in the category), by
        /// creation: their number is the ask count, the last is the latest asked.
        package var live = OrderedIndex<CreationKey>()
        /// The member whose resolution is the latest, and when (its answer is the group's).
        package var latestAnswer: (atMs: Int64, sequence: UInt32)?
    }

    private struct PrefixKey: Hashable, Sendable {
        var category: UInt32
        var token: String
    }

    /// Every group, in the order created.
    package private(set) var groups: [Group] = []
    private var numbers: [String: Int] = [:]
    private var memberOf: [UInt32: Int] = [:]
    private var candidates: [PrefixKey: [Int]] = [:]

    package init() {}

    /// The group with `id`.
    package func group(id: String) -> Group? { numbers[id].map { groups[$0] } }

    /// The group `sequence` belongs to.
    package func group(of sequence: UInt32) -> Group? { memberOf[sequence].map { groups[$0] } }

    /// The most similar group of `category` at or above `threshold`; ties go to the smaller id.
    package func match(category: UInt32, tokens: [String], threshold: Double) -> Group? {
        var best: (similarity: Double, group: Int)?
        var seen: Set<Int> = []
        for token in FaqText.prefix(of: tokens) {
            for number in candidates[PrefixKey(category: category, token: token)] ?? [] where seen.insert(number).inserted {
                let similarity = FaqText.similarity(tokens, groups[number].tokens)
                guard similarity >= threshold else { continue }
                if let current = best {
                    if similarity > current.similarity
                        || (similarity == current.similarity && groups[number].id < groups[current.group].id)
                    {
                        best = (similarity, number)
                    }
                } else {
                    best = (similarity, number)
                }
            }
        }
        return best.map { groups[$0.group] }
    }

    /// Whether `id` is taken.
    package func contains(id: String) -> Bool { numbers[id] != nil }

    /// Starts a group (when `id` is new) and returns its number.
    @discardableResult
    package mutating func create(id: String, category: UInt32, text: String) -> Int {
        if let number = numbers[id] { return number }
        let tokens = FaqText.tokens(ofNormalised: text)
        let number = groups.count
        groups.append(Group(id: id, category: category, text: text, tokens: tokens, members: []))
        numbers[id] = number
        for token in FaqText.prefix(of: tokens) {
            candidates[PrefixKey(category: category, token: token), default: []].append(number)
        }
        return number
    }

    /// Puts `sequence` in group `id` (leaving any other group), resolved at `atMs`. False when
    /// the group does not exist.
    @discardableResult
    package mutating func join(id: String, sequence: UInt32, resolvedAtMs: Int64) -> Bool {
        guard let number = numbers[id] else { return false }
        if let previous = memberOf[sequence], previous != number {
            groups[previous].members.removeAll { $0 == sequence }
            if let key = groups[previous].live.keys.first(where: { $0.sequence == sequence }) { groups[previous].live.remove(key) }
            if groups[previous].latestAnswer?.sequence == sequence { groups[previous].latestAnswer = nil }
        }
        if memberOf[sequence] != number {
            memberOf[sequence] = number
            groups[number].members.append(sequence)
        }
        noteAnswer(group: number, sequence: sequence, atMs: resolvedAtMs)
        return true
    }

    /// Records a resolution of a member, making its answer the group's when it is the latest.
    package mutating func noteAnswer(group number: Int, sequence: UInt32, atMs: Int64) {
        if let latest = groups[number].latestAnswer,
            latest.atMs > atMs || (latest.atMs == atMs && latest.sequence > sequence)
        {
            return
        }
        groups[number].latestAnswer = (atMs, sequence)
    }

    /// Records whether member `key.sequence` counts now; nothing when it is in no group.
    package mutating func setLive(_ key: CreationKey, live: (Group) -> Bool) {
        guard let number = memberOf[key.sequence] else { return }
        if live(groups[number]) { groups[number].live.insert(key) } else { groups[number].live.remove(key) }
    }

    /// The number of the group `id`.
    package func number(of id: String) -> Int? { numbers[id] }
}
