public import RetainProto

extension RuleSetHistory {
    /// What a set decided: a new version to log, or the newest version that it repeats.
    public enum Plan: Sendable, Equatable {
        /// Log this version (``apply(_:)`` adds it).
        case add(Retain_V1_RuleSetVersion)
        /// The newest version already says this: nothing to log (a retry converges).
        case unchanged(Retain_V1_RuleSetVersion)

        /// The version the caller is answered with.
        public var version: Retain_V1_RuleSetVersion {
            switch self {
            case .add(let version), .unchanged(let version): version
            }
        }
    }

    /// Most bytes of a reason.
    public static var maximumReasonBytes: Int { 1024 }

    /// Validates `document` with the service's checks and plans the next version.
    ///
    /// - Parameters:
    ///   - document: the document as sent; stored in canonical form.
    ///   - author: who writes it (the caller's key id).
    ///   - reason: why; required.
    ///   - effectiveFromMs: when it takes effect; 0 for at once (`now`).
    ///   - now: the write's clock time.
    /// - Throws: ``RuleSetError``: the document's first bad entry, or a bad request field.
    public func planSet(
        document: [UInt8], author: String, reason: String, effectiveFromMs: Int64, now: Int64
    ) throws(RuleSetError) -> Plan {
        try Self.check(reason: reason, effectiveFromMs: effectiveFromMs)
        let canonical = try RuleSetDocument.canonical(document)
        _ = try Rules(ruleSetDocument: canonical)
        if let latest, latest.document == canonical, latest.reason == reason, latest.rollbackOf == 0,
            effectiveFromMs == 0 ? latest.effectiveFromMs == latest.createdAtMs : latest.effectiveFromMs == effectiveFromMs
        {
            return .unchanged(latest)
        }
        return .add(next(document: canonical, author: author, reason: reason, effectiveFromMs: effectiveFromMs, now: now))
    }

    /// Plans a version that restores version `target`'s document.
    /// - Throws: ``RuleSetError/versionNotFound(ruleSet:version:)``, or a bad request field.
    public func planRollback(
        to target: UInt64, author: String, reason: String, effectiveFromMs: Int64, now: Int64
    ) throws(RuleSetError) -> Retain_V1_RuleSetVersion {
        guard target != 0 else { throw RuleSetError.invalid(field: "to_version", reason: "is required") }
        guard let old = version(target) else { throw RuleSetError.versionNotFound(ruleSet: name, version: target) }
        let reason = reason.isEmpty ? "rollback to version \(target)" : reason
        try Self.check(reason: reason, effectiveFromMs: effectiveFromMs)
        var version = next(document: old.document, author: author, reason: reason, effectiveFromMs: effectiveFromMs, now: now)
        version.rollbackOf = target
        return version
    }

    /// The first version, from the configuration file: in force from `now`.
    public func planFirst(document: [UInt8], reason: String, now: Int64) throws(RuleSetError) -> Retain_V1_RuleSetVersion {
        let canonical = try RuleSetDocument.canonical(document)
        _ = try Rules(ruleSetDocument: canonical)
        return next(document: canonical, author: "file", reason: reason, effectiveFromMs: 0, now: now)
    }

    private func next(
        document: [UInt8], author: String, reason: String, effectiveFromMs: Int64, now: Int64
    ) -> Retain_V1_RuleSetVersion {
        Retain_V1_RuleSetVersion(
            ruleSet: name, version: UInt64(versions.count) + 1, author: author, reason: reason, createdAtMs: now,
            effectiveFromMs: effectiveFromMs == 0 ? now : effectiveFromMs, document: document)
    }

    private static func check(reason: String, effectiveFromMs: Int64) throws(RuleSetError) {
        guard !reason.isEmpty else { throw RuleSetError.invalid(field: "reason", reason: "is required") }
        guard reason.utf8.count <= maximumReasonBytes else {
            throw RuleSetError.invalid(field: "reason", reason: "must be at most \(maximumReasonBytes) bytes")
        }
        guard effectiveFromMs >= 0 else { throw RuleSetError.invalid(field: "effective_from_ms", reason: "must not be negative") }
    }
}
