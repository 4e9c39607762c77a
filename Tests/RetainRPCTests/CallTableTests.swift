@testable import RetainRPC
import Testing

/// The client connection's table of calls in flight, alone, against a Dictionary as the model.
@Suite("client call table")
struct CallTableTests {
    @Test("inserts, finds, updates in place and removes calls as a Dictionary would, through growth and wrapped ids")
    func matchesDictionary() {
        var table = CallTable<Int>()
        var model: [UInt32: Int] = [:]
        var generator = SystemRandomNumberGenerator()
        // Consecutive ids as a connection assigns them, with a window of calls in flight that
        // grows past the initial slots, plus ids near the top of the range.
        var next: UInt32 = UInt32.max - 300
        for step in 0..<20_000 {
            if Int.random(in: 0..<3, using: &generator) > 0 || model.isEmpty {
                next &+= 1
                if next == 0 { next = 1 }
                table.insert(step, for: next)
                model[next] = step
            } else {
                let victim = model.keys.randomElement(using: &generator)!
                #expect(table.remove(victim) == model.removeValue(forKey: victim))
            }
            if step % 97 == 0, let some = model.keys.first {
                table.update(some) { $0 += 1 }
                model[some]! += 1
            }
            #expect(table.count == model.count)
        }
        for (id, value) in model { #expect(table[id] == value) }
        #expect(table[next &+ 1] == nil && table.remove(next &+ 1) == nil && !table.update(next &+ 1) { _ in })
        #expect(table[0] == nil && !table.contains(0))
    }

    @Test("removeAll(where:) takes exactly the matching calls and leaves the rest findable")
    func removeAllWhere() {
        var table = CallTable<String>()
        for id in UInt32(1)...100 { table.insert("call \(id)", for: id) }
        let removed = table.removeAll(where: { $0 > 60 })
        #expect(Set(removed.map(\.id)) == Set(UInt32(61)...100))
        #expect(removed.allSatisfy { $0.value == "call \($0.id)" })
        #expect(table.count == 60)
        for id in UInt32(1)...60 { #expect(table[id] == "call \(id)") }
        for id in UInt32(61)...100 { #expect(!table.contains(id)) }
        let rest = table.removeAll()
        #expect(rest.count == 60 && table.isEmpty && table[1] == nil)
        table.insert("again", for: 1)
        #expect(table[1] == "again")
    }
}
