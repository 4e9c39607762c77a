@testable import GrowthCore
import Testing

@Suite("order-statistics list")
struct OrderStatisticsListTests {
    /// Where `value` is or would go in the sorted `reference`.
    func insertionIndex(_ value: Int, in reference: [Int]) -> Int {
        var low = 0
        var high = reference.count
        while low < high {
            let middle = (low + high) / 2
            if reference[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    @Test("random inserts and removes across many chunk splits agree with a sorted array")
    func matchesSortedArray() {
        var list = OrderStatisticsList<Int>()
        var reference: [Int] = []
        var random = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            if step % 3 == 2, !reference.isEmpty {
                let existing = reference[Int.random(in: 0..<reference.count, using: &random)]
                let removed = list.remove(existing)
                #expect(removed)
                reference.remove(at: insertionIndex(existing, in: reference))
            } else {
                let value = Int.random(in: 0..<20_000, using: &random)
                let index = insertionIndex(value, in: reference)
                let present = index < reference.count && reference[index] == value
                let inserted = list.insert(value)
                #expect(inserted == !present)
                if inserted { reference.insert(value, at: index) }
            }
        }
        #expect(list.count == reference.count)
        #expect(list.allElements == reference)
        for _ in 0..<500 {
            let position = Int.random(in: 0..<reference.count, using: &random)
            #expect(list.element(at: position) == reference[position])
            #expect(list.position(of: reference[position]) == position)
            let probe = Int.random(in: -10..<20_010, using: &random)
            #expect(list.lowerBound(probe) == insertionIndex(probe, in: reference))
        }
        #expect(list.elements(in: 100..<400) == Array(reference[100..<400]))
        #expect(list.elements(in: (reference.count - 5)..<(reference.count + 5)) == Array(reference.suffix(5)))
        let removedAbsent = list.remove(-1)
        #expect(!removedAbsent)
    }

    @Test("a bulk-built list behaves like one built by inserts")
    func bulk() {
        var list = OrderStatisticsList(sorted: 0..<5_000)
        #expect(list.count == 5_000 && list.element(at: 4_321) == 4_321)
        list.insert(-1)
        #expect(list.element(at: 0) == -1 && list.lowerBound(2_500) == 2_501)
        for value in 0..<5_000 { list.remove(value) }
        #expect(list.allElements == [-1])
    }
}
