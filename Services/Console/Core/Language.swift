/// The interface languages: English and Simplified Chinese (the seeds' operators write Chinese).
public enum Language: String, Sendable, CaseIterable, Hashable {
    /// English.
    case en
    /// Simplified Chinese.
    case zh

    /// The `lang` attribute of the page.
    public var htmlCode: String {
        switch self {
        case .en: "en"
        case .zh: "zh-CN"
        }
    }

    /// The language an `Accept-Language` header prefers among ours, by quality (RFC 9110
    /// section 12.5.4); English when it names neither or is absent.
    public init(acceptLanguage header: String?) {
        guard let header else {
            self = .en
            return
        }
        var best: (language: Language, quality: Double)?
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";")
            let tag = parts[0].trimmingWhitespace().lowercased()
            var quality = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.trimmingWhitespace()
                if pair.hasPrefix("q="), let value = Double(pair.dropFirst(2)) { quality = value }
            }
            let language: Language? =
                tag == "zh" || tag.hasPrefix("zh-") ? .zh : (tag == "en" || tag.hasPrefix("en-") ? .en : nil)
            guard let language, quality > 0 else { continue }
            if best == nil || quality > best!.quality { best = (language, quality) }
        }
        self = best?.language ?? .en
    }
}
