import Foundation

/// The page token of a list merged from several shards: where each shard's list stands.
///
/// A shard is either not started (its first page comes next), at one of its own page tokens, or
/// done. The token is opaque to callers:
///
/// ```
/// m1.<base64url, no padding, of one line per shard in ring order: "<shard id> <position>">
///     <position> = "-"  not started
///                  "="  done
///                  ">" + the shard's own page token
/// ```
///
/// A token names its shards, so one issued before the shards changed is refused rather than
/// skipping or repeating users.
public struct ShardCursor: Sendable, Equatable {
    /// Where one shard's list stands.
    public enum Position: Sendable, Equatable {
        /// Its first page comes next.
        case start
        /// Its next page starts at this token of its own.
        case at(String)
        /// It has nothing more.
        case done

        /// The token to ask the shard with (empty for the first page); nil when done.
        public var token: String? {
            switch self {
            case .start: ""
            case .at(let token): token
            case .done: nil
            }
        }
    }

    /// The shard ids, in ring order.
    public let shards: [String]
    /// Each shard's position, in the order of ``shards``.
    public var positions: [Position]

    /// A cursor before the first page: every shard not started.
    public init(shards: [String]) {
        self.shards = shards
        self.positions = Array(repeating: .start, count: shards.count)
    }

    /// Reads a caller's page token for `shards`; an empty token is the first page.
    public init(decoding text: String, shards: [String]) throws(ShardMergeError) {
        self.init(shards: shards)
        guard !text.isEmpty else { return }
        guard text.hasPrefix("m1."), let data = Self.base64URLDecoded(String(text.dropFirst(3))),
            let body = String(data: data, encoding: .utf8)
        else {
            throw .invalidPageToken("malformed page token")
        }
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == shards.count else {
            throw .invalidPageToken("the page token was issued for another set of shards")
        }
        for (index, line) in lines.enumerated() {
            guard let space = line.firstIndex(of: " ") else { throw .invalidPageToken("malformed page token") }
            guard line[..<space] == shards[index] else {
                throw .invalidPageToken("the page token was issued for another set of shards")
            }
            let position = line[line.index(after: space)...]
            switch position.first {
            case "-" where position.count == 1: positions[index] = .start
            case "=" where position.count == 1: positions[index] = .done
            case ">" where position.count > 1: positions[index] = .at(String(position.dropFirst()))
            default: throw .invalidPageToken("malformed page token")
            }
        }
    }

    /// True when every shard is done: the list is over.
    public var isDone: Bool { positions.allSatisfy { $0 == .done } }

    /// The token for the caller: empty when the list is over.
    public var encoded: String {
        guard !isDone else { return "" }
        let body = zip(shards, positions).map { shard, position in
            switch position {
            case .start: "\(shard) -"
            case .done: "\(shard) ="
            case .at(let token): "\(shard) >\(token)"
            }
        }.joined(separator: "\n")
        return "m1."
            + Data(body.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func base64URLDecoded(_ text: String) -> Data? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !standard.contains("=") else { return nil }
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Data(base64Encoded: standard)
    }
}
