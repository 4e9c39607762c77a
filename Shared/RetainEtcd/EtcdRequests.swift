/// The JSON bodies of the gateway's calls and the reading of their answers: plain functions, so
/// the mapping is tested without a socket.
///
/// The gateway speaks protobuf's JSON mapping of etcd's `etcdserverpb` messages: keys and values
/// are base64, int64 fields are strings, and fields equal to zero, false or empty are left out.
enum EtcdRequests {
    static func range(key: String) -> [String: Any] {
        ["key": EtcdJSON.base64(key)]
    }

    static func range(prefix: String) -> [String: Any] {
        ["key": EtcdJSON.base64(prefix), "range_end": EtcdJSON.base64(EtcdJSON.prefixEnd(prefix))]
    }

    static func put(key: String, value: [UInt8], lease: Int64?) -> [String: Any] {
        var body: [String: Any] = ["key": EtcdJSON.base64(key), "value": EtcdJSON.base64(value)]
        if let lease, lease != 0 { body["lease"] = String(lease) }
        return body
    }

    static func delete(key: String) -> [String: Any] {
        ["key": EtcdJSON.base64(key)]
    }

    static func txn(_ txn: EtcdTxn) -> [String: Any] {
        [
            "compare": txn.compare.map(compare),
            "success": txn.success.map(operation),
            "failure": txn.failure.map(operation),
        ]
    }

    static func compare(_ compare: EtcdCompare) -> [String: Any] {
        var body: [String: Any] = ["key": EtcdJSON.base64(compare.key)]
        body["result"] =
            switch compare.result {
            case .equal: "EQUAL"
            case .notEqual: "NOT_EQUAL"
            case .greater: "GREATER"
            case .less: "LESS"
            }
        switch compare.target {
        case .version(let version):
            body["target"] = "VERSION"
            body["version"] = String(version)
        case .createRevision(let revision):
            body["target"] = "CREATE"
            body["create_revision"] = String(revision)
        case .modRevision(let revision):
            body["target"] = "MOD"
            body["mod_revision"] = String(revision)
        case .value(let value):
            body["target"] = "VALUE"
            body["value"] = EtcdJSON.base64(value)
        }
        return body
    }

    static func operation(_ operation: EtcdOperation) -> [String: Any] {
        switch operation {
        case .put(let key, let value, let lease): ["request_put": put(key: key, value: value, lease: lease)]
        case .delete(let key): ["request_delete_range": delete(key: key)]
        case .get(let key): ["request_range": range(key: key)]
        }
    }

    static func watch(prefix: String, fromRevision: Int64?, progressNotify: Bool) -> [String: Any] {
        var create = range(prefix: prefix)
        if let fromRevision, fromRevision > 0 { create["start_revision"] = String(fromRevision) }
        if progressNotify { create["progress_notify"] = true }
        return ["create_request": create]
    }

    /// The answer of a txn: which branch ran and what its gets found.
    static func txnResult(_ answer: EtcdJSON) -> EtcdTxnResult {
        let gets = answer[objects: "responses"].compactMap { response in
            response[object: "response_range"].map { $0[objects: "kvs"].map(\.keyValue) }
        }
        return EtcdTxnResult(succeeded: answer[bool: "succeeded"], revision: answer.headerRevision, gets: gets)
    }

    /// The events of one line of a watch stream; throws when etcd cancelled the watch (for example
    /// because the revision asked for was compacted).
    static func watchEvents(_ line: EtcdJSON) throws(EtcdError) -> [EtcdWatchEvent] {
        if let error = line.serverError { throw error }
        guard let result = line[object: "result"] else {
            throw EtcdError(.protocolError, "watch answer without a result: \(line.fields)")
        }
        if result[bool: "canceled"] {
            let compacted = result[int64: "compact_revision"]
            let reason = result[string: "cancel_reason"] ?? (compacted > 0 ? "revision compacted up to \(compacted)" : "watch canceled")
            throw EtcdError(.server(code: compacted > 0 ? 11 : 1, message: reason), reason)
        }
        return result[objects: "events"].map { event in
            let keyValue = event[object: "kv"]?.keyValue ?? EtcdKeyValue(key: "", value: [])
            let kind: EtcdWatchEvent.Kind = event[string: "type"] == "DELETE" ? .delete : .put
            return EtcdWatchEvent(kind: kind, keyValue: keyValue, revision: keyValue.modRevision)
        }
    }
}
