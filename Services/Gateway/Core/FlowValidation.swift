import RetainProto

/// Checks of request fields against common.proto's rules, failing with
/// ``FlowError/invalid(field:reason:)`` that names the field.
public enum FlowValidation {
    /// A client-chosen key: 1 to 256 bytes of printable ASCII without spaces.
    public static func key(_ value: String, field: String) throws(FlowError) {
        guard !value.isEmpty else { throw FlowError.invalid(field: field, reason: "is required") }
        guard value.utf8.count <= FlowKeys.maximumKeyBytes else {
            throw FlowError.invalid(field: field, reason: "is longer than 256 bytes")
        }
        guard FieldFormat.isClientKey(value) else {
            throw FlowError.invalid(field: field, reason: "must be printable ASCII without spaces")
        }
    }

    /// An entity id: 1 to 128 bytes of ASCII letters, digits and `.`, `_`, `-`, `@`.
    public static func entityID(_ value: String, field: String) throws(FlowError) {
        if let problem = FieldFormat.entityIDProblem(value) { throw FlowError.invalid(field: field, reason: problem) }
    }

    /// A name: 1 to 64 bytes of lower-case ASCII letters, digits and `_`, `.`, `-`.
    public static func name(_ value: String, field: String) throws(FlowError) {
        guard !value.isEmpty else { throw FlowError.invalid(field: field, reason: "is required") }
        guard value.utf8.count <= 64 else { throw FlowError.invalid(field: field, reason: "is longer than 64 bytes") }
        guard FieldFormat.isName(value) else {
            throw FlowError.invalid(field: field, reason: "may hold only lower-case ASCII letters, digits and _ . -")
        }
    }
}
