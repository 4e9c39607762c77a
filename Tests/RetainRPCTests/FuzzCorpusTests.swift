import Foundation
import RetainFuzzTarget
import Testing

@Suite("fuzz corpus")
struct FuzzCorpusTests {
    @Test("every input the fuzzer kept decodes or is rejected without a crash")
    func replayCorpus() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus.path)
        #expect(files.count >= 6)
        for file in files {
            let data = try Data(contentsOf: corpus.appendingPathComponent(file))
            data.withUnsafeBytes { FuzzTarget.run($0) }
        }
    }
}
