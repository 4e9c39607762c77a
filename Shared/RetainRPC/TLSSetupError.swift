import Foundation
import NIOSSL

/// Why TLS could not be set up from its files: a file is missing or unreadable, holds no PEM
/// certificate or key, or the key does not belong to the certificate. The message names the
/// file, so a process can refuse to start with it as it is.
public struct TLSSetupError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, naming the file.
    public var message: String

    /// Creates an error with `message`.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Reads the PEM files that ``ServerTLS`` and ``ClientTLS`` are built from, with errors that
/// say which file and why.
enum PEMFile {
    /// The bytes of `path`; `role` ("certificate", "private key", "CA") goes into the error.
    static func read(_ path: String, role: String) throws(TLSSetupError) -> [UInt8] {
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw TLSSetupError("TLS \(role) file \(path) \(reason)")
        }
    }

    /// Every certificate of the PEM file at `path`, leaf first; at least one.
    static func certificates(_ path: String, role: String) throws(TLSSetupError) -> [NIOSSLCertificate] {
        let bytes = try read(path, role: role)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw TLSSetupError("TLS \(role) file \(path) is not a valid PEM certificate: \(error)")
        }
        guard !certificates.isEmpty else {
            throw TLSSetupError("TLS \(role) file \(path) holds no PEM certificate")
        }
        return certificates
    }

    /// The private key of the PEM file at `path`.
    static func privateKey(_ path: String) throws(TLSSetupError) -> NIOSSLPrivateKey {
        let bytes = try read(path, role: "private key")
        do {
            return try NIOSSLPrivateKey(bytes: bytes, format: .pem)
        } catch {
            throw TLSSetupError("TLS private key file \(path) is not a valid PEM private key: \(error)")
        }
    }

    /// A TLS context for `configuration`; a failure here, once the files parsed, means the key
    /// does not belong to the certificate.
    static func context(
        _ configuration: TLSConfiguration, certificateFile: String?, keyFile: String?
    )
        throws(TLSSetupError) -> NIOSSLContext
    {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            if let certificateFile, let keyFile {
                throw TLSSetupError("TLS private key \(keyFile) does not match certificate \(certificateFile): \(error)")
            }
            throw TLSSetupError("cannot set up TLS: \(error)")
        }
    }
}
