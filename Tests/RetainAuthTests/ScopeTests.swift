import RetainAuth
import RetainProto
import RetainWire
import Testing

/// Scopes and the method table.
@Suite("scopes")
struct ScopeTests {
    @Test("every method of the contract is classified in the method access table")
    func everyMethodClassified() {
        let missing = MethodCatalog.methods.keys.filter { MethodAccessTable.table[$0] == nil }.sorted()
        #expect(!MethodCatalog.methods.isEmpty)
        #expect(missing.isEmpty, "not in MethodAccessTable: \(missing)")
        let stale = MethodAccessTable.table.keys.filter { MethodCatalog.methods[$0] == nil }.sorted()
        #expect(stale.isEmpty, "in MethodAccessTable but not in the contract: \(stale)")
    }

    @Test("reads need read, writes need write, administration needs admin, probes are open")
    func classification() {
        #expect(MethodAccessTable.access(for: "retain.v1.Profile/GetProfile") == .scope(.read("profile")!))
        #expect(MethodAccessTable.access(for: "retain.v1.Ledger/CreateTransfers") == .scope(.write("ledger")!))
        #expect(MethodAccessTable.access(for: "retain.v1.Ledger/OpenAccount") == .scope(.admin))
        #expect(MethodAccessTable.access(for: "retain.v1.Profile/SetContactPolicy") == .scope(.admin))
        #expect(MethodAccessTable.access(for: "retain.v1.Health/Check") == .open)
        #expect(MethodAccessTable.access(for: "retain.v1.Reflection/ListServices") == .authenticated)
        #expect(MethodAccessTable.access(for: "retain.v1.Profile/NoSuchMethod") == .scope(.admin), "unknown paths fail closed")
    }

    @Test("admin implies every scope; a scope does not imply another")
    func implication() {
        #expect(ScopeSet.admin.allows(.write("ledger")!))
        #expect(ScopeSet.write("ledger")!.allows(.write("ledger")!))
        #expect(!ScopeSet.write("ledger")!.allows(.read("ledger")!))
        #expect(!ScopeSet.read("profile")!.allows(.admin))
    }

    @Test("scope lists parse and print canonically; unknown names are refused by name")
    func parsing() throws {
        let scopes = try ScopeSet(parsing: "ledger:write, admin,profile:read")
        #expect(scopes.description == "admin,profile:read,ledger:write")
        #expect(try ScopeSet(parsing: "") == [])
        let error = #expect(throws: ScopeError.self) { _ = try ScopeSet(parsing: "profile:read,ledger:delete") }
        #expect(error?.name == "ledger:delete")
    }

    @Test("a missing scope is PERMISSION_DENIED naming it")
    func check() {
        let caller = Caller(id: "ops", issuer: "api-key", scopes: [.read("profile")!])
        let message = expectCode(.permissionDenied) {
            try MethodAccess.scope(.write("profile")!).check(caller, method: "retain.v1.Profile/AddTags")
        }
        #expect(message.contains("profile:write"))
    }
}
