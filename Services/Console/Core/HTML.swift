/// Escaping for every value a page puts into HTML: text between tags and attribute values.
///
/// Pages are built as strings, so one function decides what a value may contain. It escapes the
/// five characters that can end a text node or an attribute (`&`, `<`, `>`, `"`, `'`), which is
/// enough for both places as long as attributes are always quoted (the pages quote them with
/// `"`). Values are never put into `<script>`, `<style>` or URL schemes: the console has no
/// JavaScript, and links carry values only in their query, percent-encoded by ``query(_:)``.
public enum HTML {
    /// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references.
    public static func escape(_ text: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A query component: every byte but unreserved characters (RFC 3986 section 2.3)
    /// percent-encoded, so a user id with `&`, `#` or spaces stays one parameter.
    public static func query(_ text: some StringProtocol) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0x0F)]))
            }
        }
        return out
    }
}
