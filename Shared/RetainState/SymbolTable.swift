/// Interns the short strings that many records of a state share (channels, tags, categories,
/// user and team ids, ...) as dense small numbers, so a record holds a 4-byte symbol instead of
/// a string. Symbol 0 is the empty string. Symbols are never removed, so a symbol stays valid
/// for the life of the state and, stored in symbol order, across snapshots.
package struct SymbolTable<Symbol: FixedWidthInteger & Sendable>: Sendable {
    /// Every string, in symbol order (for snapshots).
    @usableFromInline package private(set) var strings: [String] = [""]
    @usableFromInline var symbols: [String: Symbol] = ["": 0]

    package init() {}

    /// Rebuilds a table from the strings a snapshot stored, in symbol order.
    package init(strings: [String]) {
        self.strings = strings.isEmpty ? [""] : strings
        symbols = Dictionary(minimumCapacity: self.strings.count)
        for (symbol, string) in self.strings.enumerated() { symbols[string] = Symbol(symbol) }
    }

    /// The number of symbols, the empty string's included.
    @inlinable package var count: Int { strings.count }

    /// The symbol of `string`, created when new.
    @inlinable
    package mutating func intern(_ string: String) -> Symbol {
        if let symbol = symbols[string] { return symbol }
        let symbol = Symbol(strings.count)
        strings.append(string)
        symbols[string] = symbol
        return symbol
    }

    /// The symbol of `string`, or nil when it was never interned.
    @inlinable package func symbol(_ string: String) -> Symbol? { symbols[string] }

    /// The string of `symbol`.
    @inlinable package subscript(symbol: Symbol) -> String { strings[Int(symbol)] }
}
