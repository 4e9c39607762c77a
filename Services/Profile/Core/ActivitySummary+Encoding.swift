/// The fixed layout of an ``ActivitySummary`` in snapshots (`ProfileSnapshotUser.activity`),
/// all integers little-endian, 312 bytes:
///
/// ```
/// offset size field
///      0    8 last_active_ms      i64
///      8    8 first_active_ms     i64
///     16    4 event_count         u32
///     20   32 kind_counts         8 x u32 (ActivityKind order)
///     52    4 registration_day    i32
///     56    4 head_day            i32 (i32.min: none)
///     60    4 older_active_day    i32 (i32.min: none)
///     64   48 retention bits      6 x u64
///    112   32 window bits         4 x u64
///    144  112 daily_events        56 x u16 (slot = day mod 56)
///    256   56 daily_purchases     56 x u8
/// ```
extension ActivitySummary {
    /// Size of the encoded form.
    package static let encodedSize = 312

    /// The summary in its snapshot layout.
    package func encoded() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.encodedSize) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var offset = 0
            func put<T: FixedWidthInteger>(_ value: T) {
                raw.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
                offset += MemoryLayout<T>.size
            }
            put(lastActiveMs)
            put(firstActiveMs)
            put(eventCount)
            for index in 0..<8 { put(kindCounts[index]) }
            put(registrationDay)
            put(headDay)
            put(olderActiveDay)
            for index in 0..<6 { put(retention[index]) }
            for index in 0..<4 { put(window[index]) }
            for index in 0..<Self.ringDays { put(dailyEvents[index]) }
            for index in 0..<Self.ringDays { put(dailyPurchases[index]) }
            initialized = offset
        }
    }

    /// Decodes a summary from its snapshot layout; nil when the size is wrong.
    package init?(encoded bytes: [UInt8]) {
        guard bytes.count == Self.encodedSize else { return nil }
        self.init(registrationDay: 0)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            func get<T: FixedWidthInteger>(_: T.Type) -> T {
                defer { offset += MemoryLayout<T>.size }
                return T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
            }
            lastActiveMs = get(Int64.self)
            firstActiveMs = get(Int64.self)
            eventCount = get(UInt32.self)
            for index in 0..<8 { kindCounts[index] = get(UInt32.self) }
            registrationDay = get(Int32.self)
            headDay = get(Int32.self)
            olderActiveDay = get(Int32.self)
            for index in 0..<6 { retention[index] = get(UInt64.self) }
            for index in 0..<4 { window[index] = get(UInt64.self) }
            for index in 0..<Self.ringDays { dailyEvents[index] = get(UInt16.self) }
            for index in 0..<Self.ringDays { dailyPurchases[index] = get(UInt8.self) }
        }
    }
}
