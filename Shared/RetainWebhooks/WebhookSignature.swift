import Crypto

/// The signature of a delivery, Stripe-style (docs/WEBHOOKS.md):
///
///     Retain-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
///
/// The key is the subscription's secret as UTF-8 bytes (the whole string, "whsec_" included);
/// the message is the decimal timestamp, one '.', and the body's bytes exactly as sent. A
/// receiver recomputes the HMAC, compares it in constant time and refuses timestamps too far
/// from its clock (replays).
public enum WebhookSignature {
    /// The header that carries the signature.
    public static let header = "Retain-Signature"
    /// The header that carries the delivery id.
    public static let deliveryIDHeader = "Retain-Delivery-Id"
    /// The header that carries the event type.
    public static let eventTypeHeader = "Retain-Event-Type"
    /// The header that carries the attempt number (1 for the first).
    public static let attemptHeader = "Retain-Attempt"

    /// HMAC-SHA256 of "`timestamp`.`body`" under `secret`, in lower-case hex.
    public static func hmacHex(body: some Collection<UInt8>, secret: String, timestamp: Int64) -> String {
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8)))
        return code.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The header value: `t=<timestamp>,v1=<hex>`.
    public static func sign(body: some Collection<UInt8>, secret: String, timestamp: Int64) -> String {
        "t=\(timestamp),v1=\(hmacHex(body: body, secret: secret, timestamp: timestamp))"
    }

    /// Whether `value` (a header as ``sign(body:secret:timestamp:)`` writes it) signs `body`
    /// under `secret` with a timestamp within `toleranceSeconds` of `now` (Unix seconds).
    public static func verify(
        _ value: String, body: some Collection<UInt8>, secret: String, now: Int64, toleranceSeconds: Int64 = 300
    ) -> Bool {
        var timestamp: Int64?
        var signatures: [String] = []
        for part in value.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int64(pair[1]) }
            if pair[0] == "v1" { signatures.append(String(pair[1])) }
        }
        guard let timestamp, abs(now - timestamp) <= toleranceSeconds else { return false }
        let expected = Array(hmacHex(body: body, secret: secret, timestamp: timestamp).utf8)
        return signatures.contains { candidate in
            let given = Array(candidate.utf8)
            guard given.count == expected.count else { return false }
            var difference: UInt8 = 0
            for index in given.indices { difference |= given[index] ^ expected[index] }
            return difference == 0
        }
    }
}
