/// Interns names (users, teams, categories, channels, agents) as small numbers, so items and
/// indexes hold 4 bytes instead of a string. Number 0 is always the empty name.
package struct SymbolTable: Sendable {
    private var names: [String] = [""]
    private var numbers: [String: UInt32] = ["": 0]

    package init() {}

    /// How many names, the empty one included.
    package var count: Int { names.count }

    /// The number of `name`, added when new.
    package mutating func intern(_ name: String) -> UInt32 {
        if let number = numbers[name] { return number }
        let number = UInt32(names.count)
        names.append(name)
        numbers[name] = number
        return number
    }

    /// The number of `name`, or nil when it was never interned.
    package func lookup(_ name: String) -> UInt32? { numbers[name] }

    /// The name of `number`.
    package subscript(number: UInt32) -> String { names[Int(number)] }

    /// Every (number, name) but the empty name.
    package var entries: some Sequence<(UInt32, String)> {
        names.indices.dropFirst().lazy.map { (UInt32($0), names[$0]) }
    }
}
