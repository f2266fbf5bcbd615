// The variants both benchmark programs compare, and how to get each one's loop. Every loop is
// built once (setup) and then performs one complete client+server handshake per handshake() call,
// in one thread, with new engine objects every time and no session reuse; connect() establishes
// one connection and keeps it, and transfer() carries one message from the client to the server
// over it (the per-record measurement). All run on the one PKI of pki.hpp.
//
//   secctx-*             loops/secctx.hpp: basic_handshake and basic_channel, on either engine
//   openssl-mem          loops/openssl.hpp: the usual hand-written OpenSSL loop
//   openssl-custom-bio   loops/openssl.hpp: the best hand-written OpenSSL loop
//   gnutls-push-pull     loops/gnutls.hpp: the best hand-written GnuTLS loop
#pragma once

#include "loops/gnutls.hpp"
#include "loops/openssl.hpp"
#include "loops/secctx.hpp"

#include <array>
#include <optional>
#include <string_view>

namespace secctx::bench {

enum class variant {
    secctx_dynamic,
    secctx_fixed,
    secctx_pooled,
    openssl_mem,
    openssl_custom_bio,
    secctx_gnutls_fixed,
    secctx_gnutls_pooled,
    gnutls_push_pull,
};

inline constexpr std::array<variant, 8> all_variants = {
    variant::secctx_dynamic,       variant::secctx_fixed,       variant::secctx_pooled,
    variant::openssl_mem,          variant::openssl_custom_bio, variant::secctx_gnutls_fixed,
    variant::secctx_gnutls_pooled, variant::gnutls_push_pull};

constexpr std::string_view name_of(variant v) noexcept {
    switch (v) {
    case variant::secctx_dynamic:
        return "secctx-dynamic";
    case variant::secctx_fixed:
        return "secctx-fixed";
    case variant::secctx_pooled:
        return "secctx-pooled";
    case variant::openssl_mem:
        return "openssl-mem";
    case variant::openssl_custom_bio:
        return "openssl-custom-bio";
    case variant::secctx_gnutls_fixed:
        return "secctx-gnutls-fixed";
    case variant::secctx_gnutls_pooled:
        return "secctx-gnutls-pooled";
    case variant::gnutls_push_pull:
        return "gnutls-push-pull";
    }
    return {};
}

inline std::optional<variant> parse_variant(std::string_view name) noexcept {
    for (const variant v : all_variants)
        if (name_of(v) == name)
            return v;
    return std::nullopt;
}

// Calls f.template operator()<Loop>() with the loop type of `v`.
template <class F>
decltype(auto) with_loop(variant v, F&& f) {
    switch (v) {
    case variant::openssl_mem:
        return f.template operator()<openssl_mem_loop>();
    case variant::openssl_custom_bio:
        return f.template operator()<openssl_custom_bio_loop>();
    case variant::secctx_fixed:
        return f.template operator()<secctx_loop<openssl_engine, fixed_buffers>>();
    case variant::secctx_pooled:
        return f.template operator()<secctx_loop<openssl_engine, pooled_buffers>>();
    case variant::secctx_gnutls_fixed:
        return f.template operator()<secctx_loop<gnutls_engine, fixed_buffers>>();
    case variant::secctx_gnutls_pooled:
        return f.template operator()<secctx_loop<gnutls_engine, pooled_buffers>>();
    case variant::gnutls_push_pull:
        return f.template operator()<gnutls_push_pull_loop>();
    case variant::secctx_dynamic:
        break;
    }
    return f.template operator()<secctx_loop<openssl_engine, dynamic_buffers>>();
}

} // namespace secctx::bench
