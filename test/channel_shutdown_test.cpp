// How a secure channel ends: a clean shutdown (close_notify both ways, from two threads or one
// after the other), a half-close that lets the peer keep writing, truncation told apart from a
// clean end (at a record boundary and inside a record, from either side), a bounded wait for a
// peer that never answers, and detach() handing back the cleartext that follows close_notify.
//
// A client and a server channel share one memory link; the blocking calls wait on it with
// deadlines, so no test can hang.
#include "support/channel.hpp"
#include "support/drive.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <thread>

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
using namespace std::chrono_literals;

clock::time_point soon() {
    return clock::now() + 10s;
}

bool same(std::span<const std::byte> a, std::span<const std::byte> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// Two channels over one memory link, made from two handshakes stepped against each other.
struct connection {
    explicit connection(tls_version version, std::size_t capacity = std::size_t{1} << 20)
        : link(capacity) {
        client_handshake ch{client{credentials_for(version).client_creds, "localhost"},
                            link.client_end()};
        server_handshake sh{server{credentials_for(version).server_creds}, link.server_end()};
        const auto [cr, sr] = test::drive(ch, sh);
        BOOST_TEST_REQUIRE(ch.done(), text(cr.error));
        BOOST_TEST_REQUIRE(sh.done(), text(sr.error));
        c.emplace(std::move(ch));
        s.emplace(std::move(sh));
    }

    memory_link link;
    std::optional<client_channel> c;
    std::optional<server_channel> s;
};

enum class side { client, server };

const char* name_of(side x) {
    return x == side::client ? "client" : "server";
}

// Calls f(writer, reader) with the channels of `writer` and its peer.
template <class F>
void with_roles(connection& x, side writer, F&& f) {
    if (writer == side::client)
        f(*x.c, *x.s);
    else
        f(*x.s, *x.c);
}

// Reads until the stream ends; returns the data and the error that ended it.
template <class Channel>
std::pair<bytes, std::error_code> read_to_end(Channel& channel) {
    bytes got;
    std::byte chunk[8192];
    for (;;) {
        const io_result r = channel.read(chunk, soon());
        if (r.error)
            return {got, r.error};
        got.insert(got.end(), chunk, chunk + r.bytes);
    }
}

template <class Channel>
bytes encrypted(Channel& channel, std::span<const std::byte> plaintext) {
    BOOST_TEST_REQUIRE(!channel.encrypt(plaintext));
    auto& output = channel.buffers().output();
    bytes wire = test::to_bytes(output.data());
    output.consume(output.size());
    return wire;
}

// After the peer's close_notify, every read says end_of_stream, and nothing failed.
template <class Channel>
void check_ended_cleanly(Channel& channel) {
    std::byte into[64];
    for (int again = 0; again < 2; ++again) {
        BOOST_TEST(text(channel.read_some(into).error) == text(errc::end_of_stream));
        BOOST_TEST(text(channel.read(into, soon()).error) == text(errc::end_of_stream));
    }
    BOOST_TEST(text(channel.error()) == "success");
    BOOST_TEST(channel.provider().closed_by_peer());
}

} // namespace

BOOST_AUTO_TEST_SUITE(clean)

BOOST_AUTO_TEST_CASE(both_sides_shut_down_from_two_threads) {
    for (const auto version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            connection x(version);
            const bytes request = random_bytes(30000, 1);
            BOOST_TEST_REQUIRE(!x.c->write_all(request, soon()));
            bytes got(request.size());
            BOOST_TEST_REQUIRE(!x.s->read_exactly(got, soon()));
            BOOST_TEST(same(got, request));

            std::error_code server_result;
            std::thread server_thread([&] { server_result = x.s->shutdown(soon()); });
            const std::error_code client_result = x.c->shutdown(soon());
            server_thread.join();
            BOOST_TEST(text(client_result) == "success");
            BOOST_TEST(text(server_result) == "success");
            check_ended_cleanly(*x.c);
            check_ended_cleanly(*x.s);
            // Nothing may be written after close_notify; that is the caller's mistake, not a
            // failure of the connection.
            BOOST_TEST(text(x.c->write_some(request).error) == text(errc::invalid_state));
            BOOST_TEST(text(x.c->error()) == "success");
        }
    }
}

// The blocking level over a link that holds 1000 bytes: write_all() waits for the reader, which
// waits for the writer, a megabyte each way in turn, then both shut down. A channel is used by one
// thread at a time; the two sides run in two threads.
BOOST_AUTO_TEST_CASE(blocking_conversation_through_a_narrow_link_then_shutdown) {
    for (const auto version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            connection x(version, 1000);
            const bytes up = random_bytes(std::size_t{1} << 20, 9);
            const bytes down = random_bytes(std::size_t{1} << 20, 10);
            bytes server_got(up.size());
            bytes client_got(down.size());
            std::error_code server_read, server_write, server_shutdown;
            std::thread server_thread([&] {
                server_read = x.s->read_exactly(server_got, soon());
                server_write = x.s->write_all(down, soon());
                server_shutdown = x.s->shutdown(soon());
            });
            const std::error_code client_write = x.c->write_all(up, soon());
            const std::error_code client_read = x.c->read_exactly(client_got, soon());
            const std::error_code client_shutdown = x.c->shutdown(soon());
            server_thread.join();
            BOOST_TEST(text(client_write) == "success");
            BOOST_TEST(text(server_read) == "success");
            BOOST_TEST(same(server_got, up));
            BOOST_TEST(text(server_write) == "success");
            BOOST_TEST(text(client_read) == "success");
            BOOST_TEST(same(client_got, down));
            BOOST_TEST(text(client_shutdown) == "success");
            BOOST_TEST(text(server_shutdown) == "success");
        }
    }
}

BOOST_AUTO_TEST_CASE(both_sides_shut_down_one_after_the_other) {
    for (const auto version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            connection x(version);
            BOOST_TEST_REQUIRE(!x.c->shutdown_send());
            // The client's close_notify is already there: the server's shutdown completes.
            BOOST_TEST(text(x.s->shutdown(soon())) == "success");
            // And the server's answer is there for the client.
            BOOST_TEST(text(x.c->shutdown(soon())) == "success");
            check_ended_cleanly(*x.c);
            check_ended_cleanly(*x.s);
            // A second shutdown changes nothing.
            BOOST_TEST(text(x.c->shutdown(soon())) == "success");
        }
    }
}

// close_notify, then the transport closes: a clean end, not truncation.
BOOST_AUTO_TEST_CASE(close_notify_followed_by_the_transport_closing_is_a_clean_end) {
    for (const auto version : versions)
        for (const side closer : {side::client, side::server}) {
            BOOST_TEST_CONTEXT(name_of(version) << ", the " << name_of(closer) << " closes") {
                connection x(version);
                with_roles(x, closer, [&](auto& writer, auto& reader) {
                    const bytes last = random_bytes(20000, 2);
                    BOOST_TEST_REQUIRE(!writer.write_all(last, soon()));
                    BOOST_TEST_REQUIRE(!writer.shutdown_send());
                    writer.transport().close();
                    const auto [got, end] = read_to_end(reader);
                    BOOST_TEST(same(got, last));
                    BOOST_TEST(text(end) == text(errc::end_of_stream));
                    check_ended_cleanly(reader);
                });
            }
        }
}

// The client stops sending and goes on reading; the server reads the end of the request, then
// writes its answer and shuts down in turn.
BOOST_AUTO_TEST_CASE(half_close_lets_the_peer_keep_writing) {
    for (const auto version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            connection x(version);
            const bytes request = random_bytes(5000, 3);
            const bytes response = random_bytes(100000, 4);
            BOOST_TEST_REQUIRE(!x.c->write_all(request, soon()));
            BOOST_TEST_REQUIRE(!x.c->shutdown_send());
            BOOST_TEST(text(x.c->write_some(request).error) == text(errc::invalid_state));
            BOOST_TEST(text(x.c->error()) == "success");

            const auto [got_request, request_end] = read_to_end(*x.s);
            BOOST_TEST(same(got_request, request));
            BOOST_TEST(text(request_end) == text(errc::end_of_stream));
            BOOST_TEST_REQUIRE(!x.s->write_all(response, soon()));
            BOOST_TEST(text(x.s->shutdown(soon())) == "success");

            const auto [got_response, response_end] = read_to_end(*x.c);
            BOOST_TEST(got_response.size() == response.size());
            BOOST_TEST(same(got_response, response));
            BOOST_TEST(text(response_end) == text(errc::end_of_stream));
            BOOST_TEST(text(x.c->shutdown(soon())) == "success");
            check_ended_cleanly(*x.c);
            check_ended_cleanly(*x.s);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(truncation)

constexpr std::size_t one_short = std::string::npos - 1;

// The peer's transport closes without close_notify after one whole record and `keep` bytes of
// the next (all of it when `keep` is npos): the reader gets every whole record's data, then
// truncated or truncated_mid_record, for good, and never end_of_stream.
void check_truncated(tls_version version, side closer, std::size_t keep, errc expected) {
    connection x(version);
    with_roles(x, closer, [&](auto& writer, auto& reader) {
        const bytes first = random_bytes(20000, 5);
        const bytes second = random_bytes(300, 6);
        const bytes r1 = encrypted(writer, first);
        const bytes r2 = encrypted(writer, second);
        keep = keep == one_short ? r2.size() - 1 : std::min(keep, r2.size());
        test::put(writer.transport(), concat(r1, std::span(r2).first(keep)));
        writer.transport().close();
        const auto [got, end] = read_to_end(reader);
        BOOST_TEST(same(got, keep == r2.size() ? concat(first, second) : first));
        BOOST_TEST(text(end) == text(expected));
        BOOST_TEST(!reader.provider().closed_by_peer());
        check_failed_for_good(reader, expected);
    });
}

BOOST_AUTO_TEST_CASE(eof_at_a_record_boundary_is_truncated) {
    for (const auto version : versions)
        for (const side closer : {side::client, side::server})
            BOOST_TEST_CONTEXT(name_of(version) << ", the " << name_of(closer) << " hangs up") {
                check_truncated(version, closer, std::string::npos, errc::truncated);
            }
}

BOOST_AUTO_TEST_CASE(eof_inside_a_record_is_truncated_mid_record) {
    for (const auto version : versions)
        for (const side closer : {side::client, side::server})
            // Inside the header, just after it, mid-body, one byte short.
            for (const std::size_t keep :
                 {std::size_t{3}, std::size_t{6}, std::size_t{150}, one_short}) {
                BOOST_TEST_CONTEXT(name_of(version)
                                   << ", the " << name_of(closer) << " hangs up after " << keep
                                   << " bytes of a record") {
                    check_truncated(version, closer, keep, errc::truncated_mid_record);
                }
            }
}

// A blocking reader waiting for data sees the hang-up as it happens.
BOOST_AUTO_TEST_CASE(a_waiting_reader_sees_truncation_when_the_peer_hangs_up) {
    for (const auto version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            connection x(version);
            std::thread hang_up([&] { x.s->transport().close(); });
            std::byte into[64];
            const io_result r = x.c->read(into, soon());
            hang_up.join();
            BOOST_TEST(text(r.error) == text(errc::truncated));
            // A shutdown now reports the same, it does not wait.
            BOOST_TEST(text(x.c->shutdown(soon())) == text(errc::truncated));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounded)

// Many peers never answer close_notify: shutdown() gives up at its deadline, without failing the
// connection, and completes if the answer comes later.
BOOST_AUTO_TEST_CASE(shutdown_times_out_when_the_peer_never_answers) {
    for (const auto version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            connection x(version);
            const auto started = clock::now();
            const std::error_code r = x.c->shutdown(started + 100ms);
            const auto waited =
                std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started);
            BOOST_TEST(text(r) == text(errc::timed_out));
            BOOST_TEST(waited.count() >= 100);
            BOOST_TEST(waited.count() < 5000, "bounded by the deadline");
            BOOST_TEST(text(x.c->error()) == "success", "a timeout is not a failure");

            const auto [got, end] = read_to_end(*x.s);
            BOOST_TEST(got.empty());
            BOOST_TEST(text(end) == text(errc::end_of_stream));
            BOOST_TEST(text(x.s->shutdown(soon())) == "success");
            BOOST_TEST(text(x.c->shutdown(soon())) == "success");
            check_ended_cleanly(*x.c);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_read_times_out_at_its_deadline_and_the_channel_goes_on) {
    connection x(tls_version::tls1_3);
    std::byte into[64];
    const auto started = clock::now();
    BOOST_TEST(text(x.c->read(into, started + 50ms).error) == text(errc::timed_out));
    BOOST_TEST((clock::now() - started < 5s));
    const bytes hello = test::to_bytes("hello");
    BOOST_TEST_REQUIRE(!x.s->write_all(hello, soon()));
    bytes got(hello.size());
    BOOST_TEST(text(x.c->read_exactly(got, soon())) == "success");
    BOOST_TEST(same(got, hello));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(detach)

// STARTTLS in reverse: after its close_notify the peer goes on in the clear. `cleartext` arrives
// in the same read as the close_notify or after the reader saw it; detach() hands back all of
// it, byte for byte: what the channel had read into its input, then what waits in the transport.
void check_detach(tls_version version, const bytes& cleartext, bool same_read) {
    connection x(version);
    const bytes last = random_bytes(3000, 7);
    BOOST_TEST_REQUIRE(!x.s->write_all(last, soon()));
    BOOST_TEST_REQUIRE(!x.s->shutdown_send());
    if (same_read)
        test::put(x.s->transport(), cleartext);
    const auto [got, end] = read_to_end(*x.c);
    BOOST_TEST(same(got, last));
    BOOST_TEST(text(end) == text(errc::end_of_stream));
    if (!same_read)
        test::put(x.s->transport(), cleartext);
    auto detached = std::move(*x.c).detach();
    BOOST_TEST(text(detached.error) == "success");
    const bytes kept = test::to_bytes(detached.buffers.input().data());
    const bytes after = concat(kept, test::drain(detached.transport));
    BOOST_TEST(after.size() == cleartext.size());
    BOOST_TEST(same(after, cleartext), "the " << kept.size() << " bytes kept in the input and "
                                              << (after.size() - kept.size())
                                              << " left in the transport");
}

bytes plain_text() {
    return concat(test::to_bytes("220 ready for plain text\r\n"), random_bytes(20000, 8));
}

// A client's first flight: a new handshake started in the clear on the same connection.
bytes client_hello(tls_version version) {
    memory_link scratch;
    client_handshake h{client{credentials_for(version).client_creds, "localhost"},
                       scratch.client_end()};
    h.step();
    memory_transport server_end = scratch.server_end();
    bytes hello = test::drain(server_end);
    BOOST_TEST_REQUIRE(!hello.empty());
    return hello;
}

BOOST_AUTO_TEST_CASE(detach_hands_back_the_cleartext_after_close_notify) {
    for (const auto version : versions)
        for (const bool same_read : {true, false}) {
            BOOST_TEST_CONTEXT(name_of(version)
                               << (same_read ? ", in the same read" : ", in a later read")) {
                check_detach(version, plain_text(), same_read);
            }
        }
}

// The cleartext looks like TLS records: a new ClientHello right after close_notify.
BOOST_AUTO_TEST_CASE(detach_hands_back_a_new_handshake_after_close_notify) {
    for (const auto version : versions)
        for (const bool same_read : {true, false}) {
            BOOST_TEST_CONTEXT(name_of(version)
                               << (same_read ? ", in the same read" : ", in a later read")) {
                check_detach(version, client_hello(version), same_read);
            }
        }
}

BOOST_AUTO_TEST_CASE(detach_before_close_notify_is_invalid_state) {
    for (const auto version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            connection x(version);
            BOOST_TEST(text(std::move(*x.c).detach().error) == text(errc::invalid_state));
            // Our own close_notify is not the peer's.
            BOOST_TEST_REQUIRE(!x.s->shutdown_send());
            BOOST_TEST(text(std::move(*x.s).detach().error) == text(errc::invalid_state));
        }
    }
}

BOOST_AUTO_TEST_CASE(detach_after_truncation_is_invalid_state) {
    connection x(tls_version::tls1_3);
    x.s->transport().close();
    std::byte into[64];
    BOOST_TEST(text(x.c->read(into, soon()).error) == text(errc::truncated));
    BOOST_TEST(text(std::move(*x.c).detach().error) == text(errc::invalid_state));
}

BOOST_AUTO_TEST_SUITE_END()
