import ArgumentParser
import Foundation
import RetainProto
import RetainWire

/// Maps a command's failure to its exit code: a call's status code, 14 (UNAVAILABLE) when the
/// server cannot be reached, 3 (INVALID_ARGUMENT) for bad input; the message goes to stderr.
enum ExitStatus {
    static func reporting(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as RPCError {
            printError("\(error.code.name): \(error.message)")
            throw ExitCode(Int32(error.code.rawValue))
        } catch let error as ProtoJSONError {
            printError("INVALID_ARGUMENT: \(error)")
            throw ExitCode(Int32(RPCStatusCode.invalidArgument.rawValue))
        } catch let error as ValidationError {
            throw error
        } catch {
            printError("UNKNOWN: \(error)")
            throw ExitCode(Int32(RPCStatusCode.unknown.rawValue))
        }
    }

    static func printError(_ message: String) {
        var standardError = StandardError()
        print(message, to: &standardError)
    }
}

/// Standard error as a text stream.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
