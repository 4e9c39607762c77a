/// One user as the state keeps it: the profile with its shared strings interned as symbols of
/// the state's ``SymbolTable``, and the activity summary.
///
/// The fields segment filters read come first, so that a scan over all users touches one cache
/// line per user.
package struct UserRecord: Sendable {
    /// Deletion time, Unix ms; 0 while not deleted.
    package var deletedAtMs: Int64 = 0
    /// Registration time, Unix ms.
    package var registeredAtMs: Int64
    /// Symbols: acquisition channel, campaign, region, time zone.
    package var channel: Int32
    package var campaign: Int32
    package var region: Int32
    package var timeZone: Int32
    /// Age in years; 0 unknown.
    package var age: UInt8
    /// `Retain_V1_Gender` raw value.
    package var gender: UInt8
    /// Tag symbols, ascending.
    package var tags: [Int32]
    /// Free-form attributes, by ascending key symbol.
    package var attributes: [UserAttribute]
    /// The user's id.
    package var id: String
    /// The inviting user's id, or "".
    package var inviter: String
    /// Last profile change, Unix ms.
    package var updatedAtMs: Int64
    /// Hash of the registration request, to recognise a retry.
    package var registrationFingerprint: UInt64
    /// Purchase sums per asset.
    package var purchaseTotals: [PurchaseTotal]
    /// The activity summary.
    package var activity: ActivitySummary
    /// The keys of the user's recorded events, in the order recorded
    /// (``EventIDSet/key(userID:eventID:)``): the user's duplicate-event check, and they move
    /// with the user (online resharding).
    package var eventKeys = EventKeyList()

    package init(
        id: String, inviter: String, registeredAtMs: Int64, updatedAtMs: Int64, deletedAtMs: Int64 = 0,
        registrationFingerprint: UInt64, channel: Int32, campaign: Int32, region: Int32, timeZone: Int32, age: UInt8,
        gender: UInt8, tags: [Int32], attributes: [UserAttribute], purchaseTotals: [PurchaseTotal], activity: ActivitySummary
    ) {
        self.deletedAtMs = deletedAtMs
        self.registeredAtMs = registeredAtMs
        self.channel = channel
        self.campaign = campaign
        self.region = region
        self.timeZone = timeZone
        self.age = age
        self.gender = gender
        self.tags = tags
        self.attributes = attributes
        self.id = id
        self.inviter = inviter
        self.updatedAtMs = updatedAtMs
        self.registrationFingerprint = registrationFingerprint
        self.purchaseTotals = purchaseTotals
        self.activity = activity
    }

    /// Whether the user is soft-deleted.
    package var isDeleted: Bool { deletedAtMs != 0 }

    /// The value of the attribute with key symbol `key`.
    package func attribute(_ key: Int32) -> String? {
        for attribute in attributes where attribute.key == key { return attribute.value }
        return nil
    }

    /// Whether the user has the tag `symbol`.
    @inline(__always)
    package func hasTag(_ symbol: Int32) -> Bool {
        for tag in tags where tag >= symbol { return tag == symbol }
        return false
    }
}

/// One free-form attribute.
package struct UserAttribute: Sendable {
    /// The key's symbol.
    package var key: Int32
    /// The value.
    package var value: String
}

/// The sum of a user's purchases in one asset.
package struct PurchaseTotal: Sendable {
    /// The asset's symbol.
    package var asset: Int32
    /// The sum, in the asset's minor units.
    package var value: Int64
}
