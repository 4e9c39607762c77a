/// The `grpc-timeout` header of a gRPC request: at most 8 ASCII digits and a unit
/// (`H` hours, `M` minutes, `S` seconds, `m` milliseconds, `u` microseconds, `n` nanoseconds).
///
/// ```
/// grpc-timeout: 1500m      -> 1.5 s
/// grpc-timeout: 20S        -> 20 s
/// ```
enum GRPCTimeout {
    /// The duration `text` says, or nil when it is not a valid `grpc-timeout` value.
    static func parse(_ text: String) -> Duration? {
        let utf8 = Array(text.utf8)
        guard (2...9).contains(utf8.count), let unit = utf8.last else { return nil }
        var amount: Int64 = 0
        for digit in utf8.dropLast() {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
            amount = amount * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        switch unit {
        case UInt8(ascii: "H"): return .seconds(amount * 3600)
        case UInt8(ascii: "M"): return .seconds(amount * 60)
        case UInt8(ascii: "S"): return .seconds(amount)
        case UInt8(ascii: "m"): return .milliseconds(amount)
        case UInt8(ascii: "u"): return .microseconds(amount)
        case UInt8(ascii: "n"): return .nanoseconds(amount)
        default: return nil
        }
    }
}
