import CZstd

/// A zstd streaming decompression context (`ZSTD_DCtx`), freed in `deinit`.
package final class ZstdDecompressor {
    private let context: OpaquePointer

    /// A fresh context.
    package init() throws(StorageError) {
        guard let context = ZSTD_createDCtx() else {
            throw .invalidOperation("ZSTD_createDCtx failed (out of memory)")
        }
        self.context = context
    }

    deinit {
        ZSTD_freeDCtx(context)
    }

    /// The result of one decompression step.
    package struct Progress {
        /// Input bytes consumed.
        package var consumed: Int
        /// Output bytes produced.
        package var produced: Int
        /// Whether a frame was completed (and its checksum verified) by this step.
        package var frameEnded: Bool
    }

    /// Decompresses from `input` into `output` once; throws the zstd error text on bad data.
    package func decompress(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(ZstdFailure) -> Progress {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let result = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
        if ZSTD_isError(result) != 0 {
            throw ZstdFailure(message: String(cString: ZSTD_getErrorName(result)))
        }
        return Progress(consumed: inBuffer.pos, produced: outBuffer.pos, frameEnded: result == 0)
    }

    /// A zstd error, by zstd's own name for it.
    package struct ZstdFailure: Error {
        package var message: String
    }
}
