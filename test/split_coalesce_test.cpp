// "Nothing lost": however the peer's bytes are split or coalesced, the handshake completes with the
// same result, every intermediate step reports exactly what is missing, and the bytes after the
// last handshake message come out byte for byte.
//
// The test sits in the middle. The client runs over link A (its client_end), the server over link
// B (its server_end); the test holds A's server_end and B's client_end and relays each flight
// itself, so it decides how every flight is cut. Expectations come from the test's own parse of
// the flight's record headers, never from the library's framing code.
#include "support/drive.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace secctx {
// Readable names in assertion messages.
inline std::ostream& boost_test_print_type(std::ostream& os, step_status s) {
    constexpr const char* names[] = {"done", "want_read", "want_write", "failed"};
    return os << names[static_cast<int>(s)];
}
inline std::ostream& boost_test_print_type(std::ostream& os, provider_status s) {
    constexpr const char* names[] = {"ok", "continue_needed", "incomplete_message", "error"};
    return os << names[static_cast<int>(s)];
}
inline std::ostream& boost_test_print_type(std::ostream& os, extra_owner o) {
    return os << (o == extra_owner::handshake ? "handshake" : "application");
}
} // namespace secctx

using namespace secctx;
using test::bytes;
using test::client_handshake;
using test::concat;
using test::credentials_for;
using test::name_of;
using test::server_handshake;
using test::text;

namespace {

constexpr std::size_t header_size = 5;

enum class side { client, server };

// A client and a server with the test in the middle.
struct relay {
    explicit relay(tls_version version)
        : c{client{credentials_for(version).client_creds, "localhost"}, link_a.client_end()},
          s{server{credentials_for(version).server_creds}, link_b.server_end()} {}

    memory_link link_a; // client <-> test
    memory_link link_b; // test <-> server
    client_handshake c;
    server_handshake s;
    memory_transport facing_client = link_a.server_end();
    memory_transport facing_server = link_b.client_end();

    // Everything `from` has written and the test has not relayed yet.
    bytes take_from(side from) {
        return test::drain(from == side::client ? facing_client : facing_server);
    }

    // Puts `data` in the receiver's transport (it arrives in one read) and steps the receiver.
    step_result deliver(side to, std::span<const std::byte> data) {
        test::put(to == side::client ? facing_client : facing_server, data);
        return to == side::client ? c.step() : s.step();
    }

    bool both_done() const { return c.done() && s.done(); }
};

// The test's own reading of a flight: where a cut after `k` bytes falls.
struct cut_point {
    bool on_record_boundary = false;
    std::size_t record_start = 0; // first byte of the record the cut is in (== k on a boundary)
    std::size_t missing = 0;      // bytes that complete that record (a header's 5 on a boundary)
};

std::size_t body_size_at(std::span<const std::byte> flight, std::size_t record_start) {
    return (std::to_integer<std::size_t>(flight[record_start + 3]) << 8) |
           std::to_integer<std::size_t>(flight[record_start + 4]);
}

cut_point locate(std::span<const std::byte> flight, std::size_t k) {
    std::size_t pos = 0;
    for (;;) {
        if (pos == k)
            return {true, pos, header_size};
        const std::size_t seen = k - pos;
        if (seen < header_size)
            return {false, pos, header_size - seen};
        const std::size_t record = header_size + body_size_at(flight, pos);
        if (seen < record)
            return {false, pos, record - seen};
        pos += record;
    }
}

// The flight is a sequence of whole TLS records: the sizes of those records.
std::vector<std::size_t> record_sizes(std::span<const std::byte> flight) {
    std::vector<std::size_t> sizes;
    std::size_t pos = 0;
    while (pos + header_size <= flight.size()) {
        sizes.push_back(header_size + body_size_at(flight, pos));
        pos += sizes.back();
    }
    BOOST_TEST_REQUIRE(pos == flight.size(), "a flight is whole TLS records");
    return sizes;
}

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// Which checks of check_partial() have failed already for a flight: each kind of difference is
// reported once per flight, so one wrong rule does not bury the others (or the log).
struct reported_once {
    bool status = false;
    bool provider = false;
    bool missing = false;
    bool extra = false;
    bool other = false;
};

// What step() must say once the first `k` bytes of `flight` have arrived (k < flight.size()):
// want_read, with the exact remainder of the incomplete record, or a header's 5 bytes on a record
// boundary; the received bytes of the incomplete record are kept as extra for the handshake.
void check_partial(const step_result& r, std::span<const std::byte> flight, std::size_t k,
                   reported_once& once) {
    const cut_point cut = locate(flight, k);
    const auto expected_provider = cut.on_record_boundary ? provider_status::continue_needed
                                                          : provider_status::incomplete_message;
    const auto expected_extra = flight.subspan(cut.record_start, k - cut.record_start);
    BOOST_TEST_CONTEXT("cut after " << k << " of " << flight.size() << " bytes (record at "
                                    << cut.record_start << ")") {
        if (!once.status && r.status != step_status::want_read) {
            once.status = true;
            BOOST_TEST(r.status == step_status::want_read, r.error.message());
        }
        if (r.status != step_status::want_read)
            return;
        if (!once.provider && r.provider != expected_provider) {
            once.provider = true;
            // A partial record header is an incomplete message too (SEC_E_INCOMPLETE_MESSAGE),
            // even when the loop knows it without calling the provider.
            BOOST_TEST(r.provider == expected_provider,
                       "input holds " << (k - cut.record_start) << " bytes of a record");
        }
        if (!once.missing && r.missing_bytes != cut.missing) {
            once.missing = true;
            BOOST_TEST(r.missing_bytes == cut.missing);
        }
        if (!once.extra && !same_bytes(r.extra, expected_extra)) {
            once.extra = true;
            BOOST_TEST(same_bytes(r.extra, expected_extra),
                       "extra holds " << r.extra.size() << " bytes, expected the "
                                      << expected_extra.size()
                                      << " received bytes of the incomplete record");
        }
        if (!once.other &&
            (r.error || !r.output.empty() || r.extra_for != extra_owner::handshake)) {
            once.other = true;
            BOOST_TEST(!r.error);
            BOOST_TEST(r.output.empty());
            BOOST_TEST(r.extra_for == extra_owner::handshake);
        }
    }
}

void check_partial(const step_result& r, std::span<const std::byte> flight, std::size_t k) {
    reported_once once;
    check_partial(r, flight, k, once);
}

// What step() must say once a flight has fully arrived: the receiver answered (its next flight is
// out, it waits for a record header) or it is done.
void check_flight_complete(const step_result& r) {
    BOOST_TEST((r.status == step_status::done || r.status == step_status::want_read),
               "status " << (r.status == step_status::failed ? "failed" : "want_write") << ": "
                         << r.error.message());
    if (r.status == step_status::want_read) {
        BOOST_TEST(r.provider == provider_status::continue_needed);
        BOOST_TEST(r.missing_bytes == header_size);
        BOOST_TEST(r.extra.empty());
    }
    BOOST_TEST(r.output.empty());
}

struct outcome {
    bool client_done = false;
    bool server_done = false;
    std::string protocol;
    std::string cipher;
    std::vector<std::size_t> flight_sizes;
    unsigned client_flights_received = 0;
    unsigned server_flights_received = 0;
};

// Runs a handshake through the relay. `deliver_flight(r, index, to, flight)` must get the whole
// flight to `to` (in whatever pieces) and return the receiver's last step_result.
template <class DeliverFlight>
outcome run_relayed(relay& r, DeliverFlight&& deliver_flight) {
    outcome out;
    const step_result hello = r.c.step();
    BOOST_TEST_REQUIRE((hello.status == step_status::want_read), hello.error.message());
    for (int index = 0; index < 6 && !r.both_done(); ++index) {
        const side from = index % 2 == 0 ? side::client : side::server;
        const side to = from == side::client ? side::server : side::client;
        const bytes flight = r.take_from(from);
        BOOST_TEST_REQUIRE(!flight.empty(), "flight " << index << " is missing");
        (void)record_sizes(flight); // the test's parse below assumes whole records
        out.flight_sizes.push_back(flight.size());
        const step_result last = deliver_flight(r, index, to, std::span<const std::byte>(flight));
        BOOST_TEST_CONTEXT("flight " << index) {
            check_flight_complete(last);
        }
        if (last.status == step_status::failed)
            break;
    }
    out.client_done = r.c.done();
    out.server_done = r.s.done();
    out.protocol = r.c.provider().protocol();
    out.cipher = r.c.provider().cipher();
    out.client_flights_received = r.c.metrics().flights_received;
    out.server_flights_received = r.s.metrics().flights_received;
    BOOST_TEST(r.s.provider().protocol() == out.protocol);
    BOOST_TEST(r.s.provider().cipher() == out.cipher);
    return out;
}

const auto whole_flights = [](relay& r, int, side to, std::span<const std::byte> flight) {
    return r.deliver(to, flight);
};

outcome baseline(tls_version version) {
    relay r(version);
    return run_relayed(r, whole_flights);
}

void check_same_outcome(const outcome& got, const outcome& expected) {
    BOOST_TEST(got.client_done);
    BOOST_TEST(got.server_done);
    BOOST_TEST(got.protocol == expected.protocol);
    BOOST_TEST(got.cipher == expected.cipher);
    BOOST_TEST(got.flight_sizes.size() == expected.flight_sizes.size());
    // Partial reads are not extra flights. But GnuTLS's TLS 1.3 client sends its compatibility
    // change_cipher_spec as soon as it has read the ServerHello: when the server's flight comes
    // in pieces, the client has sent between two of them, and counts one more flight received.
    const unsigned early = test::engine::early_compat_ccs && got.protocol == "TLSv1.3" ? 1 : 0;
    BOOST_TEST((got.client_flights_received == expected.client_flights_received ||
                got.client_flights_received == expected.client_flights_received + early));
    BOOST_TEST(got.server_flights_received == expected.server_flights_received);
}

// Delivers flight `split_index` in two reads, cut after `k` bytes, every other flight whole. The
// flight's size can vary between handshakes by a byte or two (DER-encoded ECDSA signatures), so
// the function reports whether the cut was made (k < size).
struct split_run {
    outcome result;
    std::size_t flight_size = 0;
    bool cut_made = false;
};

split_run handshake_split_at(tls_version version, int split_index, std::size_t k) {
    split_run run;
    relay r(version);
    run.result = run_relayed(r, [&](relay& rr, int index, side to, std::span<const std::byte> f) {
        if (index != split_index)
            return rr.deliver(to, f);
        run.flight_size = f.size();
        if (k >= f.size())
            return rr.deliver(to, f);
        run.cut_made = true;
        check_partial(rr.deliver(to, f.first(k)), f, k);
        return rr.deliver(to, f.subspan(k));
    });
    return run;
}

// Every byte boundary of every flight of one protocol version: one fresh handshake per cut (TLS
// bytes are random, a flight cannot be replayed). Measured in the RelWithDebInfo build: about 1 s
// per version (~1250 handshakes for TLS 1.3, ~1350 for TLS 1.2) on 2 cores, so no boundary is
// sampled away.
void split_every_flight_at_every_boundary(tls_version version) {
    const outcome expected = baseline(version);
    BOOST_TEST_REQUIRE(expected.client_done);
    BOOST_TEST_REQUIRE(expected.server_done);
    BOOST_TEST_REQUIRE(expected.protocol == name_of(version));
    const auto started = std::chrono::steady_clock::now();
    std::size_t handshakes = 0;
    for (int flight = 0; flight < static_cast<int>(expected.flight_sizes.size()); ++flight) {
        std::size_t largest = expected.flight_sizes[static_cast<std::size_t>(flight)];
        for (std::size_t k = 1; k < largest; ++k) {
            BOOST_TEST_CONTEXT(name_of(version) << " flight " << flight << " split at " << k) {
                // A shorter signature this time can leave k past the end: retry for a cut.
                split_run run;
                for (int attempt = 0; attempt < 32 && !run.cut_made; ++attempt) {
                    run = handshake_split_at(version, flight, k);
                    ++handshakes;
                    check_same_outcome(run.result, expected);
                    largest = std::max(largest, run.flight_size);
                }
                BOOST_TEST(run.cut_made);
            }
        }
    }
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    BOOST_TEST_MESSAGE(name_of(version) << ": " << handshakes << " split handshakes in "
                                        << elapsed.count() << " ms");
}

// Delivers each flight in pieces whose sizes `next_piece(remaining)` chooses, checking every
// intermediate step against the test's own parse.
template <class NextPiece>
outcome handshake_in_pieces(tls_version version, NextPiece&& next_piece) {
    relay r(version);
    return run_relayed(r, [&](relay& rr, int index, side to, std::span<const std::byte> f) {
        std::size_t sent = 0;
        reported_once once;
        for (;;) {
            const std::size_t n = std::min(next_piece(f.size() - sent), f.size() - sent);
            const step_result got = rr.deliver(to, f.subspan(sent, n));
            sent += n;
            if (sent == f.size())
                return got;
            BOOST_TEST_CONTEXT("flight " << index) {
                check_partial(got, f, sent, once);
            }
        }
    });
}

// Application data as a peer would send it after the handshake: a TLS 1.2/1.3 application-data
// record header and a body of `body` bytes (an opaque pattern; no one decrypts it here).
bytes application_record(std::size_t body, std::uint8_t fill) {
    bytes record{std::byte{0x17}, std::byte{0x03}, std::byte{0x03},
                 std::byte{static_cast<std::uint8_t>(body >> 8)},
                 std::byte{static_cast<std::uint8_t>(body & 0xff)}};
    for (std::size_t i = 0; i < body; ++i)
        record.push_back(std::byte{static_cast<std::uint8_t>(fill + i * 7)});
    return record;
}

// The index of the last handshake flight that `to` receives.
int last_flight_to(tls_version version, side to) {
    if (to == side::server)
        return 2; // ClientHello, then the client's Finished flight
    return version == tls_version::tls1_3 ? 1 : 3;
}

// The receiver's last handshake flight arrives with `trailing` in the same delivery. Whatever of
// `trailing` the receiver read is its extra, for the application, and the rest is still in its
// transport: together, exactly `trailing`. When all of it fits in one read, extra is all of it.
void check_trailing_preserved(tls_version version, side receiver, const bytes& trailing) {
    relay r(version);
    const int target = last_flight_to(version, receiver);
    step_result at_done;
    const outcome got =
        run_relayed(r, [&](relay& rr, int index, side to, std::span<const std::byte> f) {
            if (index != target)
                return rr.deliver(to, f);
            BOOST_TEST((to == receiver));
            at_done = rr.deliver(to, concat(f, trailing));
            return at_done;
        });
    BOOST_TEST(got.client_done);
    BOOST_TEST(got.server_done);
    BOOST_TEST(got.protocol == name_of(version));
    BOOST_TEST(at_done.status == step_status::done);
    BOOST_TEST(at_done.extra_for == extra_owner::application);
    BOOST_TEST(at_done.provider == provider_status::ok);

    const bytes extra = test::to_bytes(receiver == side::client ? r.c.extra() : r.s.extra());
    BOOST_TEST(same_bytes(at_done.extra, extra), "step_result.extra and extra() agree");
    // After done, step() reads nothing more: the rest of `trailing` waits in the transport.
    auto& transport = receiver == side::client ? r.c.transport() : r.s.transport();
    const bytes unread = test::drain(transport);
    BOOST_TEST(same_bytes(concat(extra, unread), trailing),
               "extra (" << extra.size() << ") + unread (" << unread.size() << ") == trailing ("
                         << trailing.size() << ")");
    if (trailing.size() <= 1024)
        BOOST_TEST(same_bytes(extra, trailing));
    // A later step() changes nothing.
    const step_result again = receiver == side::client ? r.c.step() : r.s.step();
    BOOST_TEST(again.status == step_status::done);
    BOOST_TEST(same_bytes(again.extra, extra));
}

struct trailing_case {
    const char* name;
    bytes data;
};

std::vector<trailing_case> trailing_cases() {
    const bytes one = application_record(40, 0x11);
    const bytes two = concat(application_record(17, 0x22), application_record(300, 0x33));
    const bytes whole = application_record(64, 0x44);
    const bytes half(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(whole.size() / 2));
    const bytes header_part(whole.begin(), whole.begin() + 3);
    const bytes large = application_record(16384 + 256, 0x55);
    return {{"one application-data record", one},
            {"two application-data records", two},
            {"half an application-data record", half},
            {"three bytes of a record header", header_part},
            {"a record larger than one read", large}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(split)

// Baseline: the relay itself is transparent.
BOOST_AUTO_TEST_CASE(relayed_handshake_completes_with_whole_flights) {
    for (const auto version : {tls_version::tls1_3, tls_version::tls1_2}) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            const outcome o = baseline(version);
            BOOST_TEST(o.client_done);
            BOOST_TEST(o.server_done);
            BOOST_TEST(o.protocol == name_of(version));
            // TLS 1.3: ClientHello, server flight, client Finished. TLS 1.2: one more, the
            // server's NewSessionTicket + ChangeCipherSpec + Finished.
            BOOST_TEST(o.flight_sizes.size() == (version == tls_version::tls1_3 ? 3u : 4u));
        }
    }
}

BOOST_AUTO_TEST_CASE(tls13_every_flight_split_at_every_byte_boundary) {
    split_every_flight_at_every_boundary(tls_version::tls1_3);
}

BOOST_AUTO_TEST_CASE(tls12_every_flight_split_at_every_byte_boundary) {
    split_every_flight_at_every_boundary(tls_version::tls1_2);
}

BOOST_AUTO_TEST_CASE(every_flight_one_byte_at_a_time) {
    for (const auto version : {tls_version::tls1_3, tls_version::tls1_2}) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            const outcome expected = baseline(version);
            const outcome got =
                handshake_in_pieces(version, [](std::size_t) { return std::size_t{1}; });
            check_same_outcome(got, expected);
        }
    }
}

// The TLS 1.2 server gets the client's ClientKeyExchange + ChangeCipherSpec + Finished in one
// delivery cut into random pieces (pieces can span records); so does every other flight.
BOOST_AUTO_TEST_CASE(every_flight_in_random_pieces) {
    for (const auto version : {tls_version::tls1_2, tls_version::tls1_3}) {
        const outcome expected = baseline(version);
        for (const std::uint32_t seed : {1u, 7u, 42u, 1234u, 99991u, 2024u}) {
            BOOST_TEST_CONTEXT(name_of(version) << " seed " << seed) {
                std::mt19937 rng(seed);
                std::uniform_int_distribution<std::size_t> piece(1, 160);
                const outcome got =
                    handshake_in_pieces(version, [&](std::size_t) { return piece(rng); });
                check_same_outcome(got, expected);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(tls12_client_key_exchange_flight_in_random_pieces) {
    const outcome expected = baseline(tls_version::tls1_2);
    for (const std::uint32_t seed : {3u, 5u, 11u, 17u, 23u, 31u, 47u, 59u}) {
        BOOST_TEST_CONTEXT("seed " << seed) {
            std::mt19937 rng(seed);
            std::uniform_int_distribution<std::size_t> piece(1, 48);
            relay r(tls_version::tls1_2);
            std::size_t pieces = 0;
            const outcome got =
                run_relayed(r, [&](relay& rr, int index, side to, std::span<const std::byte> f) {
                    if (index != 2)
                        return rr.deliver(to, f);
                    BOOST_TEST(record_sizes(f).size() == 3u); // CKE, CCS, Finished
                    std::size_t sent = 0;
                    reported_once once;
                    for (;;) {
                        const std::size_t n = std::min(piece(rng), f.size() - sent);
                        const step_result s = rr.deliver(to, f.subspan(sent, n));
                        sent += n;
                        ++pieces;
                        if (sent == f.size())
                            return s;
                        check_partial(s, f, sent, once);
                    }
                });
            check_same_outcome(got, expected);
            BOOST_TEST(pieces > 2u);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(coalesce)

// (a) TLS 1.2: NewSessionTicket + ChangeCipherSpec + Finished and what follows, in one read.
BOOST_AUTO_TEST_CASE(tls12_client_keeps_bytes_after_servers_last_flight) {
    for (const auto& t : trailing_cases())
        BOOST_TEST_CONTEXT(t.name) {
            check_trailing_preserved(tls_version::tls1_2, side::client, t.data);
        }
}

BOOST_AUTO_TEST_CASE(tls12_server_keeps_bytes_after_clients_finished) {
    for (const auto& t : trailing_cases())
        BOOST_TEST_CONTEXT(t.name) {
            check_trailing_preserved(tls_version::tls1_2, side::server, t.data);
        }
}

// (b) TLS 1.3: the client's ChangeCipherSpec + Finished and what follows, in one read.
BOOST_AUTO_TEST_CASE(tls13_server_keeps_bytes_after_clients_finished) {
    for (const auto& t : trailing_cases())
        BOOST_TEST_CONTEXT(t.name) {
            check_trailing_preserved(tls_version::tls1_3, side::server, t.data);
        }
}

// (c) TLS 1.3, variant: the server's whole flight and what follows, in one read.
BOOST_AUTO_TEST_CASE(tls13_client_keeps_bytes_after_servers_flight) {
    for (const auto& t : trailing_cases())
        BOOST_TEST_CONTEXT(t.name) {
            check_trailing_preserved(tls_version::tls1_3, side::client, t.data);
        }
}

// (c) TLS 1.3: the server's NewSessionTicket records (written once it has the client's Finished)
// and application data reach a client that is already done: untouched, in order, in its transport.
BOOST_AUTO_TEST_CASE(tls13_session_tickets_after_done_stay_for_the_application) {
    relay r(tls_version::tls1_3);
    const outcome o = run_relayed(r, whole_flights);
    BOOST_TEST_REQUIRE(o.client_done);
    BOOST_TEST_REQUIRE(o.server_done);

    const bytes tickets = r.take_from(side::server);
    BOOST_TEST_REQUIRE(!tickets.empty(), "the TLS 1.3 server sends NewSessionTicket after done");
    // Encrypted handshake records look like application data on the wire.
    std::size_t pos = 0;
    for (const std::size_t size : record_sizes(tickets)) {
        BOOST_TEST(std::to_integer<int>(tickets[pos]) == 0x17);
        pos += size;
    }

    const bytes trailing = application_record(33, 0x66);
    const bytes sent = concat(tickets, trailing);
    const step_result after = r.deliver(side::client, sent);
    BOOST_TEST(after.status == step_status::done);
    BOOST_TEST(after.extra_for == extra_owner::application);
    BOOST_TEST(after.extra.empty(), "a finished handshake reads nothing more");
    BOOST_TEST(r.c.extra().empty());
    BOOST_TEST(r.c.transport().pending() == sent.size());
    BOOST_TEST(same_bytes(test::drain(r.c.transport()), sent));
}

BOOST_AUTO_TEST_SUITE_END()
