import Foundation
import RetainCluster

/// What `retain cluster reshard` keeps in etcd between runs (`/retain/<cluster>/reshard/<service>`):
/// the ring it started from, the ring it ends with, and how far it got. The users move in
/// groups: group `g` of `groups` is a reshard of its own from ring ``ring(after:)`` `g - 1` to
/// ring `g`, each adding a share of the growing instances' points (``HashRing``), so each group
/// moves about `1/groups` of the moving users and fences only them, for a short pause.
struct ReshardPlan: Codable {
    /// The steps of one group, each recorded once done.
    enum Step: String, Codable, Comparable {
        /// `copied` is a step of plans written before groups (a copy before the fence); a run
        /// resumed from it fences and copies again.
        case started, copied, fenced, verified, switched

        static func < (lhs: Step, rhs: Step) -> Bool { order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)! }
        static let order: [Step] = [.started, .copied, .fenced, .verified, .switched]
    }

    /// Points per instance on every ring (the gateways' default `virtual_nodes`).
    static let ringPoints = 128

    /// The ring when the reshard started.
    var from: RingRecord
    /// The ring it ends with (version `from.version + groups`).
    var to: RingRecord
    /// The step the group in flight reached.
    var step: Step
    /// The group in flight, from 1; nil in a plan written before groups (one group).
    var group: Int?
    /// How many groups; nil in a plan written before groups (one).
    var groups: Int?

    var currentGroup: Int { group ?? 1 }
    var groupCount: Int { groups ?? 1 }

    /// The ring after `group` groups moved: ring 0 is `from`, ring `groups` is `to`; in
    /// between, each instance holds its points in `from` plus its share of those it gains,
    /// rounded up (so every group adds at least one point to every growing instance).
    func ring(after group: Int) -> RingRecord {
        if group <= 0 { return from }
        if group >= groupCount { return to }
        var ring = to
        ring.version = from.version + Int64(group)
        for index in ring.instances.indices {
            let id = ring.instances[index].id
            let start = from.instances.first { $0.id == id }.map { $0.points ?? Self.ringPoints } ?? 0
            let end = ring.instances[index].points ?? Self.ringPoints
            let points = start + ((end - start) * group + groupCount - 1) / groupCount
            ring.instances[index].points = points >= Self.ringPoints ? nil : points
        }
        return ring
    }

    /// The plan growing `from` by `added` (id and address each) and completing the instances
    /// `from` holds with only some of their points, in `groups` groups.
    static func growing(_ from: RingRecord, adding added: [RingRecord.Instance], groups: Int) -> ReshardPlan {
        var to = from
        to.version = from.version + Int64(groups)
        for index in to.instances.indices { to.instances[index].points = nil }
        to.instances += added.map { RingRecord.Instance(id: $0.id, address: $0.address) }
        return ReshardPlan(from: from, to: to, step: .started, group: 1, groups: groups)
    }

    /// The same plan in `groups` groups (chosen once the moving users are counted).
    func regrouped(_ groups: Int) -> ReshardPlan {
        var plan = self
        plan.groups = groups
        plan.to.version = from.version + Int64(groups)
        return plan
    }
}
