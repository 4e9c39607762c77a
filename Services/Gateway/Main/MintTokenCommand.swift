import ArgumentParser
import RetainAuth
import RetainServiceKit
import RetainClock

/// `retain-gateway mint-token`: signs a service token with the suite's secret, for an operator
/// who calls a service directly (`retain call --authorization "$(retain-gateway mint-token ...)"`).
struct MintTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mint-token",
        abstract: "Print 'Bearer <service token>' signed with the service secret, for calling a service directly.")

    @Option(name: .customLong("service-secret-file"), help: "File holding the service secret (default: $RETAIN_SERVICE_SECRET).")
    var serviceSecretFile: String?

    @Option(help: "Comma-separated scopes: admin, <service>:read, <service>:write.")
    var scopes: String

    @Option(help: "Who the token is for.")
    var subject: String = "operator"

    @Option(help: "Who minted it.")
    var issuer: String = "operator"

    @Option(name: .customLong("ttl-seconds"), help: "Lifetime in seconds (at most 86400).")
    var ttlSeconds: Int64 = 300

    func validate() throws {
        guard ServiceToken.isValidName(subject), ServiceToken.isValidName(issuer) else {
            throw ValidationError("--subject and --issuer must be 1 to 64 of A-Z a-z 0-9 _ -")
        }
        guard (1...86_400).contains(ttlSeconds) else { throw ValidationError("--ttl-seconds must be 1 to 86400") }
    }

    func run() throws {
        guard let secret = try ServiceSecret.load(file: serviceSecretFile) else {
            throw ValidationError("no service secret: give --service-secret-file or set \(ServiceSecret.environmentVariable)")
        }
        let scopes: ScopeSet
        do {
            scopes = try ScopeSet(parsing: self.scopes)
        } catch {
            throw ValidationError(error.description)
        }
        let token = ServiceToken(
            issuer: issuer, subject: subject, scopes: scopes,
            expiresAtMs: WallClock.nowMs() + ttlSeconds * 1000)
        print("Bearer " + token.signed(with: secret))
    }
}
