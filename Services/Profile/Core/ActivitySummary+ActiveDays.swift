extension ActivitySummary {
    /// Active days among days 0 through `limit` - 1 after registration (`limit` at most
    /// ``retentionDays``).
    package func activeDaysAfterRegistration(below limit: Int) -> Int {
        var count = 0
        var remaining = min(limit, Self.retentionDays)
        var word = 0
        while remaining > 0 {
            let bits = retention[word]
            count += (remaining >= 64 ? bits : bits & ((1 << UInt64(remaining)) &- 1)).nonzeroBitCount
            remaining -= 64
            word += 1
        }
        return count
    }

    /// The active days the summary knows among the 64 days from `first`: bit i is day first + i.
    /// Both the retention bits (the first 384 days after registration) and the window (the 256
    /// days ending on the latest active day, plus the latest older one) are read.
    package func activeMask(from first: Int32) -> UInt64 {
        guard headDay != Self.noDay else { return 0 }
        // Retention bit n is day registrationDay + n: the 64 bits from n = first - registrationDay.
        var mask = Self.bits(of: retention, from: Int64(first) - Int64(registrationDay))
        // Window bit i is day headDay - i: bits s...s+63, s = headDay - first - 63, reversed.
        let start = Int64(headDay) - Int64(first) - 63
        mask |= Self.reversed(Self.bits(of: window, from: start))
        if olderActiveDay != Self.noDay {
            let offset = Int64(olderActiveDay) - Int64(first)
            if offset >= 0, offset < 64 { mask |= 1 << UInt64(offset) }
        }
        return mask
    }

    /// Whether the summary knows `day` as active (the window or the retention bits).
    package func knowsActive(on day: Int32) -> Bool {
        activeMask(from: day) & 1 != 0
    }

    /// The 64 bits from bit `start` of `words` (bit b is bit b & 63 of word b >> 6); bits
    /// outside the words read 0.
    private static func bits<let count: Int>(of words: InlineArray<count, UInt64>, from start: Int64) -> UInt64 {
        let word = start >> 6
        let shift = UInt64(start & 63)
        func at(_ index: Int64) -> UInt64 { index >= 0 && index < Int64(count) ? words[Int(index)] : 0 }
        let low = at(word) >> shift
        let high = shift == 0 ? 0 : at(word + 1) << (64 - shift)
        return low | high
    }

    /// `value` with its bits in reverse order.
    private static func reversed(_ value: UInt64) -> UInt64 {
        var v = value
        v = ((v >> 1) & 0x5555_5555_5555_5555) | ((v & 0x5555_5555_5555_5555) << 1)
        v = ((v >> 2) & 0x3333_3333_3333_3333) | ((v & 0x3333_3333_3333_3333) << 2)
        v = ((v >> 4) & 0x0F0F_0F0F_0F0F_0F0F) | ((v & 0x0F0F_0F0F_0F0F_0F0F) << 4)
        v = ((v >> 8) & 0x00FF_00FF_00FF_00FF) | ((v & 0x00FF_00FF_00FF_00FF) << 8)
        v = ((v >> 16) & 0x0000_FFFF_0000_FFFF) | ((v & 0x0000_FFFF_0000_FFFF) << 16)
        return (v >> 32) | (v << 32)
    }
}
