import Foundation
public import RetainProto
public import RetainRuleSets

/// One experiment as the profile rule set defines it (`experiments.<id>` of the document): its
/// variants and weights in bucket order, and what it is for. Definitions are configuration
/// (admin, versioned, docs/CONFIG.md); AssignVariant only assigns by them.
///
/// ```json
/// {"experiments": {"checkout": {"description": "one-click checkout",
///   "variants": [{"name": "control", "weight": 50}, {"name": "one_click", "weight": 50}]}}}
/// ```
public struct ExperimentDefinition: Sendable, Equatable {
    /// Most variants of one experiment.
    public static var maximumVariants: Int { 100 }
    /// Largest weight of one variant.
    public static var maximumWeight: UInt32 { 10_000 }
    /// Most bytes of a description.
    public static var maximumDescriptionBytes: Int { 1024 }

    /// The variants in bucket order, with their relative weights.
    public let variants: [Retain_V1_ExperimentVariant]
    /// What the experiment tests, in the operator's words; may be empty.
    public let description: String

    /// A definition of `variants` (checked by ``problem(in:)``).
    public init(variants: [Retain_V1_ExperimentVariant], description: String = "") {
        self.variants = variants
        self.description = description
    }

    /// The first thing wrong with experiment `id`'s definition, as (field path below
    /// `experiments`, problem); nil when it is valid: at least one variant, the rules of
    /// ``variantsProblem(_:field:)`` (AssignVariant's `variants`), a description of at most 1024 bytes.
    func problem(id: String) -> (field: String, problem: String)? {
        let field = "experiments.\(id)"
        if let problem = FieldFormat.entityIDProblem(id) { return (field, "the experiment id \(problem)") }
        guard !variants.isEmpty else { return ("\(field).variants", "at least one variant is required") }
        if let problem = Self.variantsProblem(variants, field: "\(field).variants") { return problem }
        guard description.utf8.count <= Self.maximumDescriptionBytes else {
            return ("\(field).description", "must be at most \(Self.maximumDescriptionBytes) bytes")
        }
        return nil
    }

    /// The first thing wrong with a list of variants named `field`, as (field path, problem); nil
    /// when it is valid: at most 100, names unique, weights 0 to 10,000 and, unless the list is
    /// empty, not all 0. The one check of a rule set's definitions and of AssignVariant's
    /// `variants`.
    package static func variantsProblem(_ variants: [Retain_V1_ExperimentVariant], field: String) -> (field: String, problem: String)? {
        guard variants.count <= maximumVariants else { return (field, "at most \(maximumVariants) variants are allowed") }
        var names = Set<String>()
        for (position, variant) in variants.enumerated() {
            let at = "\(field)[\(position)]"
            guard !variant.name.isEmpty else { return ("\(at).name", "is required") }
            guard FieldFormat.isName(variant.name) else {
                return (
                    "\(at).name", "\(FieldFormat.quoted(variant.name)) must be 1 to 64 lower-case ASCII letters, digits, '_', '.' or '-'"
                )
            }
            guard names.insert(variant.name).inserted else { return ("\(at).name", "\(FieldFormat.quoted(variant.name)) appears twice") }
            guard variant.weight <= maximumWeight else { return ("\(at).weight", "must be 0 to \(maximumWeight)") }
        }
        guard variants.isEmpty || variants.contains(where: { $0.weight > 0 }) else { return (field, "the weights must not all be 0") }
        return nil
    }

    /// Reads the document's `experiments` object (experiment id -> definition).
    /// - Throws: ``RuleSetError/invalidDocument(field:problem:)`` naming the first bad entry.
    static func definitions(from value: Any?) throws(RuleSetError) -> [String: ExperimentDefinition] {
        guard let value else { return [:] }
        guard let object = value as? [String: Any] else {
            throw RuleSetError.invalidDocument(field: "experiments", problem: "must be an object of experiment id -> definition")
        }
        var definitions: [String: ExperimentDefinition] = [:]
        for id in object.keys.sorted() {
            let field = "experiments.\(id)"
            guard let entry = object[id] as? [String: Any] else {
                throw RuleSetError.invalidDocument(field: field, problem: "must be an object with variants")
            }
            for key in entry.keys.sorted() where key != "variants" && key != "description" {
                throw RuleSetError.invalidDocument(field: "\(field).\(key)", problem: "unknown key (expected variants, description)")
            }
            guard let list = entry["variants"] as? [Any] else {
                throw RuleSetError.invalidDocument(field: "\(field).variants", problem: "is required: a list of {name, weight}")
            }
            var variants: [Retain_V1_ExperimentVariant] = []
            for (position, item) in list.enumerated() {
                variants.append(try variant(item, field: "\(field).variants[\(position)]"))
            }
            let description: String
            switch entry["description"] {
            case nil: description = ""
            case let text as String: description = text
            default: throw RuleSetError.invalidDocument(field: "\(field).description", problem: "must be a string")
            }
            let definition = ExperimentDefinition(variants: variants, description: description)
            if let (at, problem) = definition.problem(id: id) { throw RuleSetError.invalidDocument(field: at, problem: problem) }
            definitions[id] = definition
        }
        return definitions
    }

    private static func variant(_ item: Any, field: String) throws(RuleSetError) -> Retain_V1_ExperimentVariant {
        guard let object = item as? [String: Any] else {
            throw RuleSetError.invalidDocument(field: field, problem: "must be an object with name and weight")
        }
        for key in object.keys.sorted() where key != "name" && key != "weight" {
            throw RuleSetError.invalidDocument(field: "\(field).\(key)", problem: "unknown key (expected name, weight)")
        }
        guard let name = object["name"] as? String else {
            throw RuleSetError.invalidDocument(field: "\(field).name", problem: "is required: a string")
        }
        // JSONSerialization gives NSNumber: a fraction does not convert to Int.
        guard let weight = object["weight"] as? Int, weight >= 0, weight <= Int(maximumWeight) else {
            throw RuleSetError.invalidDocument(field: "\(field).weight", problem: "is required: a whole number 0 to \(maximumWeight)")
        }
        return Retain_V1_ExperimentVariant(name: name, weight: UInt32(weight))
    }

    /// The definition as the document holds it.
    var jsonObject: [String: Any] {
        var object: [String: Any] = ["variants": variants.map { ["name": $0.name, "weight": Int($0.weight)] as [String: Any] }]
        if !description.isEmpty { object["description"] = description }
        return object
    }
}
