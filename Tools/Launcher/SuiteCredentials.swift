import Foundation
import RetainAuth

/// The credentials `retain up` gives the suite, kept in `<data>/secrets` (mode 0700, files 0600)
/// and made on first start: the service secret every process signs and checks tokens with, the
/// gateway's API key file, and the admin API key that the key file holds the hash of.
struct SuiteCredentials {
    /// The secret's file (64 hex digits).
    let secretFile: URL
    /// The gateway's key file.
    let keysFile: URL
    /// The admin key, for the operator.
    let adminKeyFile: URL
    /// The secret's text, passed to every child as `RETAIN_SERVICE_SECRET`.
    let secret: String

    /// Loads the credentials under `data`, making what is missing.
    static func prepare(data: URL) throws -> SuiteCredentials {
        let directory = data.appendingPathComponent("secrets")
        let files = FileManager.default
        try files.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        let secretFile = directory.appendingPathComponent("service-secret")
        let keysFile = directory.appendingPathComponent("api-keys.json")
        let adminKeyFile = directory.appendingPathComponent("admin.key")
        if !files.fileExists(atPath: secretFile.path) {
            try writePrivate(ServiceSecret.generateText() + "\n", to: secretFile)
        }
        if !files.fileExists(atPath: keysFile.path) {
            // The operator's own key drives demos and load tests: a generous limit of its own
            // (other keys get the gateway's default, RateLimiter.Limit.default).
            let (key, entry) = APIKeyStore.makeKey(
                id: "admin", scopes: .admin,
                rateLimit: RateLimiter.Limit(perSecond: 100_000, burst: 200_000))
            try writePrivate(key + "\n", to: adminKeyFile)
            try writePrivate("{\"keys\": [\n  \(entry.json)\n]}\n", to: keysFile)
        }
        let secret = try String(contentsOf: secretFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try ServiceSecret(secret)
        return SuiteCredentials(secretFile: secretFile, keysFile: keysFile, adminKeyFile: adminKeyFile, secret: secret)
    }

    /// Writes `text` to a new file readable by its owner only.
    private static func writePrivate(_ text: String, to file: URL) throws {
        guard
            FileManager.default.createFile(
                atPath: file.path, contents: Data(text.utf8),
                attributes: [.posixPermissions: 0o600])
        else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
        }
    }
}
