extension ProfileState {
    /// Lists a user who just joined the state (registered, restored or moved in) under its
    /// registration day, and counts it in retention unless it is deleted.
    mutating func countInRetention(_ userIndex: Int32) {
        let (deleted, channel, activity) = users.withPointer(Int(userIndex)) { user in
            (user.pointee.isDeleted, user.pointee.channel, user.pointee.activity)
        }
        retentionCounts.list(userIndex, registeredOn: activity.registrationDay)
        guard !deleted else { return }
        retentionCounts.count(activity, channel: channel, sign: 1)
    }

    /// Takes a user who is being deleted (or moved away) out of the retention counts; it stays
    /// listed under its registration day, where reports skip it.
    mutating func removeFromRetention(_ userIndex: Int32) {
        let (channel, activity) = users.withPointer(Int(userIndex)) { ($0.pointee.channel, $0.pointee.activity) }
        retentionCounts.count(activity, channel: channel, sign: -1)
    }

    /// Counts retention again from every user (a restored snapshot).
    package mutating func rebuildRetentionCounts() {
        retentionCounts.removeAll()
        for index in 0..<users.count { countInRetention(Int32(index)) }
    }
}
