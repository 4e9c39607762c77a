/// The simulated users of a demo run, decided up front from the seed: who arrives on which day
/// through which channel, and who invited each referred user.
struct DemoPopulation: Sendable {
    /// One simulated user.
    struct User: Sendable {
        /// Index in ``DemoPopulation/users`` (sorted by arrival day).
        let index: Int
        /// The user id sent to the services.
        let id: String
        /// The acquisition channel.
        let channel: DemoChannel
        /// The simulated day the user registers on (0-based).
        let arrivalDay: Int
        /// The inviting user's index, for users of the referral channel.
        let inviter: Int?
    }

    /// Every user, in order of arrival day.
    let users: [User]
    /// Indices of the users arriving on each day.
    let arrivals: [[Int]]

    /// Draws `count` users arriving over `days` days through `channels`.
    ///
    /// Referred users arrive from the second day on, each invited by a user who arrived on an
    /// earlier day, so the inviter is registered before the friend.
    init(count: Int, days: Int, channels: [DemoChannel], seed: UInt64, idPrefix: String) {
        var random = SeededRandom(seed, 0xD3E0)
        let totalShare = channels.reduce(0) { $0 + $1.share }
        var drafts: [(day: Int, channel: DemoChannel)] = []
        drafts.reserveCapacity(count)
        for _ in 0..<count {
            var pick = Double.random(in: 0..<totalShare, using: &random)
            var channel = channels[channels.count - 1]
            for candidate in channels {
                if pick < candidate.share {
                    channel = candidate
                    break
                }
                pick -= candidate.share
            }
            // Arrivals thin out slowly over the weeks (launch buzz first).
            let u = Double.random(in: 0..<1, using: &random)
            var day = min(days - 1, Int(Double(days) * (1 - (1 - u).squareRoot())))
            if channel.name == DemoChannel.referralName, days > 1 { day = max(1, day) }
            drafts.append((day, channel))
        }
        drafts.sort { $0.day < $1.day }
        var users: [User] = []
        users.reserveCapacity(count)
        var arrivals = Array(repeating: [Int](), count: days)
        // firstOfDay[d]: how many users arrive before day d (the index of day d's first user).
        var firstOfDay = Array(repeating: 0, count: days + 1)
        for draft in drafts { firstOfDay[draft.day + 1] += 1 }
        for day in 0..<days { firstOfDay[day + 1] += firstOfDay[day] }
        for (index, draft) in drafts.enumerated() {
            var channel = draft.channel
            var inviter: Int?
            if channel.name == DemoChannel.referralName {
                let earlier = firstOfDay[draft.day]
                if earlier > 0 {
                    inviter = Int.random(in: 0..<earlier, using: &random)
                } else {
                    channel = channels.first { $0.name != DemoChannel.referralName } ?? channel
                }
            }
            users.append(
                User(
                    index: index, id: "\(idPrefix)-u\(index)", channel: channel, arrivalDay: draft.day,
                    inviter: inviter))
            arrivals[draft.day].append(index)
        }
        self.users = users
        self.arrivals = arrivals
    }
}
