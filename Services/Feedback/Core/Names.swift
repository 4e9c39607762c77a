/// The naming rules of common.proto.
public enum Names {
    /// Entity ids (users, teams, agents): 1 to 128 bytes of ASCII letters, digits and `.`, `_`,
    /// `-`, `@`.
    public static func isEntityID(_ text: String) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= 128 else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"),
                 UInt8(ascii: "@"): true
            default: false
            }
        }
    }

    /// Names (categories, channels, assets): 1 to 64 bytes of lower-case ASCII letters, digits and
    /// `_`, `.`, `-`.
    public static func isName(_ text: String) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): true
            default: false
            }
        }
    }

    /// Client-chosen keys (request ids, transfer ids): 1 to 256 bytes of printable ASCII without
    /// spaces.
    public static func isKey(_ text: String) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= 256 else { return false }
        return bytes.allSatisfy { $0 > 0x20 && $0 < 0x7f }
    }
}
