import RetainProto

/// The benchmark's synthetic population, the same on every run: users registered over the last
/// 120 days from eight channels, with attributes and tags, and activity events whose times are
/// spread over each user's active span and sent out of time order.
struct BenchData {
    let users: Int
    let eventsPerUser: Int
    let now: Int64
    private let userIDs: [String]
    private let eventIDs: [String]
    static let day: Int64 = 86_400_000
    static let channels = ["organic", "ads.google", "ads.meta", "referral", "app_store", "email", "partner", "tiktok"]
    static let regions = ["cn-sh", "cn-bj", "de-be", "us-ca", "fr-pa", "jp-tk"]
    static let kinds = ["login", "visit", "login", "visit", "share", "post", "login", "check_in", "visit"]

    /// A 64-bit mix of `value`: the benchmark's stand-in for randomness.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    init(users: Int, eventsPerUser: Int, now: Int64) {
        self.users = users
        self.eventsPerUser = eventsPerUser
        self.now = now
        userIDs = (0..<users).map { index in
            let digits = String(index)
            return "u" + String(repeating: "0", count: max(0, 7 - digits.count)) + digits
        }
        eventIDs = (0..<max(1, eventsPerUser)).map { "e\($0)" }
    }

    func userID(_ index: Int) -> String { userIDs[index] }

    /// Registration time of user `index`: spread over the last 120 days.
    func registeredAt(_ index: Int) -> Int64 {
        now - 120 * Self.day + Int64(Self.mix(UInt64(index)) % UInt64(120 * Self.day - Self.day))
    }

    func registration(_ index: Int) -> Retain_V1_RegisterUserRequest {
        let hash = Self.mix(UInt64(index) &+ 77)
        var tags: [String] = []
        if hash % 10 == 0 { tags.append("vip") }
        if hash % 5 == 1 { tags.append("beta") }
        return Retain_V1_RegisterUserRequest(
            userId: userID(index), channel: Self.channels[Int(hash % 8)],
            campaign: hash % 8 == 1 || hash % 8 == 2 ? "spring-\(hash % 4)" : "",
            age: hash % 10 < 7 ? UInt32(18 + hash % 50) : 0, gender: Retain_V1_Gender(rawValue: Int32(hash % 5)),
            region: Self.regions[Int((hash >> 8) % 6)], attributes: hash % 2 == 0 ? ["plan": hash % 4 == 0 ? "pro" : "free"] : [:],
            tags: tags, registeredAtMs: registeredAt(index))
    }

    /// Event `round` of user `index`. Users fall into four patterns by hash: loyal (active to
    /// the end), fading (activity thins out over the last weeks), churned (stopped 35 to 60 days
    /// ago) and short-lived (a few days after registering).
    func event(user index: Int, round: Int) -> Retain_V1_ActivityEvent {
        let registered = registeredAt(index)
        let span = now - registered - 60_000
        let pattern = Self.mix(UInt64(index) &+ 991) % 4
        let random = Self.mix(UInt64(index) &* 64 &+ UInt64(round))
        let fraction = Double(random % 1_000_000) / 1_000_000
        let offset: Int64
        switch pattern {
        case 0: offset = Int64(Double(span) * fraction)
        case 1: offset = Int64(Double(span) * (1 - fraction * fraction))
        case 2: offset = Int64(Double(max(0, span - 35 * Self.day - Int64(random % 25) * Self.day)) * fraction)
        default: offset = Int64(Double(min(span, 5 * Self.day)) * fraction)
        }
        let purchase = round % 10 == 3
        return Retain_V1_ActivityEvent(
            userId: userIDs[index], eventId: eventIDs[round], kind: purchase ? "purchase" : Self.kinds[Int(random % 9)],
            occurredAtMs: registered + max(0, offset),
            value: purchase ? Retain_V1_Amount(value: Int64(100 + random % 9900), asset: "cash.usd") : nil)
    }
}
