import Glibc
import RetainState
import Synchronization
import Testing

@Suite("Restore workers: work on other threads, results back in order")
struct RestoreWorkerTests {
    @Test("a pipeline hands its outputs back in the order the inputs were submitted, however many wait")
    func pipelineOrder() {
        let pipeline = RestorePipeline<Int, [Int]> { value in
            // Uneven work, so that a later input could finish first if order were not kept.
            var sum = 0
            for step in 0..<((value % 7) * 1_000) { sum &+= step }
            return [value, sum & 0]
        }
        var taken: [Int] = []
        for value in 0..<200 {
            pipeline.submit(value)
            #expect(pipeline.pending == value + 1 - taken.count)
            if value % 3 == 0 { taken.append(pipeline.next()[0]) }
        }
        while pipeline.pending > 0 { taken.append(pipeline.next()[0]) }
        #expect(taken == Array(0..<200))
        #expect(!pipeline.hasOutput)
    }

    @Test("a pipeline dropped with inputs waiting stops its thread without working through them")
    func pipelineDropped() async throws {
        let ran = Mutex(0)
        do {
            let pipeline = RestorePipeline<Int, Int> { value in
                usleep(2_000)
                ran.withLock { $0 += 1 }
                return value
            }
            for value in 0..<50 { pipeline.submit(value) }
            #expect(pipeline.next() == 0)
        }
        // The thread was stopped and joined when the pipeline went: the inputs left were dropped.
        let after = ran.withLock { $0 }
        #expect(after >= 1 && after < 50)
        try await Task.sleep(for: .milliseconds(50))
        #expect(ran.withLock { $0 } == after)
    }

    @Test("a worker hands back its result, the same on every join")
    func worker() {
        var input = [Int](0..<1_000)
        input.reverse()
        let worker = RestoreWorker(input) { (values: consuming [Int]) -> [Int] in
            values.sort()
            return values
        }
        #expect(worker.join() == Array(0..<1_000))
        #expect(worker.join() == Array(0..<1_000))
        #expect(input.first == 999)
    }
}
