// Google Benchmark, for each variant of bench/variants.hpp: handshakes per second (BM_handshake)
// and 16 KiB records per second from client to server over one established connection
// (BM_records), with two counters per handshake or per record, counted only inside the measured
// loop:
//   lib_allocs     heap allocations made outside the engines: global operator new, replaced
//                  below (both engines are C and never call it);
//   engine_allocs  every other allocation: malloc, calloc and realloc calls, which this program
//                  replaces for the whole process (glibc allows it; the replacements forward to
//                  glibc's own allocator), minus those that operator new made. OpenSSL's,
//                  GnuTLS's, Nettle's and GMP's allocations all land here.
#include "counted_new.hpp"
#include "variants.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
void __libc_free(void* p);
}

namespace {

bool counting = false;
std::size_t lib_allocs = 0;
std::size_t all_allocs = 0;

const secctx::bench::pki& bench_pki() {
    static const secctx::bench::pki instance;
    return instance;
}

// Runs `once` per iteration and reports the allocations made inside it per iteration (counting
// only around the call keeps Google Benchmark's own bookkeeping out of the counters).
template <class Once>
void measure(benchmark::State& state, Once once) {
    lib_allocs = 0;
    all_allocs = 0;
    for (auto _ : state) {
        counting = true;
        const bool ok = once();
        counting = false;
        if (!ok) {
            state.SkipWithError("a handshake or transfer failed");
            break;
        }
    }
    state.counters["lib_allocs"] =
        benchmark::Counter(static_cast<double>(lib_allocs), benchmark::Counter::kAvgIterations);
    state.counters["engine_allocs"] = benchmark::Counter(
        static_cast<double>(all_allocs - lib_allocs), benchmark::Counter::kAvgIterations);
    state.SetItemsProcessed(state.iterations());
}

template <class Loop>
void bm_handshake(benchmark::State& state) {
    Loop loop(bench_pki());
    // One handshake outside the measurement: lazy initialisation, links and vectors at size.
    if (!loop.handshake()) {
        state.SkipWithError("handshake failed");
        return;
    }
    measure(state, [&] { return loop.handshake(); });
}

// One full TLS record of plaintext per transfer.
constexpr std::size_t record_size = 16384;

template <class Loop>
void bm_records(benchmark::State& state) {
    Loop loop(bench_pki());
    std::vector<std::byte> message(record_size, std::byte{0x5a});
    std::vector<std::byte> into(record_size);
    // One transfer outside the measurement: the engine's record buffers and the queues at size.
    if (!loop.connect() || !loop.transfer(message, into)) {
        state.SkipWithError("connection failed");
        return;
    }
    measure(state, [&] { return loop.transfer(message, into); });
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(record_size));
}

} // namespace

// Every operator new is a library allocation; one that takes the over-aligned path reaches glibc
// through posix_memalign, which the replacements below do not see.
void* secctx::bench::counted_new(std::size_t size, std::size_t alignment) {
    lib_allocs += counting;
    if (alignment > alignof(std::max_align_t))
        all_allocs += counting;
    return allocate(size, alignment);
}

void secctx::bench::counted_delete(void* p) noexcept {
    std::free(p);
}

extern "C" {
void* malloc(std::size_t size) noexcept {
    all_allocs += counting;
    return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
    all_allocs += counting;
    return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t size) noexcept {
    all_allocs += counting;
    return __libc_realloc(p, size);
}
void free(void* p) noexcept {
    __libc_free(p);
}
}

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    using namespace secctx::bench;
    for (const variant v : all_variants) {
        const std::string handshake = "BM_handshake/" + std::string(name_of(v));
        const std::string records = "BM_records/" + std::string(name_of(v));
        with_loop(v, [&]<class Loop>() {
            benchmark::RegisterBenchmark(handshake.c_str(), bm_handshake<Loop>)
                ->Unit(benchmark::kMicrosecond);
            benchmark::RegisterBenchmark(records.c_str(), bm_records<Loop>)
                ->Unit(benchmark::kMicrosecond);
        });
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
