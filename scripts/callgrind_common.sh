# Shared by the instruction-count scripts (bench_instructions.sh, bench_echo_instructions.sh):
# sourced, not run. Debian 12's valgrind 3.19 needs two workarounds for Swift 6 binaries: it runs
# copies made with `strip --strip-debug` (it cannot read their DWARF 5), and it gets a preloaded
# `sigsuspend` that hands the kernel a writable copy of the mask (it crashes on the read-only one
# libdispatch passes).

# callgrind_prepare WORK BIN TOOL...: stripped copies of BIN/TOOL in WORK, and WORK/sigsuspend.so.
callgrind_prepare() {
  local work=$1 bin=$2
  shift 2
  for tool in "$@"; do strip --strip-debug -o "$work/$tool" "$bin/$tool"; done
  cat >"$work/sigsuspend.c" <<'CSOURCE'
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, sizeof(unsigned long));
}
CSOURCE
  cc -shared -fPIC -O2 -o "$work/sigsuspend.so" "$work/sigsuspend.c"
}

# free_port: a TCP port free on 127.0.0.1 now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# instructions FILE: the total instruction count of a callgrind output file.
instructions() { awk '/^(summary|totals):/ { print $2; exit }' "$1"; }
