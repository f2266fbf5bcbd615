// The largest ClientHello the engine accepts passes secctx's default limits, in records of any
// size, and one byte beyond the engine's limit is refused by the engine itself, at its header.
//
// The hello is built here byte by byte (no TLS library sends one this large): 32 bytes of session
// ID, 32,767 cipher suites and, for TLS 1.2, 255 compression methods, with the extensions a real
// hello carries and a padding extension filling the rest of the 65,535 bytes extensions may take.
// That is OpenSSL 3.0's limit exactly (CLIENT_HELLO_MAX_LENGTH, 131,396 bytes of body); TLS 1.3
// allows one compression method only, so its largest is 254 bytes shorter.
#include "support/drive.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

using namespace secctx;
using test::bytes;
using test::text;

namespace {

// OpenSSL 3.0's CLIENT_HELLO_MAX_LENGTH: the longest body the protocol's length fields allow.
constexpr std::size_t openssl_client_hello_limit = 131396;

void put8(bytes& out, std::size_t v) {
    out.push_back(std::byte{static_cast<std::uint8_t>(v)});
}
void put16(bytes& out, std::size_t v) {
    put8(out, v >> 8);
    put8(out, v & 0xff);
}
void put24(bytes& out, std::size_t v) {
    put8(out, v >> 16);
    put16(out, v & 0xffff);
}
void extension(bytes& out, std::size_t type, const bytes& body) {
    put16(out, type);
    put16(out, body.size());
    out.insert(out.end(), body.begin(), body.end());
}

// Suites no engine implements, skipping TLS 1.3's (0x13xx), TLS_FALLBACK_SCSV (0x5600) and the
// ECDHE ones (0xC0xx, 0xCCxx), so that the server's choice is the one real suite offered.
bytes filler_suites(std::size_t count) {
    bytes out;
    for (std::size_t suite = 0x0100; count != 0; ++suite) {
        if ((suite >> 8) == 0x13 || suite == 0x5600 || (suite >> 8) == 0xC0 || (suite >> 8) == 0xCC)
            continue;
        put16(out, suite);
        --count;
    }
    return out;
}

// A ClientHello handshake message (4-byte header included) whose body is `body_size` bytes, at
// most the largest the length fields allow for `version`.
bytes client_hello(tls_version version, std::size_t body_size) {
    const bool tls13 = version == tls_version::tls1_3;
    bytes extensions;
    extension(extensions, 0x000a,
              {std::byte{0}, std::byte{4}, std::byte{0x00}, std::byte{0x1d}, std::byte{0x00},
               std::byte{0x17}});                                // supported_groups
    extension(extensions, 0x000b, {std::byte{1}, std::byte{0}}); // ec_point_formats
    extension(extensions, 0x000d,
              {std::byte{0}, std::byte{2}, std::byte{0x04},
               std::byte{0x03}});                  // signature_algorithms: ECDSA P-256 SHA-256
    extension(extensions, 0xff01, {std::byte{0}}); // renegotiation_info
    if (tls13) {
        extension(extensions, 0x002b, {std::byte{2}, std::byte{0x03}, std::byte{0x04}});
        bytes share;
        put16(share, 36);
        put16(share, 0x001d);
        put16(share, 32);
        const bytes key = test::random_bytes(32, 3); // any 32 bytes are an X25519 public key
        share.insert(share.end(), key.begin(), key.end());
        extension(extensions, 0x0033, share);
    }
    const std::size_t compression_methods = tls13 ? 1 : 255;
    const std::size_t fixed = 2 + 32 + 1 + 32 + 2 + 1 + compression_methods + 2;
    // The real suite and as many filler suites as fit, the rest in the padding extension.
    const std::size_t room = body_size - fixed;
    const std::size_t suites = std::min<std::size_t>(32767, (room - extensions.size() - 4) / 2);
    const std::size_t padding = room - 2 * suites - extensions.size() - 4;
    BOOST_TEST_REQUIRE(extensions.size() + 4 + padding <= 65535u);
    extension(extensions, 0x0015, bytes(padding)); // RFC 7685 padding: zeros

    bytes hello;
    put8(hello, 1); // client_hello
    put24(hello, body_size);
    put16(hello, 0x0303);
    const bytes random = test::random_bytes(32, 1);
    hello.insert(hello.end(), random.begin(), random.end());
    put8(hello, 32);
    const bytes session_id = test::random_bytes(32, 2);
    hello.insert(hello.end(), session_id.begin(), session_id.end());
    put16(hello, 2 * suites);
    put16(hello, tls13 ? 0x1301 : 0xC02B); // TLS_AES_128_GCM_SHA256, ECDHE-ECDSA-AES128-GCM
    const bytes filler = filler_suites(suites - 1);
    hello.insert(hello.end(), filler.begin(), filler.end());
    put8(hello, compression_methods);
    for (std::size_t m = 0; m < compression_methods; ++m)
        put8(hello, m); // null (0) first
    put16(hello, extensions.size());
    hello.insert(hello.end(), extensions.begin(), extensions.end());
    BOOST_TEST_REQUIRE(hello.size() == 4 + body_size);
    return hello;
}

std::size_t largest_body(tls_version version) {
    return version == tls_version::tls1_3 ? openssl_client_hello_limit - 254
                                          : openssl_client_hello_limit;
}

// `message` in handshake records of `fragment` bytes of body each.
bytes in_records(const bytes& message, std::size_t fragment) {
    bytes out;
    out.reserve(message.size() / fragment * (fragment + 5) + fragment + 5);
    for (std::size_t at = 0; at < message.size(); at += fragment) {
        const std::size_t n = std::min(fragment, message.size() - at);
        put8(out, 0x16);
        put16(out, 0x0301);
        put16(out, n);
        out.insert(out.end(), message.begin() + static_cast<std::ptrdiff_t>(at),
                   message.begin() + static_cast<std::ptrdiff_t>(at + n));
    }
    return out;
}

const credentials& server_creds(tls_version version) {
    return test::credentials_for(version).server_creds;
}

// What a secctx server with default limits did with `wire` in its first step.
struct served {
    step_status status;
    std::error_code error;
    std::string detail;         // the engine's words for a failure
    std::size_t bytes_received; // by the handshake
    bytes flight;               // what it sent back
};

template <buffer_policy Buffers = dynamic_buffer>
served serve(tls_version version, const bytes& wire, Buffers buffers = Buffers()) {
    memory_link link(wire.size() + 1);
    auto client_end = link.client_end();
    test::put(client_end, wire);
    basic_handshake<server, memory_transport, Buffers> s{server{server_creds(version)},
                                                         link.server_end(), std::move(buffers)};
    const step_result r = s.step();
    return {r.status, r.error, s.error_detail(), s.metrics().bytes_received,
            test::drain(client_end)};
}

// The server answered with a flight that starts with a ServerHello in a handshake record.
template <buffer_policy Buffers = dynamic_buffer>
void check_answered(tls_version version, const bytes& wire, Buffers buffers = Buffers()) {
    const served s = serve(version, wire, std::move(buffers));
    BOOST_TEST_REQUIRE(text(s.error) == "success", s.detail);
    BOOST_TEST((s.status == step_status::want_read));
    BOOST_TEST_REQUIRE(s.flight.size() > 10u);
    BOOST_TEST(std::to_integer<int>(s.flight[0]) == 0x16);
    BOOST_TEST(std::to_integer<int>(s.flight[5]) == 2, "a ServerHello");
}

} // namespace

BOOST_AUTO_TEST_SUITE(large_client_hello)

BOOST_AUTO_TEST_CASE(the_largest_hello_the_engine_accepts_is_answered_in_records_of_any_size) {
    for (const auto version : test::versions) {
        const bytes hello = client_hello(version, largest_body(version));
        for (const std::size_t fragment :
             {std::size_t{16384}, std::size_t{1000}, std::size_t{7}, std::size_t{1}}) {
            BOOST_TEST_CONTEXT(test::name_of(version) << ", " << hello.size() << " bytes in "
                                                      << fragment << "-byte records") {
                const bytes wire = in_records(hello, fragment);
                const auto start = std::chrono::steady_clock::now();
                check_answered(version, wire);
                // For the record of what a hostile peer can make the server do: not asserted.
                std::printf("%s, %zu-byte records, %zu bytes on the wire: %.3f s\n",
                            test::name_of(version), fragment, wire.size(),
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                                .count());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(the_largest_hello_fits_the_pooled_policy_of_secctx_server) {
    buffer_pool pool;
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            const bytes wire = in_records(client_hello(version, largest_body(version)), 16384);
            check_answered(version, wire, pooled_buffer(pool));
        }
    }
}

#if !defined(SECCTX_DEFAULT_ENGINE_GNUTLS) // OpenSSL's per-message limit; GnuTLS bounds the
// whole transcript (256 KiB, set by the provider), which this hello does not reach.
// Beyond the engine's limit the engine refuses, from the message's header, before its body
// arrives: not secctx's byte limit.
BOOST_AUTO_TEST_CASE(a_hello_over_the_engine_limit_is_refused_by_the_engine_at_its_header) {
    const bytes hello = client_hello(tls_version::tls1_2, openssl_client_hello_limit);
    bytes header(hello.begin(), hello.begin() + 4);
    header[3] = std::byte{static_cast<std::uint8_t>(std::to_integer<unsigned>(header[3]) + 1)};
    const bytes wire = in_records(header, 4);
    const served s = serve(tls_version::tls1_2, wire);
    BOOST_TEST((s.status == step_status::failed));
    BOOST_TEST(text(s.error) == text(errc::handshake_too_large));
    BOOST_TEST(s.detail.find("excessive message size") != std::string::npos, s.detail);
    BOOST_TEST(s.bytes_received == wire.size());
}
#endif

BOOST_AUTO_TEST_SUITE_END()
