/// Growth's users by id. The records sit in one array in the order the users appeared and a
/// dictionary maps each id to its position, so the large ``UserGrowth`` values are not spread
/// over the dictionary's mostly empty buckets. Users are removed only when they move to another
/// shard (the last user takes the removed one's place).
struct UserTable: Sendable, Sequence {
    /// The users, in the order they appeared.
    private var entries: [(userID: String, user: UserGrowth)] = []
    /// Positions in `entries` by user id.
    private var positions: [String: Int32] = [:]

    init() {}

    /// How many users there are.
    var count: Int { entries.count }

    /// Makes room for `capacity` users.
    mutating func reserveCapacity(_ capacity: Int) {
        entries.reserveCapacity(capacity)
        positions.reserveCapacity(capacity)
    }

    /// The user's record, if there is one.
    subscript(userID: String) -> UserGrowth? {
        positions[userID].map { entries[Int($0)].user }
    }

    /// Takes the user's record out to change it in place (the table keeps an empty record
    /// until ``put(_:_:)`` sets it back); a new user's record when there is none.
    mutating func take(_ userID: String) -> UserGrowth {
        guard let position = positions[userID] else { return UserGrowth() }
        let user = entries[Int(position)].user
        entries[Int(position)].user = UserGrowth()
        return user
    }

    /// Sets the user's record, adding the user if new.
    mutating func put(_ userID: String, _ user: UserGrowth) {
        if let position = positions[userID] {
            entries[Int(position)].user = user
        } else {
            precondition(entries.count < Int(Int32.max), "too many users")
            positions[userID] = Int32(entries.count)
            entries.append((userID, user))
        }
    }

    /// Removes the user; returns its record, nil when there was none.
    @discardableResult
    mutating func remove(_ userID: String) -> UserGrowth? {
        guard let position = positions.removeValue(forKey: userID) else { return nil }
        let removed = entries[Int(position)].user
        let last = entries.removeLast()
        if Int(position) < entries.count {
            entries[Int(position)] = last
            positions[last.userID] = position
        }
        return removed
    }

    func makeIterator() -> IndexingIterator<[(userID: String, user: UserGrowth)]> {
        entries.makeIterator()
    }
}
