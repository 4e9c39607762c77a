public import RetainProto

/// Page tokens: the position after the last item of a page, bound to the filters it was issued
/// for by a fingerprint, as `<fingerprint hex>.<position hex>`.
public enum PageCursor {
    /// The page size a request asks for: 0 means 50; above 1000 is `.invalid`.
    public static func pageSize(_ page: Retain_V1_PageRequest?) throws -> Int {
        let size = Int(page?.pageSize ?? 0)
        guard size <= 1000 else { throw LedgerError.invalid(field: "page.page_size", reason: "must be at most 1000") }
        return size == 0 ? 50 : size
    }

    /// A stable fingerprint of a query's filters (FNV-1a, 64 bits).
    public static func fingerprint(_ parts: [String]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for byte in part.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            hash = (hash ^ 0x1f) &* 0x100_0000_01b3
        }
        return hash
    }

    /// The token for the page after `position`.
    public static func token(fingerprint: UInt64, position: String) -> String {
        String(fingerprint, radix: 16) + "." + hex(Array(position.utf8))
    }

    /// The position a token carries, nil for no token; `.invalid` when malformed or
    /// issued for other filters.
    public static func position(_ page: Retain_V1_PageRequest?, fingerprint: UInt64) throws -> String? {
        guard let token = page?.pageToken, !token.isEmpty else { return nil }
        let invalid = LedgerError.invalid(field: "page.page_token", reason: "is malformed or was issued for other filters")
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, UInt64(parts[0], radix: 16) == fingerprint, parts[1].utf8.count % 2 == 0 else { throw invalid }
        var bytes: [UInt8] = []
        var iterator = parts[1].utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { throw invalid }
            bytes.append(value)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
