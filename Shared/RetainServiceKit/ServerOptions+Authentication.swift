import Foundation
public import Logging
public import RetainAuth

extension ServerOptions {
    /// The environment variable that turns credential checks off like `--insecure-no-auth`.
    public static let insecureEnvironmentVariable = "RETAIN_INSECURE_NO_AUTH"

    /// Whether credential checks are off: `--insecure-no-auth` or `RETAIN_INSECURE_NO_AUTH=1`.
    public var authenticationDisabled: Bool {
        insecureNoAuth || ProcessInfo.processInfo.environment[Self.insecureEnvironmentVariable] == "1"
    }

    /// The shared secret (from `--service-secret-file` or `RETAIN_SERVICE_SECRET`); nil when
    /// credential checks are off. Throws when checks are on and no secret is configured, so that
    /// an executable never serves unprotected by accident.
    public func serviceSecret() throws(AuthError) -> ServiceSecret? {
        if authenticationDisabled { return nil }
        guard let secret = try ServiceSecret.load(file: serviceSecretFile) else {
            throw AuthError(
                """
                no service secret: give --service-secret-file PATH or set \(ServiceSecret.environmentVariable) \
                (at least \(ServiceSecret.minimumLength) bytes), or --insecure-no-auth for local development only
                """)
        }
        return secret
    }

    /// Logs, loudly, that calls are not checked.
    public static func warnInsecure(_ logger: Logger, name: String) {
        logger.critical(
            """
            INSECURE: \(name) accepts every call without a credential (--insecure-no-auth or \
            \(insecureEnvironmentVariable)=1). Never run this way outside local development.
            """)
    }

    /// Rotates `verifier` (and `minter`, for a process that mints tokens) to the secret in
    /// `--service-secret-file` whenever the file changes or on SIGHUP, the previous secret staying
    /// valid for `--secret-grace-ms`; nil when the secret does not come from a file.
    public func secretSource(rotating verifier: TokenVerifier, minter: TokenMinter? = nil) -> CredentialReloader.Source? {
        guard let file = serviceSecretFile, !authenticationDisabled else { return nil }
        let grace = secretGraceMilliseconds
        return .init(name: "service_secret", files: [file]) {
            guard let secret = try ServiceSecret.load(file: file, environment: [:]) else {
                throw AuthError("\(file) holds no secret")
            }
            verifier.rotate(to: secret, graceMs: grace)
            minter?.rotate(to: secret)
        }
    }
}
