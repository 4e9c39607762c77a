/// What a call of one method must carry.
public enum MethodAccess: Sendable, Hashable {
    /// Nothing: health probes.
    case open
    /// Any valid credential, whatever its scopes (reflection).
    case authenticated
    /// A credential whose scopes allow this one.
    case scope(ScopeSet)
}
