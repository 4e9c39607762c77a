import Foundation
import NIOCore
@testable import RetainEtcd
import Testing

@Suite("etcd gateway JSON, lines and endpoints (no etcd)")
struct EtcdRequestsTests {
    @Test("a prefix range ends just past the prefix; an empty prefix reads every key")
    func prefixEnd() {
        #expect(EtcdJSON.prefixEnd("a/") == Array("a0".utf8))
        #expect(EtcdJSON.prefixEnd("") == [0])
        #expect(EtcdJSON.prefixEnd("a\u{7f}") == [0x61, 0x80])
    }

    @Test("int64 fields arrive as strings and zero fields are omitted")
    func keyValueDecoding() throws {
        let json = try EtcdJSON(
            parsing: Array(
                #"{"key":"Zm9v","create_revision":"4","mod_revision":"5","version":"2","value":"eA==","lease":"7587883415564437528"}"#.utf8)
        )
        #expect(
            json.keyValue
                == EtcdKeyValue(
                    key: "foo", value: Array("x".utf8), createRevision: 4, modRevision: 5, version: 2,
                    lease: 7_587_883_415_564_437_528))
        let deleted = try EtcdJSON(parsing: Array(#"{"key":"Zm9v","mod_revision":"6"}"#.utf8))
        #expect(deleted.keyValue == EtcdKeyValue(key: "foo", value: [], modRevision: 6))
    }

    @Test("a create-if-absent txn compares version 0 and names gateway fields")
    func txnBody() throws {
        let body = EtcdRequests.txn(
            EtcdTxn(
                compare: [EtcdCompare(key: "k", target: .version(0), result: .equal)],
                success: [.put(key: "k", value: [1], lease: 9)], failure: [.get(key: "k")]))
        let json = try EtcdJSON(parsing: EtcdJSON.encode(body))
        let compare = try #require(json[objects: "compare"].first)
        #expect(compare[string: "target"] == "VERSION" && compare[string: "result"] == "EQUAL" && compare[string: "version"] == "0")
        #expect(json[objects: "success"].first?[object: "request_put"]?[string: "lease"] == "9")
        #expect(json[objects: "failure"].first?[object: "request_range"]?[string: "key"] == "aw==")
    }

    @Test("the gets of the branch taken come back in order; a false 'succeeded' is omitted")
    func txnResult() throws {
        let json = try EtcdJSON(
            parsing: Array(
                #"{"header":{"revision":"4"},"responses":[{"response_put":{}},{"response_range":{"header":{"revision":"4"},"kvs":[{"key":"aw==","create_revision":"4","mod_revision":"4","version":"1"}],"count":"1"}},{"response_range":{"header":{}}}]}"#
                    .utf8))
        let result = EtcdRequests.txnResult(json)
        #expect(!result.succeeded && result.revision == 4)
        #expect(result.gets.map(\.count) == [1, 0] && result.gets[0][0].key == "k")
    }

    @Test("watch lines give puts and deletes; a cancelled watch throws; errors in both gateway shapes are read")
    func watchLines() throws {
        let created = try EtcdJSON(parsing: Array(#"{"result":{"header":{"revision":"6"},"created":true}}"#.utf8))
        #expect(try EtcdRequests.watchEvents(created).isEmpty)
        let events = try EtcdRequests.watchEvents(
            EtcdJSON(
                parsing: Array(
                    #"{"result":{"header":{"revision":"8"},"events":[{"kv":{"key":"Zm9v","create_revision":"7","mod_revision":"7","version":"1","value":"YmFy"}},{"type":"DELETE","kv":{"key":"Zm9v","mod_revision":"8"}}]}}"#
                        .utf8)))
        #expect(events.map(\.kind) == [.put, .delete] && events.map(\.revision) == [7, 8])
        let compacted = try EtcdJSON(parsing: Array(#"{"result":{"header":{},"canceled":true,"compact_revision":"5"}}"#.utf8))
        #expect(throws: EtcdError.self) { try EtcdRequests.watchEvents(compacted) }
        let unary = try EtcdJSON(
            parsing: Array(
                #"{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}"#.utf8))
        #expect(unary.serverError?.isLeaseNotFound == true)
        let streamed = try EtcdJSON(parsing: Array(#"{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader"}}"#.utf8))
        #expect(streamed.serverError?.kind == .server(code: 14, message: "etcdserver: no leader"))
    }

    @Test("lines split across chunks are joined; an overlong line is refused")
    func lineSplitter() throws {
        var splitter = EtcdLineSplitter(maximumLineLength: 8)
        #expect(try splitter.append(ByteBuffer(string: "ab")).isEmpty)
        #expect(try splitter.append(ByteBuffer(string: "c\n\nde\nf")) == [Array("abc".utf8), Array("de".utf8)])
        #expect(splitter.finish() == Array("f".utf8))
        #expect(throws: EtcdError.self) { try splitter.append(ByteBuffer(string: "123456789")) }
    }

    @Test("endpoints parse from URLs; a failing current member hands over to the next, wrapping")
    func endpoints() throws {
        #expect(EtcdEndpoint("http://127.0.0.1:2379") == EtcdEndpoint("127.0.0.1:2379"))
        #expect(EtcdEndpoint("https://x:1") == nil && EtcdEndpoint("http://x") == nil)
        var endpoints = EtcdEndpoints([
            try #require(EtcdEndpoint("a:1")), try #require(EtcdEndpoint("b:1")), try #require(EtcdEndpoint("c:1")),
        ])
        #expect(endpoints.order() == [0, 1, 2])
        endpoints.failed(1)
        #expect(endpoints.order() == [0, 1, 2])
        endpoints.failed(0)
        #expect(endpoints.order() == [1, 2, 0])
        endpoints.failed(1)
        endpoints.failed(2)
        #expect(endpoints.order() == [0, 1, 2])
        endpoints.answered(2)
        #expect(endpoints.order() == [2, 0, 1])
    }

    @Test("the lease keeper's margin is a tenth of the TTL, at least 500 ms, at most half")
    func leaseMargin() {
        #expect(EtcdLeaseKeeper.validity(ttl: 1) == .milliseconds(500))
        #expect(EtcdLeaseKeeper.validity(ttl: 2) == .milliseconds(1500))
        #expect(EtcdLeaseKeeper.validity(ttl: 10) == .seconds(9))
    }
}
