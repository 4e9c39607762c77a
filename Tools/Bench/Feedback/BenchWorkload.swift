import RetainProto

/// The synthetic feedback of the benchmark: item `index` is always the same (user, kind,
/// category, text, age and later workflow), so runs are comparable. Items arrive in time order
/// over the last 30 days (a few minutes of jitter), as they would in production.
struct BenchWorkload: Sendable {
    let nowMs: Int64
    let users: Int
    let items: Int

    static let spanMs: Int64 = 30 * 86_400_000

    static let categories = ["payment", "delivery", "account", "login", "app", "website", "refund", "general", "pricing", "content"]
    static let channels = ["app", "web", "email", "phone"]
    static let questions = [
        "How do I reset my password?", "How can I change my delivery address?", "Where is my refund?",
        "How do I cancel my subscription?", "Can I pay with a gift card?", "Why was my card declined?",
        "How do I delete my account?", "When will my order arrive?", "How do I use a coupon code?",
        "Can I change the email on my account?", "Is there a dark mode in the app?", "How do I export my data?",
    ]
    static let subjects = ["checkout", "order page", "search", "login screen", "refund form", "profile", "cart", "invoice"]
    static let problems = [
        "is very slow", "crashes on open", "shows a blank page", "charged me twice", "lost my order",
        "does not accept my card", "logs me out", "shows the wrong price",
    ]

    /// SplitMix64: spreads `index` into pseudo-random but fixed bits.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    func bits(_ index: Int, _ salt: UInt64) -> Int { Int(truncatingIfNeeded: Self.mix(UInt64(index) &* 31 &+ salt) >> 1) }

    func user(_ index: Int) -> String { "user\(bits(index, 1) % users)" }

    /// The submission of item `index`.
    func submission(_ index: Int) -> Retain_V1_SubmitFeedbackRequest {
        let kinds: [Retain_V1_FeedbackKind] = [.suggestion, .complaint, .bug, .question]
        let kind = kinds[bits(index, 2) % 4]
        let subject = Self.subjects[bits(index, 3) % Self.subjects.count]
        let problem = Self.problems[bits(index, 4) % Self.problems.count]
        let text =
            switch kind {
            case .question: Self.questions[bits(index, 5) % Self.questions.count]
            case .suggestion: "Please add an option to save my \(subject) settings, number \(index % 977)"
            case .complaint: "The \(subject) \(problem), this is the \(index % 13 + 2)th time"
            default: "Bug: the \(subject) \(problem) on version 4.\(index % 40)"
            }
        return Retain_V1_SubmitFeedbackRequest(
            userId: user(index), requestId: "bench-\(index)", kind: kind,
            category: Self.categories[bits(index, 6) % Self.categories.count], text: text,
            channel: Self.channels[bits(index, 7) % Self.channels.count],
            urgent: bits(index, 8) % 4 == 0, important: bits(index, 9) % 3 == 0,
            submittedAtMs: submittedAt(index))
    }

    /// When item `index` was submitted: spread evenly over the span, give or take 5 minutes.
    func submittedAt(_ index: Int) -> Int64 {
        let base = nowMs - Self.spanMs + Self.spanMs * Int64(index) / Int64(max(items, 1))
        return min(base + Int64(bits(index, 10) % 600_000) - 300_000, nowMs - 1)
    }

    /// What happens to item `index` after its submission: 0-59 resolved (0-19 then closed),
    /// 60-69 triaged, 70-79 assigned, 80-84 assigned and started, the rest stays new.
    func fate(_ index: Int) -> Int { bits(index, 11) % 100 }

    /// The answer resolving item `index`.
    func resolution(_ index: Int, itemID: String, kind: Retain_V1_FeedbackKind) -> Retain_V1_ResolveFeedbackRequest {
        let outcome: Retain_V1_FeedbackOutcome =
            switch kind {
            case .question: .answered
            case .suggestion: index % 2 == 0 ? .accepted : .declined
            case .bug: .fixed
            default: .fixed
            }
        let compensation = kind == .complaint && index % 10 == 0 ? Retain_V1_Amount(value: 100, asset: "points") : nil
        return Retain_V1_ResolveFeedbackRequest(
            itemId: itemID, actor: "agent\(index % 50)", note: "bench", requestId: "resolve-\(index)", outcome: outcome,
            answer: kind == .question ? "See the help centre, article \(bits(index, 5) % 12)." : "Thanks, done.",
            compensation: compensation)
    }
}
