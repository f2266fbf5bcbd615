// Session resumption end to end: the client credentials' session cache, the server's rotating
// ticket keys, the post-handshake ticket drain of basic_channel, and the NSS key log.
#include "support/drive.hpp"
#include "support/pki.hpp"
#include "support/raw_peer.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace secctx;
using namespace std::chrono_literals;
using test::client_handshake;
using test::name_of;
using test::server_handshake;
using test::text;

namespace {

const test::pki& pki() {
    return test::pki::get();
}

using client_channel = basic_channel_for<client_handshake>;
using server_channel = basic_channel_for<server_handshake>;

template <class Config>
Config only(Config config, tls_version version) {
    config.min_version = config.max_version = version;
    return config;
}

client_config client_settings(tls_version version) {
    return only(test::client_config_trusting(pki().ca), version);
}

server_config server_settings(tls_version version) {
    return only(test::server_config_for(pki().ecdsa_server), version);
}

clock::time_point soon() {
    return clock::now() + 5s;
}

constexpr tls_version both_versions[] = {tls_version::tls1_3, tls_version::tls1_2};

// One connection over a memory link, stepped from one thread: the handshake, then both channels.
struct connection {
    connection(const credentials& client_creds, std::string_view server_name,
               const credentials& server_creds) {
        client_handshake c{secctx::client{client_creds, server_name}, link.client_end()};
        server_handshake s{secctx::server{server_creds}, link.server_end()};
        const auto [cr, sr] = test::drive(c, s);
        client_error = cr.error;
        server_error = sr.error;
        client_metrics_resumed = c.metrics().resumed;
        server_metrics_resumed = s.metrics().resumed;
        client.emplace(std::move(c));
        server.emplace(std::move(s));
    }

    void require_established() const {
        BOOST_TEST_REQUIRE(text(client_error) == "success");
        BOOST_TEST_REQUIRE(text(server_error) == "success");
    }

    bool resumed() const {
        // Every view of it agrees: both providers and both handshakes' metrics.
        BOOST_TEST(client->provider().resumed() == server->provider().resumed());
        BOOST_TEST(client_metrics_resumed == client->provider().resumed());
        BOOST_TEST(server_metrics_resumed == server->provider().resumed());
        return client->provider().resumed();
    }

    // Waits for the server's tickets (TLS 1.3; at once under TLS 1.2).
    void receive_tickets() {
        BOOST_TEST(text(client->receive_session_tickets(soon())) == "success");
    }

    // close_notify both ways: the client's sessions stay resumable.
    void close() {
        BOOST_TEST(text(client->shutdown_send()) == "success");
        BOOST_TEST(text(server->shutdown(soon())) == "success");
        BOOST_TEST(text(client->shutdown(soon())) == "success");
    }

    memory_link link;
    std::error_code client_error, server_error;
    bool client_metrics_resumed = false;
    bool server_metrics_resumed = false;
    std::optional<client_channel> client;
    std::optional<server_channel> server;
};

// A connection that receives its tickets and closes cleanly; returns whether it resumed.
bool connect_and_close(const credentials& client_creds, std::string_view server_name,
                       const credentials& server_creds) {
    connection x(client_creds, server_name, server_creds);
    x.require_established();
    const bool resumed = x.resumed();
    x.receive_tickets();
    x.close();
    return resumed;
}

std::string hex(const unsigned char* data, std::size_t size) {
    std::string out;
    char two[3];
    for (std::size_t i = 0; i < size; ++i) {
        std::snprintf(two, sizeof two, "%02x", data[i]);
        out += two;
    }
    return out;
}

std::vector<std::string> fields(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string field; in >> field;)
        out.push_back(field);
    return out;
}

test::bytes pattern(std::size_t size) {
    test::bytes out(size);
    for (std::size_t i = 0; i < size; ++i)
        out[i] = static_cast<std::byte>((i * 7 + i / 251) & 0xff);
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(resumption)

BOOST_AUTO_TEST_CASE(a_second_connection_with_the_same_client_credentials_resumes) {
    for (const auto version : both_versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            const auto client_creds = credentials::client(client_settings(version));
            const auto server_creds = credentials::server(server_settings(version));
            {
                connection first(client_creds, "localhost", server_creds);
                first.require_established();
                BOOST_TEST(!first.resumed());
                first.receive_tickets();
                if (version == tls_version::tls1_3)
                    BOOST_TEST(first.client->provider().tickets_received() == 2u); // OpenSSL's 2
                else
                    BOOST_TEST(first.client->provider().tickets_received() == 1u);
                BOOST_TEST(first.server->provider().tickets_received() == 0u);
                first.close();
            }
            connection second(client_creds, "localhost", server_creds);
            second.require_established();
            BOOST_TEST(second.resumed());
            BOOST_TEST(second.client->provider().protocol() ==
                       second.server->provider().protocol());
            // Application data goes both ways on the resumed connection.
            const test::bytes message = test::to_bytes("after resumption");
            BOOST_TEST(text(second.client->write_all(message, soon())) == "success");
            test::bytes got(message.size());
            BOOST_TEST(text(second.server->read_exactly(got, soon())) == "success");
            BOOST_TEST(got == message);
            second.receive_tickets();
            second.close();
        }
    }
}

BOOST_AUTO_TEST_CASE(tls12_sessions_are_kept_and_resume_again_and_again) {
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_2));
    const auto server_creds = credentials::server(server_settings(tls_version::tls1_2));
    BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(connect_and_close(client_creds, "localhost", server_creds));
}

#if !defined(SECCTX_DEFAULT_ENGINE_GNUTLS) // OpenSSL's own objects
BOOST_AUTO_TEST_CASE(tls13_tickets_are_single_use) {
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_3));
    const auto server_creds = credentials::server(server_settings(tls_version::tls1_3));
    SSL_CTX_set_num_tickets(server_creds.native_handle(), 1);
    BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
    {
        // Takes the one ticket; reads nothing, so gets no new one.
        connection x(client_creds, "localhost", server_creds);
        x.require_established();
        BOOST_TEST(x.resumed());
        BOOST_TEST(x.client->provider().tickets_received() == 0u);
    }
    connection third(client_creds, "localhost", server_creds);
    third.require_established();
    BOOST_TEST(!third.resumed());
}
#endif

BOOST_AUTO_TEST_CASE(a_tls12_connection_dropped_without_close_notify_is_not_resumed) {
    // OpenSSL's rule, which secctx keeps: the session of a connection that did not send
    // close_notify (it may have failed) is not resumable.
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_2));
    const auto server_creds = credentials::server(server_settings(tls_version::tls1_2));
    {
        connection x(client_creds, "localhost", server_creds);
        x.require_established();
        BOOST_TEST(x.client->provider().tickets_received() == 1u);
    }
    BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
    BOOST_TEST(connect_and_close(client_creds, "localhost", server_creds));
}

BOOST_AUTO_TEST_CASE(resumption_turned_off_gives_full_handshakes) {
    for (const auto version : both_versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            auto config = client_settings(version);
            config.resume_sessions = false;
            const auto client_creds = credentials::client(config);
            const auto server_creds = credentials::server(server_settings(version));
            BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
            BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_cache_of_size_zero_resumes_nothing) {
    auto config = client_settings(tls_version::tls1_2);
    config.session_cache_size = 0;
    const auto client_creds = credentials::client(config);
    const auto server_creds = credentials::server(server_settings(tls_version::tls1_2));
    BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
    BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
}

BOOST_AUTO_TEST_CASE(sessions_are_kept_per_server_name) {
    for (const auto version : both_versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            // The test certificate names localhost and 127.0.0.1: one server, two names.
            const auto client_creds = credentials::client(client_settings(version));
            const auto server_creds = credentials::server(server_settings(version));
            BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
            BOOST_TEST(!connect_and_close(client_creds, "127.0.0.1", server_creds));
            BOOST_TEST(connect_and_close(client_creds, "localhost", server_creds));
            BOOST_TEST(connect_and_close(client_creds, "127.0.0.1", server_creds));
        }
    }
}

BOOST_AUTO_TEST_CASE(the_oldest_session_is_evicted_when_the_cache_is_full) {
    auto config = client_settings(tls_version::tls1_2);
    config.session_cache_size = 1;
    const auto client_creds = credentials::client(config);
    const auto server_creds = credentials::server(server_settings(tls_version::tls1_2));
    BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
    BOOST_TEST(!connect_and_close(client_creds, "127.0.0.1", server_creds)); // evicts localhost
    BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds)); // evicts 127.0.0.1
    BOOST_TEST(connect_and_close(client_creds, "localhost", server_creds));
}

BOOST_AUTO_TEST_CASE(copies_of_client_credentials_share_the_cache) {
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_3));
    const auto server_creds = credentials::server(server_settings(tls_version::tls1_3));
    BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
    const credentials copy = client_creds; // NOLINT(performance-unnecessary-copy-initialization)
    BOOST_TEST(connect_and_close(copy, "localhost", server_creds));
    // Other credentials with the same configuration have their own, empty cache.
    const auto other = credentials::client(client_settings(tls_version::tls1_3));
    BOOST_TEST(!connect_and_close(other, "localhost", server_creds));
}

BOOST_AUTO_TEST_CASE(a_server_without_tickets_or_session_cache_never_resumes) {
    for (const auto version : both_versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            auto config = server_settings(version);
            config.session_tickets = false;
            config.session_cache_size = 0;
            const auto client_creds = credentials::client(client_settings(version));
            const auto server_creds = credentials::server(config);
            BOOST_TEST(!server_creds.rotate_ticket_keys());
            for (int i = 0; i < 2; ++i) {
                connection x(client_creds, "localhost", server_creds);
                x.require_established();
                BOOST_TEST(!x.resumed());
                x.close();
            }
        }
    }
}

#if !defined(SECCTX_DEFAULT_ENGINE_GNUTLS) // OpenSSL's own objects
// Clients that do not take tickets resume from the server's session cache: by session ID under
// TLS 1.2, and under TLS 1.3 with tickets that name a cached session.
BOOST_AUTO_TEST_CASE(a_server_without_tickets_resumes_from_its_session_cache) {
    for (const auto version : both_versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            auto config = server_settings(version);
            config.session_tickets = false;
            const auto client_creds = credentials::client(client_settings(version));
            const auto server_creds = credentials::server(config);
            BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
            BOOST_TEST(connect_and_close(client_creds, "localhost", server_creds));
            BOOST_TEST(SSL_CTX_sess_number(server_creds.native_handle()) >= 1);
        }
    }
}
#endif

#if !defined(SECCTX_DEFAULT_ENGINE_GNUTLS) // OpenSSL's own objects
BOOST_AUTO_TEST_CASE(tls12_the_server_cache_holds_at_most_its_size_and_evicts_the_oldest) {
    auto config = server_settings(tls_version::tls1_2);
    config.session_tickets = false;
    config.session_cache_size = 2;
    const auto server_creds = credentials::server(config);
    std::vector<credentials> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(credentials::client(client_settings(tls_version::tls1_2)));
        BOOST_TEST(!connect_and_close(clients.back(), "localhost", server_creds));
        BOOST_TEST(SSL_CTX_sess_number(server_creds.native_handle()) == std::min(i + 1, 2));
    }
    // The first client's session went out when the third came in; the others are still there.
    BOOST_TEST(!connect_and_close(clients[0], "localhost", server_creds));
    BOOST_TEST(connect_and_close(clients[2], "localhost", server_creds));
}
#endif

BOOST_AUTO_TEST_CASE(tls12_a_session_past_its_lifetime_gives_a_full_handshake) {
    auto config = server_settings(tls_version::tls1_2);
    config.session_tickets = false;
    // Two seconds, so that the last connection, right after the one before it, is well within.
    config.session_lifetime = 2s;
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_2));
    const auto server_creds = credentials::server(config);
    BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
    // OpenSSL counts whole seconds from the second the session was made.
    std::this_thread::sleep_for(3100ms);
    BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
    BOOST_TEST(connect_and_close(client_creds, "localhost", server_creds));
}

#if !defined(SECCTX_DEFAULT_ENGINE_GNUTLS) // OpenSSL's own objects
// A session ID the server never issued (another server's, a forged one, random bytes) is a cache
// miss: a clean full handshake, not a failure.
BOOST_AUTO_TEST_CASE(tls12_an_unknown_session_id_gets_a_full_handshake) {
    auto config = server_settings(tls_version::tls1_2);
    config.session_tickets = false;
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_2));
    const auto server_creds = credentials::server(config);
    const auto other_server = credentials::server(config);
    BOOST_TEST(!connect_and_close(client_creds, "localhost", other_server));
    // The client offers other_server's session to server_creds.
    BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
    for (const std::size_t size : {std::size_t{1}, std::size_t{16}, std::size_t{32}}) {
        BOOST_TEST_CONTEXT(size << " random bytes of session ID") {
            const auto forger = credentials::client(client_settings(tls_version::tls1_2));
            BOOST_TEST(!connect_and_close(forger, "localhost", server_creds));
            // Replaces the ID of the session the client holds (and offers next) with noise.
            connection probe(forger, "localhost", server_creds);
            probe.require_established();
            BOOST_TEST(probe.resumed());
            SSL_SESSION* held = SSL_get_session(probe.client->provider().native_handle());
            const test::bytes noise = test::random_bytes(size, static_cast<std::uint32_t>(size));
            BOOST_TEST_REQUIRE(
                SSL_SESSION_set1_id(held, reinterpret_cast<const unsigned char*>(noise.data()),
                                    static_cast<unsigned>(size)) == 1);
            probe.close();
            BOOST_TEST(!connect_and_close(forger, "localhost", server_creds));
        }
    }
}
#endif

// Many clients end a connection without close_notify (Python's ssl when the socket is simply
// closed). RFC 5246 7.2.1: since TLS 1.1 that no longer forbids resuming the session, and openssl
// s_server keeps it; a connection that fails keeps nothing.
BOOST_AUTO_TEST_CASE(tls12_a_client_that_closes_without_close_notify_still_resumes_by_id) {
    auto config = server_settings(tls_version::tls1_2);
    config.session_tickets = false;
    const auto server_creds = credentials::server(config);
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                          &SSL_CTX_free);
    SSL_CTX_set_max_proto_version(ctx.get(), TLS1_2_VERSION);
    // The one session of interest is handed over by hand, not through a client cache.
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    std::unique_ptr<SSL_SESSION, decltype(&SSL_SESSION_free)> session(nullptr, &SSL_SESSION_free);
    // Connects and sends a byte, then closes the TCP connection without close_notify or (false)
    // sends bytes that are not TLS; returns whether the session was resumed.
    const auto connect = [&](bool truncate) {
        std::unique_ptr<SSL, decltype(&SSL_free)> raw(SSL_new(ctx.get()), &SSL_free);
        SSL_set_connect_state(raw.get());
        if (session)
            SSL_set_session(raw.get(), session.get());
        memory_link link;
        test::raw_peer peer(raw.get(), link.client_end());
        server_handshake h{secctx::server{server_creds}, link.server_end()};
        for (int i = 0; i < 16 && !(h.done() && SSL_is_init_finished(raw.get())); ++i) {
            SSL_do_handshake(raw.get());
            peer.pump();
            h.step();
            peer.pump();
        }
        BOOST_TEST_REQUIRE(h.done(), text(h.error()));
        const bool resumed = SSL_session_reused(raw.get()) == 1;
        session.reset(SSL_get1_session(raw.get()));
        server_channel channel{std::move(h)};
        BOOST_TEST_REQUIRE(SSL_write(raw.get(), "x", 1) == 1);
        peer.pump();
        if (truncate) {
            peer.wire().close();
        } else {
            // Not TLS: the server fails with not_tls, which must take the session away.
            const test::bytes junk{std::byte{0x80}, std::byte{0}, std::byte{0}, std::byte{0},
                                   std::byte{0}};
            test::put(peer.wire(), junk);
        }
        std::byte into[8];
        BOOST_TEST(channel.read_some(into).bytes == 1u);
        const std::error_code end = channel.read_some(into).error;
        BOOST_TEST(text(end) == text(truncate ? errc::truncated : errc::not_tls));
        // As Python's ssl does for a socket closed unshut: the client keeps its session, so what
        // decides is the server's cache.
        SSL_set_shutdown(raw.get(), SSL_SENT_SHUTDOWN);
        return resumed;
    };
    BOOST_TEST(!connect(true));
    BOOST_TEST(connect(true));
    BOOST_TEST(connect(false)); // resumed, then fails
    BOOST_TEST(!connect(true)); // the failure took the session away
    ERR_clear_error();
}

BOOST_AUTO_TEST_CASE(a_session_lifetime_must_be_positive_and_at_most_seven_days) {
    for (const auto lifetime : {std::chrono::seconds(0), std::chrono::seconds(-1),
                                std::chrono::seconds(std::chrono::days(7)) + 1s}) {
        auto config = server_settings(tls_version::tls1_3);
        config.session_lifetime = lifetime;
        std::error_code ec;
        std::string detail;
        const auto creds = credentials::server(config, ec, &detail);
        BOOST_TEST(text(ec) == text(errc::invalid_configuration));
        BOOST_TEST(detail == "session_lifetime must be positive and at most 7 days");
    }
    auto config = server_settings(tls_version::tls1_3);
    config.session_lifetime = std::chrono::days(7);
    std::error_code ec;
    const auto creds = credentials::server(config, ec);
    BOOST_TEST(text(ec) == "success");
}

BOOST_AUTO_TEST_CASE(a_failed_verification_leaves_no_session_that_would_skip_it) {
    // The name does not match the certificate: the handshake fails, and the next try with the same
    // name verifies again in a full handshake (and fails again) instead of resuming.
    for (const auto version : both_versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            const auto client_creds = credentials::client(client_settings(version));
            const auto server_creds = credentials::server(server_settings(version));
            for (int i = 0; i < 2; ++i) {
                connection x(client_creds, "wrong.example", server_creds);
                BOOST_TEST(text(x.client_error) == text(errc::host_name_mismatch));
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ticket_keys)

#if !defined(                                                                                      \
    SECCTX_DEFAULT_ENGINE_GNUTLS) // OpenSSL's key rotation; GnuTLS's is its own (docs/engines.md)
BOOST_AUTO_TEST_CASE(a_ticket_of_the_previous_key_resumes_and_two_rotations_forget_it) {
    for (const auto version : both_versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            const auto client_creds = credentials::client(client_settings(version));
            const auto server_creds = credentials::server(server_settings(version));
            BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
            BOOST_TEST(server_creds.rotate_ticket_keys());
            // The ticket was encrypted by the key now previous: it resumes, and is renewed.
            BOOST_TEST(connect_and_close(client_creds, "localhost", server_creds));
            BOOST_TEST(connect_and_close(client_creds, "localhost", server_creds));

            BOOST_TEST(server_creds.rotate_ticket_keys());
            BOOST_TEST(server_creds.rotate_ticket_keys());
            // Its key is gone: a full handshake, no error, and a new ticket that resumes.
            BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
            BOOST_TEST(connect_and_close(client_creds, "localhost", server_creds));
        }
    }
}
#endif

#if !defined(                                                                                      \
    SECCTX_DEFAULT_ENGINE_GNUTLS) // OpenSSL's key rotation; GnuTLS's is its own (docs/engines.md)
BOOST_AUTO_TEST_CASE(a_renewed_ticket_outlives_the_next_rotation) {
    for (const auto version : both_versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            const auto client_creds = credentials::client(client_settings(version));
            const auto server_creds = credentials::server(server_settings(version));
            BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
            BOOST_TEST(server_creds.rotate_ticket_keys());
            // Resumed with the previous key; the client keeps the renewed ticket (of the current
            // key), so that one more rotation does not forget it.
            BOOST_TEST(connect_and_close(client_creds, "localhost", server_creds));
            BOOST_TEST(server_creds.rotate_ticket_keys());
            BOOST_TEST(connect_and_close(client_creds, "localhost", server_creds));
        }
    }
}
#endif

BOOST_AUTO_TEST_CASE(a_resumed_tls13_connection_gets_a_new_ticket) {
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_3));
    const auto server_creds = credentials::server(server_settings(tls_version::tls1_3));
    BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
    for (int i = 0; i < 5; ++i) {
        connection x(client_creds, "localhost", server_creds);
        x.require_established();
        BOOST_TEST(x.resumed());
        BOOST_TEST(text(x.client->receive_session_tickets(soon())) == "success");
        BOOST_TEST(x.client->provider().tickets_received() == 1u);
        x.close();
    }
}

BOOST_AUTO_TEST_CASE(rotation_needs_ticket_keys) {
    BOOST_TEST(!credentials::client(client_settings(tls_version::tls1_3)).rotate_ticket_keys());
    BOOST_TEST(!credentials().rotate_ticket_keys());
}

#if !defined(                                                                                      \
    SECCTX_DEFAULT_ENGINE_GNUTLS) // OpenSSL's key rotation; GnuTLS's is its own (docs/engines.md)
BOOST_AUTO_TEST_CASE(keys_rotate_by_themselves_after_their_lifetime) {
    auto config = server_settings(tls_version::tls1_3);
    config.ticket_key_lifetime = 1s;
    const auto start = std::chrono::steady_clock::now();
    const auto server_creds = credentials::server(config);
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_3));
    BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
    // One lifetime later the key is replaced, and still decrypts for one more.
    std::this_thread::sleep_until(start + 1300ms);
    BOOST_TEST(connect_and_close(client_creds, "localhost", server_creds));
    // That connection made the current key (rotation is lazy), at the latest by now; two
    // lifetimes later it is gone too.
    const auto renewed = std::chrono::steady_clock::now();
    std::this_thread::sleep_until(renewed + 2200ms);
    BOOST_TEST(!connect_and_close(client_creds, "localhost", server_creds));
}
#endif

BOOST_AUTO_TEST_CASE(a_ticket_key_lifetime_must_be_positive_and_at_most_ten_years) {
    auto config = server_settings(tls_version::tls1_3);
    for (const std::chrono::seconds lifetime :
         {0s, -1s, std::chrono::seconds(std::chrono::years(10)) + 1s,
          std::chrono::seconds::max()}) {
        config.ticket_key_lifetime = lifetime;
        std::error_code ec;
        std::string detail;
        const auto made = credentials::server(config, ec, &detail);
        BOOST_TEST(!made);
        BOOST_TEST(ec == errc::invalid_configuration);
        BOOST_TEST(detail == "ticket_key_lifetime must be positive and at most 10 years");
    }
    config.ticket_key_lifetime = std::chrono::years(10);
    BOOST_TEST(static_cast<bool>(credentials::server(config)));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ticket_drain)

BOOST_AUTO_TEST_CASE(application_data_already_queued_ends_the_wait_and_stays_readable) {
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_3));
    const auto server_creds = credentials::server(server_settings(tls_version::tls1_3));
    connection x(client_creds, "localhost", server_creds);
    x.require_established();
    const test::bytes message = pattern(40000); // three records
    BOOST_TEST(text(x.server->write_all(message, soon())) == "success");
    // More tickets than the server sends: the data stops the wait, with success.
    BOOST_TEST(text(x.client->receive_session_tickets(soon(), 10)) == "success");
    BOOST_TEST(x.client->provider().tickets_received() == 2u);
    BOOST_TEST(x.client->provider().pending_plaintext() > 0u);
    test::bytes got(message.size());
    BOOST_TEST(text(x.client->read_exactly(got, soon())) == "success");
    BOOST_TEST((got == message));
    x.close();
    // The tickets are in the cache.
    BOOST_TEST(connect_and_close(client_creds, "localhost", server_creds));
}

BOOST_AUTO_TEST_CASE(bytes_arriving_one_at_a_time_are_neither_lost_nor_duplicated) {
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_3));
    const auto server_creds = credentials::server(server_settings(tls_version::tls1_3));
    connection x(client_creds, "localhost", server_creds);
    x.require_established();
    const test::bytes message = pattern(20000);
    BOOST_TEST(text(x.server->write_all(message, soon())) == "success");
    // Take everything the server sent after the handshake off the link, and give it back to the
    // client one byte at a time.
    auto client_end = x.link.client_end();
    const test::bytes after_handshake = test::drain(client_end);
    BOOST_TEST_REQUIRE(!after_handshake.empty());
    auto feeder = x.link.server_end();
    std::size_t given = 0;
    std::error_code ec = errc::timed_out;
    while (ec == errc::timed_out && given < after_handshake.size()) {
        test::put(feeder, std::span(after_handshake).subspan(given++, 1));
        ec = x.client->receive_session_tickets(clock::now(), 10);
    }
    BOOST_TEST(text(ec) == "success");
    BOOST_TEST(x.client->provider().tickets_received() == 2u);
    test::put(feeder, std::span(after_handshake).subspan(given));
    test::bytes got(message.size());
    BOOST_TEST(text(x.client->read_exactly(got, soon())) == "success");
    BOOST_TEST((got == message));
    x.close();
}

BOOST_AUTO_TEST_CASE(the_wait_ends_when_enough_tickets_arrived) {
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_3));
    const auto server_creds = credentials::server(server_settings(tls_version::tls1_3));
    connection x(client_creds, "localhost", server_creds);
    x.require_established();
    BOOST_TEST(text(x.client->receive_session_tickets(soon(), 2)) == "success");
    BOOST_TEST(x.client->provider().tickets_received() == 2u);
    // Asking again for what already arrived returns at once.
    BOOST_TEST(text(x.client->receive_session_tickets(clock::now(), 2)) == "success");
    x.close();
}

BOOST_AUTO_TEST_CASE(a_server_that_sends_no_tickets_makes_the_wait_time_out) {
    auto config = server_settings(tls_version::tls1_3);
    config.session_tickets = false;
    config.session_cache_size = 0; // and no stateful tickets
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_3));
    const auto server_creds = credentials::server(config);
    connection x(client_creds, "localhost", server_creds);
    x.require_established();
    const auto start = clock::now();
    const auto ec = x.client->receive_session_tickets(start + 200ms);
    const auto took = clock::now() - start;
    BOOST_TEST(text(ec) == text(errc::timed_out));
    BOOST_TEST(took >= 200ms);
    BOOST_TEST(took < 5s);
    BOOST_TEST(x.client->provider().tickets_received() == 0u);
    // A time-out is not a failure of the channel.
    BOOST_TEST(!x.client->error());
    const test::bytes message = test::to_bytes("still fine");
    BOOST_TEST(text(x.server->write_all(message, soon())) == "success");
    test::bytes got(message.size());
    BOOST_TEST(text(x.client->read_exactly(got, soon())) == "success");
    BOOST_TEST((got == message));
    x.close();
}

BOOST_AUTO_TEST_CASE(tls12_returns_at_once) {
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_2));
    const auto server_creds = credentials::server(server_settings(tls_version::tls1_2));
    connection x(client_creds, "localhost", server_creds);
    x.require_established();
    BOOST_TEST(text(x.client->receive_session_tickets(clock::now())) == "success");
    x.close();
}

BOOST_AUTO_TEST_CASE(the_peer_closing_first_ends_the_wait) {
    auto config = server_settings(tls_version::tls1_3);
    config.session_tickets = false;
    config.session_cache_size = 0; // and no stateful tickets
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_3));
    const auto server_creds = credentials::server(config);
    connection x(client_creds, "localhost", server_creds);
    x.require_established();
    BOOST_TEST(text(x.server->shutdown_send()) == "success");
    BOOST_TEST(text(x.client->receive_session_tickets(soon())) == text(errc::end_of_stream));
    std::byte b[1];
    BOOST_TEST(text(x.client->read(b, soon()).error) == text(errc::end_of_stream));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(key_log)

struct logged {
    std::shared_ptr<std::vector<std::string>> lines = std::make_shared<std::vector<std::string>>();

    std::function<void(std::string_view)> sink() const {
        return [lines = lines](std::string_view line) { lines->emplace_back(line); };
    }
};

// The client random of an established connection, in hex, from the engine in use.
std::string client_random_hex(const default_provider& p) {
#if defined(SECCTX_DEFAULT_ENGINE_GNUTLS)
    gnutls_datum_t client{};
    gnutls_datum_t server{};
    gnutls_session_get_random(p.native_handle(), &client, &server);
    return hex(client.data, client.size);
#else
    unsigned char random[SSL3_RANDOM_SIZE];
    const std::size_t size = SSL_get_client_random(p.native_handle(), random, sizeof random);
    return hex(random, size);
#endif
}

BOOST_AUTO_TEST_CASE(tls13_lines_carry_the_client_random) {
    logged client_log, server_log;
    auto client_config = client_settings(tls_version::tls1_3);
    client_config.key_log = client_log.sink();
    auto server_config = server_settings(tls_version::tls1_3);
    server_config.key_log = server_log.sink();
    const auto client_creds = credentials::client(client_config);
    const auto server_creds = credentials::server(server_config);
    connection x(client_creds, "localhost", server_creds);
    x.require_established();

    const std::string client_random = client_random_hex(x.client->provider());
    BOOST_TEST_REQUIRE(client_random.size() == 64u);
    std::set<std::string> labels;
    for (const auto& line : *client_log.lines) {
        const auto f = fields(line);
        BOOST_TEST_REQUIRE(f.size() == 3u);
        labels.insert(f[0]);
        BOOST_TEST(f[1] == client_random);
        BOOST_TEST(f[2].size() >= 64u); // SHA-256 or SHA-384 secrets, in hex
        BOOST_TEST(line.find('\n') == std::string::npos);
    }
    for (const char* label :
         {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
          "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"})
        BOOST_TEST(labels.count(label) == 1u, label);
    // The server logs the same secrets.
    BOOST_TEST(std::set(client_log.lines->begin(), client_log.lines->end()) ==
               std::set(server_log.lines->begin(), server_log.lines->end()));
    x.close();
}

#if !defined(SECCTX_DEFAULT_ENGINE_GNUTLS) // OpenSSL's own objects
BOOST_AUTO_TEST_CASE(tls12_gives_a_client_random_line_with_the_master_secret) {
    logged client_log;
    auto client_config = client_settings(tls_version::tls1_2);
    client_config.key_log = client_log.sink();
    const auto client_creds = credentials::client(client_config);
    const auto server_creds = credentials::server(server_settings(tls_version::tls1_2));
    connection x(client_creds, "localhost", server_creds);
    x.require_established();
    SSL* ssl = x.client->provider().native_handle();
    unsigned char random[SSL3_RANDOM_SIZE];
    BOOST_TEST_REQUIRE(SSL_get_client_random(ssl, random, sizeof random) == sizeof random);
    unsigned char master[SSL_MAX_MASTER_KEY_LENGTH];
    const std::size_t master_size =
        SSL_SESSION_get_master_key(SSL_get_session(ssl), master, sizeof master);
    BOOST_TEST_REQUIRE(client_log.lines->size() == 1u);
    const auto f = fields(client_log.lines->front());
    BOOST_TEST_REQUIRE(f.size() == 3u);
    BOOST_TEST(f[0] == "CLIENT_RANDOM");
    BOOST_TEST(f[1] == hex(random, sizeof random));
    BOOST_TEST(f[2] == hex(master, master_size));
    x.close();
}
#endif

BOOST_AUTO_TEST_CASE(an_exception_from_the_sink_does_not_reach_the_handshake) {
    auto client_config = client_settings(tls_version::tls1_3);
    client_config.key_log = [](std::string_view) { throw std::runtime_error("full disk"); };
    const auto client_creds = credentials::client(client_config);
    const auto server_creds = credentials::server(server_settings(tls_version::tls1_3));
    connection x(client_creds, "localhost", server_creds);
    x.require_established();
    x.close();
}

#if !defined(SECCTX_DEFAULT_ENGINE_GNUTLS) // OpenSSL's own objects
BOOST_AUTO_TEST_CASE(no_sink_no_lines) {
    const auto client_creds = credentials::client(client_settings(tls_version::tls1_3));
    BOOST_TEST(SSL_CTX_get_keylog_callback(client_creds.native_handle()) == nullptr);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(many_threads_share_one_client_cache_and_one_set_of_ticket_keys) {
    for (const auto version : both_versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            auto config = client_settings(version);
            config.session_cache_size = 8;
            const auto client_creds = credentials::client(config);
            const auto server_creds = credentials::server(server_settings(version));
            std::atomic<int> established{0}, resumed{0};
            std::vector<std::thread> threads;
            for (int t = 0; t < 4; ++t) {
                threads.emplace_back([&, t] {
                    const char* name = t % 2 == 0 ? "localhost" : "127.0.0.1";
                    for (int i = 0; i < 10; ++i) {
                        if (t == 0 && i == 5)
                            server_creds.rotate_ticket_keys();
                        connection x(client_creds, name, server_creds);
                        if (x.client_error || x.server_error)
                            continue;
                        ++established;
                        resumed += x.client->provider().resumed() ? 1 : 0;
                        x.client->receive_session_tickets(soon());
                        x.client->shutdown_send();
                        x.server->shutdown(soon());
                        x.client->shutdown(soon());
                    }
                });
            }
            for (auto& thread : threads)
                thread.join();
            BOOST_TEST(established.load() == 40);
            BOOST_TEST(resumed.load() > 0);
        }
    }
}
