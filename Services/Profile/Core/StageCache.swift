import RetainProto
import Synchronization

/// Every user's lifecycle stage as of one day under one set of thresholds, kept between reports
/// so that churn warnings and segment counts by stage read a byte per user instead of evaluating
/// each user's activity again.
///
/// A stage depends only on the user's activity summary, the day and the thresholds. The state
/// marks a user ``changed(_:)`` whenever its summary changes; a read re-evaluates exactly those
/// users and the users added since (moved in, registered), and evaluates everyone when the day or
/// the thresholds differ from the cached ones. Deleted users keep an entry that callers ignore.
///
/// The cache is shared by copies of the state (a class): reads run under the store's lock, and a
/// copy that is written to only ever marks more users changed than needed.
package final class StageCache: Sendable {
    private struct Stages: Sendable {
        let day: Int32
        let rules: LifecycleRules
        var stages: [UInt8]
        /// The activity drop of each user at churn risk (0 for the others): churn warnings sort
        /// by it without evaluating anyone again.
        var drops: [Double]
        var changed: Set<Int32>
    }

    private let contents = Mutex<Stages?>(nil)
    /// Whether anything is cached: writes skip the lock while nothing is.
    private let holding = Atomic<Bool>(false)

    package init() {}

    /// Marks user `index`'s activity changed since its stage was cached.
    package func changed(_ index: Int32) {
        guard holding.load(ordering: .relaxed) else { return }
        contents.withLock { $0?.changed.insert(index) }
    }

    /// Forgets everything (the state was replaced).
    package func clear() {
        contents.withLock { $0 = nil }
        holding.store(false, ordering: .releasing)
    }

    /// The stage (``Retain_V1_LifecycleStage`` raw value) of every user, by index, as of `day`
    /// under `evaluator`'s thresholds.
    package func stages(day: Int32, evaluator: LifecycleEvaluator, users: ChunkedArray<UserRecord>) -> [UInt8] {
        stagesAndDrops(day: day, evaluator: evaluator, users: users).stages
    }

    /// Every user's stage as ``stages(day:evaluator:users:)``, and the activity drop of each user
    /// at churn risk (0 for the others), both by index.
    package func stagesAndDrops(
        day: Int32, evaluator: LifecycleEvaluator, users: ChunkedArray<UserRecord>
    ) -> (stages: [UInt8], drops: [Double]) {
        let churnRisk = Retain_V1_LifecycleStage.churnRisk
        func evaluate(_ user: UnsafePointer<UserRecord>) -> (stage: UInt8, drop: Double) {
            let evaluation = evaluator.evaluate(user.pointee.activity, day: day, dayIsOver: false)
            return (
                UInt8(truncatingIfNeeded: evaluation.stage.rawValue), evaluation.stage == churnRisk ? evaluation.figures.drop : 0
            )
        }
        return contents.withLock { cached in
            if cached != nil, cached!.day == day, cached!.rules == evaluator.rules {
                // Not bound to a local: a second reference would make the updates copy the arrays.
                let changed = cached!.changed
                let known = cached!.stages.count
                if !changed.isEmpty {
                    cached!.changed = []
                    for index in changed where Int(index) < known {
                        let (stage, drop) = users.withPointer(Int(index)) { evaluate($0) }
                        cached!.stages[Int(index)] = stage
                        cached!.drops[Int(index)] = drop
                    }
                }
                for index in known..<users.count {
                    let (stage, drop) = users.withPointer(index) { evaluate($0) }
                    cached!.stages.append(stage)
                    cached!.drops.append(drop)
                }
                return (cached!.stages, cached!.drops)
            }
            var stages = [UInt8](repeating: 0, count: users.count)
            var drops = [Double](repeating: 0, count: users.count)
            stages.withUnsafeMutableBufferPointer { stages in
                drops.withUnsafeMutableBufferPointer { drops in
                    users.forEachChunk { first, chunk in
                        let base = chunk.baseAddress!
                        for offset in 0..<chunk.count {
                            (stages[first + offset], drops[first + offset]) = evaluate(base + offset)
                        }
                    }
                }
            }
            cached = Stages(day: day, rules: evaluator.rules, stages: stages, drops: drops, changed: [])
            holding.store(true, ordering: .releasing)
            return (stages, drops)
        }
    }
}
