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
        func stage(_ user: UnsafePointer<UserRecord>) -> UInt8 {
            UInt8(truncatingIfNeeded: evaluator.evaluate(user.pointee.activity, day: day, dayIsOver: false).stage.rawValue)
        }
        return contents.withLock { cached in
            if cached != nil, cached!.day == day, cached!.rules == evaluator.rules {
                // Not bound to a local: a second reference would make the updates copy the array.
                let changed = cached!.changed
                let known = cached!.stages.count
                if !changed.isEmpty {
                    cached!.changed = []
                    for index in changed where Int(index) < known {
                        cached!.stages[Int(index)] = users.withPointer(Int(index)) { stage($0) }
                    }
                }
                for index in known..<users.count { cached!.stages.append(users.withPointer(index) { stage($0) }) }
                return cached!.stages
            }
            var stages = [UInt8](repeating: 0, count: users.count)
            stages.withUnsafeMutableBufferPointer { stages in
                users.forEachChunk { first, chunk in
                    let base = chunk.baseAddress!
                    for offset in 0..<chunk.count { stages[first + offset] = stage(base + offset) }
                }
            }
            cached = Stages(day: day, rules: evaluator.rules, stages: stages, changed: [])
            holding.store(true, ordering: .releasing)
            return stages
        }
    }
}
