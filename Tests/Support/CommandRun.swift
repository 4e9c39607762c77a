public import Foundation
import RetainProcess

/// One run of a built executable (`retain`, `retain-gateway`, ...) to its end: its exit status
/// and everything it printed. For tests of the command lines.
public struct CommandRun: Sendable, CustomStringConvertible {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    /// Runs `executable` from the build directory with `arguments`, feeding `input` to its
    /// standard input, with `RETAIN_AUTHORIZATION` removed from the environment unless
    /// `environment` sets it.
    public init(_ executable: String, _ arguments: [String], input: String? = nil, environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = ServerProcess.buildDirectory.appendingPathComponent(executable)
        process.arguments = arguments
        var inherited = ProcessInfo.processInfo.environment
        inherited["RETAIN_AUTHORIZATION"] = nil
        process.environment = inherited.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inPipe = input.map { _ in Pipe() }
        if let inPipe { process.standardInput = inPipe }
        try process.run()
        if let inPipe, let input {
            inPipe.fileHandleForWriting.write(Data(input.utf8))
            try inPipe.fileHandleForWriting.close()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitForExit()
        status = process.terminationStatus
        self.stdout = String(decoding: stdout, as: UTF8.self)
        self.stderr = String(decoding: stderr, as: UTF8.self)
    }

    public var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}
