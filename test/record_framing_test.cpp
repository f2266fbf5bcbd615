// TLS record framing: which bytes are whole records the engine may read, and exactly how many
// bytes the first incomplete record still misses (Schannel's SECBUFFER_MISSING).
#include "support/drive.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <initializer_list>

using namespace secctx;
using secctx::tls::header_verdict;
using secctx::tls::judge_header;
using secctx::tls::max_record_body;
using secctx::tls::record_header_size;
using secctx::tls::scan_records;
using secctx::tls::starts_with_hello_retry_request;
using test::bytes;

namespace {

// A record with the given header fields and `body` bytes of filler.
bytes record(std::uint8_t type, std::size_t body, std::uint8_t major = 3, std::uint8_t minor = 3) {
    // Sized once: growing a five-byte vector made GCC 12 at -O3 warn (-Warray-bounds) about
    // the copy into the new storage, a false positive.
    bytes out(record_header_size + body, std::byte{0xab});
    out[0] = std::byte{type};
    out[1] = std::byte{major};
    out[2] = std::byte{minor};
    out[3] = std::byte{static_cast<std::uint8_t>(body >> 8)};
    out[4] = std::byte{static_cast<std::uint8_t>(body & 0xff)};
    return out;
}

bytes handshake_record(std::size_t body) {
    return record(22, body);
}

bytes join(std::initializer_list<bytes> parts) {
    bytes out;
    for (const auto& part : parts)
        out.insert(out.end(), part.begin(), part.end());
    return out;
}

bytes first(const bytes& b, std::size_t n) {
    return bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
}

constexpr std::array<std::uint8_t, 32> hrr_random = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

// A plaintext handshake record holding a ServerHello-shaped message (type, 3-byte length,
// legacy_version, random, then filler) with the given random.
bytes server_hello(const std::array<std::uint8_t, 32>& random, std::uint8_t message_type = 2,
                   std::uint8_t content_type = 22) {
    constexpr std::size_t message_body = 2 + 32 + 40;
    bytes out = record(content_type, 4 + message_body);
    out[5] = std::byte{message_type};
    out[6] = std::byte{0};
    out[7] = std::byte{0};
    out[8] = std::byte{static_cast<std::uint8_t>(message_body)};
    out[9] = std::byte{3};
    out[10] = std::byte{3};
    for (std::size_t i = 0; i < random.size(); ++i)
        out[11 + i] = std::byte{random[i]};
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(scan)

BOOST_AUTO_TEST_CASE(empty_input_has_no_records_and_misses_nothing) {
    const auto s = scan_records({});
    BOOST_TEST(s.whole == 0u);
    BOOST_TEST(s.missing == 0u);
}

BOOST_AUTO_TEST_CASE(partial_header_misses_the_rest_of_the_header) {
    const bytes r = handshake_record(100);
    for (std::size_t n = 1; n < record_header_size; ++n) {
        BOOST_TEST_CONTEXT(n << " header bytes") {
            const auto s = scan_records(first(r, n));
            BOOST_TEST(s.whole == 0u);
            BOOST_TEST(s.missing == record_header_size - n);
        }
    }
}

BOOST_AUTO_TEST_CASE(header_alone_misses_the_whole_body) {
    const bytes r = handshake_record(300);
    const auto s = scan_records(first(r, record_header_size));
    BOOST_TEST(s.whole == 0u);
    BOOST_TEST(s.missing == 300u);
}

BOOST_AUTO_TEST_CASE(partial_body_misses_exactly_the_remainder) {
    const bytes r = handshake_record(300);
    for (std::size_t n = record_header_size; n < r.size(); n += 37) {
        const auto s = scan_records(first(r, n));
        BOOST_TEST(s.whole == 0u);
        BOOST_TEST(s.missing == r.size() - n);
    }
}

BOOST_AUTO_TEST_CASE(whole_records_are_all_ready) {
    const bytes one = handshake_record(42);
    BOOST_TEST(scan_records(one).whole == one.size());
    BOOST_TEST(scan_records(one).missing == 0u);

    const bytes three = join({handshake_record(42), record(20, 1), record(23, 1000)});
    BOOST_TEST(scan_records(three).whole == three.size());
    BOOST_TEST(scan_records(three).missing == 0u);
}

BOOST_AUTO_TEST_CASE(empty_record_is_a_whole_record) {
    const bytes r = join({record(23, 0), handshake_record(3)});
    const auto s = scan_records(r);
    BOOST_TEST(s.whole == r.size());
    BOOST_TEST(s.missing == 0u);
}

BOOST_AUTO_TEST_CASE(whole_records_then_partial_header) {
    const bytes whole = join({handshake_record(10), record(20, 1)});
    const bytes next = handshake_record(50);
    for (std::size_t n = 1; n < record_header_size; ++n) {
        const auto s = scan_records(join({whole, first(next, n)}));
        BOOST_TEST(s.whole == whole.size());
        BOOST_TEST(s.missing == record_header_size - n);
    }
}

BOOST_AUTO_TEST_CASE(whole_records_then_partial_body) {
    const bytes whole = handshake_record(10);
    const bytes next = handshake_record(50);
    const auto s = scan_records(join({whole, first(next, 20)}));
    BOOST_TEST(s.whole == whole.size());
    BOOST_TEST(s.missing == next.size() - 20);
}

BOOST_AUTO_TEST_CASE(largest_legal_record_is_waited_for) {
    const bytes r = handshake_record(max_record_body);
    BOOST_TEST(max_record_body == 18432u);
    BOOST_TEST((judge_header(r) == header_verdict::record));
    BOOST_TEST(scan_records(first(r, record_header_size)).missing == max_record_body);
    BOOST_TEST(scan_records(r).whole == r.size());
}

BOOST_AUTO_TEST_CASE(every_tls_content_type_and_version_is_accepted) {
    for (std::uint8_t type = 20; type <= 24; ++type)
        for (std::uint8_t minor : {0, 1, 2, 3, 4}) {
            BOOST_TEST_CONTEXT("type " << int(type) << " version 3." << int(minor)) {
                const bytes r = record(type, 8, 3, minor);
                BOOST_TEST((judge_header(r) == header_verdict::record));
                BOOST_TEST(scan_records(first(r, 7)).missing == 6u);
            }
        }
}

// A header the engine rejects by itself is handed over on its own, so that the engine fails with
// its own reason and alert instead of the loop waiting for a body.
BOOST_AUTO_TEST_CASE(headers_the_engine_rejects_are_handed_over_alone) {
    const bytes rejected[] = {
        record(22, 10, 2, 0),            // SSL 2 major version
        record(22, 10, 4, 3),            // not TLS's major version
        record(0x47, 10, 0x45, 0x54),    // "GET / HTTP/1.1"
        record(22, max_record_body + 1), // longer than the protocol allows
        record(23, 0xffff),              // far longer
    };
    for (const auto& r : rejected) {
        BOOST_TEST_CONTEXT("header " << int(std::to_integer<std::uint8_t>(r[0])) << " "
                                     << int(std::to_integer<std::uint8_t>(r[1])) << " len "
                                     << tls::record_body_size(r)) {
            BOOST_TEST((judge_header(r) == header_verdict::engine_rejects));
            // Even with only the header, or with all of the claimed body, it is 5 bytes ready.
            BOOST_TEST(scan_records(first(r, record_header_size)).whole == record_header_size);
            BOOST_TEST(scan_records(first(r, record_header_size)).missing == 0u);
            BOOST_TEST(scan_records(r).whole == record_header_size);
            BOOST_TEST(scan_records(r).missing == 0u);
            // After whole records: those records, then the header.
            const bytes good = handshake_record(7);
            const auto s = scan_records(join({good, r}));
            BOOST_TEST(s.whole == good.size() + record_header_size);
            BOOST_TEST(s.missing == 0u);
        }
    }
}

// An unknown content type under TLS's version is framed like any record: the engine rejects it
// with an alert once it has the whole record, and the loop never waits on bytes that are not owed.
BOOST_AUTO_TEST_CASE(unknown_content_types_are_framed_like_records) {
    for (const std::uint8_t type : {0, 19, 25, 99, 127}) {
        BOOST_TEST_CONTEXT("type " << int(type)) {
            const bytes r = record(type, 10);
            BOOST_TEST((judge_header(r) == header_verdict::record));
            BOOST_TEST(scan_records(first(r, 7)).missing == 8u);
            BOOST_TEST(scan_records(r).whole == r.size());
        }
    }
}

// A first byte with the high bit set is no TLS content type, and OpenSSL would read it as an
// SSL 2 ClientHello header and wait for a body: it is refused before the engine sees it.
BOOST_AUTO_TEST_CASE(high_bit_first_byte_is_not_tls) {
    for (const bytes& r : {record(0x80, 10, 0x2e, 0x01), record(0xff, 10), record(0x97, 10)}) {
        BOOST_TEST((judge_header(r) == header_verdict::not_tls));
        const auto alone = scan_records(r);
        BOOST_TEST(alone.whole == 0u);
        BOOST_TEST(alone.not_tls);
        const bytes good = handshake_record(7);
        const auto after = scan_records(join({good, r}));
        BOOST_TEST(after.whole == good.size());
        BOOST_TEST(after.not_tls);
    }
}

BOOST_AUTO_TEST_CASE(partial_hostile_header_still_waits_for_five_bytes) {
    // Four bytes cannot be judged yet (the length is in byte 5).
    const bytes r = record(0, 10);
    const auto s = scan_records(first(r, 4));
    BOOST_TEST(s.whole == 0u);
    BOOST_TEST(s.missing == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hello_retry)

BOOST_AUTO_TEST_CASE(recognises_the_hello_retry_request_random) {
    BOOST_TEST(starts_with_hello_retry_request(server_hello(hrr_random)));
    // Followed by more records: still recognised.
    BOOST_TEST(starts_with_hello_retry_request(join({server_hello(hrr_random), record(20, 1)})));
}

BOOST_AUTO_TEST_CASE(an_ordinary_server_hello_is_not_one) {
    auto random = hrr_random;
    random[31] ^= 1;
    BOOST_TEST(!starts_with_hello_retry_request(server_hello(random)));
    random = hrr_random;
    random[0] ^= 0x80;
    BOOST_TEST(!starts_with_hello_retry_request(server_hello(random)));
}

BOOST_AUTO_TEST_CASE(needs_a_plaintext_server_hello) {
    // The magic random in a ClientHello, or in an application-data record, means nothing.
    BOOST_TEST(!starts_with_hello_retry_request(server_hello(hrr_random, 1)));
    BOOST_TEST(!starts_with_hello_retry_request(server_hello(hrr_random, 2, 23)));
}

BOOST_AUTO_TEST_CASE(short_input_is_not_one) {
    const bytes hrr = server_hello(hrr_random);
    BOOST_TEST(!starts_with_hello_retry_request({}));
    // Up to one byte short of the whole random.
    for (std::size_t n = 0; n < 11 + 32; ++n)
        BOOST_TEST(!starts_with_hello_retry_request(first(hrr, n)), n << " bytes");
    BOOST_TEST(starts_with_hello_retry_request(first(hrr, 11 + 32)));
}

// Against a real engine: a TLS 1.3 server that only accepts P-256 answers a client whose first
// key share is X25519 with a HelloRetryRequest; an ordinary server flight is not one.
BOOST_AUTO_TEST_CASE(recognises_a_real_hello_retry_request) {
    const auto& p = test::pki::get();
    for (const bool retry : {true, false}) {
        BOOST_TEST_CONTEXT((retry ? "P-256 only server" : "default server")) {
            auto client_config = test::client_config_trusting(p.ca);
            client_config.groups = {"x25519", "secp256r1"};
            auto server_config = test::server_config_for(p.ecdsa_server);
            if (retry)
                server_config.groups = {"secp256r1"};
            const auto client_creds = credentials::client(client_config);
            const auto server_creds = credentials::server(server_config);
            memory_link link;
            basic_handshake<client, memory_transport, dynamic_buffer> c{
                client{client_creds, "localhost"}, link.client_end()};
            basic_handshake<server, memory_transport, dynamic_buffer> s{server{server_creds},
                                                                        link.server_end()};
            BOOST_TEST((c.step().status == step_status::want_read));
            BOOST_TEST((s.step().status == step_status::want_read));
            auto observer = link.client_end(); // reads what the server sent, in the client's place
            const bytes flight = test::drain(observer);
            BOOST_TEST_REQUIRE(!flight.empty());
            BOOST_TEST(starts_with_hello_retry_request(flight) == retry);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
