#!/usr/bin/env python3
"""Generates Retain's Swift message types and the C descriptor registry from the .proto files.

Input: a FileDescriptorSet written by `protoc --include_source_info --descriptor_set_out`.
Output (all committed, checked by CI through scripts/generate-proto.sh --check):
  Shared/CRetainProto/include/CRetainProto.h  umbrella header for the protoc-c output + registry
  Shared/CRetainProto/retain_registry.c       every protoc-c descriptor, reachable by index
  Shared/RetainProto/Generated/*.pb.swift      one Swift file per .proto file
  Shared/RetainProto/Generated/DescriptorSet.pb.swift  the descriptor set, for reflection

The Swift types read and write protoc-c's C structs directly (by field name), so encoding and
decoding stay inside libprotobuf-c and no service writes per-field conversion code.
"""
import base64
import os
import sys

from google.protobuf import descriptor_pb2 as d

F = d.FieldDescriptorProto
SWIFT_KEYWORDS = {
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import",
    "init", "inout", "internal", "let", "open", "operator", "private", "precedencegroup",
    "protocol", "public", "rethrows", "static", "struct", "subscript", "typealias", "var",
    "break", "case", "catch", "continue", "default", "defer", "do", "else", "fallthrough", "for",
    "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while", "Any", "as",
    "false", "is", "nil", "self", "Self", "super", "throws", "true", "try", "Type", "Protocol",
}
C_KEYWORDS = {"auto", "break", "case", "char", "const", "continue", "default", "do", "double",
              "else", "enum", "extern", "float", "for", "goto", "if", "int", "long", "register",
              "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
              "union", "unsigned", "void", "volatile", "while", "bool"}

SCALARS = {
    # proto type: (Swift type, default literal)
    F.TYPE_DOUBLE: ("Double", "0"), F.TYPE_FLOAT: ("Float", "0"),
    F.TYPE_INT64: ("Int64", "0"), F.TYPE_SINT64: ("Int64", "0"), F.TYPE_SFIXED64: ("Int64", "0"),
    F.TYPE_UINT64: ("UInt64", "0"), F.TYPE_FIXED64: ("UInt64", "0"),
    F.TYPE_INT32: ("Int32", "0"), F.TYPE_SINT32: ("Int32", "0"), F.TYPE_SFIXED32: ("Int32", "0"),
    F.TYPE_UINT32: ("UInt32", "0"), F.TYPE_FIXED32: ("UInt32", "0"),
}


def camel(name, upper_first=False):
    parts = name.split("_")
    out = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    if upper_first:
        out = out[:1].upper() + out[1:]
    return out


def swift_ident(name):
    return f"`{name}`" if name in SWIFT_KEYWORDS else name


def c_type_name(full_name):
    """protoc-c's C type for a message or enum: retain.v1.Foo.Bar -> Retain__V1__Foo__Bar."""
    return "__".join(p[:1].upper() + p[1:] for p in full_name.split("."))


def camel_to_lower(name):
    """protoc-c's CamelToLower: an underscore before an upper-case letter that follows a lower one."""
    out = ""
    was_upper = True
    for ch in name:
        if ch.isupper() and not was_upper:
            out += "_"
        out += ch.lower()
        was_upper = ch.isupper()
    return out


def c_lower_name(full_name):
    """protoc-c's lower-case symbol prefix: retain.v1.GoAway -> retain__v1__go_away."""
    return "__".join(camel_to_lower(p) for p in full_name.split("."))


def swift_type_name(full_name):
    """retain.v1.EchoRequest -> Retain_V1_EchoRequest."""
    parts = full_name.split(".")
    pkg = "_".join(p[:1].upper() + p[1:] for p in parts[:-1])
    return f"{pkg}_{parts[-1]}"


class Generator:
    def __init__(self, fds):
        self.fds = fds
        self.messages = {}   # full name -> DescriptorProto
        self.enums = {}      # full name -> EnumDescriptorProto
        self.comments = {}   # (file, path tuple) -> comment
        for f in fds.file:
            pkg = f.package
            for m in f.message_type:
                self._index_message(f"{pkg}.{m.name}", m)
            for e in f.enum_type:
                self.enums[f"{pkg}.{e.name}"] = e
            for loc in f.source_code_info.location:
                text = (loc.leading_comments or loc.trailing_comments).strip()
                if text:
                    self.comments[(f.name, tuple(loc.path))] = text

    def _index_message(self, full, m):
        self.messages[full] = m
        for n in m.nested_type:
            self._index_message(f"{full}.{n.name}", n)
        if m.enum_type:
            sys.exit(f"protogen: nested enums are not supported ({full}); declare them top-level")
        if m.oneof_decl:
            for fld in m.field:
                if fld.HasField("oneof_index"):
                    sys.exit(f"protogen: oneof/optional is not supported ({full}.{fld.name})")

    def doc(self, file, path, indent=""):
        text = self.comments.get((file, tuple(path)))
        if not text:
            return ""
        return "".join(f"{indent}/// {line.strip()}\n" if line.strip() else f"{indent}///\n"
                       for line in text.splitlines())

    def is_map(self, field):
        if field.type != F.TYPE_MESSAGE or field.label != F.LABEL_REPEATED:
            return False
        entry = self.messages[field.type_name.lstrip(".")]
        return entry.options.map_entry

    # ---- Swift value types -------------------------------------------------------------------
    def swift_field_type(self, field):
        if self.is_map(field):
            entry = self.messages[field.type_name.lstrip(".")]
            k, v = entry.field[0], entry.field[1]
            return f"[{self.swift_elem_type(k)}: {self.swift_elem_type(v)}]"
        elem = self.swift_elem_type(field)
        if field.label == F.LABEL_REPEATED:
            return f"[{elem}]"
        if field.type == F.TYPE_MESSAGE:
            return f"{elem}?"
        return elem

    def swift_elem_type(self, field):
        t = field.type
        if t in SCALARS:
            return SCALARS[t][0]
        if t == F.TYPE_BOOL:
            return "Bool"
        if t == F.TYPE_STRING:
            return "String"
        if t == F.TYPE_BYTES:
            return "[UInt8]"
        if t in (F.TYPE_ENUM, F.TYPE_MESSAGE):
            return swift_type_name(field.type_name.lstrip("."))
        sys.exit(f"protogen: unsupported field type {t} for {field.name}")

    def swift_default(self, field):
        if self.is_map(field):
            return "[:]"
        if field.label == F.LABEL_REPEATED:
            return "[]"
        t = field.type
        if t in SCALARS:
            return SCALARS[t][1]
        return {F.TYPE_BOOL: "false", F.TYPE_STRING: '""', F.TYPE_BYTES: "[]",
                F.TYPE_MESSAGE: "nil"}.get(t, ".init(rawValue: 0)")

    # ---- C <-> Swift conversion expressions -----------------------------------------------------
    def read_elem(self, field, expr):
        """Swift expression converting one C element `expr` to the Swift element type."""
        t = field.type
        if t in SCALARS:
            return expr
        if t == F.TYPE_BOOL:
            return f"({expr} != 0)"
        if t == F.TYPE_STRING:
            return f"ProtoC.string({expr})"
        if t == F.TYPE_BYTES:
            return f"ProtoC.bytes({expr})"
        if t == F.TYPE_ENUM:
            return f"{self.swift_elem_type(field)}(rawValue: Int32(bitPattern: {expr}.rawValue))"
        if t == F.TYPE_MESSAGE:
            return f"{self.swift_elem_type(field)}(protobufC: UnsafeRawPointer({expr}))"

    def write_elem(self, field, expr):
        """Swift expression converting one Swift element `expr` to its C representation."""
        t = field.type
        if t in SCALARS:
            return expr
        if t == F.TYPE_BOOL:
            return f"({expr} ? 1 : 0)"
        if t == F.TYPE_STRING:
            return f"arena.cString({expr})"
        if t == F.TYPE_BYTES:
            return f"arena.binary({expr})"
        if t == F.TYPE_ENUM:
            return f"{c_type_name(field.type_name.lstrip('.'))}(rawValue: UInt32(bitPattern: {expr}.rawValue))"
        if t == F.TYPE_MESSAGE:
            ctype = c_type_name(field.type_name.lstrip("."))
            return f"arena.message({expr}).assumingMemoryBound(to: {ctype}.self)"

    def c_elem_type(self, field):
        t = field.type
        if t in SCALARS:
            return SCALARS[t][0]
        if t == F.TYPE_BOOL:
            return "protobuf_c_boolean"
        if t == F.TYPE_STRING:
            return "UnsafeMutablePointer<CChar>?"
        if t == F.TYPE_BYTES:
            return "ProtobufCBinaryData"
        if t == F.TYPE_ENUM:
            return c_type_name(field.type_name.lstrip("."))
        if t == F.TYPE_MESSAGE:
            return f"UnsafeMutablePointer<{c_type_name(field.type_name.lstrip('.'))}>?"

    def c_field(self, field):
        if field.name in C_KEYWORDS:
            sys.exit(f"protogen: field name {field.name} is a C keyword")
        return field.name

    def read_stmt(self, field):
        c = self.c_field(field)
        s = swift_ident(camel(field.name))
        if self.is_map(field):
            entry = self.messages[field.type_name.lstrip(".")]
            k, v = entry.field[0], entry.field[1]
            return (f"        self.{s} = ProtoC.dictionary(m.pointee.{c}, count: m.pointee.n_{c}) {{ e in\n"
                    f"            ({self.read_elem(k, 'e.pointee.key')}, {self.read_elem(v, 'e.pointee.value')})\n"
                    f"        }}\n")
        if field.label == F.LABEL_REPEATED:
            elem = "e!" if field.type in (F.TYPE_MESSAGE, F.TYPE_STRING) else "e"
            return (f"        self.{s} = ProtoC.array(m.pointee.{c}, count: m.pointee.n_{c}) {{ e in "
                    f"{self.read_elem(field, elem)} }}\n")
        if field.type == F.TYPE_MESSAGE:
            return f"        self.{s} = m.pointee.{c}.map {{ {self.read_elem(field, '$0')} }}\n"
        return f"        self.{s} = {self.read_elem(field, 'm.pointee.' + c)}\n"

    def write_stmt(self, field):
        c = self.c_field(field)
        s = swift_ident(camel(field.name))
        if self.is_map(field):
            entry_name = field.type_name.lstrip(".")
            entry = self.messages[entry_name]
            k, v = entry.field[0], entry.field[1]
            ctype = c_type_name(entry_name)
            return (f"        if !self.{s}.isEmpty {{\n"
                    f"            m.pointee.n_{c} = self.{s}.count\n"
                    f"            m.pointee.{c} = arena.mapEntries(self.{s}, entry: {swift_type_name(self.owner)}.{camel(field.name)}EntryDescriptor, as: {ctype}.self) {{ e, key, value in\n"
                    f"                e.pointee.key = {self.write_elem(k, 'key')}\n"
                    f"                e.pointee.value = {self.write_elem(v, 'value')}\n"
                    f"            }}\n"
                    f"        }}\n")
        if field.label == F.LABEL_REPEATED:
            if field.type in SCALARS:
                conv = "arena.copy(self.%s)" % s
            else:
                conv = (f"arena.array(self.{s}, as: {self.c_elem_type(field)}.self) "
                        f"{{ {self.write_elem(field, '$0')} }}")
            return (f"        if !self.{s}.isEmpty {{\n"
                    f"            m.pointee.n_{c} = self.{s}.count\n"
                    f"            m.pointee.{c} = {conv}\n"
                    f"        }}\n")
        if field.type == F.TYPE_MESSAGE:
            return f"        if let v = self.{s} {{ m.pointee.{c} = {self.write_elem(field, 'v')} }}\n"
        if field.type == F.TYPE_STRING:
            return f"        if !self.{s}.isEmpty {{ m.pointee.{c} = arena.cString(self.{s}) }}\n"
        if field.type == F.TYPE_BYTES:
            return f"        if !self.{s}.isEmpty {{ m.pointee.{c} = arena.binary(self.{s}) }}\n"
        return f"        m.pointee.{c} = {self.write_elem(field, 'self.' + s)}\n"

    def gen_message(self, file, full, m, path):
        name = swift_type_name(full)
        ctype = c_type_name(full)
        self.owner = full
        out = self.doc(file, path)
        out += f"public struct {name}: ProtoMessage {{\n"
        fields = list(m.field)
        for i, fld in enumerate(fields):
            out += self.doc(file, path + [2, i], "    ")
            out += f"    public var {swift_ident(camel(fld.name))}: {self.swift_field_type(fld)}\n"
        if fields:
            out += "\n"
        params = ", ".join(f"{swift_ident(camel(f.name))}: {self.swift_field_type(f)} = {self.swift_default(f)}"
                           for f in fields)
        out += f"    /// Creates a message; every field defaults to its proto3 zero value.\n"
        out += f"    public init({params}) {{\n"
        for fld in fields:
            s = swift_ident(camel(fld.name))
            out += f"        self.{s} = {s}\n"
        out += "    }\n\n"
        if fields:
            out += "    /// Creates a message with every field at its proto3 default.\n"
            out += "    public init() {\n"
            for fld in fields:
                out += f"        self.{swift_ident(camel(fld.name))} = {self.swift_default(fld)}\n"
            out += "    }\n\n"
        out += f'    public static let protoName = "{full}"\n'
        out += f'    public static let messageDescriptor = MessageDescriptor.named("{full}")\n'
        for fld in fields:
            if self.is_map(fld):
                out += (f'    static let {camel(fld.name)}EntryDescriptor = '
                        f'MessageDescriptor.named("{fld.type_name.lstrip(".")}")\n')
        out += "\n    public init(protobufC pointer: UnsafeRawPointer) {\n"
        if fields:
            out += f"        let m = pointer.assumingMemoryBound(to: {ctype}.self)\n"
        for fld in fields:
            out += self.read_stmt(fld)
        out += "    }\n\n"
        out += "    public func writeProtobufC(into pointer: UnsafeMutableRawPointer, arena: ProtoArena) {\n"
        if fields:
            out += f"        let m = pointer.assumingMemoryBound(to: {ctype}.self)\n"
        for fld in fields:
            out += self.write_stmt(fld)
        out += "    }\n}\n\n"
        return out

    def gen_enum(self, file, full, e, path):
        name = swift_type_name(full)
        prefix = camel_to_lower(full.split(".")[-1]).upper() + "_"
        out = self.doc(file, path)
        out += f"public struct {name}: ProtoEnum {{\n"
        out += "    public var rawValue: Int32\n"
        out += "    public init(rawValue: Int32) { self.rawValue = rawValue }\n\n"
        cases = []
        for i, v in enumerate(e.value):
            short = v.name[len(prefix):] if v.name.startswith(prefix) else v.name
            ident = swift_ident(camel(short.lower()))
            cases.append((ident, v))
            out += self.doc(file, path + [2, i], "    ")
            out += f"    public static let {ident} = {name}(rawValue: {v.number})\n"
        out += f"\n    public static let allCases: [{name}] = [{', '.join('.' + c for c, _ in cases)}]\n"
        out += '    public static let protoName = "%s"\n' % full
        out += "    public var protoValueName: String? {\n        switch rawValue {\n"
        for _, v in cases:
            out += f'        case {v.number}: "{v.name}"\n'
        out += "        default: nil\n        }\n    }\n}\n\n"
        return out

    def gen_service(self, file, pkg, s, path):
        name = swift_type_name(f"{pkg}.{s.name}")
        full = f"{pkg}.{s.name}"
        out = self.doc(file, path)
        out += f"public enum {name} {{\n"
        out += f'    /// The service\'s full name on the wire.\n    public static let serviceName = "{full}"\n'
        idents = []
        for i, meth in enumerate(s.method):
            if meth.client_streaming:
                sys.exit(f"protogen: client streaming is not supported ({full}/{meth.name})")
            inp = swift_type_name(meth.input_type.lstrip("."))
            outp = swift_type_name(meth.output_type.lstrip("."))
            kind = ".serverStreaming" if meth.server_streaming else ".unary"
            ident = swift_ident(camel(camel_to_lower(meth.name)))
            idents.append(ident)
            out += self.doc(file, path + [2, i], "    ")
            out += (f'    public static let {ident} = RPCMethod<{inp}, {outp}>('
                    f'path: "{full}/{meth.name}", kind: {kind})\n')
        out += f"\n    /// Every method of the service, for registration checks and reflection.\n"
        out += f"    public static let methods: [AnyRPCMethod] = [{', '.join(f'AnyRPCMethod({i})' for i in idents)}]\n"
        out += "}\n\n"
        return out

    def gen_file(self, f):
        out = "// Generated by scripts/protogen.py from %s. Do not edit.\n\n" % f.name
        out += "import CProtobufC\nimport CRetainProto\n\n"
        for i, e in enumerate(f.enum_type):
            out += self.gen_enum(f.name, f"{f.package}.{e.name}", e, [5, i])
        for i, m in enumerate(f.message_type):
            out += self.gen_message(f.name, f"{f.package}.{m.name}", m, [4, i])
        for i, s in enumerate(f.service):
            out += self.gen_service(f.name, f.package, s, [6, i])
        return out.rstrip() + "\n"


def main():
    fds_path, root = sys.argv[1], sys.argv[2]
    fds = d.FileDescriptorSet()
    with open(fds_path, "rb") as fh:
        fds.ParseFromString(fh.read())
    gen = Generator(fds)
    swift_dir = os.path.join(root, "Shared/RetainProto/Generated")
    c_dir = os.path.join(root, "Shared/CRetainProto")
    os.makedirs(swift_dir, exist_ok=True)
    for f in fds.file:
        base = os.path.basename(f.name).replace(".proto", "")
        with open(os.path.join(swift_dir, f"{base}.pb.swift"), "w") as out:
            out.write(gen.gen_file(f))

    # Descriptor set without source info, embedded for the reflection service.
    plain = d.FileDescriptorSet()
    plain.CopyFrom(fds)
    for f in plain.file:
        f.ClearField("source_code_info")
    blob = base64.b64encode(plain.SerializeToString(deterministic=True)).decode()
    lines = [blob[i:i + 96] for i in range(0, len(blob), 96)]
    with open(os.path.join(swift_dir, "DescriptorSet.pb.swift"), "w") as out:
        out.write("// Generated by scripts/protogen.py. Do not edit.\n\n")
        out.write("/// The serialized `google.protobuf.FileDescriptorSet` of every Retain .proto file, base64.\n")
        out.write("package let retainDescriptorSetBase64 = \"\"\"\n")
        out.write("\n".join(lines) + "\n\"\"\"\n")

    with open(os.path.join(swift_dir, "MessageTypes.pb.swift"), "w") as out:
        out.write("// Generated by scripts/protogen.py. Do not edit.\n\n")
        out.write("/// Every generated message type, for tools that work on all of them (the fuzzer, tests).\n")
        out.write("public let retainMessageTypes: [any ProtoMessage.Type] = [\n")
        for name in sorted(gen.messages):
            if gen.messages[name].options.map_entry:
                continue
            out.write(f"    {swift_type_name(name)}.self,\n")
        out.write("]\n")

    headers = [f.name.replace(".proto", ".pb-c.h") for f in fds.file]
    messages = sorted(gen.messages)
    enums = sorted(gen.enums)
    with open(os.path.join(c_dir, "include/CRetainProto.h"), "w") as out:
        out.write("// Generated by scripts/protogen.py. Do not edit.\n")
        out.write("#ifndef C_RETAIN_PROTO_H\n#define C_RETAIN_PROTO_H\n\n#include <stddef.h>\n")
        for h in headers:
            out.write(f'#include "{h}"\n')
        out.write("\n/// Number of message descriptors in retain_message_descriptor().\n")
        out.write("size_t retain_message_descriptor_count(void);\n")
        out.write("/// The message descriptor at `index` (sorted by full name).\n")
        out.write("const ProtobufCMessageDescriptor *retain_message_descriptor(size_t index);\n")
        out.write("/// Number of enum descriptors in retain_enum_descriptor().\n")
        out.write("size_t retain_enum_descriptor_count(void);\n")
        out.write("/// The enum descriptor at `index` (sorted by full name).\n")
        out.write("const ProtobufCEnumDescriptor *retain_enum_descriptor(size_t index);\n")
        out.write("\n#endif\n")
    with open(os.path.join(c_dir, "include/module.modulemap"), "w") as out:
        out.write("module CRetainProto {\n    header \"CRetainProto.h\"\n    export *\n}\n")
    with open(os.path.join(c_dir, "retain_registry.c"), "w") as out:
        out.write("// Generated by scripts/protogen.py. Do not edit.\n#include \"CRetainProto.h\"\n\n")
        out.write("static const ProtobufCMessageDescriptor *const messages[] = {\n")
        for m in messages:
            out.write(f"    &{c_lower_name(m)}__descriptor,\n")
        out.write("};\n\nstatic const ProtobufCEnumDescriptor *const enums[] = {\n")
        for e in enums:
            out.write(f"    &{c_lower_name(e)}__descriptor,\n")
        if not enums:
            out.write("    NULL,\n")
        out.write("};\n\n")
        out.write("size_t retain_message_descriptor_count(void) { return sizeof(messages) / sizeof(messages[0]); }\n")
        out.write("const ProtobufCMessageDescriptor *retain_message_descriptor(size_t index) { return messages[index]; }\n")
        out.write("size_t retain_enum_descriptor_count(void) { return %d; }\n" % len(enums))
        out.write("const ProtobufCEnumDescriptor *retain_enum_descriptor(size_t index) { return enums[index]; }\n")


if __name__ == "__main__":
    main()
