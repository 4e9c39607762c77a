import RetainProto
import Testing

/// `FieldFormat.isClientKey` has a `String` fast path (over its contiguous UTF-8) beside the
/// generic one: both must say the same for every input.
@Suite("client keys")
struct ClientKeyTests {
    static let samples: [String] = [
        "", "a", "transfer-1", "user:u7:points", "~!#$%^&*()_+{}|<>?", String(repeating: "k", count: 256),
        String(repeating: "k", count: 257), "has space", "tab\there", "new\nline", "del\u{7F}", "nul\u{0}",
        "é", "gift-é", "生日", "emoji-🙂", " leading", "trailing ", "\u{21}", "\u{7E}",
    ]

    @Test("the String check agrees with the generic one, and with the rule", arguments: samples)
    func agrees(_ text: String) {
        let generic = FieldFormat.isClientKey(text[...])
        #expect(FieldFormat.isClientKey(text) == generic)
        let rule = !text.utf8.isEmpty && text.utf8.count <= 256 && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        #expect(generic == rule)
    }

    @Test("a bridged or sliced String is checked the same")
    func nonNative() {
        let long = String(repeating: "x", count: 300)
        let slice = String(long.prefix(256))
        #expect(FieldFormat.isClientKey(slice))
        #expect(!FieldFormat.isClientKey(long))
        #expect(FieldFormat.isClientKey(String(long.prefix(1))))
    }
}
