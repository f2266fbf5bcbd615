// The socket transport over real sockets on this machine: TCP over IPv4 and IPv6 loopback and
// Unix-domain sockets carry a full handshake, data both ways and a clean shutdown; step() can be
// driven from a poll() loop; and every way a connection goes wrong ends in its own error: a
// stalled peer times out, a peer that closes is peer_closed_during_handshake, a reset is the
// system's ECONNRESET, a write to a closed peer is EPIPE without SIGPIPE, and a signal
// interrupting a blocking handshake changes nothing.
#include "secctx/transport/socket.hpp"

#include "support/exchange.hpp"
#include "support/interruptions.hpp"

#include <boost/test/unit_test.hpp>

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

using namespace secctx;
using test::text;

namespace {

using namespace std::chrono_literals;
using socket_client = basic_handshake<client, socket_transport, dynamic_buffer>;
using socket_server = basic_handshake<server, socket_transport, dynamic_buffer>;

constexpr std::size_t exchange_size = 100 * 1024;

const test::credential_pair& creds() {
    return test::credentials_for(tls_version::tls1_3);
}

clock::time_point soon() {
    return clock::now() + 20s;
}

std::error_code system_error(int value) {
    return {value, std::system_category()};
}

// A connected pair through a listener: connect() completes against the backlog, so one thread
// can connect and then accept.
struct connected_pair {
    socket_transport client;
    socket_transport server;
};

connected_pair tcp_pair(const std::string& host) {
    socket_listener listener;
    BOOST_TEST_REQUIRE(!socket_listener::listen_tcp(host + ":0", listener));
    connected_pair pair;
    const std::string bare = host.front() == '[' ? host.substr(1, host.size() - 2) : host;
    BOOST_TEST_REQUIRE(!connect_tcp(bare, listener.port(), soon(), pair.client));
    BOOST_TEST_REQUIRE(!listener.accept(pair.server, soon()));
    return pair;
}

struct unix_path {
    std::string path = "/tmp/secctx-socket-test-" + std::to_string(::getpid()) + ".sock";
    unix_path() { ::unlink(path.c_str()); }
    ~unix_path() { ::unlink(path.c_str()); }
};

void check_exchange(socket_transport client_end, socket_transport server_end) {
    const auto deadline = soon();
    test::exchange_result served;
    std::thread server_thread([&] {
        served =
            test::serve_echo(std::move(server_end), creds().server_creds, exchange_size, deadline);
    });
    const auto done =
        test::echo_client(std::move(client_end), creds().client_creds, exchange_size, deadline);
    server_thread.join();
    BOOST_TEST(text(done.error) == "success", done.where);
    BOOST_TEST(text(served.error) == "success", served.where);
}

bool ipv6_loopback_available() {
    socket_listener listener;
    return !socket_listener::listen_tcp("[::1]:0", listener);
}

// Reads what the peer sent until it stops (the ClientHello), so that a close() afterwards is a
// FIN, not the RST that closing with unread data would send.
void read_client_hello(socket_transport& end) {
    BOOST_TEST_REQUIRE(!end.wait(wait_for::readable, soon()));
    std::byte chunk[4096];
    std::size_t total = 0;
    for (;;) {
        const io_result r = end.read_some(chunk);
        if (r.error)
            break;
        total += r.bytes;
    }
    BOOST_TEST(total > 0u);
}

} // namespace

BOOST_AUTO_TEST_CASE(tcp_over_ipv4_loopback_carries_a_handshake_data_and_a_clean_shutdown) {
    auto pair = tcp_pair("127.0.0.1");
    check_exchange(std::move(pair.client), std::move(pair.server));
}

BOOST_AUTO_TEST_CASE(tcp_over_ipv6_loopback_carries_a_handshake_data_and_a_clean_shutdown) {
    if (!ipv6_loopback_available()) {
        BOOST_TEST_MESSAGE("skipped: ::1 is not available on this machine");
        return;
    }
    auto pair = tcp_pair("[::1]");
    check_exchange(std::move(pair.client), std::move(pair.server));
}

BOOST_AUTO_TEST_CASE(a_unix_domain_socket_carries_a_handshake_data_and_a_clean_shutdown) {
    const unix_path where;
    socket_listener listener;
    BOOST_TEST_REQUIRE(!socket_listener::listen_unix(where.path, listener));
    socket_transport client_end, server_end;
    BOOST_TEST_REQUIRE(!connect_unix(where.path, soon(), client_end));
    BOOST_TEST_REQUIRE(!listener.accept(server_end, soon()));
    check_exchange(std::move(client_end), std::move(server_end));
}

BOOST_AUTO_TEST_CASE(a_borrowed_descriptor_is_used_but_not_closed) {
    int fds[2];
    BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    {
        socket_transport borrowed = socket_transport::borrow(fds[0]);
        BOOST_TEST(!borrowed.owns_descriptor());
        const test::bytes hello = test::to_bytes("hello");
        BOOST_TEST(borrowed.write_some(hello).bytes == hello.size());
    }
    BOOST_TEST(::fcntl(fds[0], F_GETFD) >= 0); // still open
    char got[8] = {};
    BOOST_TEST(::read(fds[1], got, sizeof got) == 5);
    ::close(fds[0]);
    ::close(fds[1]);
}

BOOST_AUTO_TEST_CASE(connect_and_listen_report_errors_as_error_codes) {
    socket_transport out;
    BOOST_TEST(text(connect_tcp("not an address:1", soon(), out)) ==
               text(std::make_error_code(std::errc::invalid_argument)));
    BOOST_TEST(text(connect_tcp("::1:443", soon(), out)) ==
               text(std::make_error_code(std::errc::invalid_argument)));
    // A port nobody listens on: the listener is closed before the connect.
    std::uint16_t port = 0;
    {
        socket_listener listener;
        BOOST_TEST_REQUIRE(!socket_listener::listen_tcp("127.0.0.1:0", listener));
        port = listener.port();
    }
    BOOST_TEST(text(connect_tcp("127.0.0.1", port, soon(), out)) ==
               text(system_error(ECONNREFUSED)));
    BOOST_TEST(text(connect_unix("/nonexistent/secctx.sock", soon(), out)) ==
               text(system_error(ENOENT)));
    BOOST_TEST(!out.is_open());
    socket_listener listener;
    BOOST_TEST_REQUIRE(!socket_listener::listen_tcp("127.0.0.1:0", listener));
    const auto before = clock::now();
    BOOST_TEST(text(listener.accept(out, clock::now() + 50ms)) == text(errc::timed_out));
    BOOST_TEST((clock::now() - before >= 50ms));
}

BOOST_AUTO_TEST_CASE(step_is_driven_by_a_poll_loop_with_both_ends_in_one_thread) {
    auto pair = tcp_pair("127.0.0.1");
    socket_client c{client{creds().client_creds, "localhost"}, std::move(pair.client)};
    socket_server s{server{creds().server_creds}, std::move(pair.server)};
    step_result rc, rs;
    const auto deadline = soon();
    int polls = 0;
    while (clock::now() < deadline) {
        rc = c.step();
        rs = s.step();
        if (test::finished(rc) && test::finished(rs))
            break;
        pollfd fds[2];
        nfds_t n = 0;
        for (auto [r, fd] : {std::pair{rc, c.transport().native_handle()},
                             std::pair{rs, s.transport().native_handle()}}) {
            if (r.status == step_status::want_read || r.status == step_status::want_write)
                fds[n++] = {
                    fd, static_cast<short>(r.status == step_status::want_read ? POLLIN : POLLOUT),
                    0};
        }
        BOOST_TEST_REQUIRE(::poll(fds, n, 5000) > 0);
        ++polls;
    }
    BOOST_TEST((rc.status == step_status::done), text(rc.error));
    BOOST_TEST((rs.status == step_status::done), text(rs.error));
    BOOST_TEST(polls > 0);

    // The channels, non-blocking too: a write, then the poll loop until the other side reads it.
    basic_channel_for<socket_client> cc{std::move(c)};
    basic_channel_for<socket_server> sc{std::move(s)};
    const test::bytes hello = test::to_bytes("hello over a non-blocking socket");
    BOOST_TEST_REQUIRE(!cc.write_all(hello, deadline));
    test::bytes got(hello.size());
    BOOST_TEST_REQUIRE(!sc.read_exactly(got, deadline));
    BOOST_TEST(got == hello);
}

BOOST_AUTO_TEST_CASE(a_stalled_peer_makes_run_time_out) {
    socket_listener listener;
    BOOST_TEST_REQUIRE(!socket_listener::listen_tcp("127.0.0.1:0", listener));
    socket_transport end;
    BOOST_TEST_REQUIRE(!connect_tcp("127.0.0.1", listener.port(), soon(), end));
    // Never accepted, never answered.
    socket_client c{client{creds().client_creds, "localhost"}, std::move(end)};
    const auto before = clock::now();
    BOOST_TEST(text(c.run(clock::now() + 200ms)) == text(errc::timed_out));
    const auto took = clock::now() - before;
    BOOST_TEST((took >= 200ms && took < 10s));
}

BOOST_AUTO_TEST_CASE(a_peer_that_closes_mid_handshake_is_peer_closed_during_handshake) {
    auto pair = tcp_pair("127.0.0.1");
    socket_client c{client{creds().client_creds, "localhost"}, std::move(pair.client)};
    BOOST_TEST_REQUIRE((c.step().status == step_status::want_read));
    read_client_hello(pair.server);
    pair.server.close(); // a FIN: everything it was sent was read
    BOOST_TEST(text(c.run(soon())) == text(errc::peer_closed_during_handshake));
}

BOOST_AUTO_TEST_CASE(a_half_close_mid_handshake_is_peer_closed_during_handshake) {
    auto pair = tcp_pair("127.0.0.1");
    socket_client c{client{creds().client_creds, "localhost"}, std::move(pair.client)};
    BOOST_TEST_REQUIRE((c.step().status == step_status::want_read));
    BOOST_TEST_REQUIRE(!pair.server.shutdown_write());
    BOOST_TEST(text(c.run(soon())) == text(errc::peer_closed_during_handshake));
}

BOOST_AUTO_TEST_CASE(a_peer_reset_is_the_systems_connection_reset_not_an_end_of_stream) {
    auto pair = tcp_pair("127.0.0.1");
    socket_client c{client{creds().client_creds, "localhost"}, std::move(pair.client)};
    BOOST_TEST_REQUIRE((c.step().status == step_status::want_read));
    read_client_hello(pair.server);
    const linger abort_on_close{1, 0}; // close() sends RST
    BOOST_TEST_REQUIRE(::setsockopt(pair.server.native_handle(), SOL_SOCKET, SO_LINGER,
                                    &abort_on_close, sizeof abort_on_close) == 0);
    pair.server.close();
    const std::error_code ec = c.run(soon());
    BOOST_TEST(text(ec) == text(system_error(ECONNRESET)));
    BOOST_TEST((ec.category() == std::system_category()));
    BOOST_TEST((ec != errc::peer_closed_during_handshake));
}

BOOST_AUTO_TEST_CASE(writing_to_a_closed_peer_is_epipe_and_never_raises_sigpipe) {
    // With the default disposition, a SIGPIPE would kill this test process.
    struct sigaction dfl {
    }, old{};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, &old);
    int fds[2];
    BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    socket_transport end(fds[0]);
    ::close(fds[1]);
    const test::bytes data = test::to_bytes("nobody reads this");
    const io_result r = end.write_some(data);
    BOOST_TEST(text(r.error) == text(system_error(EPIPE)));
    ::sigaction(SIGPIPE, &old, nullptr);
}

BOOST_AUTO_TEST_CASE(signals_interrupting_a_blocking_handshake_change_nothing) {
    const test::interruptions signals;
    BOOST_TEST_REQUIRE(signals.installed());

    auto pair = tcp_pair("127.0.0.1");
    const pthread_t blocked = ::pthread_self();
    const auto deadline = soon();
    test::exchange_result served;
    std::thread helper([&] {
        // The client is blocked in wait() for the server that is not there yet.
        signals.send(blocked, 5, deadline);
        served = test::serve_echo(std::move(pair.server), creds().server_creds, 4096, deadline);
    });
    const auto done =
        test::echo_client(std::move(pair.client), creds().client_creds, 4096, deadline);
    helper.join();
    BOOST_TEST(text(done.error) == "success", done.where);
    BOOST_TEST(text(served.error) == "success", served.where);
    BOOST_TEST(signals.handled() == 5);
}
