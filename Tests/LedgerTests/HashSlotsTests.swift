@testable import LedgerCore
import Testing

/// The open-addressing table behind the ledger's id indexes: what it finds after any mix of
/// inserts and removals is what a dictionary would find, including long probe runs that wrap
/// around the end of the table.
@Suite("id tables")
struct HashSlotsTests {
    @Test("random inserts and removals, with hashes crowded on few home slots, match a dictionary")
    func matchesDictionary() {
        var random = SystemRandomNumberGenerator()
        for (crowding, steps) in [(UInt64.max, 20_000), (0xFF, 5_000), (0x3, 1_500)] {
            var table = HashSlots()
            var reference: [UInt64: Int32] = [:]
            var stored: [UInt64] = []
            for step in 0..<steps {
                // Few distinct low bits force collisions on home slots and long runs.
                let hash = (random.next() & ~UInt64(0xFFFF)) | (UInt64(step % 7919) & crowding)
                if Bool.random(using: &random), !stored.isEmpty {
                    let position = Int.random(in: 0..<stored.count, using: &random)
                    stored.swapAt(position, stored.count - 1)
                    let victim = stored.removeLast()
                    table.remove(victim)
                    reference[victim] = nil
                } else {
                    let value = Int32(step)
                    let inserted = table.insert(hash, value)
                    #expect(inserted == (reference[hash] == nil))
                    if inserted {
                        reference[hash] = value
                        stored.append(hash)
                    }
                }
            }
            #expect(table.count == reference.count)
            for (hash, value) in reference { #expect(table.find(hash) == value) }
            for _ in 0..<1000 {
                let absent = random.next()
                if reference[absent] == nil { #expect(table.find(absent) == nil) }
            }
        }
    }

    @Test("a key removed from the middle of a run leaves the keys after it findable")
    func removalKeepsRun() {
        var table = HashSlots()
        // Same home slot (low bits 5) for all: one run of 10.
        let hashes = (0..<10).map { UInt64($0) << 32 | 5 }
        for (value, hash) in hashes.enumerated() {
            let inserted = table.insert(hash, Int32(value))
            #expect(inserted)
        }
        table.remove(hashes[3])
        #expect(table.find(hashes[3]) == nil)
        for (value, hash) in hashes.enumerated() where value != 3 { #expect(table.find(hash) == Int32(value)) }
        let duplicate = table.insert(hashes[4], 99)
        #expect(!duplicate && table.find(hashes[4]) == 4)
    }

    @Test("account and transfer ids resolve after accounts are closed again and the index grows")
    func stringIndex() {
        var index = StringIndex()
        let keys = (0..<5000).map { "user:u\($0):points" }
        for (value, key) in keys.enumerated() { index.insert(key, Int32(value)) }
        for value in stride(from: 4999, through: 4000, by: -1) { index.remove(keys[value], Int32(value)) }
        #expect(index.count == 4000)
        for (value, key) in keys.enumerated() {
            let found = index.find(key, keyOf: { keys[Int($0)] })
            #expect(found == (value < 4000 ? Int32(value) : nil))
        }
    }
}
