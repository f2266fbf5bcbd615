// The secure channel's data path: what one side writes, the other reads, byte for byte, however
// the ciphertext is cut or coalesced on the way; records are whole and at most 16 KiB of
// plaintext; gather writes pack small pieces; KeyUpdate changes nothing the application sees; and
// hostile input (a forged record, an oversized record, a handshake message after the handshake, a
// real TLS 1.2 renegotiation) ends the channel with its own error, an alert for the peer and the
// same error on every later call.
//
// The test sits in the middle: the client runs over one memory link, the server over another, and
// the test relays the bytes in flight, deciding every cut. Expectations come from the test's own
// parse of the record headers, never from the library's framing code.
#include "support/channel.hpp"
#include "support/drive.hpp"
#include "support/pki.hpp"
#include "support/raw_peer.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <range/v3/view/chunk.hpp>
#include <range/v3/view/concat.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace secctx;
using test::bytes;
using test::check_failed_for_good;
using test::client_handshake;
using test::concat;
using test::credentials_for;
using test::name_of;
using test::random_bytes;
using test::server_handshake;
using test::text;
using test::versions;

namespace {

using client_channel = basic_channel_for<client_handshake>;
using server_channel = basic_channel_for<server_handshake>;

constexpr std::size_t header_size = 5;
constexpr std::size_t max_fragment = 16384;
constexpr std::uint8_t alert_type = 0x15;
constexpr std::uint8_t application_data_type = 0x17;

// ---- the test's own view of the wire ----

struct record_info {
    std::uint8_t type;
    std::size_t size; // header included
};

std::vector<record_info> parse_records(std::span<const std::byte> wire) {
    std::vector<record_info> records;
    std::size_t pos = 0;
    while (pos + header_size <= wire.size()) {
        const std::size_t body = (std::to_integer<std::size_t>(wire[pos + 3]) << 8) |
                                 std::to_integer<std::size_t>(wire[pos + 4]);
        records.push_back({std::to_integer<std::uint8_t>(wire[pos]), header_size + body});
        pos += header_size + body;
    }
    if (pos != wire.size())
        BOOST_ERROR("the wire holds a partial record after " << pos << " bytes");
    return records;
}

// "equal", or where two byte strings part.
std::string compare(std::span<const std::byte> got, std::span<const std::byte> expected) {
    const auto [g, e] = std::mismatch(got.begin(), got.end(), expected.begin(), expected.end());
    if (g == got.end() && e == expected.end())
        return "equal";
    std::ostringstream os;
    os << "got " << got.size() << " bytes, expected " << expected.size() << ", first difference at "
       << (g - got.begin());
    return os.str();
}

template <class Queue>
void feed(Queue& input, std::span<const std::byte> data) {
    const auto room = input.prepare(data.size());
    BOOST_TEST_REQUIRE(room.size() >= data.size());
    std::copy(data.begin(), data.end(), room.begin());
    input.commit(data.size());
}

// Every transport write takes everything: a lost byte here would be the test's bug.
void put_all(memory_transport& end, std::span<const std::byte> data) {
    while (!data.empty()) {
        const io_result r = end.write_some(data);
        if (r.error)
            BOOST_FAIL("the relay lost bytes: " << text(r.error));
        data = data.subspan(r.bytes);
    }
}

// ---- how the relay cuts the bytes in flight ----

enum class cut { whole, fixed, random_small, random_mixed };

struct cut_pattern {
    const char* name;
    cut how;
    std::size_t size = 0; // for cut::fixed
};

std::vector<std::span<const std::byte>> cut_up(std::span<const std::byte> wire,
                                               const cut_pattern& pattern, std::mt19937& rng) {
    std::vector<std::span<const std::byte>> pieces;
    if (wire.empty())
        return pieces;
    if (pattern.how == cut::whole) {
        pieces.push_back(wire);
    } else if (pattern.how == cut::fixed) {
        for (auto piece : wire | ranges::views::chunk(pattern.size))
            pieces.emplace_back(&*ranges::begin(piece),
                                static_cast<std::size_t>(ranges::distance(piece)));
    } else {
        // Small pieces split headers; mixed ones also cross several records at once.
        std::uniform_int_distribution<std::size_t> small(1, 64), which(0, 3);
        std::uniform_int_distribution<std::size_t> medium(65, 600), large(601, 17000),
            huge(17001, 70000);
        for (std::size_t pos = 0; pos < wire.size();) {
            std::size_t n = small(rng);
            if (pattern.how == cut::random_mixed) {
                const std::size_t k = which(rng);
                n = k == 0 ? n : k == 1 ? medium(rng) : k == 2 ? large(rng) : huge(rng);
            }
            n = std::min(n, wire.size() - pos);
            pieces.push_back(wire.subspan(pos, n));
            pos += n;
        }
    }
    return pieces;
}

// ---- a client and a server with the test in the middle ----

enum class side { client, server };

side other(side x) {
    return x == side::client ? side::server : side::client;
}

const char* name_of(side x) {
    return x == side::client ? "client" : "server";
}

struct end_state {
    bytes to_send; // the application's stream, written as soon as the channel exists
    std::size_t sent = 0;
    bytes received;        // what read_some() returned, in order
    std::error_code ended; // the first read_some() result that was neither data nor would_block
    std::size_t surplus_at_done = 0; // bytes the handshake left in the input for the channel
    bytes first_record;              // the first record this side sent (a Client/ServerHello)
};

struct session {
    // A fresh client has no session to resume: the handshake is a full one.
    enum class client_kind { shared, fresh };

    explicit session(tls_version version, cut_pattern how = {"whole", cut::whole},
                     std::uint32_t seed = 1, client_kind kind = client_kind::shared)
        : ch(std::in_place,
             client{kind == client_kind::fresh
                        ? credentials::client(test::client_config_trusting(test::pki::get().ca))
                        : credentials_for(version).client_creds,
                    "localhost"},
             client_link.client_end()),
          sh(std::in_place, server{credentials_for(version).server_creds},
             server_link.server_end()),
          pattern(how), rng(seed) {}

    memory_link client_link{std::size_t{4} << 20}; // client <-> test
    memory_link server_link{std::size_t{4} << 20}; // test <-> server
    memory_transport facing_client = client_link.server_end();
    memory_transport facing_server = server_link.client_end();
    std::optional<client_handshake> ch;
    std::optional<server_handshake> sh;
    std::optional<client_channel> c;
    std::optional<server_channel> s;
    end_state states[2];
    cut_pattern pattern;
    std::mt19937 rng;
    bytes read_buffer = bytes(70000);

    end_state& state(side x) { return states[x == side::server ? 1 : 0]; }
    bool has_channel(side x) const { return x == side::client ? c.has_value() : s.has_value(); }
    memory_transport& facing(side x) { return x == side::client ? facing_client : facing_server; }

    template <class F>
    void on(side x, F&& f) {
        if (x == side::client)
            f(*c);
        else
            f(*s);
    }

    // A side still in its handshake steps; once done it becomes a channel and writes at once,
    // so its first records leave with its last flight.
    void advance(side x) {
        if (x == side::client)
            advance(x, ch, c);
        else
            advance(x, sh, s);
    }

    template <class Handshake, class Channel>
    void advance(side x, std::optional<Handshake>& h, std::optional<Channel>& channel) {
        if (channel)
            return;
        const step_result r = h->step();
        BOOST_TEST_REQUIRE((r.status != step_status::failed),
                           name_of(x) << " handshake failed: " << text(r.error));
        if (r.status != step_status::done)
            return;
        state(x).surplus_at_done = h->extra().size();
        channel.emplace(std::move(*h));
        h.reset();
        write(x);
    }

    void write(side x) {
        if (!has_channel(x))
            return;
        auto& st = state(x);
        on(x, [&](auto& channel) {
            if (channel.buffers().output().size() != 0) {
                const auto ec = channel.flush();
                BOOST_TEST_REQUIRE((!ec || ec == errc::would_block), text(ec));
            }
            while (st.sent < st.to_send.size()) {
                const io_result r =
                    channel.write_some(std::span<const std::byte>(st.to_send).subspan(st.sent));
                if (r.error == errc::would_block)
                    return;
                BOOST_TEST_REQUIRE(!r.error, name_of(x) << " write_some: " << text(r.error));
                st.sent += r.bytes;
            }
        });
    }

    std::size_t read_size() {
        std::uniform_int_distribution<std::size_t> which(0, 2), small(1, 100), medium(101, 16384),
            large(16385, read_buffer.size());
        const std::size_t k = which(rng);
        return k == 0 ? small(rng) : k == 1 ? medium(rng) : large(rng);
    }

    // Reads what the side can read now, into buffers of random sizes.
    void read(side x) {
        auto& st = state(x);
        if (!has_channel(x) || st.ended)
            return;
        on(x, [&](auto& channel) {
            for (;;) {
                const io_result r = channel.read_some(std::span(read_buffer).first(read_size()));
                if (r.error == errc::would_block)
                    return;
                if (r.error) {
                    st.ended = r.error;
                    return;
                }
                if (r.bytes == 0)
                    BOOST_FAIL("read_some returned no byte and no error");
                st.received.insert(st.received.end(), read_buffer.begin(),
                                   read_buffer.begin() + static_cast<std::ptrdiff_t>(r.bytes));
            }
        });
    }

    void poll(side x) {
        advance(x);
        read(x);
    }

    // Everything `from` has written and the test has not relayed yet.
    bytes take(side from) {
        bytes wire = test::drain(facing(from));
        auto& first = state(from).first_record;
        if (first.empty() && !wire.empty())
            first.assign(wire.begin(),
                         wire.begin() + static_cast<std::ptrdiff_t>(parse_records(wire)[0].size));
        return wire;
    }

    // `wire` reaches `to` in the pattern's pieces; `to` reads after each one.
    void deliver(side to, std::span<const std::byte> wire) {
        for (const auto piece : cut_up(wire, pattern, rng)) {
            put_all(facing(to), piece);
            poll(to);
        }
    }

    bool forward(side from) {
        const bytes wire = take(from);
        if (wire.empty())
            return false;
        deliver(other(from), wire);
        return true;
    }

    bool round() {
        advance(side::client);
        advance(side::server);
        write(side::client);
        write(side::server);
        const bool to_server = forward(side::client);
        const bool to_client = forward(side::server);
        return to_server || to_client;
    }

    bool all_written() {
        bool done = c && s;
        for (const side x : {side::client, side::server})
            if (done) {
                on(x, [&](auto& channel) {
                    done = state(x).sent == state(x).to_send.size() &&
                           channel.buffers().output().size() == 0;
                });
            }
        return done;
    }

    // Rounds until nothing moves: both handshakes done, every byte written and relayed.
    void settle() {
        for (int i = 0; i < 100000; ++i)
            if (!round() && all_written())
                return;
        BOOST_FAIL("the relay did not settle");
    }

    void send(side from, std::span<const std::byte> data) {
        auto& st = state(from).to_send;
        st.insert(st.end(), data.begin(), data.end());
    }
};

template <class Channel>
bytes encrypted(Channel& channel, std::span<const std::byte> plaintext) {
    BOOST_TEST_REQUIRE(!channel.encrypt(plaintext));
    auto& output = channel.buffers().output();
    bytes wire = test::to_bytes(output.data());
    output.consume(output.size());
    return wire;
}

std::size_t records_for(std::size_t plaintext) {
    return (plaintext + max_fragment - 1) / max_fragment;
}

} // namespace

BOOST_AUTO_TEST_SUITE(stream)

// 0, 1, one byte short of a record, a record, one byte over, and 1 MiB, both ways at once, for
// every way of cutting the ciphertext. Each side starts writing the moment its handshake is done,
// so its first records travel with its last flight: the peer's handshake reads some of them as
// surplus, and they must come out first.
void check_data_both_ways(tls_version version) {
    const cut_pattern patterns[] = {
        {"whole deliveries (coalesced)", cut::whole},
        {"one byte at a time", cut::fixed, 1},
        {"5-byte pieces", cut::fixed, 5},
        {"16389-byte pieces", cut::fixed, 16389},
        {"random pieces of 1..64 bytes", cut::random_small},
        {"random pieces of 1..70000 bytes", cut::random_mixed},
    };
    const std::size_t sizes[] = {0, 1, 16383, 16384, 16385, std::size_t{1} << 20};
    std::uint32_t seed = 100;
    for (const auto& pattern : patterns) {
        for (const std::size_t size : sizes) {
            if (pattern.how == cut::fixed && pattern.size < 16 && size > 16385)
                continue; // a megabyte byte by byte only repeats what 16 KiB shows
            ++seed;
            // Full and resumed handshakes in turn: they end with different flights.
            const auto kind =
                seed % 2 == 0 ? session::client_kind::fresh : session::client_kind::shared;
            BOOST_TEST_CONTEXT(name_of(version)
                               << ", " << pattern.name << ", " << size << " bytes, seed " << seed) {
                session x(version, pattern, seed, kind);
                const bytes from_client = random_bytes(size, seed * 2);
                const bytes from_server = random_bytes(size, seed * 2 + 1);
                x.send(side::client, from_client);
                x.send(side::server, from_server);
                x.settle();
                if (kind == session::client_kind::fresh)
                    BOOST_TEST(!x.c->provider().resumed(), "a fresh client has nothing to resume");
                BOOST_TEST(compare(x.state(side::server).received, from_client) == "equal");
                BOOST_TEST(compare(x.state(side::client).received, from_server) == "equal");
                BOOST_TEST(text(x.state(side::client).ended) == "success");
                BOOST_TEST(text(x.state(side::server).ended) == "success");
                if (pattern.how == cut::whole && size != 0) {
                    // The receiver of the last flight got data in the same read: the server in
                    // TLS 1.3 and in a resumed TLS 1.2 handshake, the client in a full one.
                    const bool server_last =
                        version == tls_version::tls1_3 || x.c->provider().resumed();
                    const side last = server_last ? side::server : side::client;
                    BOOST_TEST(x.state(last).surplus_at_done != 0u,
                               "the " << name_of(last) << "'s handshake kept the surplus");
                }
                // Nothing more than the data came before the close_notify.
                BOOST_TEST(!x.c->shutdown_send());
                BOOST_TEST(!x.s->shutdown_send());
                x.settle();
                BOOST_TEST(text(x.state(side::client).ended) == text(errc::end_of_stream));
                BOOST_TEST(text(x.state(side::server).ended) == text(errc::end_of_stream));
                BOOST_TEST(x.state(side::server).received.size() == size);
                BOOST_TEST(x.state(side::client).received.size() == size);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(tls13_data_is_byte_exact_both_ways_however_the_ciphertext_is_cut) {
    check_data_both_ways(tls_version::tls1_3);
}

BOOST_AUTO_TEST_CASE(tls12_data_is_byte_exact_both_ways_however_the_ciphertext_is_cut) {
    check_data_both_ways(tls_version::tls1_2);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(message)

BOOST_AUTO_TEST_CASE(encrypt_makes_whole_records_of_at_most_16384_plaintext_bytes) {
    for (const auto version : versions) {
        session x(version);
        x.settle();
        BOOST_TEST_CONTEXT(name_of(version) << ", nothing") {
            BOOST_TEST(encrypted(*x.c, {}).empty(), "no plaintext, no record");
        }
        for (const std::size_t size : {std::size_t{1}, std::size_t{16383}, std::size_t{16384},
                                       std::size_t{16385}, std::size_t{3 * 16384 + 1}}) {
            BOOST_TEST_CONTEXT(name_of(version) << ", " << size << " bytes") {
                const bytes message = random_bytes(size, static_cast<std::uint32_t>(size));
                const bytes wire = encrypted(*x.c, message);
                const auto records = parse_records(wire);
                BOOST_TEST(records.size() == records_for(size));
                // The peer decrypts them one record at a time.
                bytes got;
                std::size_t pos = 0;
                for (const auto& record : records) {
                    BOOST_TEST(record.type == application_data_type);
                    // RFC 8446 5.2: at most 2^14 + 256 bytes of ciphertext.
                    BOOST_TEST(record.size <= header_size + max_fragment + 256);
                    feed(x.s->buffers().input(), std::span(wire).subspan(pos, record.size));
                    pos += record.size;
                    bytes into(2 * max_fragment);
                    const decrypt_result r = x.s->decrypt(into);
                    BOOST_TEST_REQUIRE((r.status == provider_status::ok), text(r.error));
                    BOOST_TEST(r.bytes <= max_fragment);
                    BOOST_TEST(x.s->buffers().input().size() == 0u);
                    BOOST_TEST(x.s->provider().pending_plaintext() == 0u);
                    got.insert(got.end(), into.begin(),
                               into.begin() + static_cast<std::ptrdiff_t>(r.bytes));
                }
                BOOST_TEST(compare(got, message) == "equal");
            }
        }
    }
}

// SEC_E_INCOMPLETE_MESSAGE + SECBUFFER_MISSING: a partial header is missing the rest of the
// header; a partial body the rest of the record. Nothing is consumed until the record is whole.
BOOST_AUTO_TEST_CASE(decrypt_of_a_partial_record_says_incomplete_with_the_exact_missing_count) {
    for (const auto version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            session x(version);
            x.settle();
            const bytes message = random_bytes(100, 7);
            const bytes wire = encrypted(*x.c, message);
            const std::size_t size = wire.size();
            BOOST_TEST_REQUIRE(parse_records(wire).size() == 1u);
            auto& input = x.s->buffers().input();
            bytes into(256);

            decrypt_result r = x.s->decrypt(into);
            BOOST_TEST((r.status == provider_status::continue_needed));
            BOOST_TEST(r.missing_bytes == header_size);

            std::size_t have = 0;
            for (const std::size_t k : {std::size_t{1}, std::size_t{3}, std::size_t{4}, header_size,
                                        header_size + 1, size / 2, size - 1}) {
                BOOST_TEST_CONTEXT(k << " of " << size << " bytes") {
                    feed(input, std::span(wire).subspan(have, k - have));
                    have = k;
                    r = x.s->decrypt(into);
                    BOOST_TEST((r.status == provider_status::incomplete_message));
                    BOOST_TEST(r.missing_bytes == (k < header_size ? header_size - k : size - k));
                    BOOST_TEST(r.bytes == 0u);
                    BOOST_TEST(compare(input.data(), std::span(wire).first(k)) == "equal");
                }
            }
            feed(input, std::span(wire).subspan(have));
            r = x.s->decrypt(into);
            BOOST_TEST_REQUIRE((r.status == provider_status::ok), text(r.error));
            BOOST_TEST(compare(std::span(into).first(r.bytes), message) == "equal");
            BOOST_TEST(input.size() == 0u);
        }
    }
}

// SECBUFFER_EXTRA: what follows a record stays in the input, untouched, for the next call.
BOOST_AUTO_TEST_CASE(bytes_after_a_record_stay_in_the_input) {
    for (const auto version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            session x(version);
            x.settle();
            const bytes m1 = random_bytes(300, 1), m2 = random_bytes(5000, 2),
                        m3 = random_bytes(40, 3);
            const bytes r1 = encrypted(*x.c, m1), r2 = encrypted(*x.c, m2),
                        r3 = encrypted(*x.c, m3);
            auto& input = x.s->buffers().input();
            feed(input, r1);
            feed(input, r2);
            feed(input, std::span(r3).first(7));
            bytes into(8000);

            decrypt_result r = x.s->decrypt(into);
            BOOST_TEST_REQUIRE((r.status == provider_status::ok), text(r.error));
            BOOST_TEST(compare(std::span(into).first(r.bytes), m1) == "equal");
            BOOST_TEST(compare(input.data(), concat(r2, std::span(r3).first(7))) == "equal");

            r = x.s->decrypt(into);
            BOOST_TEST_REQUIRE((r.status == provider_status::ok), text(r.error));
            BOOST_TEST(compare(std::span(into).first(r.bytes), m2) == "equal");
            BOOST_TEST(compare(input.data(), std::span(r3).first(7)) == "equal");

            r = x.s->decrypt(into);
            BOOST_TEST((r.status == provider_status::incomplete_message));
            BOOST_TEST(r.missing_bytes == r3.size() - 7);
            feed(input, std::span(r3).subspan(7));
            r = x.s->decrypt(into);
            BOOST_TEST_REQUIRE((r.status == provider_status::ok), text(r.error));
            BOOST_TEST(compare(std::span(into).first(r.bytes), m3) == "equal");
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gather)

// Writes `pieces` in one gather write_some() from `from`; returns the bytes on the wire after
// checking that the peer reads exactly the bytes taken, in order.
bytes gather_write(session& x, side from, const std::vector<bytes>& pieces,
                   std::size_t expected_taken) {
    std::vector<std::span<const std::byte>> spans(pieces.begin(), pieces.end());
    io_result r;
    x.on(from, [&](auto& channel) { r = channel.write_some(spans); });
    BOOST_TEST(text(r.error) == "success");
    BOOST_TEST(r.bytes == expected_taken);
    bytes expected;
    for (const auto& piece : pieces)
        expected.insert(expected.end(), piece.begin(), piece.end());
    expected.resize(expected_taken);
    const bytes wire = x.take(from);
    x.deliver(other(from), wire);
    BOOST_TEST(compare(x.state(other(from)).received, expected) == "equal");
    return wire;
}

std::vector<bytes> pieces_of(std::size_t count, std::size_t size) {
    std::vector<bytes> pieces;
    for (std::size_t i = 0; i < count; ++i)
        pieces.push_back(random_bytes(size, static_cast<std::uint32_t>(i + 1)));
    return pieces;
}

BOOST_AUTO_TEST_CASE(a_hundred_buffers_of_ten_bytes_make_one_record) {
    for (const auto version : versions)
        for (const side from : {side::client, side::server}) {
            BOOST_TEST_CONTEXT(name_of(version) << ", from the " << name_of(from)) {
                session x(version);
                x.settle();
                const bytes wire = gather_write(x, from, pieces_of(100, 10), 1000);
                const auto records = parse_records(wire);
                BOOST_TEST(records.size() == 1u, "one record header on the wire");
                BOOST_TEST(records.at(0).type == application_data_type);
            }
        }
}

BOOST_AUTO_TEST_CASE(five_buffers_of_10_kib_make_four_records) {
    for (const auto version : versions)
        for (const side from : {side::client, side::server}) {
            BOOST_TEST_CONTEXT(name_of(version) << ", from the " << name_of(from)) {
                session x(version);
                x.settle();
                const bytes wire = gather_write(x, from, pieces_of(5, 10 * 1024), 50 * 1024);
                const auto records = parse_records(wire);
                BOOST_TEST(records.size() == records_for(50 * 1024));
                BOOST_TEST(records.size() == 4u);
                // Three full records, then the last 2 KiB.
                for (std::size_t i = 1; i < 3 && i < records.size(); ++i)
                    BOOST_TEST(records[i].size == records[0].size);
                if (records.size() == 4)
                    BOOST_TEST(records[3].size < records[0].size);
            }
        }
}

// One call takes at most max_write_chunk bytes, in order; the caller writes the rest later.
BOOST_AUTO_TEST_CASE(a_gather_write_takes_at_most_max_write_chunk) {
    for (const auto version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            session x(version);
            x.settle();
            const auto pieces = pieces_of(7, 10000);
            const std::size_t chunk = client_channel::max_write_chunk;
            const bytes wire = gather_write(x, side::client, pieces, chunk);
            BOOST_TEST(parse_records(wire).size() == records_for(chunk));
            bytes all;
            for (const auto& piece : pieces)
                all.insert(all.end(), piece.begin(), piece.end());
            const io_result rest = x.c->write_some(std::span(all).subspan(chunk));
            BOOST_TEST(rest.bytes == all.size() - chunk);
            x.deliver(side::server, x.take(side::client));
            BOOST_TEST(compare(x.state(side::server).received, all) == "equal");
        }
    }
}

// Buffer sequences made of range-v3 views: a gather write over views::concat of views::chunk,
// and a scatter read into views::chunk of one buffer, byte-exact, several segments per call.
BOOST_AUTO_TEST_CASE(range_v3_views_as_gather_and_scatter_sequences) {
    for (const auto version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            session x(version);
            x.settle();
            const bytes head = random_bytes(5000, 21), tail = random_bytes(30000, 22);
            const auto pieces = ranges::views::concat(ranges::views::chunk(head, 999),
                                                      ranges::views::chunk(tail, 4096));
            const io_result w = x.c->write_some(pieces);
            BOOST_TEST(text(w.error) == "success");
            BOOST_TEST(w.bytes == head.size() + tail.size());
            // The server reads only when asked: the records wait in its transport.
            put_all(x.facing(side::server), x.take(side::client));
            bytes into(40000);
            bytes received;
            std::size_t calls = 0;
            while (received.size() < w.bytes) {
                const io_result r = x.s->read_some(ranges::views::chunk(into, 777));
                BOOST_TEST_REQUIRE(text(r.error) == "success");
                received.insert(received.end(), into.begin(),
                                into.begin() + static_cast<std::ptrdiff_t>(r.bytes));
                ++calls;
            }
            BOOST_TEST(compare(received, concat(head, tail)) == "equal");
            BOOST_TEST(calls <= 3u, "each call fills many 777-byte segments: " << calls);
            BOOST_TEST(text(x.s->read_some(ranges::views::chunk(into, 777)).error) ==
                       text(errc::would_block));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(key_update)

BOOST_AUTO_TEST_CASE(tls13_key_update_mid_stream_keeps_the_data_intact_both_ways) {
    session x(tls_version::tls1_3, {"random pieces of 1..70000 bytes", cut::random_mixed}, 5);
    const bytes a1 = random_bytes(40000, 11), b1 = random_bytes(30000, 12);
    x.send(side::client, a1);
    x.send(side::server, b1);
    x.settle();

    BOOST_TEST_REQUIRE(!x.c->update_keys(true));
    const bytes update = x.take(side::client);
    BOOST_TEST(parse_records(update).size() == 1u, "one KeyUpdate record");
    x.deliver(side::server, update);
    BOOST_TEST(text(x.state(side::server).ended) == "success");
    BOOST_TEST(x.state(side::server).received.size() == a1.size());
    // Asked to update its keys too, the server sends its own KeyUpdate before its next
    // application data (RFC 8446 4.6.3): when reading (nothing to send yet) or with that data.
    const bytes answer = x.take(side::server);
    const bytes b_mid = random_bytes(100, 15);
    x.send(side::server, b_mid);
    x.write(side::server);
    const bytes next = x.take(side::server);
    BOOST_TEST(parse_records(answer).size() + parse_records(next).size() == 2u,
               "the server's KeyUpdate, then one data record");
    x.deliver(side::client, concat(answer, next));
    BOOST_TEST(text(x.state(side::client).ended) == "success");
    BOOST_TEST(compare(x.state(side::client).received, concat(b1, b_mid)) == "equal");
    BOOST_TEST_REQUIRE(!x.s->update_keys(false));

    const bytes a2 = random_bytes(70000, 13), b2 = random_bytes(20000, 14);
    x.send(side::client, a2);
    x.send(side::server, b2);
    x.settle();
    BOOST_TEST(compare(x.state(side::server).received, concat(a1, a2)) == "equal");
    BOOST_TEST(compare(x.state(side::client).received, concat(concat(b1, b_mid), b2)) == "equal");
    BOOST_TEST(text(x.state(side::client).ended) == "success");
    BOOST_TEST(text(x.state(side::server).ended) == "success");
}

BOOST_AUTO_TEST_CASE(tls12_update_keys_is_invalid_state_and_the_channel_goes_on) {
    session x(tls_version::tls1_2);
    x.settle();
    BOOST_TEST(text(x.c->update_keys(true)) == text(errc::invalid_state));
    BOOST_TEST(text(x.s->update_keys(false)) == text(errc::invalid_state));
    BOOST_TEST(!x.c->error());
    BOOST_TEST(!x.s->error());
    BOOST_TEST(x.take(side::client).empty(), "nothing was sent");
    const bytes a = random_bytes(20000, 21), b = random_bytes(300, 22);
    x.send(side::client, a);
    x.send(side::server, b);
    x.settle();
    BOOST_TEST(compare(x.state(side::server).received, a) == "equal");
    BOOST_TEST(compare(x.state(side::client).received, b) == "equal");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hostile)

// The alert a failing side sends, as the peer sees it: TLS 1.2 alerts are typed 0x15 on the wire;
// TLS 1.3 encrypts them like everything else after the handshake (RFC 8446 5.2: outer type 0x17).
void check_alert_reaches_peer(session& x, tls_version version, side failed, errc peer_error) {
    const bytes alert = x.take(failed);
    const auto records = parse_records(alert);
    BOOST_TEST_REQUIRE(!records.empty(), "the " << name_of(failed) << " sent an alert");
    BOOST_TEST(records.size() == 1u);
    BOOST_TEST(records[0].type ==
               (version == tls_version::tls1_2 ? alert_type : application_data_type));
    const std::size_t received = x.state(other(failed)).received.size();
    x.deliver(other(failed), alert);
    BOOST_TEST(text(x.state(other(failed)).ended) == text(peer_error));
    BOOST_TEST(x.state(other(failed)).received.size() == received);
}

BOOST_AUTO_TEST_CASE(a_corrupted_record_fails_with_bad_record_mac_and_an_alert) {
    for (const auto version : versions)
        for (const side target : {side::server, side::client}) {
            BOOST_TEST_CONTEXT(name_of(version)
                               << ", corrupted on the way to the " << name_of(target)) {
                session x(version);
                x.settle();
                x.send(other(target), random_bytes(1000, 31));
                x.write(other(target));
                bytes wire = x.take(other(target));
                BOOST_TEST_REQUIRE(parse_records(wire).size() == 1u);
                wire[header_size + 10] ^= std::byte{0x40};
                x.deliver(target, wire);
                BOOST_TEST(text(x.state(target).ended) == text(errc::protocol_error));
                BOOST_TEST(x.state(target).received.empty(), "no byte of a forged record");
                x.on(target, [&](auto& channel) {
                    const std::string detail = test::lower(channel.error_detail());
                    BOOST_TEST((detail.find("bad record mac") != std::string::npos ||
                                detail.find("decryption failed") != std::string::npos ||
                                detail.find("decryption has failed") != std::string::npos),
                               detail);
                });
                check_alert_reaches_peer(x, version, target, errc::peer_alert);
                x.on(other(target), [&](auto& channel) {
                    BOOST_TEST(test::lower(channel.error_detail()).find("bad record mac") !=
                                   std::string::npos,
                               channel.error_detail());
                    check_failed_for_good(channel, errc::peer_alert);
                });
                x.on(target,
                     [&](auto& channel) { check_failed_for_good(channel, errc::protocol_error); });
            }
        }
}

// RFC 8446 5.2 / RFC 5246 6.2.3: no record carries more than 2^14 + 2048 bytes. A header that
// claims more fails at once, without waiting for a body no peer may send.
BOOST_AUTO_TEST_CASE(a_record_header_over_18432_bytes_fails_with_record_too_large) {
    for (const auto version : versions)
        for (const std::size_t claimed : {std::size_t{18433}, std::size_t{0xffff}}) {
            BOOST_TEST_CONTEXT(name_of(version) << ", " << claimed << " bytes claimed") {
                session x(version);
                x.settle();
                const bytes header{std::byte{application_data_type}, std::byte{3}, std::byte{3},
                                   std::byte{static_cast<std::uint8_t>(claimed >> 8)},
                                   std::byte{static_cast<std::uint8_t>(claimed & 0xff)}};
                x.deliver(side::server, header);
                BOOST_TEST(text(x.state(side::server).ended) == text(errc::record_too_large));
                check_alert_reaches_peer(x, version, side::server, errc::peer_alert);
                check_failed_for_good(*x.s, errc::record_too_large);
            }
        }
}

// TLS 1.3 allows less: 2^14 + 256 bytes of ciphertext (RFC 8446 5.2).
BOOST_AUTO_TEST_CASE(tls13_a_whole_record_over_16640_bytes_fails_with_record_too_large) {
    session x(tls_version::tls1_3);
    x.settle();
    constexpr std::size_t body = max_fragment + 256 + 1;
    bytes record{std::byte{application_data_type}, std::byte{3}, std::byte{3}, std::byte{body >> 8},
                 std::byte{body & 0xff}};
    const bytes filler = random_bytes(body, 41);
    record.insert(record.end(), filler.begin(), filler.end());
    x.deliver(side::server, record);
    BOOST_TEST(text(x.state(side::server).ended) == text(errc::record_too_large));
    check_alert_reaches_peer(x, tls_version::tls1_3, side::server, errc::peer_alert);
    check_failed_for_good(*x.s, errc::record_too_large);
}

// A plaintext handshake record after the handshake (a replayed ClientHello to the server, a
// replayed ServerHello to the client): TLS 1.3 has no such message, TLS 1.2 would read it as
// renegotiation, which secctx refuses.
BOOST_AUTO_TEST_CASE(a_handshake_record_after_the_handshake_ends_the_channel) {
    for (const auto version : versions)
        for (const side target : {side::server, side::client}) {
            BOOST_TEST_CONTEXT(name_of(version) << ", injected to the " << name_of(target)) {
                const errc expected = version == tls_version::tls1_3 ? errc::protocol_error
                                                                     : errc::renegotiation_refused;
                session x(version);
                const bytes before = random_bytes(2000, 51);
                x.send(other(target), before);
                x.settle();
                const bytes hello = x.state(other(target)).first_record;
                BOOST_TEST_REQUIRE(parse_records(hello).size() == 1u);
                BOOST_TEST_REQUIRE(std::to_integer<int>(hello[0]) == 0x16);
                x.deliver(target, hello);
                BOOST_TEST(compare(x.state(target).received, before) == "equal");
                BOOST_TEST(text(x.state(target).ended) == text(expected));
                x.on(target, [&](auto& channel) { check_failed_for_good(channel, expected); });
                const bytes alert = x.take(target);
                BOOST_TEST(!parse_records(alert).empty(), "an alert for the peer");
                x.deliver(other(target), alert);
                // The peer fails from the alert (which one depends on what the engine made of
                // the record: TLS 1.2 reads a ClientHello's record version 0x0301 as a
                // protocol_version problem).
                const std::error_code peer = x.state(other(target)).ended;
                BOOST_TEST((peer && peer != errc::end_of_stream), text(peer));
                x.on(other(target), [&](auto& channel) {
                    BOOST_TEST(channel.error_detail().find("alert") != std::string::npos,
                               channel.error_detail());
                });
            }
        }
}

// Data the peer sent before misbehaving was authenticated: it comes out before the error, also
// when the offending record arrives in the same read.
BOOST_AUTO_TEST_CASE(data_before_an_unexpected_handshake_record_in_the_same_read_comes_out_first) {
    for (const auto version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            const errc expected =
                version == tls_version::tls1_3 ? errc::protocol_error : errc::renegotiation_refused;
            session x(version);
            x.settle();
            const bytes before = random_bytes(700, 61);
            x.send(side::client, before);
            x.write(side::client);
            const bytes wire = concat(x.take(side::client), x.state(side::client).first_record);
            x.deliver(side::server, wire);
            BOOST_TEST(compare(x.state(side::server).received, before) == "equal");
            BOOST_TEST(text(x.state(side::server).ended) == text(expected));
        }
    }
}

#if !defined(SECCTX_DEFAULT_ENGINE_GNUTLS) // OpenSSL's own objects
// A real renegotiation: the TLS 1.2 server is raw OpenSSL, built on secctx's server credentials
// with renegotiation allowed on its SSL, over memory BIOs the test pumps.
BOOST_AUTO_TEST_CASE(tls12_a_real_server_renegotiation_is_refused_with_an_alert) {
    const auto& creds = credentials_for(tls_version::tls1_2);
    std::unique_ptr<SSL, decltype(&SSL_free)> raw(SSL_new(creds.server_creds.native_handle()),
                                                  &SSL_free);
    BOOST_TEST_REQUIRE(raw != nullptr);
    SSL_clear_options(raw.get(), SSL_OP_NO_RENEGOTIATION);
    SSL_set_accept_state(raw.get());

    memory_link link;
    test::raw_peer peer(raw.get(), link.server_end());
    memory_transport& wire = peer.wire();
    // A fresh client: a full handshake, not one resumed from an earlier test.
    const auto fresh = credentials::client(test::client_config_trusting(test::pki::get().ca));
    client_handshake h{client{fresh, "localhost"}, link.client_end()};
    const auto pump = [&] { peer.pump(); };
    for (int round = 0; round < 16 && !(h.done() && SSL_is_init_finished(raw.get())); ++round) {
        h.step();
        pump();
        SSL_do_handshake(raw.get());
        pump();
    }
    BOOST_TEST_REQUIRE(h.done(), text(h.error()));
    BOOST_TEST_REQUIRE(SSL_is_init_finished(raw.get()) == 1);
    client_channel channel{std::move(h)};

    BOOST_TEST_REQUIRE(SSL_write(raw.get(), "before", 6) == 6);
    pump();
    std::byte into[64];
    const io_result first = channel.read_some(into);
    BOOST_TEST_REQUIRE(text(first.error) == "success");
    BOOST_TEST(std::string(reinterpret_cast<const char*>(into), first.bytes) == "before");

    BOOST_TEST_REQUIRE(SSL_renegotiate(raw.get()) == 1);
    SSL_do_handshake(raw.get()); // writes the HelloRequest
    pump();
    BOOST_TEST(text(channel.read_some(into).error) == text(errc::renegotiation_refused));
    const bytes answer = test::drain(wire);
    BOOST_TEST_REQUIRE(!answer.empty(), "the client answered");
    BOOST_TEST(std::to_integer<int>(answer[0]) == alert_type);
    // The server takes the client's no_renegotiation alert as a refusal.
    BIO_write(SSL_get_rbio(raw.get()), answer.data(), static_cast<int>(answer.size()));
    char sink[64];
    BOOST_TEST(SSL_read(raw.get(), sink, sizeof sink) <= 0);
    const unsigned long reason = ERR_peek_error();
    BOOST_TEST(ERR_GET_REASON(reason) == SSL_R_NO_RENEGOTIATION,
               (ERR_reason_error_string(reason) ? ERR_reason_error_string(reason) : "no error"));
    ERR_clear_error();
    check_failed_for_good(channel, errc::renegotiation_refused);
}
#endif

BOOST_AUTO_TEST_SUITE_END()
