// Checks shared by the tests of the bounded buffer policies (fixed-capacity, caller-supplied):
// a handshake and a channel exchange over a memory link and over a TCP socket pair, a capacity
// too small for a flight, and the search for the smallest capacities a handshake needs.
#pragma once

#include "secctx/transport/socket.hpp"

#include "support/drive.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace secctx::test {

// Client credentials of their own, so that no earlier connection's session is resumed: every
// handshake here is a full one, with the server's certificate chain.
inline credentials fresh_client(tls_version version) {
    auto config = client_config_trusting(pki::get().ca);
    config.min_version = config.max_version = version;
    return credentials::client(config);
}

inline clock::time_point bounded_deadline() {
    return clock::now() + std::chrono::seconds(20);
}

// Over one memory link: handshake by step(), then one message each way through the channels.
template <class Buffers, class MakeClient, class MakeServer>
void check_memory_exchange(tls_version version, MakeClient make_client, MakeServer make_server) {
    const auto& creds = credentials_for(version);
    memory_link link;
    basic_handshake<client, memory_transport, Buffers> c{client{fresh_client(version), "localhost"},
                                                         link.client_end(), make_client()};
    basic_handshake<server, memory_transport, Buffers> s{server{creds.server_creds},
                                                         link.server_end(), make_server()};
    const auto [cr, sr] = drive(c, s);
    BOOST_TEST_REQUIRE(text(cr.error) == "success", c.error_detail());
    BOOST_TEST_REQUIRE(text(sr.error) == "success", s.error_detail());
    BOOST_TEST(c.provider().protocol() == name_of(version));

    basic_channel_for<decltype(c)> cc{std::move(c)};
    basic_channel_for<decltype(s)> sc{std::move(s)};
    const bytes hello = random_bytes(3000, 1);
    const bytes answer = random_bytes(5000, 2);
    BOOST_TEST_REQUIRE(!cc.write_all(hello, bounded_deadline()));
    bytes got(hello.size());
    BOOST_TEST_REQUIRE(!sc.read_exactly(got, bounded_deadline()));
    BOOST_TEST((got == hello));
    BOOST_TEST_REQUIRE(!sc.write_all(answer, bounded_deadline()));
    got.assign(answer.size(), std::byte{});
    BOOST_TEST_REQUIRE(!cc.read_exactly(got, bounded_deadline()));
    BOOST_TEST((got == answer));
    BOOST_TEST(!cc.shutdown_send());
    std::byte more[16];
    BOOST_TEST(text(sc.read_some(more).error) == text(errc::end_of_stream));
    BOOST_TEST(!sc.shutdown_send());
    BOOST_TEST(text(cc.read_some(more).error) == text(errc::end_of_stream));
}

// Over a TCP socket pair on 127.0.0.1, the server in a thread: handshake by run(), `size` bytes
// echoed back, then a clean shutdown on both sides.
template <class Buffers, class MakeClient, class MakeServer>
void check_socket_exchange(tls_version version, std::size_t size, MakeClient make_client,
                           MakeServer make_server) {
    const auto& creds = credentials_for(version);
    socket_listener listener;
    BOOST_TEST_REQUIRE(!socket_listener::listen_tcp("127.0.0.1:0", listener));
    socket_transport client_end, server_end;
    BOOST_TEST_REQUIRE(!connect_tcp("127.0.0.1", listener.port(), bounded_deadline(), client_end));
    BOOST_TEST_REQUIRE(!listener.accept(server_end, bounded_deadline()));
    const auto deadline = bounded_deadline();

    std::error_code served;
    std::string served_where;
    std::thread server_thread([&] {
        const auto fail = [&](std::error_code ec, const char* where) {
            served = ec;
            served_where = where;
        };
        basic_handshake<server, socket_transport, Buffers> s{server{creds.server_creds},
                                                             std::move(server_end), make_server()};
        if (const auto ec = s.run(deadline))
            return fail(ec, "server handshake");
        basic_channel_for<decltype(s)> channel{std::move(s)};
        bytes data(size);
        if (const auto ec = channel.read_exactly(data, deadline))
            return fail(ec, "server read");
        if (const auto ec = channel.write_all(data, deadline))
            return fail(ec, "server write");
        std::byte more[16];
        if (const auto r = channel.read(more, deadline); r.error != errc::end_of_stream)
            return fail(r.error, "server waiting for close_notify");
        if (const auto ec = channel.shutdown(deadline))
            return fail(ec, "server shutdown");
    });

    basic_handshake<client, socket_transport, Buffers> c{client{fresh_client(version), "localhost"},
                                                         std::move(client_end), make_client()};
    const auto handshaken = c.run(deadline);
    BOOST_TEST(text(handshaken) == "success", c.error_detail());
    if (!handshaken) {
        BOOST_TEST(c.provider().protocol() == name_of(version));
        basic_channel_for<decltype(c)> channel{std::move(c)};
        const bytes sent = random_bytes(size, 7);
        BOOST_TEST(!channel.write_all(sent, deadline));
        bytes echoed(size);
        BOOST_TEST(!channel.read_exactly(echoed, deadline));
        BOOST_TEST((echoed == sent));
        BOOST_TEST(text(channel.shutdown(deadline)) == "success");
    }
    server_thread.join();
    BOOST_TEST(text(served) == "success", served_where);
}

struct failed_pair {
    std::error_code client;
    std::error_code server;
    bool client_context_gone = false;
    std::string client_detail; // the engine's words: which alert was received
    std::string server_detail;
};

// A handshake in which one side's buffers are too small. The ends are stepped in turn until both
// stop; the one that failed closes its end of the link, as an application would on failure.
template <class ClientBuffers, class ServerBuffers>
failed_pair run_failing_pair(tls_version version, ClientBuffers client_buffers,
                             ServerBuffers server_buffers) {
    const auto& creds = credentials_for(version);
    memory_link link;
    auto client_end = link.client_end();
    auto server_end = link.server_end();
    basic_handshake<client, memory_transport, ClientBuffers> c{
        client{fresh_client(version), "localhost"}, client_end, std::move(client_buffers)};
    basic_handshake<server, memory_transport, ServerBuffers> s{
        server{creds.server_creds}, server_end, std::move(server_buffers)};
    step_result cr, sr;
    for (int round = 0; round < 64; ++round) {
        cr = c.step();
        if (cr.status == step_status::failed)
            client_end.close();
        sr = s.step();
        if (sr.status == step_status::failed)
            server_end.close();
        if (finished(cr) && finished(sr))
            break;
    }
    BOOST_TEST_MESSAGE("client: " << text(cr.error) << " (" << c.error_detail() << "); server: "
                                  << text(sr.error) << " (" << s.error_detail() << ")");
    return {cr.error, sr.error, c.provider().native_handle() == nullptr, c.error_detail(),
            s.error_detail()};
}

// The client's input could not hold the server's flight: the client fails with token_too_large
// and gives up its context; its engine, shown an oversized header, alerted the server.
inline void check_input_too_small(const failed_pair& r) {
    BOOST_TEST(text(r.client) == text(errc::token_too_large));
    BOOST_TEST(r.client_context_gone);
    BOOST_TEST(text(r.server) == text(errc::peer_alert));
    BOOST_TEST(lower(r.server_detail).find("record overflow") != std::string::npos,
               r.server_detail);
}

// Whether a handshake of `version` with `server_creds` completes when the client's and
// the server's queues are regions of the given sizes (caller-supplied over vectors).
inline bool completes_with(tls_version version, const credentials& server_creds,
                           std::size_t client_in, std::size_t client_out, std::size_t server_in,
                           std::size_t server_out) {
    std::vector<std::byte> arena(client_in + client_out + server_in + server_out);
    const std::span<std::byte> all(arena);
    const auto c_in = all.first(client_in);
    const auto c_out = all.subspan(client_in, client_out);
    const auto s_in = all.subspan(client_in + client_out, server_in);
    const auto s_out = all.subspan(client_in + client_out + server_in, server_out);
    memory_link link;
    basic_handshake<client, memory_transport, caller_supplied_buffer> c{
        client{fresh_client(version), "localhost"}, link.client_end(),
        caller_supplied_buffer(c_in, c_out)};
    basic_handshake<server, memory_transport, caller_supplied_buffer> s{
        server{server_creds}, link.server_end(), caller_supplied_buffer(s_in, s_out)};
    drive(c, s);
    return c.done() && s.done();
}

// The smallest size for which `works(size)` holds, by halving the interval [1, upper].
inline std::size_t smallest(std::size_t upper, const std::function<bool(std::size_t)>& works) {
    std::size_t low = 0; // fails (or untested: 0 never works)
    std::size_t high = upper;
    BOOST_TEST_REQUIRE(works(high));
    while (high - low > 1) {
        const std::size_t mid = low + (high - low) / 2;
        (works(mid) ? high : low) = mid;
    }
    return high;
}

} // namespace secctx::test
