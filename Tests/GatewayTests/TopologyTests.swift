import Foundation
import GatewayCore
import Testing

/// Reading the topology file: both instance forms, and errors that name the bad entry.
@Suite("Topology file")
struct TopologyTests {
    private func parse(_ json: String) throws(TopologyError) -> Topology {
        try Topology.parse(Data(json.utf8))
    }

    @Test("addresses and objects with ids, short and full service names, options")
    func parsesBothForms() throws {
        let topology = try parse(
            """
            {"virtual_nodes": 64, "services": {
              "Profile": ["127.0.0.1:7001", "127.0.0.1:7011"],
              "retain.v1.Growth": {"instances": [{"id": "growth-a", "address": "[::1]:7002"}],
                                   "idempotent_methods": ["GetGrowthView"], "user_failover": true}}}
            """)
        #expect(topology.virtualNodes == 64)
        let profile = try #require(topology.services["retain.v1.Profile"])
        #expect(profile.instances.map(\.id) == ["127.0.0.1:7001", "127.0.0.1:7011"])
        #expect(profile.instances[1].port == 7011)
        #expect(!profile.userFailover)
        let growth = try #require(topology.services["retain.v1.Growth"])
        #expect(growth.instances == [Topology.Instance(id: "growth-a", host: "::1", port: 7002)])
        #expect(growth.instances[0].address == "[::1]:7002")
        #expect(growth.idempotentMethods == ["GetGrowthView"])
        #expect(growth.userFailover)
        #expect(try Topology.parse(topology.encoded()) == topology)
    }

    @Test("an empty service list is allowed: the gateway then serves only its own methods")
    func emptyServices() throws {
        #expect(try parse(#"{"services": {}}"#).services.isEmpty)
    }

    @Test(
        "each mistake is refused with the path of the bad entry",
        arguments: [
            ("[1, 2]", "topology: must be a JSON object"),
            ("{", "topology: not valid JSON"),
            (
                #"{"services": {"Profile": ["127.0.0.1"]}}"#,
                "topology: services.Profile.instances[0]: '127.0.0.1' has no port (expected host:port)"
            ),
            (
                #"{"services": {"Profile": ["127.0.0.1:99999"]}}"#,
                "topology: services.Profile.instances[0]: '127.0.0.1:99999' has no valid port (1 to 65535)"
            ),
            (#"{"services": {"Profile": [":7001"]}}"#, "topology: services.Profile.instances[0]: ':7001' has no host (expected host:port)"),
            (#"{"services": {"Profile": []}}"#, "topology: services.Profile.instances: lists no instance"),
            (
                #"{"services": {"Profile": ["a:1", "a:1"]}}"#,
                "topology: services.Profile.instances[1]: repeats the id 'a:1' of instances[0]"
            ),
            (
                #"{"services": {"Profile": [{"id": "p", "address": "a:1"}, {"id": "p", "address": "b:1"}]}}"#,
                "topology: services.Profile.instances[1]: repeats the id 'p' of instances[0]"
            ),
            (#"{"services": {"profile": ["a:1"]}}"#, "topology: services.profile: is not a service name like retain.v1.Profile or Profile"),
            (#"{"services": {"Gateway": ["a:1"]}}"#, "topology: services.Gateway: the gateway does not route to itself"),
            (
                #"{"services": {"Profile": ["a:1"], "retain.v1.Profile": ["b:1"]}}"#,
                "topology: services.retain.v1.Profile: names retain.v1.Profile a second time"
            ),
            (
                #"{"services": {"Profile": {"instance": ["a:1"]}}}"#,
                "topology: services.Profile.instance: is not a known key (expected one of idempotent_methods, instances, user_failover)"
            ),
            (
                #"{"services": {"Profile": {"instances": ["a:1"], "idempotent_methods": ["get_profile"]}}}"#,
                "topology: services.Profile.idempotent_methods[0]: 'get_profile' is not a method name like GetProfile"
            ),
            (#"{"services": {}, "virtual_nodes": 0}"#, "topology: virtual_nodes: must be an integer from 1 to 4096"),
            (#"{"service": {}}"#, "topology: service: is not a known key (expected one of services, virtual_nodes)"),
            (
                #"{"services": {"Ledger": ["a:1", "b:1"]}}"#,
                "topology: services.Ledger.instances: lists 2 instances, but the ledger is one writer by design"
            ),
        ])
    func errors(json: String, expected: String) {
        #expect {
            _ = try parse(json)
        } throws: { error in
            "\(error)".hasPrefix(expected)
        }
    }

    @Test("a missing file is refused with its path")
    func missingFile() {
        #expect(throws: TopologyError.self) { _ = try Topology.load(path: "/nonexistent/topology.json") }
    }
}
