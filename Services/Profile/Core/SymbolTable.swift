/// Interns the short strings that many users share (channels, campaigns, regions, time zones,
/// tags, attribute keys, assets) as dense 32-bit symbols, so a user record holds 4 bytes per
/// field instead of a string. Symbol 0 is the empty string. Symbols are never removed, so a
/// symbol stays valid for the life of the state (and is stable across snapshots).
package struct SymbolTable: Sendable {
    private(set) var strings: [String] = [""]
    private var symbols: [String: Int32] = ["": 0]

    package init() {}

    /// Rebuilds a table from the strings a snapshot stored, in symbol order.
    package init(strings: [String]) {
        self.strings = strings.isEmpty ? [""] : strings
        symbols = Dictionary(minimumCapacity: self.strings.count)
        for (symbol, string) in self.strings.enumerated() { symbols[string] = Int32(symbol) }
    }

    /// The number of symbols.
    package var count: Int { strings.count }

    /// The symbol of `string`, creating it if new.
    package mutating func intern(_ string: String) -> Int32 {
        if let symbol = symbols[string] { return symbol }
        let symbol = Int32(strings.count)
        strings.append(string)
        symbols[string] = symbol
        return symbol
    }

    /// The symbol of `string`, or nil when no record ever used it.
    package func symbol(_ string: String) -> Int32? { symbols[string] }

    /// The string of `symbol`.
    package subscript(symbol: Int32) -> String { strings[Int(symbol)] }

    /// Every string, in symbol order (for snapshots).
    package var allStrings: [String] { strings }
}
