// handshake_limits protect a server from its peer (time, bytes, flights); feed() and a transport
// that takes fewer bytes than offered (want_write) are the other edges of the loop.
#include "support/drive.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <thread>

using namespace secctx;
using test::client_handshake;
using test::server_handshake;
using test::text;
using namespace std::chrono_literals;

namespace {

const test::pki& pki() {
    return test::pki::get();
}

const credentials& client_creds() {
    static const auto creds = credentials::client(test::client_config_trusting(pki().ca));
    return creds;
}

const credentials& server_creds() {
    static const auto creds = credentials::server(test::server_config_for(pki().ecdsa_server));
    return creds;
}

handshake_limits limits(auto change) {
    handshake_limits l;
    change(l);
    return l;
}

struct connection {
    explicit connection(handshake_limits client_limits = {}, handshake_limits server_limits = {},
                        std::size_t capacity = std::size_t{1} << 20)
        : link(capacity), c{client{client_creds(), "localhost"}, link.client_end(),
                            dynamic_buffer(), client_limits},
          s{server{server_creds()}, link.server_end(), dynamic_buffer(), server_limits} {}

    memory_link link;
    client_handshake c;
    server_handshake s;
};

// The client's first flight, taken off the link before the server sees it.
test::bytes take_client_hello(connection& x) {
    BOOST_TEST_REQUIRE((x.c.step().status == step_status::want_read));
    auto server_side = x.link.server_end();
    return test::drain(server_side);
}

template <class Handshake>
void check_failed_for_good(Handshake& h, errc expected) {
    BOOST_TEST(text(h.error()) == text(expected));
    const step_result again = h.step();
    BOOST_TEST((again.status == step_status::failed));
    BOOST_TEST(text(again.error) == text(expected));
    BOOST_TEST(h.provider().native_handle() == nullptr);
}

} // namespace

BOOST_AUTO_TEST_CASE(step_after_the_timeout_fails_with_timed_out) {
    connection x{{}, limits([](auto& l) { l.timeout = 50ms; })};
    BOOST_TEST((x.s.step().status == step_status::want_read));
    std::this_thread::sleep_for(60ms);
    const step_result r = x.s.step();
    BOOST_TEST((r.status == step_status::failed));
    check_failed_for_good(x.s, errc::timed_out);
}

BOOST_AUTO_TEST_CASE(timeout_applies_even_when_the_peers_bytes_arrive_late) {
    connection x{{}, limits([](auto& l) { l.timeout = 50ms; })};
    BOOST_TEST((x.s.step().status == step_status::want_read));
    BOOST_TEST((x.c.step().status == step_status::want_read));
    std::this_thread::sleep_for(60ms);
    BOOST_TEST((x.s.step().status == step_status::failed));
    check_failed_for_good(x.s, errc::timed_out);
}

BOOST_AUTO_TEST_CASE(run_against_a_silent_peer_fails_with_timed_out) {
    BOOST_TEST_CONTEXT("run() deadline") {
        connection x;
        BOOST_TEST(text(x.s.run(clock::now() + 50ms)) == text(errc::timed_out));
        check_failed_for_good(x.s, errc::timed_out);
    }
    BOOST_TEST_CONTEXT("limits.timeout") {
        connection x{{}, limits([](auto& l) { l.timeout = 50ms; })};
        BOOST_TEST(text(x.s.run()) == text(errc::timed_out));
        check_failed_for_good(x.s, errc::timed_out);
    }
    BOOST_TEST_CONTEXT("client waiting for a silent server") {
        connection x{limits([](auto& l) { l.timeout = 50ms; })};
        BOOST_TEST(text(x.c.run()) == text(errc::timed_out));
        check_failed_for_good(x.c, errc::timed_out);
    }
}

BOOST_AUTO_TEST_CASE(more_bytes_than_max_bytes_received_fails_with_handshake_too_large) {
    connection x{{}, limits([](auto& l) { l.max_bytes_received = 100; })};
    test::drive(x.c, x.s);
    check_failed_for_good(x.s, errc::handshake_too_large);
    BOOST_TEST(x.s.metrics().bytes_received > 100u);
    BOOST_TEST(!x.c.done());
}

BOOST_AUTO_TEST_CASE(more_flights_than_max_flights_fails_with_too_many_flights) {
    BOOST_TEST_CONTEXT("client: its ClientHello, then the server's flight") {
        connection x{limits([](auto& l) { l.max_flights = 1; })};
        test::drive(x.c, x.s);
        check_failed_for_good(x.c, errc::too_many_flights);
    }
    BOOST_TEST_CONTEXT("server: the ClientHello, then its own flight") {
        connection x{{}, limits([](auto& l) { l.max_flights = 1; })};
        test::drive(x.c, x.s);
        check_failed_for_good(x.s, errc::too_many_flights);
        // The flight over the limit must not leave: a server that gave up must not let the client
        // finish a handshake nobody will answer.
        BOOST_TEST(!x.c.done(), "a server that gave up sends no flight");
    }
}

BOOST_AUTO_TEST_CASE(max_flights_equal_to_the_flights_needed_is_enough) {
    // TLS 1.3: the client sends two flights and receives one; the server receives two and sends
    // two (its session tickets follow the client's Finished).
    connection x{limits([](auto& l) { l.max_flights = 3; }),
                 limits([](auto& l) { l.max_flights = 4; })};
    test::drive(x.c, x.s);
    BOOST_TEST(x.c.done());
    BOOST_TEST(x.s.done());
}

BOOST_AUTO_TEST_CASE(server_starting_from_fed_bytes_completes) {
    for (const bool whole_hello : {false, true}) {
        BOOST_TEST_CONTEXT((whole_hello ? "the whole ClientHello fed" : "its first byte fed")) {
            connection x;
            const test::bytes hello = take_client_hello(x);
            const std::size_t fed = whole_hello ? hello.size() : 1;
            // The application sniffed these bytes; the rest still comes through the transport.
            BOOST_TEST(text(x.s.feed(std::span(hello).first(fed))) == "success");
            test::put(x.c.transport(), std::span(hello).subspan(fed));
            test::drive(x.c, x.s);
            BOOST_TEST(x.c.done());
            BOOST_TEST(x.s.done());
            BOOST_TEST(x.s.metrics().bytes_received == x.c.metrics().bytes_sent);
        }
    }
}

BOOST_AUTO_TEST_CASE(fed_bytes_count_against_max_bytes_received) {
    connection x{{}, limits([](auto& l) { l.max_bytes_received = 100; })};
    const test::bytes hello = take_client_hello(x);
    BOOST_TEST(text(x.s.feed(hello)) == text(errc::handshake_too_large));
    check_failed_for_good(x.s, errc::handshake_too_large);
}

BOOST_AUTO_TEST_CASE(feed_after_failure_returns_the_sticky_error) {
    connection x;
    test::put(x.c.transport(), test::to_bytes("GET / HTTP/1.1\r\n\r\n"));
    BOOST_TEST((x.s.step().status == step_status::failed));
    const std::byte more[] = {std::byte{0x16}};
    BOOST_TEST(text(x.s.feed(more)) == text(errc::not_tls));
    check_failed_for_good(x.s, errc::not_tls);
}

BOOST_AUTO_TEST_CASE(feed_after_done_fails_with_invalid_state) {
    connection x;
    test::drive(x.c, x.s);
    BOOST_TEST_REQUIRE(x.s.done());
    const std::byte more[] = {std::byte{0x17}};
    BOOST_TEST(text(x.s.feed(more)) == text(errc::invalid_state));
    BOOST_TEST(x.s.done());
}

BOOST_AUTO_TEST_CASE(small_link_capacity_makes_step_want_write_and_the_handshake_completes) {
    for (const auto version : {tls_version::tls1_3, tls_version::tls1_2}) {
        BOOST_TEST_CONTEXT((version == tls_version::tls1_3 ? "TLS 1.3" : "TLS 1.2")) {
            auto client_config = test::client_config_trusting(pki().ca);
            client_config.min_version = client_config.max_version = version;
            memory_link link(64);
            client_handshake c{client{credentials::client(client_config), "localhost"},
                               link.client_end()};
            server_handshake s{server{server_creds()}, link.server_end()};

            const step_result first = c.step();
            BOOST_TEST_REQUIRE((first.status == step_status::want_write));
            BOOST_TEST(!first.output.empty());
            BOOST_TEST(c.metrics().bytes_sent == 64u);

            // Both sides keep stepping; once the client is done, the application reads what
            // follows the handshake (TLS 1.3 session tickets), as a secure channel would.
            test::bytes after_handshake;
            bool server_wanted_write = false;
            for (int round = 0; round < 1000 && !(c.done() && s.done()); ++round) {
                if (c.done()) {
                    auto end = c.transport();
                    const test::bytes read = test::drain(end);
                    after_handshake.insert(after_handshake.end(), read.begin(), read.end());
                } else {
                    c.step();
                }
                server_wanted_write |= s.step().status == step_status::want_write;
            }
            BOOST_TEST_REQUIRE(c.done());
            BOOST_TEST_REQUIRE(s.done());
            BOOST_TEST(server_wanted_write);
            auto end = c.transport();
            const test::bytes rest = test::drain(end); // the server's last write
            after_handshake.insert(after_handshake.end(), rest.begin(), rest.end());
            BOOST_TEST(c.metrics().bytes_sent == s.metrics().bytes_received);
            BOOST_TEST(s.metrics().bytes_sent ==
                       c.metrics().bytes_received + c.extra().size() + after_handshake.size());
        }
    }
}
