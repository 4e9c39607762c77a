/// Realistic-looking user records for the snapshot benchmark: the protobuf encoding of
/// `{id, username, email, balance_cents, created_at, country, status}`, 60–100 bytes each,
/// generated deterministically and stored back to back in one buffer.
struct SampleUserRecords {
    /// All records, concatenated.
    private(set) var bytes: [UInt8] = []
    /// Start offset of each record in `bytes`, plus the end as the last element.
    private(set) var offsets: [Int] = [0]

    /// Records held.
    var count: Int { offsets.count - 1 }

    /// Average record size in bytes.
    var averageSize: Double { count == 0 ? 0 : Double(bytes.count) / Double(count) }

    private static let firstNames = [
        "ava", "liam", "olivia", "noah", "emma", "oliver", "sophia", "elijah", "mia", "lucas", "amelia",
        "mateo", "harper", "levi", "evelyn", "ezra", "luna", "james", "aria", "leo", "ella", "hugo",
        "chloe", "felix", "nora", "jonas", "lea", "finn", "clara", "emil", "ida", "anton", "yuki",
        "hana", "ren", "sofia", "marco", "giulia", "pablo", "lucia", "omar", "layla", "arjun", "priya",
    ]
    private static let lastNames = [
        "smith", "garcia", "martinez", "mueller", "schmidt", "rossi", "bianchi", "dubois", "moreau",
        "kowalski", "nowak", "tanaka", "suzuki", "kim", "lee", "park", "nguyen", "tran", "silva",
        "santos", "johansson", "larsen", "novak", "horvat", "popescu", "ivanova", "khan", "patel",
        "okafor", "mensah", "cohen", "levy", "oconnor", "murphy", "jensen", "berg", "fischer", "weber",
    ]
    private static let domains = ["example.com", "example.org", "mail.example.net", "example.io", "inbox.example.de"]
    private static let countries = ["DE", "FR", "US", "GB", "JP", "BR", "IN", "NG", "PL", "IT", "ES", "SE", "KR", "CA"]

    /// `count` records from a fixed seed.
    init(count: Int) {
        var random = SplitMix64(seed: 0x5EED_0F_2026)
        bytes.reserveCapacity(count * 90)
        offsets.reserveCapacity(count + 1)
        for id in 1...max(count, 1) where id <= count {
            let first = Self.firstNames[Int(random.next() % UInt64(Self.firstNames.count))]
            let last = Self.lastNames[Int(random.next() % UInt64(Self.lastNames.count))]
            let number = random.next() % 1000
            let username = "\(first).\(last)\(number)"
            let email = "\(username)@\(Self.domains[Int(random.next() % UInt64(Self.domains.count))])"
            appendVarintField(1, UInt64(id))
            appendStringField(2, username)
            appendStringField(3, email)
            appendVarintField(4, random.next() % 5_000_000)
            appendVarintField(5, 1_600_000_000 + random.next() % 180_000_000)
            appendStringField(6, Self.countries[Int(random.next() % UInt64(Self.countries.count))])
            appendVarintField(7, 1 + random.next() % 3)
            offsets.append(bytes.count)
        }
    }

    /// Calls `body` with record `index`.
    func withRecord<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[offsets[index]..<offsets[index + 1]]))
        }
    }

    /// Calls `body` with every record, in order.
    func forEach(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { all in
            for index in 0..<count {
                try body(UnsafeRawBufferPointer(rebasing: all[offsets[index]..<offsets[index + 1]]))
            }
        }
    }

    private mutating func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private mutating func appendVarintField(_ field: UInt64, _ value: UInt64) {
        appendVarint(field << 3)
        appendVarint(value)
    }

    private mutating func appendStringField(_ field: UInt64, _ value: String) {
        appendVarint(field << 3 | 2)
        appendVarint(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }
}

/// A small, fast, deterministic pseudo-random generator (Steele, Lea and Flood's SplitMix64).
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
