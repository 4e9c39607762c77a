import ArgumentParser
import RetainAuth

/// `retain-gateway make-key`: makes a new API key, prints it once and the entry to add to the
/// key file (which holds only its hash).
struct MakeKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-key", abstract: "Make a new API key: print the key once, and its entry for the key file.")

    @Option(help: "The key's id, logged in its place ([A-Za-z0-9_-], up to 64).")
    var id: String

    @Option(help: "Comma-separated scopes: admin, <service>:read, <service>:write (service: \(ScopeSet.services.joined(separator: ", "))).")
    var scopes: String

    @Option(name: .customLong("rate"), help: "Calls per second allowed (default: the gateway's default).")
    var rate: Double?

    @Option(help: "Burst of calls allowed (default: twice the rate).")
    var burst: Double?

    func validate() throws {
        guard ServiceToken.isValidName(id) else { throw ValidationError("--id must be 1 to 64 of A-Z a-z 0-9 _ -") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
    }

    func run() throws {
        let scopes: ScopeSet
        do {
            scopes = try ScopeSet(parsing: self.scopes)
        } catch {
            throw ValidationError(error.description)
        }
        let limit = rate.map { RateLimiter.Limit(perSecond: $0, burst: burst ?? max(1, 2 * $0)) }
        let (key, entry) = APIKeyStore.makeKey(id: id, scopes: scopes, rateLimit: limit)
        print("key (shown once; callers send authorization \"ApiKey <key>\"):")
        print(key)
        print("entry for the \"keys\" array of the API key file:")
        print(entry.json)
    }
}
