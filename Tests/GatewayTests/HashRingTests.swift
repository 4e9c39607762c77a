import GatewayCore
import RetainCluster
import Testing

/// The consistent-hashing ring that places users on instances.
@Suite("Consistent hashing")
struct HashRingTests {
    let users = (0..<20_000).map { "user-\($0)" }

    @Test("a user id always lands on the same instance, whatever the order of the instances")
    func stableOwner() {
        let ring = HashRing(instanceIDs: ["a", "b", "c"])
        let shuffled = HashRing(instanceIDs: ["c", "a", "b"])
        for user in users.prefix(2000) {
            let owner = ring.owner(of: user).map { ring.instanceIDs[$0] }
            #expect(owner == ring.owner(of: user).map { ring.instanceIDs[$0] })
            #expect(owner == shuffled.owner(of: user).map { shuffled.instanceIDs[$0] })
        }
    }

    @Test("adding a fourth instance moves about a quarter of the users, all of them to the new one")
    func fewUsersMove() {
        let before = HashRing(instanceIDs: ["a", "b", "c"])
        let after = HashRing(instanceIDs: ["a", "b", "c", "d"])
        var moved = 0
        for user in users {
            let old = before.instanceIDs[before.owner(of: user)!]
            let new = after.instanceIDs[after.owner(of: user)!]
            if old != new {
                moved += 1
                #expect(new == "d", "user \(user) moved from \(old) to \(new), not to the new instance")
            }
        }
        let share = Double(moved) / Double(users.count)
        #expect(share > 0.18 && share < 0.32, "moved \(share * 100)% of users")
    }

    @Test("removing an instance moves only its users, to the next instance on their ring")
    func removal() {
        let full = HashRing(instanceIDs: ["a", "b", "c", "d"])
        let without = HashRing(instanceIDs: ["a", "b", "d"])
        for user in users.prefix(5000) {
            let preference = full.preference(of: user).map { full.instanceIDs[$0] }
            let owner = without.instanceIDs[without.owner(of: user)!]
            #expect(owner == preference.first { $0 != "c" })
        }
    }

    @Test("users spread evenly: every instance owns 25% ± 7 of them with 128 virtual nodes")
    func balance() {
        let ring = HashRing(instanceIDs: ["profile-0", "profile-1", "profile-2", "profile-3"])
        var counts = [Int](repeating: 0, count: 4)
        for user in users { counts[ring.owner(of: user)!] += 1 }
        for count in counts {
            let share = Double(count) / Double(users.count)
            #expect(abs(share - 0.25) < 0.07, "shares \(counts)")
        }
    }

    @Test("adding an instance's points in groups moves each user at most once, to it, and ends at the whole ring")
    func pointsInGroups() {
        let before = HashRing(instanceIDs: ["a", "b", "c"])
        let after = HashRing(instanceIDs: ["a", "b", "c", "d"])
        var owners = users.map { before.instanceIDs[before.owner(of: $0)!] }
        var movedAt = [Int?](repeating: nil, count: users.count)
        var perGroup: [Int] = []
        for points in stride(from: 16, through: 128, by: 16) {
            let ring = HashRing(instanceIDs: ["a", "b", "c", "d"], points: ["d": points])
            var moved = 0
            for (index, user) in users.enumerated() {
                let owner = ring.instanceIDs[ring.owner(of: user)!]
                guard owner != owners[index] else { continue }
                #expect(owner == "d" && movedAt[index] == nil, "\(user) moved from \(owners[index]) to \(owner)")
                movedAt[index] = points
                owners[index] = owner
                moved += 1
            }
            perGroup.append(moved)
        }
        #expect(owners == users.map { after.instanceIDs[after.owner(of: $0)!] })
        #expect(perGroup.allSatisfy { $0 > 0 && $0 < users.count / 10 }, "users moved per group: \(perGroup)")
        let none = HashRing(instanceIDs: ["a", "b", "c", "d"], points: ["d": 0])
        #expect(users.allSatisfy { none.owner(of: $0) == before.owner(of: $0) })
        #expect(none.preference(of: "x").count == 3)
    }

    @Test("the preference order names every instance once, the owner first")
    func preferenceOrder() {
        let ring = HashRing(instanceIDs: ["a", "b", "c"], virtualNodes: 16)
        for user in users.prefix(500) {
            let order = ring.preference(of: user)
            #expect(order.count == 3 && Set(order).count == 3)
            #expect(order.first == ring.owner(of: user))
        }
        #expect(HashRing(instanceIDs: []).owner(of: "x") == nil)
    }
}
