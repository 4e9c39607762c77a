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
    /// between, each instance holds its points in `from` plus its share of those it gains (or
    /// minus its share of those it loses: an instance `to` leaves out loses them all), rounded
    /// toward `to` (so every group moves at least one point of every instance that changes).
    func ring(after group: Int) -> RingRecord {
        if group <= 0 { return from }
        if group >= groupCount { return to }
        var ring = to
        ring.version = from.version + Int64(group)
        ring.instances = instances
        for index in ring.instances.indices {
            let (start, end) = pointsChange(of: ring.instances[index].id)
            let share = (abs(end - start) * group + groupCount - 1) / groupCount
            let points = end >= start ? start + share : start - share
            ring.instances[index].points = points >= Self.ringPoints ? nil : points
        }
        return ring
    }

    /// Every instance of the start and end rings (the shards this plan calls).
    var instances: [RingRecord.Instance] {
        to.instances + from.instances.filter { instance in !to.instances.contains { $0.id == instance.id } }
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

    /// The plan taking back a reshard that did not finish: `from` without the instances holding
    /// only part of their points (their users move back to the others), in `groups` groups.
    static func rollingBack(_ from: RingRecord, groups: Int) -> ReshardPlan {
        var to = from
        to.version = from.version + Int64(groups)
        to.instances.removeAll { $0.points != nil }
        return ReshardPlan(from: from, to: to, step: .started, group: 1, groups: groups)
    }

    /// How many points each instance gains or loses from `from` to `to`, for the instances
    /// that change.
    var pointChanges: [Int] {
        instances.map { instance in
            let (start, end) = pointsChange(of: instance.id)
            return abs(end - start)
        }.filter { $0 > 0 }
    }

    /// The points the instance holds on `from` and on `to` (0 where a ring leaves it out).
    private func pointsChange(of id: String) -> (start: Int, end: Int) {
        func points(_ ring: RingRecord) -> Int { ring.instances.first { $0.id == id }.map { $0.points ?? Self.ringPoints } ?? 0 }
        return (points(from), points(to))
    }

    /// The same plan in `groups` groups (chosen once the moving users are counted).
    func regrouped(_ groups: Int) -> ReshardPlan {
        var plan = self
        plan.groups = groups
        plan.to.version = from.version + Int64(groups)
        return plan
    }
}
