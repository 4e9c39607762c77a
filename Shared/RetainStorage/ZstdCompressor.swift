import CZstd

/// A zstd streaming compression context (`ZSTD_CCtx`), freed in `deinit`.
///
/// Frames carry the zstd content checksum (`ZSTD_c_checksumFlag`) and no content size, so they
/// are read back with `ZSTD_decompressStream`.
package final class ZstdCompressor {
    private let context: OpaquePointer

    /// A context compressing at `level`. With `workers` > 0 (and a libzstd built with threads,
    /// as Debian's is) compression runs on that many background threads, overlapping the
    /// caller's encoding; without thread support the call compresses inline.
    package init(level: Int32, workers: Int32 = 0) throws(StorageError) {
        guard let context = ZSTD_createCCtx() else {
            throw .invalidOperation("ZSTD_createCCtx failed (out of memory)")
        }
        self.context = context
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level), "set compression level \(level)")
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1), "enable frame checksums")
        if workers > 0 {
            // An error here only means a libzstd without threads: compress inline then.
            _ = ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, workers)
        }
    }

    deinit {
        ZSTD_freeCCtx(context)
    }

    /// Feeds `input` to the stream (ending the frame if `endFrame`), handing every full or final
    /// piece of compressed output to `sink`. `output` is scratch space for compressed bytes.
    package func compress(
        _ input: UnsafeRawBufferPointer, endFrame: Bool, output: UnsafeMutableRawBufferPointer,
        sink: (UnsafeRawBufferPointer) throws(StorageError) -> Void
    ) throws(StorageError) {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        let directive = endFrame ? ZSTD_e_end : ZSTD_e_continue
        while true {
            var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let remaining = ZSTD_compressStream2(context, &outBuffer, &inBuffer, directive)
            try check(remaining, "compress")
            if outBuffer.pos > 0 {
                try sink(UnsafeRawBufferPointer(rebasing: output[0..<outBuffer.pos]))
            }
            let finished = endFrame ? remaining == 0 : inBuffer.pos == inBuffer.size
            if finished { return }
        }
    }

    private func check(_ code: Int, _ what: String) throws(StorageError) {
        if ZSTD_isError(code) != 0 {
            throw .invalidOperation("zstd could not \(what): \(String(cString: ZSTD_getErrorName(code)))")
        }
    }
}
