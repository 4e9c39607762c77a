package import RetainState

/// The packed layout of a user in snapshots (`ProfileSnapshotUsers.packed`), little-endian,
/// users one after the other:
///
/// ```
/// +----------------------+------------------------------------------------------------+
/// | activity             | u64 mask, then the non-zero 8-byte words of the 360-byte   |
/// |                      | layout of ActivitySummary+Encoding.swift (bit w: word w)   |
/// | registered_at_ms     | i64                                                        |
/// | updated_at_ms        | i64                                                        |
/// | deleted_at_ms        | i64 (0: not deleted)                                       |
/// | fingerprint          | u64, hash of the registration request                      |
/// | channel, campaign,   | 4 x u32 symbols of the header's table                      |
/// | region, time_zone    |                                                            |
/// | age, gender          | u8, u8                                                     |
/// | tags                 | u16 count, count x u32 symbols                             |
/// | attributes           | u16 count, count x (u32 key symbol, string value)          |
/// | purchase totals      | u16 count, count x (u32 asset symbol, i64 sum)             |
/// | id, inviter          | strings                                                    |
/// | deleted_reason, _by  | strings ("" when not deleted)                              |
/// | registration key     | string: the request_id of a server-generated id, or ""     |
/// +----------------------+------------------------------------------------------------+
/// string = u32 byte count, then the UTF-8 bytes
/// ```
extension UserRecord {
    /// Appends the user in the packed layout.
    package func pack(into writer: inout PackedWriter, note: DeletionNote?, registrationKey: String) {
        activity.pack(into: &writer)
        writer.put(fixed: 50) { fixed in
            fixed.storeBytes(of: registeredAtMs.littleEndian, toByteOffset: 0, as: Int64.self)
            fixed.storeBytes(of: updatedAtMs.littleEndian, toByteOffset: 8, as: Int64.self)
            fixed.storeBytes(of: deletedAtMs.littleEndian, toByteOffset: 16, as: Int64.self)
            fixed.storeBytes(of: registrationFingerprint.littleEndian, toByteOffset: 24, as: UInt64.self)
            fixed.storeBytes(of: channel.littleEndian, toByteOffset: 32, as: Int32.self)
            fixed.storeBytes(of: campaign.littleEndian, toByteOffset: 36, as: Int32.self)
            fixed.storeBytes(of: region.littleEndian, toByteOffset: 40, as: Int32.self)
            fixed.storeBytes(of: timeZone.littleEndian, toByteOffset: 44, as: Int32.self)
            fixed.storeBytes(of: age, toByteOffset: 48, as: UInt8.self)
            fixed.storeBytes(of: gender, toByteOffset: 49, as: UInt8.self)
        }
        writer.put(UInt16(tags.count))
        for tag in tags { writer.put(tag) }
        writer.put(UInt16(attributes.count))
        for attribute in attributes {
            writer.put(attribute.key)
            writer.put(attribute.value)
        }
        writer.put(UInt16(purchaseTotals.count))
        for total in purchaseTotals {
            writer.put(total.asset)
            writer.put(total.value)
        }
        writer.put(id)
        writer.put(inviter)
        writer.put(note?.reason ?? "")
        writer.put(note?.actor ?? "")
        writer.put(registrationKey)
    }

    /// Reads one user; `symbols` is the size of the symbol table that symbols must fall in.
    /// The deletion note and registration key come back through the inout parameters.
    package static func unpack(
        from reader: inout PackedReader, symbols: Int32, note: inout DeletionNote?, registrationKey: inout String
    ) throws(PackedError) -> UserRecord {
        let activity = try ActivitySummary.unpack(from: &reader)
        let registeredAt: Int64 = try reader.get()
        let updatedAt: Int64 = try reader.get()
        let deletedAt: Int64 = try reader.get()
        let fingerprint: UInt64 = try reader.get()
        func symbol() throws(PackedError) -> Int32 {
            let value: Int32 = try reader.get()
            guard value >= 0, value < symbols else { throw PackedError(offset: reader.offset) }
            return value
        }
        let channel = try symbol()
        let campaign = try symbol()
        let region = try symbol()
        let timeZone = try symbol()
        let age: UInt8 = try reader.get()
        let gender: UInt8 = try reader.get()
        let tagCountStored: UInt16 = try reader.get()
        let tagCount = Int(tagCountStored)
        var tags: [Int32] = []
        if tagCount > 0 {
            tags.reserveCapacity(tagCount)
            for _ in 0..<tagCount { tags.append(try symbol()) }
        }
        let attributeCountStored: UInt16 = try reader.get()
        let attributeCount = Int(attributeCountStored)
        var attributes: [UserAttribute] = []
        if attributeCount > 0 {
            attributes.reserveCapacity(attributeCount)
            for _ in 0..<attributeCount {
                let key = try symbol()
                attributes.append(UserAttribute(key: key, value: try reader.string()))
            }
        }
        let purchaseCountStored: UInt16 = try reader.get()
        let purchaseCount = Int(purchaseCountStored)
        var purchases: [PurchaseTotal] = []
        if purchaseCount > 0 {
            for _ in 0..<purchaseCount {
                let asset = try symbol()
                purchases.append(PurchaseTotal(asset: asset, value: try reader.get()))
            }
        }
        let id = try reader.string()
        let inviter = try reader.string()
        let reason = try reader.string()
        let actor = try reader.string()
        registrationKey = try reader.string()
        note = deletedAt != 0 ? DeletionNote(reason: reason, actor: actor) : nil
        return UserRecord(
            id: id, inviter: inviter, registeredAtMs: registeredAt, updatedAtMs: updatedAt, deletedAtMs: deletedAt,
            registrationFingerprint: fingerprint, channel: channel, campaign: campaign, region: region, timeZone: timeZone,
            age: age, gender: gender, tags: tags, attributes: attributes, purchaseTotals: purchases, activity: activity)
    }
}
