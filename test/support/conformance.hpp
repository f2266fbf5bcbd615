// The conformance suite: every buffer policy over every transport, both ends with the same policy,
// through the same checks. A translation unit per transport instantiates it with
// SECCTX_CONFORMANCE_SUITE(suite, Pair), which defines one test case template per check over the
// four policies, so every (check, policy, transport) shows up as its own named test case.
//
// Both ends are stepped in turn from one thread; every transport here is non-blocking, so an end
// that cannot move bytes says so and the other end goes on. Loops are bounded by a deadline, not a
// number of rounds: a fragmenting transport needs thousands of rounds where a socket needs three.
#pragma once

#include "secctx/transport/fault_injection.hpp"
#include "secctx/transport/pipe.hpp"
#include "secctx/transport/socket.hpp"

#include "support/bounded_buffers.hpp"
#include "support/channel.hpp"
#include "support/drive.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <range/v3/range/conversion.hpp>
#include <range/v3/view/chunk.hpp>
#include <range/v3/view/cycle.hpp>
#include <range/v3/view/iota.hpp>
#include <range/v3/view/transform.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace secctx::test::conformance {

// ---- buffer policies: each makes the buffers of one end; both ends of a connection share it ----

// Room for the records of a whole write chunk, so that a bounded end takes as much plaintext per
// write_some() as a dynamic one.
inline constexpr std::size_t channel_output_capacity = 4 * (16384 + 5 + 256);

struct dynamic_policy {
    using buffers = dynamic_buffer;
    buffers make() { return buffers(); }
};

struct fixed_policy {
    using buffers = fixed_buffer<channel_input_capacity, channel_output_capacity>;
    buffers make() { return buffers(); }
};

// One pool for both ends, as for the connections of one server. Its blocks hold one record, so a
// channel write takes one record's plaintext at a time.
struct pooled_policy {
    using buffers = pooled_buffer;
    buffer_pool pool;
    buffers make() { return buffers(pool); }
};

struct caller_supplied_policy {
    using buffers = caller_supplied_buffer;
    std::array<std::byte, channel_input_capacity> input[2];
    std::array<std::byte, channel_output_capacity> output[2];
    std::size_t handed_out = 0;
    buffers make() {
        BOOST_TEST_REQUIRE(handed_out < 2u, "one input and one output region per end");
        const std::size_t end = handed_out++;
        return buffers(input[end], output[end]);
    }
};

using policies = std::tuple<dynamic_policy, fixed_policy, pooled_policy, caller_supplied_policy>;

// ---- transport pairs: a connected client end and server end ----
//
// delivers_at_once: what one end wrote is readable in full by the other when the write returns,
// so a handshake's last flight and the record written right after it arrive in one read.

struct memory_pair {
    static constexpr bool delivers_at_once = true;
    memory_link link;
    memory_transport client_end() { return link.client_end(); }
    memory_transport server_end() { return link.server_end(); }
};

// Reads of at most 3 bytes, writes of at most 5, and would_block on every other call: records
// and their headers arrive in pieces, and every flight and record write is cut short.
struct faulty_memory_pair {
    static constexpr bool delivers_at_once = false;
    static fault_plan plan() {
        fault_plan p;
        p.max_read = 3;
        p.max_write = 5;
        p.would_block_every_other = true;
        return p;
    }
    memory_link link;
    faulty_transport<memory_transport> client_end() {
        return faulty_transport<memory_transport>(link.client_end(), plan());
    }
    faulty_transport<memory_transport> server_end() {
        return faulty_transport<memory_transport>(link.server_end(), plan());
    }
};

// Ends made by the constructor, handed over once.
template <class Transport>
struct descriptor_pair {
    Transport client;
    Transport server;
    Transport client_end() { return std::move(client); }
    Transport server_end() { return std::move(server); }
};

// Loopback TCP hands segments to the receiving socket from a softirq that a busy machine may
// defer past the end of send().
struct tcp_pair : descriptor_pair<socket_transport> {
    static constexpr bool delivers_at_once = false;
    tcp_pair() {
        socket_listener listener;
        BOOST_TEST_REQUIRE(!socket_listener::listen_tcp("127.0.0.1:0", listener));
        BOOST_TEST_REQUIRE(!connect_tcp("127.0.0.1", listener.port(), bounded_deadline(), client));
        BOOST_TEST_REQUIRE(!listener.accept(server, bounded_deadline()));
    }
};

struct unix_socket_pair : descriptor_pair<socket_transport> {
    static constexpr bool delivers_at_once = true;
    unix_socket_pair() {
        int fds[2];
        BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        client = socket_transport(fds[0]);
        server = socket_transport(fds[1]);
    }
};

// Two pipes, one each way.
struct pipe_pair : descriptor_pair<pipe_transport> {
    static constexpr bool delivers_at_once = true;
    pipe_pair() {
        int to_server[2], to_client[2];
        BOOST_TEST_REQUIRE(::pipe(to_server) == 0);
        BOOST_TEST_REQUIRE(::pipe(to_client) == 0);
        client = pipe_transport(to_client[0], to_server[1]);
        server = pipe_transport(to_server[0], to_client[1]);
    }
};

// Ends this side's sending direction, as a peer that goes away does: the other side reads the end
// of the stream after the bytes already sent, and can still write (its bytes are never read).
inline void close_sending(memory_transport& t) {
    t.close();
}
inline void close_sending(socket_transport& t) {
    BOOST_TEST_REQUIRE(text(t.shutdown_write()) == "success");
}
inline void close_sending(pipe_transport& t) {
    t.close_write();
}
template <class Inner>
void close_sending(faulty_transport<Inner>& t) {
    close_sending(t.inner());
}

// Writes all of `data` straight to a transport, waiting out would_block: for bytes that are not
// TLS. The transport must have room for them in flight.
template <transport Transport>
void send_raw(Transport& end, std::span<const std::byte> data) {
    const auto deadline = bounded_deadline();
    while (!data.empty()) {
        const io_result r = end.write_some(data);
        if (r.error != errc::would_block) {
            BOOST_TEST_REQUIRE(text(r.error) == "success");
            data = data.subspan(r.bytes);
        }
        BOOST_TEST_REQUIRE((clock::now() < deadline), "the transport never took the bytes");
    }
}

// ---- how the application cuts its plaintext into write_some() calls ----

using pieces = std::vector<std::span<const std::byte>>;

// Consecutive pieces of `message` whose sizes are taken from `sizes` (an endless range).
template <class Sizes>
pieces cut(std::span<const std::byte> message, Sizes sizes) {
    pieces out;
    auto size = ranges::begin(sizes);
    for (std::size_t pos = 0; pos < message.size(); ++size) {
        const std::size_t n = std::min<std::size_t>(*size, message.size() - pos);
        out.push_back(message.subspan(pos, n));
        pos += n;
    }
    return out;
}

struct write_pattern {
    const char* name;
    // Each element is one write_some() call: one piece, or several gathered into one call.
    std::vector<pieces> (*writes)(std::span<const std::byte> message);
};

inline const write_pattern write_patterns[] = {
    {"one write",
     [](std::span<const std::byte> message) { return std::vector<pieces>{{message}}; }},
    {"4000-byte writes",
     [](std::span<const std::byte> message) {
         std::vector<pieces> out;
         for (auto chunk : message | ranges::views::chunk(4000))
             out.push_back(
                 {{&*ranges::begin(chunk), static_cast<std::size_t>(ranges::distance(chunk))}});
         return out;
     }},
    {"writes of 1, 4, 9 ... 1521 bytes, over and over",
     [](std::span<const std::byte> message) {
         const auto squares = ranges::views::iota(std::size_t{1}, std::size_t{40}) |
                              ranges::views::transform([](std::size_t n) { return n * n; });
         const pieces all = cut(message, squares | ranges::views::cycle);
         return all |
                ranges::views::transform([](std::span<const std::byte> p) { return pieces{p}; }) |
                ranges::to<std::vector>();
     }},
    // Small pieces coalesced: each call gathers 64 pieces of 1..97 bytes into full records.
    {"gather writes of 64 pieces of 1..97 bytes",
     [](std::span<const std::byte> message) {
         const pieces all = cut(message, ranges::views::iota(std::size_t{1}, std::size_t{98}) |
                                             ranges::views::cycle);
         return all | ranges::views::chunk(64) |
                ranges::views::transform([](auto group) { return group | ranges::to<pieces>(); }) |
                ranges::to<std::vector>();
     }},
};

// ---- one end's stream: what it still has to write, and what it has read ----

struct stream {
    std::deque<pieces> writes;
    bytes received;
    std::error_code ended; // the first read result that was neither data nor would_block
    std::size_t reads = 0;

    void send(std::span<const std::byte> message, const write_pattern& pattern) {
        for (auto& w : pattern.writes(message))
            writes.push_back(std::move(w));
    }

    // Writes as much as the channel takes now, then flushes what it holds.
    template <class Channel>
    void write(Channel& channel) {
        while (!writes.empty()) {
            auto& call = writes.front();
            const io_result r = call.size() == 1 ? channel.write_some(call.front())
                                                 : channel.write_some(std::span(call));
            if (r.error == errc::would_block)
                return;
            BOOST_TEST_REQUIRE(text(r.error) == "success", "write_some");
            drop(call, r.bytes);
            if (call.empty())
                writes.pop_front();
        }
        if (channel.buffers().output().size() != 0) {
            const auto ec = channel.flush();
            BOOST_TEST_REQUIRE((!ec || ec == errc::would_block), "flush: " << text(ec));
        }
    }

    // Reads what has arrived, into buffers of varying sizes (a record's worth, one byte, less and
    // more than a record).
    template <class Channel>
    void read(Channel& channel) {
        static constexpr std::size_t read_sizes[] = {16384, 1, 5000, 20000, 700};
        std::byte buffer[20000];
        while (!ended) {
            const auto into = std::span(buffer).first(read_sizes[reads++ % std::size(read_sizes)]);
            const io_result r = channel.read_some(into);
            if (r.error == errc::would_block)
                return;
            if (r.error) {
                ended = r.error;
                return;
            }
            BOOST_TEST_REQUIRE(r.bytes != 0u, "read_some returned neither bytes nor an error");
            received.insert(received.end(), into.begin(), into.begin() + r.bytes);
        }
    }

    template <class Channel>
    bool settled(Channel& channel, std::size_t expected) const {
        return writes.empty() && channel.buffers().output().size() == 0 &&
               (received.size() >= expected || ended);
    }

private:
    // The first n bytes of a call were taken.
    static void drop(pieces& call, std::size_t n) {
        while (n != 0) {
            const std::size_t k = std::min(n, call.front().size());
            call.front() = call.front().subspan(k);
            n -= k;
            if (call.front().empty())
                call.erase(call.begin());
        }
    }
};

inline void check_same(std::span<const std::byte> got, std::span<const std::byte> expected) {
    const auto [g, e] = std::mismatch(got.begin(), got.end(), expected.begin(), expected.end());
    BOOST_TEST((g == got.end() && e == expected.end()),
               "got " << got.size() << " bytes, expected " << expected.size()
                      << ", first difference at " << (g - got.begin()));
}

// ---- a client and a server, both with Policy over Pair ----

template <class Policy, class Pair>
class connection {
public:
    using transport_type = decltype(std::declval<Pair&>().client_end());
    using buffers = typename Policy::buffers;
    using client_handshake = basic_handshake<client, transport_type, buffers>;
    using server_handshake = basic_handshake<server, transport_type, buffers>;

    connection(tls_version version, const credentials& server_creds,
               std::string_view host_name = "localhost") {
        ch.emplace(client{fresh_client(version), host_name}, pair.client_end(), policy.make());
        sh.emplace(server{server_creds}, pair.server_end(), policy.make());
    }

    // Steps both handshakes in turn until both are over. An end that is done becomes a channel at
    // once and writes its greeting, so that the greeting's record follows the end's last flight
    // and the peer's handshake may read it as surplus. An end that failed writes out the alert it
    // owes (step_result::output), as far as the transport takes it each round, as an application
    // does.
    void run_handshakes(std::span<const std::byte> client_greeting = {},
                        std::span<const std::byte> server_greeting = {}) {
        const auto deadline = bounded_deadline();
        for (;;) {
            const bool client_over = advance(ch, c, client_greeting, client_surplus, client_side);
            const bool server_over = advance(sh, s, server_greeting, server_surplus, server_side);
            if (client_over && server_over)
                return;
            BOOST_TEST_REQUIRE((clock::now() < deadline), "the handshakes never ended");
        }
    }

    // Handshakes with a greeting each way, which must arrive first and byte for byte.
    void establish() {
        const bytes client_greeting = random_bytes(300, 1), server_greeting = random_bytes(200, 2);
        run_handshakes(client_greeting, server_greeting);
        BOOST_TEST_REQUIRE(text(ch->error()) == "success", ch->error_detail());
        BOOST_TEST_REQUIRE(text(sh->error()) == "success", sh->error_detail());
        BOOST_TEST_REQUIRE((c && s));
        pump(server_greeting.size(), client_greeting.size());
        check_same(client_side.received, server_greeting);
        check_same(server_side.received, client_greeting);
    }

    // Rounds of writing and reading on both channels until each end has written and flushed all
    // it has to send and has read `expected` bytes in all (or its stream ended).
    void pump(std::size_t client_expects, std::size_t server_expects) {
        const auto deadline = bounded_deadline();
        for (;;) {
            client_side.write(*c);
            server_side.write(*s);
            client_side.read(*c);
            server_side.read(*s);
            if (client_side.settled(*c, client_expects) && server_side.settled(*s, server_expects))
                return;
            BOOST_TEST_REQUIRE((clock::now() < deadline),
                               "the exchange stalled: the client read "
                                   << client_side.received.size() << " of " << client_expects
                                   << ", the server " << server_side.received.size() << " of "
                                   << server_expects);
        }
    }

    // Both allocated before the ends and destroyed after them: the pool, the regions and the
    // memory link must outlive every end that uses them.
    Policy policy;
    Pair pair;
    std::optional<client_handshake> ch;
    std::optional<server_handshake> sh;
    std::optional<basic_channel_for<client_handshake>> c;
    std::optional<basic_channel_for<server_handshake>> s;
    stream client_side, server_side;
    // Bytes each handshake left in its input for the channel when it was done.
    std::size_t client_surplus = 0, server_surplus = 0;

private:
    template <class Handshake, class Channel>
    static bool advance(std::optional<Handshake>& h, std::optional<Channel>& channel,
                        std::span<const std::byte> greeting, std::size_t& surplus, stream& side) {
        if (channel)
            return true;
        const step_result r = h->step();
        if (r.status == step_status::failed)
            return send_owed_alert(*h);
        if (r.status != step_status::done)
            return false;
        surplus = h->extra().size();
        channel.emplace(std::move(*h));
        if (!greeting.empty()) {
            side.writes.push_back({greeting});
            side.write(*channel);
        }
        return true;
    }

    // Whether the alert is all sent, or can never be.
    template <class Handshake>
    static bool send_owed_alert(Handshake& h) {
        auto& output = h.buffers().output();
        while (output.size() != 0) {
            const io_result r = h.transport().write_some(output.data());
            if (r.error == errc::would_block || (!r.error && r.bytes == 0))
                return false;
            if (r.error)
                return true;
            output.consume(r.bytes);
        }
        return true;
    }
};

// A failed handshake stays failed with the same error, and the channel made of it fails every
// call with that error too.
template <class Handshake>
void check_failed_for_good(Handshake& h, errc expected) {
    BOOST_TEST_MESSAGE(text(h.error()) << " (" << h.error_detail() << ")");
    BOOST_TEST(text(h.error()) == text(expected));
    const step_result again = h.step();
    BOOST_TEST((again.status == step_status::failed));
    BOOST_TEST(text(again.error) == text(expected));
    basic_channel_for<Handshake> channel{std::move(h)};
    test::check_failed_for_good(channel, expected);
}

inline const credentials& untrusted_server() {
    static const credentials creds =
        credentials::server(server_config_for(pki::get().untrusted_server));
    return creds;
}

// ---- the checks ----

template <class Policy, class Pair>
struct suite {
    using pair_connection = connection<Policy, Pair>;

    static std::unique_ptr<pair_connection> connect(tls_version version) {
        return std::make_unique<pair_connection>(version, credentials_for(version).server_creds);
    }

    // `check(connection, version)` on an established connection of each version.
    template <class Check>
    static void for_each_version_established(Check check) {
        for (const auto version : versions) {
            BOOST_TEST_CONTEXT(name_of(version)) {
                const auto x = connect(version);
                x->establish();
                check(*x, version);
            }
        }
    }

    // Both versions complete; both ends agree on what was negotiated; the greeting each end wrote
    // the moment it was done reached the peer first, byte for byte, including the bytes the
    // peer's handshake had read past its last message.
    static void handshake() {
        for_each_version_established([](pair_connection& x, tls_version version) {
            const auto at_client = x.c->attributes();
            const auto at_server = x.s->attributes();
            BOOST_TEST(at_client.protocol == name_of(version));
            BOOST_TEST(at_server.protocol == name_of(version));
            BOOST_TEST(!at_client.cipher.empty());
            BOOST_TEST(at_client.cipher == at_server.cipher);
            BOOST_TEST(at_client.peer_verified, at_client.verification_result);
            BOOST_TEST(at_client.server_name == "localhost");
            BOOST_TEST(at_server.server_name == "localhost");
            BOOST_TEST(!at_client.resumed);
            BOOST_TEST(!at_server.resumed);
            BOOST_TEST_MESSAGE("surplus at done: client " << x.client_surplus << ", server "
                                                          << x.server_surplus);
            // The end that finishes last (the server under TLS 1.3, the client under TLS 1.2)
            // reads its peer's greeting with the last flight where the transport delivers writes
            // at once.
            if constexpr (Pair::delivers_at_once)
                BOOST_TEST((version == tls_version::tls1_3 ? x.server_surplus : x.client_surplus) !=
                           0u);
        });
    }

    // Messages of 1, 16383, 16384, 16385 and 100 KiB bytes, each written in every pattern, both
    // ways at once.
    static void data_both_ways() {
        for_each_version_established([](pair_connection& x, tls_version) {
            static constexpr std::size_t sizes[] = {1, 16383, 16384, 16385, 100 * 1024};
            const auto for_each_message = [](auto f) {
                std::size_t at = 0;
                for (const auto size : sizes)
                    for (const auto& pattern : write_patterns) {
                        f(at, size, pattern);
                        at += size;
                    }
                return at;
            };
            const std::size_t total = for_each_message([](auto...) {});
            const bytes to_server = random_bytes(total, 11), to_client = random_bytes(total, 12);
            for_each_message([&](std::size_t at, std::size_t size, const write_pattern& pattern) {
                x.client_side.send(std::span(to_server).subspan(at, size), pattern);
                x.server_side.send(std::span(to_client).subspan(at, size), pattern);
            });
            const std::size_t greeting_to_client = x.client_side.received.size();
            const std::size_t greeting_to_server = x.server_side.received.size();
            x.pump(greeting_to_client + total, greeting_to_server + total);
            BOOST_TEST(text(x.client_side.ended) == "success");
            BOOST_TEST(text(x.server_side.ended) == "success");
            BOOST_TEST_REQUIRE(x.client_side.received.size() == greeting_to_client + total);
            BOOST_TEST_REQUIRE(x.server_side.received.size() == greeting_to_server + total);
            for_each_message([&](std::size_t at, std::size_t size, const write_pattern& pattern) {
                BOOST_TEST_CONTEXT(size << " bytes in " << pattern.name) {
                    check_same(
                        std::span(x.client_side.received).subspan(greeting_to_client + at, size),
                        std::span(to_client).subspan(at, size));
                    check_same(
                        std::span(x.server_side.received).subspan(greeting_to_server + at, size),
                        std::span(to_server).subspan(at, size));
                }
            });
        });
    }

    // TLS 1.3: new keys each way (the client asks the server to follow), with data before and
    // after each update. TLS 1.2 has no KeyUpdate: invalid_state, and the channel goes on.
    static void key_update() {
        for_each_version_established([](pair_connection& x, tls_version version) {
            const auto expected =
                version == tls_version::tls1_3 ? std::string("success") : text(errc::invalid_state);
            bytes to_server = x.server_side.received, to_client = x.client_side.received;
            const auto exchange = [&](std::uint32_t seed) {
                const bytes a = random_bytes(20000, seed), b = random_bytes(30000, seed + 1);
                to_server.insert(to_server.end(), a.begin(), a.end());
                to_client.insert(to_client.end(), b.begin(), b.end());
                x.client_side.send(std::span(to_server).last(a.size()), write_patterns[2]);
                x.server_side.send(std::span(to_client).last(b.size()), write_patterns[3]);
                x.pump(to_client.size(), to_server.size());
            };
            BOOST_TEST(text(x.c->update_keys(true)) == expected);
            exchange(100);
            BOOST_TEST(text(x.s->update_keys(false)) == expected);
            exchange(200);
            check_same(x.client_side.received, to_client);
            check_same(x.server_side.received, to_server);
            BOOST_TEST(text(x.client_side.ended) == "success");
            BOOST_TEST(text(x.server_side.ended) == "success");
        });
    }

    // close_notify from the client, then from the server after its last data: each end reads
    // everything, then end_of_stream.
    static void clean_shutdown() {
        for_each_version_established([](pair_connection& x, tls_version) {
            const std::size_t client_has = x.client_side.received.size();
            const std::size_t server_has = x.server_side.received.size();
            BOOST_TEST_REQUIRE(text(x.c->shutdown_send()) == "success");
            x.pump(client_has, server_has + 1);
            BOOST_TEST(text(x.server_side.ended) == text(errc::end_of_stream));
            const bytes last = random_bytes(5000, 3);
            x.server_side.send(last, write_patterns[1]);
            x.pump(client_has + last.size(), server_has);
            BOOST_TEST_REQUIRE(text(x.s->shutdown_send()) == "success");
            x.pump(client_has + last.size() + 1, server_has);
            BOOST_TEST(text(x.client_side.ended) == text(errc::end_of_stream));
            check_same(std::span(x.client_side.received).subspan(client_has), last);
            BOOST_TEST(x.server_side.received.size() == server_has);
        });
    }

    // The client refuses the server's certificate: its own error; the server fails on the alert.
    template <class ServerCredentials>
    static void refused_certificate(ServerCredentials server_creds, std::string_view host_name,
                                    errc client_error) {
        for (const auto version : versions) {
            BOOST_TEST_CONTEXT(name_of(version)) {
                const auto x =
                    std::make_unique<pair_connection>(version, server_creds(version), host_name);
                x->run_handshakes();
                check_failed_for_good(*x->ch, client_error);
                check_failed_for_good(*x->sh, errc::peer_rejected_certificate);
            }
        }
    }

    static void untrusted_certificate() {
        refused_certificate([](tls_version) -> const credentials& { return untrusted_server(); },
                            "localhost", errc::certificate_untrusted);
    }

    static void host_name_mismatch() {
        refused_certificate(
            [](tls_version version) -> const credentials& {
                return credentials_for(version).server_creds;
            },
            "wrong.example", errc::host_name_mismatch);
    }

    // Steps the server alone until it fails, within the deadline.
    static void run_server_to_failure(pair_connection& x) {
        const auto deadline = bounded_deadline();
        while (x.sh->step().status != step_status::failed)
            BOOST_TEST_REQUIRE((clock::now() < deadline), "the server never failed");
    }

    // Plain text where the ClientHello should be.
    static void garbage_to_server() {
        for (const auto version : versions) {
            BOOST_TEST_CONTEXT(name_of(version)) {
                const auto x = connect(version);
                send_raw(x->ch->transport(), to_bytes("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
                run_server_to_failure(*x);
                check_failed_for_good(*x->sh, errc::not_tls);
            }
        }
    }

    // The client sends its ClientHello and goes away: the server reads the hello, answers, and
    // finds the end of the stream where the client's next flight should be.
    static void peer_closed_mid_handshake() {
        for (const auto version : versions) {
            BOOST_TEST_CONTEXT(name_of(version)) {
                const auto x = connect(version);
                const auto deadline = bounded_deadline();
                while (x->ch->step().status != step_status::want_read)
                    BOOST_TEST_REQUIRE((clock::now() < deadline), "the ClientHello never left");
                close_sending(x->ch->transport());
                run_server_to_failure(*x);
                check_failed_for_good(*x->sh, errc::peer_closed_during_handshake);
            }
        }
    }
};

} // namespace secctx::test::conformance

// Defines the conformance test cases for one transport pair, each a template over the policies.
#define SECCTX_CONFORMANCE_CASE(check, Pair)                                                       \
    BOOST_AUTO_TEST_CASE_TEMPLATE(check, Policy, ::secctx::test::conformance::policies) {          \
        ::secctx::test::conformance::suite<Policy, Pair>::check();                                 \
    }

#define SECCTX_CONFORMANCE_SUITE(name, Pair)                                                       \
    BOOST_AUTO_TEST_SUITE(name)                                                                    \
    SECCTX_CONFORMANCE_CASE(handshake, Pair)                                                       \
    SECCTX_CONFORMANCE_CASE(data_both_ways, Pair)                                                  \
    SECCTX_CONFORMANCE_CASE(key_update, Pair)                                                      \
    SECCTX_CONFORMANCE_CASE(clean_shutdown, Pair)                                                  \
    SECCTX_CONFORMANCE_CASE(untrusted_certificate, Pair)                                           \
    SECCTX_CONFORMANCE_CASE(host_name_mismatch, Pair)                                              \
    SECCTX_CONFORMANCE_CASE(garbage_to_server, Pair)                                               \
    SECCTX_CONFORMANCE_CASE(peer_closed_mid_handshake, Pair)                                       \
    BOOST_AUTO_TEST_SUITE_END()
