// The Asio adapter (secctx/asio.hpp): a loopback TCP connection, client and server in one
// io_context on one thread, the handshake, data both ways and the shutdown run as composed
// operations; with callbacks, with C++20 coroutines (use_awaitable), a handshake that fails with
// the client's own error, 1 MiB each way at once, and transports made before their sockets are
// open. Every run is bounded by io_context::run_for.
#include "support/drive.hpp"
#include "support/pki.hpp"

#include "secctx/asio.hpp"

#include <boost/test/unit_test.hpp>

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace secctx;
using boost::asio::ip::tcp;
using test::bytes;
using test::credentials_for;
using test::name_of;
using test::random_bytes;
using test::text;
using test::to_bytes;
using test::versions;

namespace {

using asio_client = basic_handshake<client, asio_socket_transport, dynamic_buffer>;
using asio_server = basic_handshake<server, asio_socket_transport, dynamic_buffer>;
using client_channel = basic_channel_for<asio_client>;
using server_channel = basic_channel_for<asio_server>;

constexpr auto time_limit = std::chrono::seconds(20);

// A connected loopback pair, both sockets on one io_context.
struct loopback {
    boost::asio::io_context io;
    tcp::socket client_socket{io};
    tcp::socket server_socket{io};

    loopback() {
        tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
        client_socket.connect(acceptor.local_endpoint());
        acceptor.accept(server_socket);
    }

    // Runs until every operation completed or the time limit passed (then the test fails).
    void run() {
        io.run_for(time_limit);
        BOOST_TEST(io.stopped(),
                   "the io_context still had work after " << time_limit.count() << " s");
    }
};

// Reads exactly into.size() bytes with async_read_some, callback after callback.
template <class Channel>
void read_exactly(Channel& channel, std::span<std::byte> into,
                  std::function<void(std::error_code)> done) {
    async_read_some(
        channel, into,
        [&channel, into, done = std::move(done)](std::error_code ec, std::size_t n) mutable {
            if (ec)
                return done(ec);
            if (n == into.size())
                return done({});
            read_exactly(channel, into.subspan(n), std::move(done));
        });
}

template <class Channel>
boost::asio::awaitable<std::error_code> co_read_exactly(Channel& channel,
                                                        std::span<std::byte> into) {
    while (!into.empty()) {
        const auto [ec, n] = co_await async_read_some(channel, into, boost::asio::use_awaitable);
        if (ec)
            co_return ec;
        into = into.subspan(n);
    }
    co_return std::error_code();
}

struct side_result {
    std::optional<std::error_code> handshake;
    std::optional<std::error_code> write;
    std::optional<std::error_code> read;
    std::optional<std::error_code> shutdown;
    bytes received;
};

void check_clean(const side_result& side, const bytes& expected, const char* who) {
    BOOST_TEST_CONTEXT(who) {
        BOOST_TEST_REQUIRE(side.handshake.has_value());
        BOOST_TEST(text(*side.handshake) == "success");
        BOOST_TEST_REQUIRE(side.write.has_value());
        BOOST_TEST(text(*side.write) == "success");
        BOOST_TEST_REQUIRE(side.read.has_value());
        BOOST_TEST(text(*side.read) == "success");
        BOOST_TEST((side.received == expected));
        BOOST_TEST_REQUIRE(side.shutdown.has_value());
        BOOST_TEST(text(*side.shutdown) == "success");
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(asio_adapter)

BOOST_AUTO_TEST_CASE(callbacks_handshake_data_both_ways_and_shutdown) {
    for (const tls_version version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            const auto& creds = credentials_for(version);
            loopback net;
            const bytes request = to_bytes("GET / over secctx and Asio");
            const bytes reply = to_bytes("200 from the server, through a callback");

            asio_client client_handshake(client(creds.client_creds, "localhost"),
                                         asio_socket_transport(net.client_socket));
            asio_server server_handshake(server(creds.server_creds),
                                         asio_socket_transport(net.server_socket));
            std::optional<client_channel> client_side;
            std::optional<server_channel> server_side;
            side_result c, s;
            c.received.resize(reply.size());
            s.received.resize(request.size());

            // Client: handshake, write the request, read the reply, close both ways.
            async_handshake(client_handshake, [&](std::error_code ec) {
                c.handshake = ec;
                if (ec)
                    return;
                client_side.emplace(std::move(client_handshake));
                async_write(*client_side, request, [&](std::error_code ec, std::size_t n) {
                    c.write = ec;
                    BOOST_TEST(n == request.size());
                    read_exactly(*client_side, c.received, [&](std::error_code ec) {
                        c.read = ec;
                        async_shutdown(*client_side, shutdown_wait::peer,
                                       [&](std::error_code ec) { c.shutdown = ec; });
                    });
                });
            });
            // Server: handshake, read the request, write the reply, close both ways.
            async_handshake(server_handshake, [&](std::error_code ec) {
                s.handshake = ec;
                if (ec)
                    return;
                server_side.emplace(std::move(server_handshake));
                read_exactly(*server_side, s.received, [&](std::error_code ec) {
                    s.read = ec;
                    async_write(*server_side, boost::asio::buffer(reply),
                                [&](std::error_code ec, std::size_t n) {
                                    s.write = ec;
                                    BOOST_TEST(n == reply.size());
                                    async_shutdown(*server_side, shutdown_wait::peer,
                                                   [&](std::error_code ec) { s.shutdown = ec; });
                                });
                });
            });
            // Nothing completes inside an initiating call: the handshakes have not moved yet.
            BOOST_TEST(!c.handshake.has_value());
            BOOST_TEST(!s.handshake.has_value());
            net.run();

            check_clean(c, reply, "client");
            check_clean(s, request, "server");
            BOOST_REQUIRE(client_side && server_side);
            BOOST_TEST(client_side->attributes().protocol == name_of(version));
        }
    }
}

BOOST_AUTO_TEST_CASE(coroutines_handshake_data_both_ways_and_shutdown) {
    for (const tls_version version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            const auto& creds = credentials_for(version);
            loopback net;
            const bytes request = random_bytes(3000, 7);
            const bytes reply = random_bytes(40000, 8);
            side_result c, s;
            using boost::asio::use_awaitable;

            auto client_task = [&]() -> boost::asio::awaitable<void> {
                asio_client handshake(client(creds.client_creds, "localhost"),
                                      asio_socket_transport(net.client_socket));
                c.handshake = co_await async_handshake(handshake, use_awaitable);
                if (*c.handshake)
                    co_return;
                client_channel channel(std::move(handshake));
                const auto [written, n] = co_await async_write(channel, request, use_awaitable);
                c.write = written;
                BOOST_TEST(n == request.size());
                c.received.resize(reply.size());
                c.read = co_await co_read_exactly(channel, std::span(c.received));
                c.shutdown = co_await async_shutdown(channel, shutdown_wait::peer, use_awaitable);
            };
            auto server_task = [&]() -> boost::asio::awaitable<void> {
                asio_server handshake(server(creds.server_creds),
                                      asio_socket_transport(net.server_socket));
                s.handshake = co_await async_handshake(handshake, use_awaitable);
                if (*s.handshake)
                    co_return;
                server_channel channel(std::move(handshake));
                s.received.resize(request.size());
                s.read = co_await co_read_exactly(channel, std::span(s.received));
                const auto [written, n] = co_await async_write(channel, reply, use_awaitable);
                s.write = written;
                BOOST_TEST(n == reply.size());
                s.shutdown = co_await async_shutdown(channel, shutdown_wait::peer, use_awaitable);
            };
            boost::asio::co_spawn(net.io, client_task(), boost::asio::detached);
            boost::asio::co_spawn(net.io, server_task(), boost::asio::detached);
            net.run();

            check_clean(c, reply, "client");
            check_clean(s, request, "server");
        }
    }
}

BOOST_AUTO_TEST_CASE(a_failing_handshake_completes_with_the_error) {
    for (const tls_version version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            const auto& creds = credentials_for(version);
            loopback net;
            // The server's certificate is for localhost; this client expects another name.
            asio_client client_handshake(client(creds.client_creds, "other.example"),
                                         asio_socket_transport(net.client_socket));
            asio_server server_handshake(server(creds.server_creds),
                                         asio_socket_transport(net.server_socket));
            std::optional<std::error_code> client_result, server_result;
            async_handshake(client_handshake, [&](std::error_code ec) {
                client_result = ec;
                // The alert went out; closing lets a server still waiting see the end.
                net.client_socket.close();
            });
            async_handshake(server_handshake, [&](std::error_code ec) { server_result = ec; });
            net.run();

            BOOST_TEST_REQUIRE(client_result.has_value());
            BOOST_TEST(text(*client_result) == text(errc::host_name_mismatch));
            BOOST_TEST(client_handshake.error() == *client_result);
            BOOST_TEST_REQUIRE(server_result.has_value());
            BOOST_TEST_MESSAGE("server: " << text(*server_result));
            BOOST_TEST(static_cast<bool>(*server_result));
        }
    }
}

// A server that defers its verdict on the client's certificate: the operation waits without
// blocking the io_context (the client's handshake runs meanwhile) until another thread gives the
// verdict, or until the handshake's deadline.
BOOST_AUTO_TEST_CASE(a_deferred_verdict_is_awaited_without_blocking_and_bounded_by_the_deadline) {
    const auto& p = test::pki::get();
    for (const bool answered : {true, false}) {
        BOOST_TEST_CONTEXT((answered ? "answered" : "never answered")) {
            auto sc = test::server_config_for(p.ecdsa_server);
            sc.verify_clients = client_certificates::required;
            sc.trust.certificates = pem_source::from_memory(p.ca.certificate_pem());
            std::atomic<int> asked{0};
            sc.validation.validator = [&](const validation_request&) {
                ++asked;
                return verdict::later();
            };
            auto cc = test::client_config_trusting(p.ca);
            cc.certificate_chain = pem_source::from_memory(p.client.certificate_pem);
            cc.private_key = pem_source::from_memory(p.client.private_key_pem);
            loopback net;
            asio_client client_handshake(client(credentials::client(cc), "localhost"),
                                         asio_socket_transport(net.client_socket));
            handshake_limits limits;
            limits.timeout =
                answered ? std::chrono::milliseconds(20000) : std::chrono::milliseconds(300);
            asio_server server_handshake(server(credentials::server(sc)),
                                         asio_socket_transport(net.server_socket), dynamic_buffer(),
                                         limits);
            std::optional<std::error_code> client_result, server_result;
            async_handshake(client_handshake, [&](std::error_code ec) { client_result = ec; });
            async_handshake(server_handshake, [&](std::error_code ec) {
                server_result = ec;
                net.server_socket.close();
            });
            std::thread judge([&] {
                if (!answered)
                    return;
                while (!server_handshake.pending().awaited())
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                BOOST_TEST(text(server_handshake.pending().give(verdict::accept())) == "success");
            });
            net.run();
            judge.join();
            BOOST_TEST(asked.load() == 1);
            BOOST_TEST_REQUIRE(server_result.has_value());
            BOOST_TEST(text(*server_result) ==
                       (answered ? std::string("success") : text(errc::timed_out)));
            BOOST_TEST_REQUIRE(client_result.has_value());
            BOOST_TEST(text(*client_result) == "success", "TLS 1.3: done before the verdict");
        }
    }
}

// A client that defers its choice of certificate (SEC_I_INCOMPLETE_CREDENTIALS): the operation
// waits without blocking the io_context until another thread gives the choice, or until the
// handshake's deadline.
BOOST_AUTO_TEST_CASE(a_deferred_certificate_choice_is_awaited_without_blocking) {
    const auto& p = test::pki::get();
    for (const bool answered : {true, false}) {
        BOOST_TEST_CONTEXT((answered ? "answered" : "never answered")) {
            auto sc = test::server_config_for(p.ecdsa_server);
            sc.verify_clients = client_certificates::required;
            sc.trust.certificates = pem_source::from_memory(p.ca.certificate_pem());
            auto cc = test::client_config_trusting(p.ca);
            cc.certificates = {{pem_source::from_memory(p.client.certificate_pem),
                                pem_source::from_memory(p.client.private_key_pem),
                                {}}};
            std::atomic<int> asked{0};
            cc.select_certificate = [&](const certificate_request_info&,
                                        const std::vector<certificate_candidate>&) {
                ++asked;
                return certificate_choice::later();
            };
            loopback net;
            handshake_limits limits;
            limits.timeout =
                answered ? std::chrono::milliseconds(20000) : std::chrono::milliseconds(300);
            asio_client client_handshake(client(credentials::client(cc), "localhost"),
                                         asio_socket_transport(net.client_socket), dynamic_buffer(),
                                         limits);
            asio_server server_handshake(server(credentials::server(sc)),
                                         asio_socket_transport(net.server_socket));
            std::optional<std::error_code> client_result, server_result;
            async_handshake(client_handshake, [&](std::error_code ec) {
                client_result = ec;
                net.client_socket.close();
            });
            async_handshake(server_handshake, [&](std::error_code ec) { server_result = ec; });
            std::thread chooser([&] {
                if (!answered)
                    return;
                const auto pending = client_handshake.pending_certificate();
                while (!pending.awaited())
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                BOOST_TEST(pending.request().authorities.size() == 1u);
                BOOST_TEST(text(pending.give(certificate_choice::use(0))) == "success");
            });
            net.run();
            chooser.join();
            BOOST_TEST(asked.load() == 1);
            BOOST_TEST_REQUIRE(client_result.has_value());
            BOOST_TEST(text(*client_result) ==
                       (answered ? std::string("success") : text(errc::timed_out)));
            BOOST_TEST_REQUIRE(server_result.has_value());
            if (answered)
                BOOST_TEST(text(*server_result) == "success");
            else
                BOOST_TEST(static_cast<bool>(*server_result), "the client went away");
        }
    }
}

BOOST_AUTO_TEST_CASE(one_mebibyte_each_way_at_once) {
    const auto& creds = credentials_for(tls_version::tls1_3);
    loopback net;
    const bytes to_server = random_bytes(1 << 20, 1);
    const bytes to_client = random_bytes(1 << 20, 2);

    asio_client client_handshake(client(creds.client_creds, "localhost"),
                                 asio_socket_transport(net.client_socket));
    asio_server server_handshake(server(creds.server_creds),
                                 asio_socket_transport(net.server_socket));
    std::optional<client_channel> client_side;
    std::optional<server_channel> server_side;
    side_result c, s;
    c.received.resize(to_client.size());
    s.received.resize(to_server.size());

    // Each side writes its mebibyte while it reads the peer's (one read and one write
    // outstanding on the same channel), and shuts down once both are done.
    const auto exchange = [](auto& channel, side_result& side, const bytes& out) {
        const auto shutdown_when_both_done = [&channel, &side] {
            if (side.write && side.read)
                async_shutdown(channel, shutdown_wait::peer,
                               [&side](std::error_code ec) { side.shutdown = ec; });
        };
        async_write(channel, out,
                    [&side, &out, shutdown_when_both_done](std::error_code ec, std::size_t n) {
                        side.write = ec;
                        BOOST_TEST(n == out.size());
                        shutdown_when_both_done();
                    });
        read_exactly(channel, std::span(side.received),
                     [&side, shutdown_when_both_done](std::error_code ec) {
                         side.read = ec;
                         shutdown_when_both_done();
                     });
    };
    async_handshake(client_handshake, [&](std::error_code ec) {
        c.handshake = ec;
        if (!ec)
            exchange(client_side.emplace(std::move(client_handshake)), c, to_server);
    });
    async_handshake(server_handshake, [&](std::error_code ec) {
        s.handshake = ec;
        if (!ec)
            exchange(server_side.emplace(std::move(server_handshake)), s, to_client);
    });
    net.run();

    check_clean(c, to_client, "client");
    check_clean(s, to_server, "server");
}

BOOST_AUTO_TEST_CASE(the_transport_reports_would_block_and_end_of_stream) {
    loopback net;
    asio_socket_transport t(net.client_socket);
    std::byte into[16];
    BOOST_TEST(text(t.read_some(into).error) == text(errc::would_block));
    BOOST_TEST(text(t.wait(wait_for::readable, clock::now() + std::chrono::milliseconds(20))) ==
               text(errc::timed_out));
    BOOST_TEST(text(t.wait(wait_for::writable, clock::now() + std::chrono::seconds(5))) ==
               "success");
    net.server_socket.close();
    BOOST_TEST(text(t.wait(wait_for::readable, clock::now() + std::chrono::seconds(5))) ==
               "success");
    BOOST_TEST(text(t.read_some(into).error) == text(errc::end_of_stream));
}

// A deadline long past times out at once, whatever its value: the time left is never computed
// from one so far back that the subtraction overflows.
BOOST_AUTO_TEST_CASE(wait_with_a_deadline_long_past_times_out_at_once) {
    loopback net;
    asio_socket_transport t(net.client_socket);
    for (const clock::time_point deadline :
         {clock::time_point::min(), clock::now() - std::chrono::hours(1)}) {
        const auto start = clock::now();
        BOOST_TEST(text(t.wait(wait_for::readable, deadline)) == text(errc::timed_out));
        // Not a timing: the overflow made it a wait of a minute, poll's longest piece.
        BOOST_TEST((clock::now() - start < std::chrono::seconds(30)));
    }
}

// The transports may be made before their sockets are open, and the handshakes started from the
// connect and accept handlers. Both ends run on the io_context's one thread, so a step that
// blocked on its socket would wait for a peer that never gets to answer; a blocked thread runs no
// timer, so a watchdog thread ends such a wait by shutting the sockets down (the handshakes then
// fail).
BOOST_AUTO_TEST_CASE(transports_made_before_their_sockets_are_open_never_block) {
    const auto& creds = credentials_for(tls_version::tls1_3);
    boost::asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
    tcp::socket client_socket{io};
    tcp::socket server_socket{io};
    asio_client client_handshake(client(creds.client_creds, "localhost"),
                                 asio_socket_transport(client_socket));
    asio_server server_handshake(server(creds.server_creds), asio_socket_transport(server_socket));
    BOOST_TEST_REQUIRE(!client_socket.is_open());

    std::atomic<int> client_fd{-1}, server_fd{-1};
    std::promise<void> finished;
    std::thread watchdog([&client_fd, &server_fd, done = finished.get_future()] {
        if (done.wait_for(std::chrono::seconds(10)) == std::future_status::ready)
            return;
        for (const int fd : {client_fd.load(), server_fd.load()})
            if (fd >= 0)
                ::shutdown(fd, SHUT_RDWR);
    });

    std::optional<std::error_code> client_result, server_result;
    acceptor.async_accept(server_socket, [&](boost::system::error_code ec) {
        BOOST_TEST(!ec, ec.message());
        server_fd = server_socket.native_handle();
        async_handshake(server_handshake, [&](std::error_code ec) { server_result = ec; });
    });
    client_socket.async_connect(acceptor.local_endpoint(), [&](boost::system::error_code ec) {
        BOOST_TEST(!ec, ec.message());
        client_fd = client_socket.native_handle();
        async_handshake(client_handshake, [&](std::error_code ec) { client_result = ec; });
    });
    io.run_for(time_limit);
    finished.set_value();
    watchdog.join();

    BOOST_TEST_REQUIRE(client_result.has_value());
    BOOST_TEST(text(*client_result) == "success");
    BOOST_TEST_REQUIRE(server_result.has_value());
    BOOST_TEST(text(*server_result) == "success");
}

BOOST_AUTO_TEST_SUITE_END()
