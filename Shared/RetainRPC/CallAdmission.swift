import NIOCore
import RetainAuth
import RetainProto
import RetainWire

/// Who may call on one connection: whether the connection has presented a valid credential,
/// the credential last verified (calls that repeat it skip verification while it is valid),
/// and the checks of each call: credential (UNAUTHENTICATED), method access
/// (PERMISSION_DENIED) and the authenticator's rate limit (RESOURCE_EXHAUSTED).
///
/// Without an authenticator every connection is admitted and no call is checked.
struct CallAdmission {
    let authenticator: (any CallAuthenticator)?
    /// Whether a call of this connection presented a valid credential (always, without checks).
    private(set) var isAdmitted: Bool
    /// The credential last verified on this connection, empty for none.
    private(set) var verifiedCredential: [UInt8] = []
    /// Its caller.
    private var verifiedCaller: Caller?

    init(authenticator: (any CallAuthenticator)?) {
        self.authenticator = authenticator
        self.isAdmitted = authenticator == nil
    }

    /// Checks one call of `method` under `access`; `credential` is the header's (nil: the same as
    /// the last verified one). Returns the verified caller, nil for an open method or without
    /// checks. A valid credential admits the connection, even when the call is then refused.
    mutating func check(credential: String?, access: MethodAccess, method: String) throws(RPCError) -> Caller? {
        guard let authenticator else { return nil }
        guard access != .open else {
            // An open method (Health) called with a valid credential admits the connection too;
            // without one it is served but does not keep the connection past the admission timeout.
            if !isAdmitted, let credential, !credential.isEmpty { _ = admit(credential: credential) }
            return nil
        }
        let verified = try authenticate(credential, with: authenticator)
        isAdmitted = true
        try access.check(verified, method: method)
        try authenticator.admit(verified, method: method)
        return verified
    }

    /// Checks the credential in the call header of a large REQUEST from a connection not yet
    /// admitted, before its body is buffered; true admits the connection.
    mutating func admit(callHeader: ByteBuffer) -> Bool {
        guard authenticator != nil else { return true }
        let credential: String? = callHeader.withUnsafeReadableBytes { raw in
            guard let scan = CallHeaderScan(raw), !scan.authorization.isEmpty else { return nil }
            return String(decoding: scan.authorization, as: UTF8.self)
        }
        guard let credential else { return false }
        return admit(credential: credential)
    }

    /// Verifies `credential` outside a call's own check and admits the connection when it is valid.
    private mutating func admit(credential: String) -> Bool {
        guard let authenticator, (try? authenticate(credential, with: authenticator)) != nil else { return false }
        isAdmitted = true
        return true
    }

    /// The caller of a call whose header carried `credential` (nil: the same as the last verified
    /// one on this connection), from that memo while it is valid, else from the authenticator.
    private mutating func authenticate(_ credential: String?, with authenticator: any CallAuthenticator) throws(RPCError) -> Caller {
        if credential == nil, let verifiedCaller,
            authenticator.nowMs() <= verifiedCaller.expiresAtMs &+ ServiceToken.clockSkewMs
        {
            return verifiedCaller
        }
        let text = credential ?? String(decoding: verifiedCredential, as: UTF8.self)
        verifiedCaller = nil
        verifiedCredential = []
        let caller = try authenticator.authenticate(text)
        verifiedCredential = Array(text.utf8)
        verifiedCaller = caller
        return caller
    }
}
