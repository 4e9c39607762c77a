import Crypto
package import RetainProto

/// An A/B experiment: its current variants and weights, every variant name it ever had (so an
/// assigned user keeps a variant a later definition dropped), and its assignments.
package struct Experiment: Sendable {
    /// Every variant name ever defined, in order of first definition.
    package var variantNames: [String] = []
    /// The definition the latest assignment used.
    package var variants: [Retain_V1_ExperimentVariant] = []
    /// The profile rule-set version `variants` came from; 0 for a definition AssignVariant made
    /// before experiments were configuration (kept until a rule set defines the experiment).
    package var definitionVersion: UInt64 = 0
    /// Assignments by user index.
    package var assignments: [Int32: Assignment] = [:]

    /// Adopts a new definition from rule-set version `version` (0: AssignVariant's own); names
    /// are added to ``variantNames``.
    package mutating func define(_ variants: [Retain_V1_ExperimentVariant], version: UInt64) {
        self.variants = variants
        definitionVersion = version
        for variant in variants where !variantNames.contains(variant.name) { variantNames.append(variant.name) }
    }

    /// The bucket of (experiment, user), 0 to 9999: the first 8 bytes of
    /// SHA-256("<experiment_id>:<user_id>") as a big-endian unsigned integer, modulo 10,000.
    package static func bucket(experimentID: String, userID: String) -> UInt32 {
        let digest = SHA256.hash(data: Array("\(experimentID):\(userID)".utf8))
        var value: UInt64 = 0
        for byte in digest.prefix(8) { value = value << 8 | UInt64(byte) }
        return UInt32(value % 10_000)
    }

    /// The variant whose bucket range holds `bucket`: variants take consecutive ranges in order,
    /// variant i ending at floor(10,000 x (sum of weights up to i) / total weight).
    package static func variant(for bucket: UInt32, in variants: [Retain_V1_ExperimentVariant]) -> String {
        let total = variants.reduce(UInt64(0)) { $0 + UInt64($1.weight) }
        guard total > 0 else { return variants.first?.name ?? "" }
        var cumulative: UInt64 = 0
        for variant in variants {
            cumulative += UInt64(variant.weight)
            if UInt64(bucket) < cumulative * 10_000 / total { return variant.name }
        }
        return variants.last(where: { $0.weight > 0 })?.name ?? ""
    }
}

/// One user's variant.
package struct Assignment: Sendable {
    /// Index into ``Experiment/variantNames``.
    package var variant: UInt32
    /// When the user was assigned, Unix ms.
    package var atMs: Int64
    /// Bit k: the user recorded an event of counted kind k (see ``ActivityKind``) that occurred
    /// at or after the assignment (a conversion for A/B results).
    package var converted: UInt8 = 0
}
