package import RetainState

/// The fixed layout of an ``ActivitySummary`` in snapshots (`ProfileSnapshotUser.activity`),
/// all integers little-endian, 360 bytes:
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
///    312   48 login retention     6 x u64 (absent from snapshots written before: zero)
/// ```
#if !_endian(little)
#error("the snapshot layouts copy integer arrays as little-endian memory")
#endif

extension ActivitySummary {
    /// Size of the encoded form.
    package static let encodedSize = 360

    /// The summary in its snapshot layout.
    package func encoded() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.encodedSize) { buffer, initialized in
            write(to: UnsafeMutableRawPointer(buffer.baseAddress!))
            initialized = Self.encodedSize
        }
    }

    /// Writes the snapshot layout to `target` (``encodedSize`` bytes).
    package func write(to target: UnsafeMutableRawPointer) {
        target.storeBytes(of: lastActiveMs.littleEndian, toByteOffset: 0, as: Int64.self)
        target.storeBytes(of: firstActiveMs.littleEndian, toByteOffset: 8, as: Int64.self)
        target.storeBytes(of: eventCount.littleEndian, toByteOffset: 16, as: UInt32.self)
        withUnsafeBytes(of: kindCounts) { (target + 20).copyMemory(from: $0.baseAddress!, byteCount: 32) }
        target.storeBytes(of: registrationDay.littleEndian, toByteOffset: 52, as: Int32.self)
        target.storeBytes(of: headDay.littleEndian, toByteOffset: 56, as: Int32.self)
        target.storeBytes(of: olderActiveDay.littleEndian, toByteOffset: 60, as: Int32.self)
        withUnsafeBytes(of: retention) { (target + 64).copyMemory(from: $0.baseAddress!, byteCount: 48) }
        withUnsafeBytes(of: window) { (target + 112).copyMemory(from: $0.baseAddress!, byteCount: 32) }
        withUnsafeBytes(of: dailyEvents) { (target + 144).copyMemory(from: $0.baseAddress!, byteCount: 112) }
        withUnsafeBytes(of: dailyPurchases) { (target + 256).copyMemory(from: $0.baseAddress!, byteCount: 56) }
        withUnsafeBytes(of: loginRetention) { (target + 312).copyMemory(from: $0.baseAddress!, byteCount: 48) }
    }

    /// Appends the summary with its zero words left out: a u64 mask (bit w set when the 8-byte
    /// word w of the 360-byte layout is not zero), then those words. Most of a summary is zero
    /// (rings, bitsets); skipping it spares the compressor, the slowest step of a snapshot.
    package func pack(into writer: inout PackedWriter) {
        var words = InlineArray<45, UInt64>(repeating: 0)
        withUnsafeMutableBytes(of: &words) { write(to: $0.baseAddress!) }
        var mask: UInt64 = 0
        for index in 0..<45 where words[index] != 0 { mask |= 1 << UInt64(index) }
        writer.put(fixed: 8 + mask.nonzeroBitCount * 8) { target in
            target.storeBytes(of: mask.littleEndian, as: UInt64.self)
            var offset = 8
            var remaining = mask
            while remaining != 0 {
                target.storeBytes(of: words[remaining.trailingZeroBitCount], toByteOffset: offset, as: UInt64.self)
                offset += 8
                remaining &= remaining - 1
            }
        }
    }

    /// Reads a summary that ``pack(into:)`` wrote.
    package static func unpack(from reader: inout PackedReader) throws(PackedError) -> ActivitySummary {
        let mask: UInt64 = try reader.get()
        // Snapshots written before login days were kept have 39 words: the rest reads zero.
        guard mask >> 45 == 0 else { throw PackedError(offset: reader.offset) }
        let stored = try reader.bytes(mask.nonzeroBitCount * 8)
        var words = InlineArray<45, UInt64>(repeating: 0)
        var offset = 0
        var remaining = mask
        while remaining != 0 {
            words[remaining.trailingZeroBitCount] = stored.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            offset += 8
            remaining &= remaining - 1
        }
        return withUnsafeBytes(of: words) { ActivitySummary(encoded: $0) }
    }

    /// Decodes a summary from its snapshot layout; nil when the size is wrong.
    package init?(encoded bytes: [UInt8]) {
        guard bytes.count == Self.encodedSize else { return nil }
        self = bytes.withUnsafeBytes { Self(encoded: $0) }
    }

    /// Decodes a summary from exactly ``encodedSize`` bytes.
    package init(encoded raw: UnsafeRawBufferPointer) {
        precondition(raw.count == Self.encodedSize)
        self.init(registrationDay: 0)
        lastActiveMs = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: Int64.self))
        firstActiveMs = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: Int64.self))
        eventCount = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        withUnsafeMutableBytes(of: &kindCounts) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[20..<52])) }
        registrationDay = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 52, as: Int32.self))
        headDay = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 56, as: Int32.self))
        olderActiveDay = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 60, as: Int32.self))
        withUnsafeMutableBytes(of: &retention) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[64..<112])) }
        withUnsafeMutableBytes(of: &window) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[112..<144])) }
        withUnsafeMutableBytes(of: &dailyEvents) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[144..<256])) }
        withUnsafeMutableBytes(of: &dailyPurchases) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[256..<312])) }
        withUnsafeMutableBytes(of: &loginRetention) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[312..<360])) }
    }
}
