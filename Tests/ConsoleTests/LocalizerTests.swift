import ConsoleCore
import Testing

/// The interface is in English and Chinese: every text in both, or the test fails.
@Suite struct LocalizerTests {
    @Test(arguments: Language.allCases)
    func everyKeyHasATextInEveryLanguage(language: Language) throws {
        let table = try #require(Localizer.tables[language])
        let missing = TextKey.allCases.filter { (table[$0] ?? "").isEmpty }
        #expect(missing.isEmpty, "missing in \(language): \(missing)")
    }

    @Test func chineseTextIsChinese() throws {
        let table = try #require(Localizer.tables[.zh])
        // Every Chinese text holds a CJK character, but the language switch's own label
        // ("English") and texts that are only codes.
        let latinOnly = TextKey.allCases.filter { key in
            !(table[key] ?? "").unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }
        }
        #expect(latinOnly == [.otherLanguage])
        #expect(Localizer(.zh)[.navOverview] == "总览")
        #expect(Localizer(.en)[.navOverview] == "Overview")
    }

    @Test func acceptLanguagePicksTheBestOfOurs() {
        #expect(Language(acceptLanguage: "zh-CN,zh;q=0.9,en;q=0.8") == .zh)
        #expect(Language(acceptLanguage: "en-US,en;q=0.9,zh;q=0.8") == .en)
        #expect(Language(acceptLanguage: "fr-FR,zh-TW;q=0.5") == .zh)
        #expect(Language(acceptLanguage: "de") == .en)
        #expect(Language(acceptLanguage: "zh;q=0, en;q=0.1") == .en)
        #expect(Language(acceptLanguage: nil) == .en)
    }

    @Test func pagesCarryTheirLanguage() {
        let page = SignInPage.render(PageContext(language: .zh, session: nil, path: "/signin"), failed: true)
        #expect(page.contains("<html lang=\"zh-CN\">"))
        #expect(page.contains("API 密钥无效。"))
        #expect(page.contains(">English</button>"))
    }
}
