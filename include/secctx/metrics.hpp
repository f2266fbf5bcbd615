// Per-handshake metrics. The counters (flights, round trips, bytes) are kept by every handshake
// because its limits need them; the clock readings and message inspection cost something, so they
// live in a policy: no_metrics (the default, compiled away) or record_metrics.
//
// metrics_policy requirements, for a policy m (const cm):
//   m.computing_begin(input)         a provider call is about to read `input` (whole records at
//                                    its front).
//   m.computing_end(output)          the call returned; `output` is the token it produced.
//   m.waiting_begin()                step() returned want_read: the peer has the turn.
//   m.waiting_end()                  bytes arrived from the peer.
//   cm.timings()                     -> handshake_timings.
// All are noexcept and must not fail. basic_handshake default-constructs the policy and hands it
// out through recorder(), so a policy may keep whatever else it records in itself.
#pragma once

#include "secctx/tls/record_framing.hpp"

#include <chrono>
#include <concepts>
#include <cstddef>
#include <span>

namespace secctx {

struct handshake_timings {
    std::chrono::nanoseconds computing{0}; // inside the provider (crypto, parsing, building)
    std::chrono::nanoseconds waiting{0};   // from want_read until the peer's bytes arrived
    bool hello_retry = false;              // a TLS 1.3 HelloRetryRequest was sent or received
};

struct handshake_metrics {
    unsigned flights_sent = 0;
    unsigned flights_received = 0;
    unsigned round_trips = 0; // times we waited for the peer's answer to our flight
    std::size_t bytes_sent = 0;
    std::size_t bytes_received = 0;
    handshake_timings timings;
    bool resumed = false;
};

// clang-format off
template <class M>
concept metrics_policy = requires(M& m, const M& cm, std::span<const std::byte> bytes) {
    { m.computing_begin(bytes) } noexcept;
    { m.computing_end(bytes) } noexcept;
    { m.waiting_begin() } noexcept;
    { m.waiting_end() } noexcept;
    { cm.timings() } noexcept -> std::same_as<handshake_timings>;
};
// clang-format on

struct no_metrics {
    void computing_begin(std::span<const std::byte>) noexcept {}
    void computing_end(std::span<const std::byte>) noexcept {}
    void waiting_begin() noexcept {}
    void waiting_end() noexcept {}
    handshake_timings timings() const noexcept { return {}; }
};

class record_metrics {
public:
    void computing_begin(std::span<const std::byte> input) noexcept {
        timings_.hello_retry |= tls::starts_with_hello_retry_request(input);
        computing_since_ = std::chrono::steady_clock::now();
    }

    void computing_end(std::span<const std::byte> output) noexcept {
        timings_.computing += std::chrono::steady_clock::now() - computing_since_;
        timings_.hello_retry |= tls::starts_with_hello_retry_request(output);
    }

    void waiting_begin() noexcept {
        if (!waiting_)
            waiting_since_ = std::chrono::steady_clock::now();
        waiting_ = true;
    }

    void waiting_end() noexcept {
        if (waiting_)
            timings_.waiting += std::chrono::steady_clock::now() - waiting_since_;
        waiting_ = false;
    }

    handshake_timings timings() const noexcept { return timings_; }

private:
    handshake_timings timings_;
    std::chrono::steady_clock::time_point computing_since_;
    std::chrono::steady_clock::time_point waiting_since_;
    bool waiting_ = false;
};

static_assert(metrics_policy<no_metrics> && metrics_policy<record_metrics>);

} // namespace secctx
