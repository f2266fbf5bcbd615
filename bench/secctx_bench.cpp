// Google Benchmark, for each variant of bench/common.hpp: handshakes per second (BM_handshake) and
// 16 KiB records per second from client to server over one established connection (BM_records),
// with two counters per handshake or per record, counted only inside the measured loop:
//   lib_allocs   heap allocations made outside OpenSSL (global operator new, replaced below);
//   ossl_allocs  OpenSSL's own allocations (CRYPTO_set_mem_functions, installed at the top of
//                main before any OpenSSL call): malloc plus realloc calls.
#include "common.hpp"

#include <benchmark/benchmark.h>
#include <openssl/crypto.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

namespace {

bool counting = false;
std::size_t lib_allocs = 0;
std::size_t ossl_allocs = 0;

void* ossl_malloc(std::size_t size, const char*, int) {
    ossl_allocs += counting;
    return std::malloc(size);
}

void* ossl_realloc(void* p, std::size_t size, const char*, int) {
    ossl_allocs += counting;
    return std::realloc(p, size);
}

void ossl_free(void* p, const char*, int) {
    std::free(p);
}

void* counted_new(std::size_t size, std::size_t alignment = 0) {
    lib_allocs += counting;
    size = size == 0 ? 1 : size;
    void* p = nullptr;
    if (alignment <= alignof(std::max_align_t))
        p = std::malloc(size);
    else if (posix_memalign(&p, alignment, size) != 0)
        p = nullptr;
    if (p == nullptr)
        throw std::bad_alloc();
    return p;
}

const secctx::bench::pki& bench_pki() {
    static const secctx::bench::pki instance;
    return instance;
}

// Runs `once` per iteration and reports the allocations made inside it per iteration (counting
// only around the call keeps Google Benchmark's own bookkeeping out of the counters).
template <class Once>
void measure(benchmark::State& state, Once once) {
    lib_allocs = 0;
    ossl_allocs = 0;
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
    state.counters["ossl_allocs"] =
        benchmark::Counter(static_cast<double>(ossl_allocs), benchmark::Counter::kAvgIterations);
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

void* operator new(std::size_t size) {
    return counted_new(size);
}
void* operator new[](std::size_t size) {
    return counted_new(size);
}
void* operator new(std::size_t size, std::align_val_t a) {
    return counted_new(size, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t size, std::align_val_t a) {
    return counted_new(size, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}

int main(int argc, char** argv) {
    if (CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) != 1) {
        std::fputs("secctx_bench: CRYPTO_set_mem_functions failed (OpenSSL already allocated)\n",
                   stderr);
        return 1;
    }
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
