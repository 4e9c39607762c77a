import NIOCore
import RetainProto
import RetainRPC

/// The calls of `retain-bench feedback`'s fill: every item's workflow, as ``BenchWorkload/fate(_:)``
/// decides it. Items of the throughput run (ids known) get their changes first; then new items
/// are submitted and each answer's item id starts that item's changes. A change that follows
/// another (close after resolve, start after assign) is sent once the first one is answered.
struct WorkflowCalls: PipelinedCalls {
    /// One call of a workflow.
    private enum Step {
        case submit, resolve, close, triage, assign, start
    }

    private let workload: BenchWorkload
    private let submitted: [Int: String]
    private let limit: Int
    /// The next item of the throughput run whose changes are not started.
    private var nextEarlier = 0
    /// The next item to submit.
    private var nextNew: Int
    /// Changes ready to send: item, id, step.
    private var ready: [(index: Int, id: String, step: Step)] = []
    /// What each request id in flight is: item, id (empty for a submit), step.
    private var inFlight: [(index: Int, id: String, step: Step)] = []
    /// New items submitted.
    private var newItems = 0

    init(workload: BenchWorkload, submitted: [Int: String], limit: Int) {
        self.workload = workload
        self.submitted = submitted
        self.limit = limit
        nextNew = min(submitted.count, limit)
    }

    mutating func nextRequest(requestID: UInt32, allocator: ByteBufferAllocator) -> ByteBuffer? {
        var call: (index: Int, id: String, step: Step)
        if let change = ready.popLast() {
            call = change
        } else if let earlier = nextEarlierChange() {
            call = earlier
        } else if nextNew < limit {
            call = (nextNew, "", .submit)
            nextNew += 1
        } else {
            return nil
        }
        var frame = request(call)
        frame.setInteger(requestID, at: frame.readerIndex + 8)
        let slot = Int(requestID)
        if slot >= inFlight.count { inFlight += Array(repeating: (0, "", .submit), count: slot + 1 - inFlight.count) }
        inFlight[slot] = call
        return frame
    }

    mutating func ended(_ frame: Frame) throws {
        try frame.requireOK()
        let call = inFlight[Int(frame.requestID)]
        switch call.step {
        case .submit:
            let id = try frame.payload.decodeProtoMessage(Retain_V1_SubmitFeedbackResponse.self).item?.itemId ?? ""
            if let first = firstChange(call.index, id: id) { ready.append(first) }
            newItems += 1
            if newItems % 200_000 == 0 { print("  ... \(submitted.count + newItems) items") }
        case .resolve where workload.fate(call.index) < 20:
            ready.append((call.index, call.id, .close))
        case .assign where workload.fate(call.index) >= 80:
            ready.append((call.index, call.id, .start))
        default:
            break
        }
    }

    /// The first change of the next item of the throughput run that has one.
    private mutating func nextEarlierChange() -> (index: Int, id: String, step: Step)? {
        while nextEarlier < submitted.count {
            let index = nextEarlier
            nextEarlier += 1
            if let change = firstChange(index, id: submitted[index] ?? "") { return change }
        }
        return nil
    }

    /// The first change of item `index` after its submission, if its fate has one.
    private func firstChange(_ index: Int, id: String) -> (index: Int, id: String, step: Step)? {
        switch workload.fate(index) {
        case 0..<60: (index, id, .resolve)
        case 60..<70: (index, id, .triage)
        case 70..<85: (index, id, .assign)
        default: nil
        }
    }

    /// The REQUEST frame of `call`.
    private func request(_ call: (index: Int, id: String, step: Step)) -> ByteBuffer {
        let index = call.index
        let id = call.id
        let agent = "agent\(index % 50)"
        switch call.step {
        case .submit:
            return PipelinedClient.requestFrame(Retain_V1_Feedback.submitFeedback, workload.submission(index))
        case .resolve:
            return PipelinedClient.requestFrame(
                Retain_V1_Feedback.resolveFeedback,
                workload.resolution(
                    index, itemID: id, kind: workload.submission(index).kind))
        case .close:
            return PipelinedClient.requestFrame(
                Retain_V1_Feedback.closeFeedback,
                Retain_V1_CloseFeedbackRequest(
                    itemId: id, actor: agent, requestId: "close-\(index)"))
        case .triage:
            return PipelinedClient.requestFrame(
                Retain_V1_Feedback.triageFeedback,
                Retain_V1_TriageFeedbackRequest(
                    itemId: id, actor: agent, note: "checked", requestId: "triage-\(index)", urgent: index % 5 == 0, important: true))
        case .assign:
            return PipelinedClient.requestFrame(
                Retain_V1_Feedback.assignFeedback,
                Retain_V1_AssignFeedbackRequest(
                    itemId: id, actor: "lead", requestId: "assign-\(index)", assignee: agent))
        case .start:
            return PipelinedClient.requestFrame(
                Retain_V1_Feedback.startProgress,
                Retain_V1_StartProgressRequest(
                    itemId: id, actor: agent, requestId: "start-\(index)"))
        }
    }
}

/// Walks of a listing one page at a time, each page asking for the one after the last answer's
/// `next_page_token`, `pages` pages a walk, `rounds` walks; one call in flight.
struct PageWalk: PipelinedCalls {
    private let first: Retain_V1_ListFeedbackRequest
    private let pages: Int
    private let rounds: Int
    private var next: Retain_V1_ListFeedbackRequest
    private var sent = 0
    /// The match count of the last answer.
    private(set) var total: UInt64 = 0

    init(first: Retain_V1_ListFeedbackRequest, pages: Int, rounds: Int) {
        self.first = first
        self.pages = pages
        self.rounds = rounds
        next = first
    }

    mutating func nextRequest(requestID: UInt32, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard sent < pages * rounds else { return nil }
        if sent % pages == 0 { next = first }
        sent += 1
        var frame = PipelinedClient.requestFrame(Retain_V1_Feedback.listFeedback, next)
        frame.setInteger(requestID, at: frame.readerIndex + 8)
        return frame
    }

    mutating func ended(_ frame: Frame) throws {
        try frame.requireOK()
        let page = try frame.payload.decodeProtoMessage(Retain_V1_ListFeedbackResponse.self)
        total = page.pageInfo?.total ?? 0
        next.page?.pageToken = page.pageInfo?.nextPageToken ?? ""
    }
}
