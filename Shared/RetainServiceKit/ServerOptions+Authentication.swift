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
            throw AuthError("""
                no service secret: give --service-secret-file PATH or set \(ServiceSecret.environmentVariable) \
                (at least \(ServiceSecret.minimumLength) bytes), or --insecure-no-auth for local development only
                """)
        }
        return secret
    }

    /// Logs, loudly, that calls are not checked.
    public static func warnInsecure(_ logger: Logger, name: String) {
        logger.critical("""
            INSECURE: \(name) accepts every call without a credential (--insecure-no-auth or \
            \(insecureEnvironmentVariable)=1). Never run this way outside local development.
            """)
    }
}
