// The memory transport: an in-process duplex link. Non-blocking reads and writes (would_block
// when nothing can move), end of stream after close(), a bounded capacity per direction, and a
// wait() that sleeps until the other thread moves bytes or the deadline passes.
#include "support/drive.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

using namespace secctx;
using namespace std::chrono_literals;
using test::bytes;

namespace {

bool equal(std::span<const std::byte> a, std::span<const std::byte> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// Generous bound for "woke up promptly": far below the deadlines used, far above scheduling noise.
constexpr auto prompt = 5s;

} // namespace

BOOST_AUTO_TEST_SUITE(memory_transport_io)

BOOST_AUTO_TEST_CASE(reading_an_empty_direction_would_block) {
    memory_link link;
    auto client = link.client_end();
    auto server = link.server_end();
    std::byte into[16];
    for (auto* end : {&client, &server}) {
        const io_result r = end->read_some(into);
        BOOST_TEST((r.error == errc::would_block));
        BOOST_TEST(r.bytes == 0u);
        BOOST_TEST(end->pending() == 0u);
    }
}

BOOST_AUTO_TEST_CASE(bytes_cross_in_order_and_each_direction_is_separate) {
    memory_link link;
    auto client = link.client_end();
    auto server = link.server_end();
    const bytes hello = test::to_bytes("hello, server");
    const bytes reply = test::to_bytes("hello, client!");

    const io_result w = client.write_some(hello);
    BOOST_TEST(!w.error);
    BOOST_TEST(w.bytes == hello.size());
    BOOST_TEST(server.pending() == hello.size());
    BOOST_TEST(client.pending() == 0u, "a writer does not read its own bytes");
    test::put(server, reply);

    // Small reads: the bytes come out in order, across as many reads as it takes.
    bytes got;
    std::byte piece[3];
    for (;;) {
        const io_result r = server.read_some(piece);
        if (r.error) {
            BOOST_TEST((r.error == errc::would_block));
            break;
        }
        BOOST_TEST((r.bytes >= 1u && r.bytes <= 3u));
        got.insert(got.end(), piece, piece + r.bytes);
    }
    BOOST_TEST(equal(got, hello));
    BOOST_TEST(equal(test::drain(client), reply));
    BOOST_TEST(server.pending() == 0u);
    BOOST_TEST(client.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(interleaved_writes_and_reads_keep_every_byte) {
    memory_link link(64);
    auto client = link.client_end();
    auto server = link.server_end();
    bytes sent, received;
    std::byte chunk[17];
    for (int round = 0; round < 200; ++round) {
        bytes data(static_cast<std::size_t>(round % 23 + 1));
        for (std::size_t i = 0; i < data.size(); ++i)
            data[i] = std::byte{static_cast<std::uint8_t>(sent.size() + i)};
        const io_result w = client.write_some(data);
        if (!w.error)
            sent.insert(sent.end(), data.begin(),
                        data.begin() + static_cast<std::ptrdiff_t>(w.bytes));
        const io_result r =
            server.read_some(std::span(chunk).first(static_cast<std::size_t>(round % 17 + 1)));
        if (!r.error)
            received.insert(received.end(), chunk, chunk + r.bytes);
    }
    const bytes rest = test::drain(server);
    received.insert(received.end(), rest.begin(), rest.end());
    BOOST_TEST(equal(received, sent));
    BOOST_TEST(sent.size() > 1000u);
}

BOOST_AUTO_TEST_CASE(close_gives_end_of_stream_once_drained) {
    memory_link link;
    auto client = link.client_end();
    auto server = link.server_end();
    const bytes last = test::to_bytes("last words");
    test::put(client, last);
    client.close();

    // The bytes written before close() are still delivered, then end of stream, for good.
    std::byte into[64];
    const io_result r = server.read_some(into);
    BOOST_TEST(!r.error);
    BOOST_TEST(equal(std::span(into).first(r.bytes), last));
    for (int i = 0; i < 2; ++i) {
        const io_result eos = server.read_some(into);
        BOOST_TEST((eos.error == errc::end_of_stream));
        BOOST_TEST(eos.bytes == 0u);
    }
    // The closed direction refuses more bytes; the other direction still works.
    const io_result refused = client.write_some(last);
    BOOST_TEST((refused.error == std::errc::broken_pipe));
    BOOST_TEST((client.read_some(into).error == errc::would_block));
    test::put(server, last);
    BOOST_TEST(equal(test::drain(client), last));
    // A closed direction is readable: wait() returns at once instead of timing out.
    BOOST_TEST(!server.wait(wait_for::readable, clock::now() + 10s));
}

BOOST_AUTO_TEST_CASE(full_capacity_makes_writes_would_block) {
    memory_link link(10);
    auto client = link.client_end();
    auto server = link.server_end();
    const bytes data = test::to_bytes("0123456789abcdef");

    const io_result first = client.write_some(data);
    BOOST_TEST(!first.error);
    BOOST_TEST(first.bytes == 10u, "a write takes only what fits");
    const io_result full = client.write_some(data);
    BOOST_TEST((full.error == errc::would_block));
    BOOST_TEST(full.bytes == 0u);
    BOOST_TEST((client.wait(wait_for::writable, clock::now() + 10ms) == errc::timed_out));

    std::byte into[4];
    BOOST_TEST(server.read_some(into).bytes == 4u);
    BOOST_TEST(!client.wait(wait_for::writable, clock::now() + 10s));
    const io_result more = client.write_some(std::span(data).subspan(10));
    BOOST_TEST(!more.error);
    BOOST_TEST(more.bytes == 4u);
    BOOST_TEST(equal(test::drain(server), std::span(data).subspan(4, 10)));
    // The other direction has its own capacity.
    BOOST_TEST(server.write_some(data).bytes == 10u);
}

BOOST_AUTO_TEST_CASE(clear_drops_bytes_in_flight_and_reopens) {
    memory_link link;
    auto client = link.client_end();
    auto server = link.server_end();
    test::put(client, test::to_bytes("stale request"));
    test::put(server, test::to_bytes("stale reply"));
    client.close();
    server.close();

    link.clear();
    std::byte into[32];
    BOOST_TEST((server.read_some(into).error == errc::would_block));
    BOOST_TEST((client.read_some(into).error == errc::would_block));
    BOOST_TEST(server.pending() == 0u);

    // The same link carries the next connection.
    const bytes fresh = test::to_bytes("fresh");
    BOOST_TEST(client.write_some(fresh).bytes == fresh.size());
    BOOST_TEST(equal(test::drain(server), fresh));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(memory_transport_wait)

BOOST_AUTO_TEST_CASE(wait_times_out_when_nothing_arrives) {
    memory_link link;
    auto server = link.server_end();
    const auto started = clock::now();
    const auto deadline = started + 50ms;
    const std::error_code ec = server.wait(wait_for::readable, deadline);
    BOOST_TEST((ec == errc::timed_out), ec.message());
    BOOST_TEST((clock::now() >= deadline));
    BOOST_TEST((clock::now() - started < prompt));
    // A deadline already passed: at once.
    BOOST_TEST((server.wait(wait_for::readable, clock::now() - 1s) == errc::timed_out));
}

BOOST_AUTO_TEST_CASE(wait_returns_at_once_when_ready) {
    memory_link link;
    auto client = link.client_end();
    auto server = link.server_end();
    BOOST_TEST(!client.wait(wait_for::writable, clock::now()), "an empty direction is writable");
    test::put(client, test::to_bytes("x"));
    BOOST_TEST(!server.wait(wait_for::readable, clock::now()));
}

BOOST_AUTO_TEST_CASE(wait_wakes_when_data_arrives_from_another_thread) {
    memory_link link;
    auto client = link.client_end();
    auto server = link.server_end();
    const bytes data = test::to_bytes("from another thread");
    const auto started = clock::now();
    std::thread writer([&] {
        std::this_thread::sleep_for(30ms);
        test::put(client, data);
    });
    const std::error_code ec = server.wait(wait_for::readable, clock::now() + 30s);
    const auto waited = clock::now() - started;
    writer.join();
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST((waited >= 30ms), "it waited for the writer");
    BOOST_TEST((waited < prompt), "it woke when the bytes arrived, not at the deadline");
    BOOST_TEST(equal(test::drain(server), data));
}

BOOST_AUTO_TEST_CASE(wait_wakes_when_the_peer_closes) {
    memory_link link;
    auto client = link.client_end();
    auto server = link.server_end();
    const auto started = clock::now();
    std::thread closer([&] {
        std::this_thread::sleep_for(20ms);
        client.close();
    });
    const std::error_code ec = server.wait(wait_for::readable, clock::now() + 30s);
    closer.join();
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST((clock::now() - started < prompt));
    std::byte into[4];
    BOOST_TEST((server.read_some(into).error == errc::end_of_stream));
}

BOOST_AUTO_TEST_CASE(wait_for_writable_wakes_when_the_reader_makes_room) {
    memory_link link(8);
    auto client = link.client_end();
    auto server = link.server_end();
    test::put(client, test::to_bytes("12345678"));
    const auto started = clock::now();
    std::thread reader([&] {
        std::this_thread::sleep_for(20ms);
        std::byte into[3];
        (void)server.read_some(into);
    });
    const std::error_code ec = client.wait(wait_for::writable, clock::now() + 30s);
    reader.join();
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST((clock::now() - started < prompt));
    BOOST_TEST(client.write_some(test::to_bytes("abcdef")).bytes == 3u);
}

// run() on both ends, one thread each: the loop blocks in wait() and wakes on the peer's flight.
// A small capacity makes both ends block on writes as well.
BOOST_AUTO_TEST_CASE(handshake_runs_across_two_threads) {
    const auto& p = test::pki::get();
    const auto server_creds = credentials::server(test::server_config_for(p.ecdsa_server));
    const auto client_creds = credentials::client(test::client_config_trusting(p.ca));
    for (const std::size_t capacity : {std::size_t{1} << 20, std::size_t{64}}) {
        BOOST_TEST_CONTEXT("capacity " << capacity) {
            memory_link link(capacity);
            basic_handshake<client, memory_transport, dynamic_buffer> c{
                client{client_creds, "localhost"}, link.client_end()};
            basic_handshake<server, memory_transport, dynamic_buffer> s{server{server_creds},
                                                                        link.server_end()};
            const auto deadline = clock::now() + 20s;
            std::error_code server_ec;
            std::atomic<bool> server_finished{false};
            std::thread server_thread([&] {
                server_ec = s.run(deadline);
                server_finished = true;
            });
            const std::error_code client_ec = c.run(deadline);
            // A TLS 1.3 server finishes by sending session tickets, which may not fit in a small
            // link: read them for the done client (the application would, later).
            while (!server_finished && clock::now() < deadline) {
                (void)c.transport().wait(wait_for::readable, clock::now() + 10ms);
                (void)test::drain(c.transport());
            }
            server_thread.join();
            BOOST_TEST(!client_ec, client_ec.message());
            BOOST_TEST(!server_ec, server_ec.message());
            BOOST_TEST(c.done());
            BOOST_TEST(s.done());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
