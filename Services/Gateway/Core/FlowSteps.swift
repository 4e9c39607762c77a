public import RetainProto

/// The steps of one flow run, in order, as the answer's `steps` reports them.
public struct FlowSteps: Sendable {
    /// The steps so far.
    public private(set) var steps: [Retain_V1_FlowStep] = []

    public init() {}

    /// Records a step.
    public mutating func add(_ name: String, _ outcome: Retain_V1_FlowStepOutcome, _ detail: String = "") {
        steps.append(Retain_V1_FlowStep(name: name, outcome: outcome, detail: detail))
    }

    /// Records a step that ran now, or had already run when `replayed`.
    public mutating func ran(_ name: String, replayed: Bool, _ detail: String = "") {
        add(name, replayed ? .replayed : .done, detail)
    }

    /// True when no step ran now and at least one had run before: the call was a complete retry.
    public var replayed: Bool {
        !steps.contains { $0.outcome == .done } && steps.contains { $0.outcome == .replayed }
    }
}
