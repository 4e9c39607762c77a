import Crypto
public import Foundation

/// The secret shared by the gateway and every service, with which service tokens are signed.
///
/// Its bytes are the UTF-8 bytes of the text in the secret file or in `RETAIN_SERVICE_SECRET`,
/// without surrounding whitespace; at least 32 bytes (`retain up` writes 64 hex digits).
/// Never logged: its description says only its length.
public struct ServiceSecret: Sendable, CustomStringConvertible {
    /// The environment variable that may hold the secret.
    public static let environmentVariable = "RETAIN_SERVICE_SECRET"
    /// Fewest bytes accepted.
    public static let minimumLength = 32

    private let bytes: [UInt8]
    /// The HMAC key.
    var key: SymmetricKey { SymmetricKey(data: bytes) }

    /// A secret of the given text; throws when it is shorter than ``minimumLength`` bytes.
    public init(_ text: String) throws(AuthError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count >= Self.minimumLength else {
            throw AuthError("service secret too short: \(trimmed.utf8.count) bytes, at least \(Self.minimumLength) needed")
        }
        bytes = Array(trimmed.utf8)
    }

    /// Reads the secret from `file`, or else from the environment variable; nil when neither is set.
    public static func load(
        file: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    )
        throws(AuthError) -> ServiceSecret?
    {
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw AuthError("cannot read the service secret file \(file): \(error.localizedDescription)")
            }
            return try ServiceSecret(text)
        }
        if let text = environment[environmentVariable], !text.isEmpty { return try ServiceSecret(text) }
        return nil
    }

    /// A new random secret: 32 random bytes as 64 hex digits.
    public static func generateText() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.hex((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    public var description: String { "ServiceSecret(\(bytes.count) bytes)" }
}

/// A credential or key file that cannot be used; the message never holds secret material.
public struct AuthError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
