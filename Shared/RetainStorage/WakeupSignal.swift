import Glibc

/// A sticky wake-up flag with a `pthread` condition variable: ``signal()`` sets it, ``wait()``
/// sleeps until it is set and clears it. A signal sent before the wait is not lost.
///
/// The committer thread sleeps on one of these when it has nothing to write; appenders signal it
/// only on the idle-to-busy transition, so a busy committer costs them no system call.
package final class WakeupSignal: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Guarded by `mutex`.
    private var signaled = false

    /// A cleared signal.
    package init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Sets the flag and wakes the waiter.
    package func signal() {
        pthread_mutex_lock(mutex)
        signaled = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Sleeps until the flag is set, then clears it.
    package func wait() {
        pthread_mutex_lock(mutex)
        while !signaled {
            pthread_cond_wait(condition, mutex)
        }
        signaled = false
        pthread_mutex_unlock(mutex)
    }

    /// Sleeps until the flag is set or the monotonic clock reaches `deadline` (nanoseconds).
    package func wait(untilNanoseconds deadline: UInt64) {
        var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_mutex_lock(mutex)
        while !signaled {
            if pthread_cond_timedwait(condition, mutex, &time) == ETIMEDOUT { break }
        }
        signaled = false
        pthread_mutex_unlock(mutex)
    }
}

/// Nanoseconds on the monotonic clock (`CLOCK_MONOTONIC`).
func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
