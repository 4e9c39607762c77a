import Foundation
import NIOCore
import RetainProto

/// A JSON request with per-call variables, encoded to protobuf for each call of a load run.
///
/// Variables: `{{seq}}` (the call's number, from 0), `{{rand:LOW:HIGH}}` (a uniform random
/// integer), `{{uuid}}`. A template without `seq` or `uuid` is encoded up front into a pool of
/// variants, so the load generator spends its time calling, not encoding.
struct RequestTemplate: Sendable {
    enum Part: Sendable {
        case text(String)
        case sequence
        case random(ClosedRange<Int>)
        case uuid
    }

    let parts: [Part]
    let descriptor: MessageDescriptor
    private let pool: [ByteBuffer]

    init(_ template: String, descriptor: MessageDescriptor, poolSize: Int = 4096) throws {
        var parts: [Part] = []
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            parts.append(.text(String(rest[..<open.lowerBound])))
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw ProtoJSONError("unclosed '{{' in the request template")
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if name == "seq" {
                parts.append(.sequence)
            } else if name == "uuid" {
                parts.append(.uuid)
            } else if name.hasPrefix("rand:") {
                let bounds = name.dropFirst(5).split(separator: ":").compactMap { Int($0) }
                guard bounds.count == 2, bounds[0] <= bounds[1] else {
                    throw ProtoJSONError("'{{\(name)}}': write {{rand:LOW:HIGH}} with LOW <= HIGH")
                }
                parts.append(.random(bounds[0]...bounds[1]))
            } else {
                throw ProtoJSONError("unknown template variable '{{\(name)}}' (use seq, rand:LOW:HIGH or uuid)")
            }
            rest = rest[close.upperBound...]
        }
        parts.append(.text(String(rest)))
        self.parts = parts
        self.descriptor = descriptor
        let perCall = parts.contains { if case .sequence = $0 { true } else if case .uuid = $0 { true } else { false } }
        let hasRandom = parts.contains { if case .random = $0 { true } else { false } }
        if perCall {
            pool = []
            _ = try Self.encode(parts, sequence: 0, descriptor: descriptor)  // validate once
        } else {
            pool = try (0..<(hasRandom ? poolSize : 1)).map { try Self.encode(parts, sequence: $0, descriptor: descriptor) }
        }
    }

    /// The encoded request for call number `sequence`.
    func request(_ sequence: Int) throws -> ByteBuffer {
        if !pool.isEmpty { return pool[sequence % pool.count] }
        return try Self.encode(parts, sequence: sequence, descriptor: descriptor)
    }

    private static func encode(_ parts: [Part], sequence: Int, descriptor: MessageDescriptor) throws -> ByteBuffer {
        var json = ""
        for part in parts {
            switch part {
            case .text(let text): json += text
            case .sequence: json += String(sequence)
            case .random(let range): json += String(Int.random(in: range))
            case .uuid: json += UUID().uuidString.lowercased()
            }
        }
        return ByteBuffer(bytes: try ProtoJSON.encode(json: json, as: descriptor))
    }
}
