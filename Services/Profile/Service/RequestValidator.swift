import ProfileCore
package import RetainProto
package import RetainWire

/// Checks requests against the conventions of `common.proto` and the rules of `profile.proto`,
/// throwing INVALID_ARGUMENT that names the offending field (`details["field"]` carries its path).
package struct RequestValidator: Sendable {
    /// The server's clock, Unix ms.
    package let now: Int64
    /// How far in the future a client time may lie, ms.
    package let maximumClockSkew: Int64

    package init(now: Int64, maximumClockSkew: Int64) {
        self.now = now
        self.maximumClockSkew = maximumClockSkew
    }

    /// Largest amount accepted: 2^53, so that sums cannot overflow.
    package static let maximumAmount: Int64 = 1 << 53

    /// Most conditions of each kind (attributes_equal, attribute_ranges) in one segment filter,
    /// since every condition is evaluated against every user a segment query scans.
    package static let maximumConditions = 100

    // MARK: Fields

    /// A required entity id.
    package func entityID(_ value: String, _ field: String) throws(RPCError) {
        try FieldFormat.requireEntityID(value, field: field)
    }

    /// An optional entity id.
    package func optionalEntityID(_ value: String, _ field: String) throws(RPCError) {
        if !value.isEmpty { try entityID(value, field) }
    }

    /// A required client-chosen key.
    package func clientKey(_ value: String, _ field: String) throws(RPCError) {
        guard !value.isEmpty else { throw RPCError.invalidArgument(field: field, "is required") }
        guard FieldFormat.isClientKey(value) else {
            throw RPCError.invalidArgument(field: field, "must be 1 to 256 printable ASCII characters without spaces")
        }
    }

    /// A required name.
    package func name(_ value: String, _ field: String) throws(RPCError) {
        guard !value.isEmpty else { throw RPCError.invalidArgument(field: field, "is required") }
        guard FieldFormat.isName(value) else {
            throw RPCError.invalidArgument(
                field: field, "\(FieldFormat.quoted(value)) must be 1 to 64 lower-case ASCII letters, digits, '_', '.' or '-'")
        }
    }

    /// An optional name.
    package func optionalName(_ value: String, _ field: String) throws(RPCError) {
        if !value.isEmpty { try name(value, field) }
    }

    /// Free text of at most `limit` bytes; `required` when it may not be empty.
    package func text(_ value: String, _ field: String, limit: Int = 4096, required: Bool = false) throws(RPCError) {
        if required, value.isEmpty { throw RPCError.invalidArgument(field: field, "is required") }
        guard value.utf8.count <= limit else { throw RPCError.invalidArgument(field: field, "must be at most \(limit) bytes") }
    }

    /// An optional IANA time zone.
    package func timeZone(_ value: String, _ field: String) throws(RPCError) {
        guard !value.isEmpty else { return }
        guard ZoneCalendar.named(value) != nil else {
            throw RPCError.invalidArgument(field: field, "unknown IANA time zone \(FieldFormat.quoted(value))")
        }
    }

    /// A client time: not negative, and not beyond the clock skew allowance in the future.
    package func clientTime(_ value: Int64, _ field: String) throws(RPCError) {
        guard value >= 0 else { throw RPCError.invalidArgument(field: field, "must not be negative") }
        guard value <= now + maximumClockSkew else {
            throw RPCError.invalidArgument(field: field, "\(value) lies more than \(maximumClockSkew) ms in the future")
        }
    }

    /// An as-of time: not negative.
    package func asOf(_ value: Int64, _ field: String = "as_of_ms") throws(RPCError) {
        guard value >= 0 else { throw RPCError.invalidArgument(field: field, "must not be negative") }
    }

    /// Free-form attributes: at most `maximumKeys` keys (names), values at most `valueLimit` bytes.
    package func attributes(
        _ values: [String: String], _ field: String, maximumKeys: Int = 100, valueLimit: Int = 1024
    )
        throws(RPCError)
    {
        guard values.count <= maximumKeys else {
            throw RPCError.invalidArgument(field: field, "at most \(maximumKeys) keys are allowed, not \(values.count)")
        }
        for (key, value) in values {
            guard FieldFormat.isName(key) else {
                throw RPCError.invalidArgument(
                    field: "\(field)[\(FieldFormat.shortened(key))]",
                    "key \(FieldFormat.quoted(key)) must be a name (1 to 64 of a-z, 0-9, '_', '.', '-')")
            }
            guard value.utf8.count <= valueLimit else {
                throw RPCError.invalidArgument(field: "\(field)[\(key)]", "value must be at most \(valueLimit) bytes")
            }
        }
    }

    /// A list of names of `count` bounds.
    package func names(_ values: [String], _ field: String, count: ClosedRange<Int> = 0...100) throws(RPCError) {
        guard count.contains(values.count) else {
            throw RPCError.invalidArgument(
                field: field, "must hold \(count.lowerBound) to \(count.upperBound) entries, not \(values.count)")
        }
        for (position, value) in values.enumerated() { try name(value, "\(field)[\(position)]") }
    }

    /// A page request; returns the page size (0 means 50).
    package func page(_ page: Retain_V1_PageRequest?) throws(RPCError) -> Int {
        let size = Int(page?.pageSize ?? 0)
        guard size <= 1000 else { throw RPCError.invalidArgument(field: "page.page_size", "must be at most 1000, not \(size)") }
        return size == 0 ? 50 : size
    }

    /// A time range whose end, when both are set, lies after its start.
    package func range(_ range: Retain_V1_TimeRange?, _ field: String) throws(RPCError) {
        guard let range else { return }
        guard range.startMs >= 0, range.endMs >= 0 else { throw RPCError.invalidArgument(field: field, "times must not be negative") }
        if range.startMs != 0, range.endMs != 0, range.endMs <= range.startMs {
            throw RPCError.invalidArgument(field: "\(field).end_ms", "must be greater than start_ms")
        }
    }

    /// A known gender.
    package func gender(_ value: Retain_V1_Gender, _ field: String) throws(RPCError) {
        guard value.protoValueName != nil else { throw RPCError.invalidArgument(field: field, "unknown gender \(value.rawValue)") }
    }

    /// An age: 0 (unknown) or 1 to 150.
    package func age(_ value: UInt32, _ field: String) throws(RPCError) {
        guard value <= 150 else { throw RPCError.invalidArgument(field: field, "must be 1 to 150 (0 for unknown), not \(value)") }
    }

    /// A contact channel other than UNSPECIFIED.
    package func channel(_ value: Retain_V1_ContactChannel, _ field: String) throws(RPCError) {
        guard value != .unspecified, value.protoValueName != nil else {
            throw RPCError.invalidArgument(field: field, "must be a contact channel (sms, push, email, in_app or call)")
        }
    }
}
