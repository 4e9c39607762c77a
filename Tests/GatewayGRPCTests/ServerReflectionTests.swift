@testable import GatewayGRPC
import GRPCCore
import RetainProto
import Testing

/// gRPC server reflection answered from the Retain descriptor set: what `grpcurl list` and
/// `grpcurl describe` ask.
struct ServerReflectionTests {
    let service: ServerReflectionService

    init() throws {
        service = ServerReflectionService(index: try DescriptorIndex(descriptorSet: GRPCFrontDoor.descriptorSet)) {
            ["retain.v1.Echo", "retain.v1.Gateway", "not.in.the.Contract"]
        }
    }

    /// The fields of a message, by number (length-delimited ones as bytes).
    func fields(_ bytes: [UInt8]) throws -> [(UInt64, [UInt8])] {
        var result: [(UInt64, [UInt8])] = []
        try ProtoWireReader(bytes[...]).forEachField { number, value in
            if case .bytes(let field) = value { result.append((number, Array(field))) }
            if case .varint(let varint) = value { result.append((number, [UInt8(truncatingIfNeeded: varint)])) }
        }
        return result
    }

    func request(_ number: Int, _ text: String) -> [UInt8] {
        var writer = ProtoWireWriter()
        writer.string(number, text)
        return writer.bytes
    }

    @Test("list_services names the routed services the contract declares, in order")
    func listServices() throws {
        let answer = try fields(service.answer(to: request(7, "")))
        let list = try #require(answer.first { $0.0 == 6 }?.1)
        let names = try fields(list).map { try fields($0.1).first.map { String(decoding: $0.1, as: UTF8.self) } ?? "" }
        #expect(names == ["retain.v1.Echo", "retain.v1.Gateway"])
        #expect(answer.first { $0.0 == 2 }?.1 == request(7, ""))
    }

    @Test("file_containing_symbol answers the file first, then the files it imports")
    func fileContainingSymbol() throws {
        for symbol in [
            "retain.v1.Gateway", "retain.v1.Gateway.Onboard", "retain.v1.OnboardRequest", "retain.v1.Gender",
            "retain.v1.UserProfile.AttributesEntry",
        ] {
            let answer = try fields(service.answer(to: request(4, symbol)))
            let files = try fields(try #require(answer.first { $0.0 == 4 }?.1, "\(symbol)")).map { file in
                try fields(file.1).first { $0.0 == 1 }.map { String(decoding: $0.1, as: UTF8.self) } ?? ""
            }
            #expect(files.count > 1, "\(symbol)")
            #expect(files.contains("retain/v1/common.proto"), "\(symbol)")
        }
    }

    @Test("an unknown symbol or file is NOT_FOUND in an error response")
    func unknown() throws {
        for question in [request(4, "retain.v1.Nope"), request(3, "retain/v1/nope.proto")] {
            let answer = try fields(service.answer(to: question))
            let error = try fields(try #require(answer.first { $0.0 == 7 }?.1))
            #expect(error.first { $0.0 == 1 }?.1 == [UInt8(RPCError.Code.notFound.rawValue)])
        }
    }
}
