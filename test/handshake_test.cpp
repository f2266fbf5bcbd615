// Full handshakes over the memory transport: every version, key type and client-certificate mode
// completes, negotiates what both sides asked for and counts what it did.
#include "support/drive.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/ssl.h>

#include <string>
#include <thread>

using namespace secctx;
using test::client_handshake;
using test::server_handshake;
using test::text;

namespace {

const test::pki& pki() {
    return test::pki::get();
}

// Two ends of one memory link, the client's first, stepped from one thread.
template <class Metrics = no_metrics>
struct connection {
    connection(const credentials& client_creds, std::string_view server_name,
               const credentials& server_creds)
        : c{client{client_creds, server_name}, link.client_end()}, s{server{server_creds},
                                                                     link.server_end()} {}

    // Steps both sides to the end and checks that both are done.
    void complete() {
        const auto [cr, sr] = test::drive(c, s);
        BOOST_TEST(text(cr.error) == "success");
        BOOST_TEST(text(sr.error) == "success");
        BOOST_TEST_REQUIRE(c.done());
        BOOST_TEST_REQUIRE(s.done());
    }

    memory_link link;
    basic_handshake<client, memory_transport, dynamic_buffer, Metrics> c;
    basic_handshake<server, memory_transport, dynamic_buffer, Metrics> s;
};

struct version_case {
    tls_version version;
    std::string_view name;
    unsigned client_round_trips;
};

constexpr version_case versions[] = {{tls_version::tls1_3, "TLSv1.3", 1},
                                     {tls_version::tls1_2, "TLSv1.2", 2}};

template <class Config>
Config only(Config config, tls_version version) {
    config.min_version = config.max_version = version;
    return config;
}

client_config client_with_certificate() {
    auto config = test::client_config_trusting(pki().ca);
    config.certificate_chain = pem_source::from_memory(pki().client.certificate_pem);
    config.private_key = pem_source::from_memory(pki().client.private_key_pem);
    return config;
}

server_config server_verifying_clients(client_certificates mode) {
    auto config = test::server_config_for(pki().ecdsa_server);
    config.verify_clients = mode;
    config.trust.certificates = pem_source::from_memory(pki().ca.certificate_pem());
    return config;
}

bool has_peer_certificate(const server& role) {
    return !query_attributes(role.provider()).peer_chain.empty();
}

} // namespace

BOOST_AUTO_TEST_CASE(full_handshake_completes_for_each_version_and_server_key_type) {
    const std::pair<const char*, const issued_certificate*> identities[] = {
        {"ECDSA P-256", &pki().ecdsa_server}, {"RSA-2048", &pki().rsa_server}};
    for (const auto& v : versions) {
        for (const auto& [key_name, identity] : identities) {
            BOOST_TEST_CONTEXT(v.name << " with an " << key_name << " server certificate") {
                const auto server_creds =
                    credentials::server(only(test::server_config_for(*identity), v.version));
                const auto client_creds =
                    credentials::client(only(test::client_config_trusting(pki().ca), v.version));
                connection<> x{client_creds, "localhost", server_creds};
                x.complete();

                BOOST_TEST(x.c.provider().protocol() == v.name);
                BOOST_TEST(x.s.provider().protocol() == v.name);
                BOOST_TEST(!x.c.provider().cipher().empty());
                BOOST_TEST(x.c.provider().cipher() == x.s.provider().cipher());
                BOOST_TEST(!x.c.provider().resumed());

                const auto cm = x.c.metrics();
                const auto sm = x.s.metrics();
                BOOST_TEST(cm.round_trips == v.client_round_trips);
                BOOST_TEST(sm.round_trips == 1u);
                // TLS 1.3: ClientHello, Finished / server flight. TLS 1.2: two each.
                BOOST_TEST(cm.flights_sent == 2u);
                BOOST_TEST(cm.flights_received == v.client_round_trips);
                // The server's last flight (TLS 1.3: its session tickets) follows the client's
                // last one.
                BOOST_TEST(sm.flights_received == 2u);
                BOOST_TEST(sm.flights_sent == 2u);
                BOOST_TEST(cm.bytes_sent == sm.bytes_received);
                // What the server sent and the client did not read yet (TLS 1.3 session tickets,
                // sent after the client finished) is still on its way to the client; what it
                // read with its last flight is in extra(), received and counted.
                const std::size_t in_flight = x.c.transport().pending();
                BOOST_TEST(sm.bytes_sent == cm.bytes_received + in_flight);
                if (v.version == tls_version::tls1_2)
                    BOOST_TEST(in_flight == 0u);
                BOOST_TEST(x.s.extra().empty());
                BOOST_TEST(x.s.transport().pending() == 0u);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(client_certificate_is_sent_and_verified_when_the_server_asks_for_one) {
    for (const auto& v : versions) {
        for (const auto mode : {client_certificates::optional, client_certificates::required}) {
            BOOST_TEST_CONTEXT(
                v.name << (mode == client_certificates::optional ? ", optional" : ", required")) {
                const auto server_creds =
                    credentials::server(only(server_verifying_clients(mode), v.version));
                const auto client_creds =
                    credentials::client(only(client_with_certificate(), v.version));
                connection<> x{client_creds, "localhost", server_creds};
                x.complete();
                BOOST_TEST(has_peer_certificate(x.s.role()));
                BOOST_TEST(x.c.metrics().round_trips == v.client_round_trips);
                BOOST_TEST(x.c.metrics().bytes_sent == x.s.metrics().bytes_received);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(optional_client_certificate_may_be_omitted) {
    for (const auto& v : versions) {
        BOOST_TEST_CONTEXT(v.name) {
            const auto server_creds = credentials::server(
                only(server_verifying_clients(client_certificates::optional), v.version));
            const auto client_creds =
                credentials::client(only(test::client_config_trusting(pki().ca), v.version));
            connection<> x{client_creds, "localhost", server_creds};
            x.complete();
            BOOST_TEST(!has_peer_certificate(x.s.role()));
        }
    }
}

BOOST_AUTO_TEST_CASE(client_certificate_is_not_requested_by_default) {
    const auto server_creds = credentials::server(test::server_config_for(pki().ecdsa_server));
    const auto client_creds = credentials::client(client_with_certificate());
    connection<> x{client_creds, "localhost", server_creds};
    x.complete();
    BOOST_TEST(!has_peer_certificate(x.s.role()));
}

BOOST_AUTO_TEST_CASE(alpn_agrees_on_the_servers_first_choice_among_the_clients_offers) {
    for (const auto& v : versions) {
        BOOST_TEST_CONTEXT(v.name) {
            auto server_config = only(test::server_config_for(pki().ecdsa_server), v.version);
            server_config.alpn = {"h2", "http/1.1"};
            auto client_config = only(test::client_config_trusting(pki().ca), v.version);
            client_config.alpn = {"spdy/3", "http/1.1", "h2"};
            connection<> x{credentials::client(client_config), "localhost",
                           credentials::server(server_config)};
            x.complete();
            BOOST_TEST(x.c.provider().alpn() == "h2");
            BOOST_TEST(x.s.provider().alpn() == "h2");
        }
    }
}

BOOST_AUTO_TEST_CASE(alpn_offered_by_the_client_alone_completes_without_an_application_protocol) {
    auto client_config = test::client_config_trusting(pki().ca);
    client_config.alpn = {"h2"};
    connection<> x{credentials::client(client_config), "localhost",
                   credentials::server(test::server_config_for(pki().ecdsa_server))};
    x.complete();
    BOOST_TEST(x.c.provider().alpn().empty());
}

// RFC 7301 3.2: a server that supports none of the client's protocols SHALL answer with a fatal
// no_application_protocol alert.
BOOST_AUTO_TEST_CASE(alpn_without_overlap_fails_with_no_application_protocol_by_default) {
    for (const auto& v : versions) {
        BOOST_TEST_CONTEXT(v.name) {
            auto server_config = only(test::server_config_for(pki().ecdsa_server), v.version);
            server_config.alpn = {"h2"};
            auto client_config = only(test::client_config_trusting(pki().ca), v.version);
            client_config.alpn = {"imap"};
            connection<> x{credentials::client(client_config), "localhost",
                           credentials::server(server_config)};
            const auto [cr, sr] = test::drive(x.c, x.s);
            BOOST_TEST(text(sr.error) == text(errc::no_application_protocol));
            // The server's no_application_protocol alert tells the client why.
            BOOST_TEST(text(cr.error) == text(errc::no_application_protocol));
            BOOST_TEST(test::lower(x.c.error_detail()).find("application protocol") !=
                           std::string::npos,
                       x.c.error_detail());
        }
    }
}

BOOST_AUTO_TEST_CASE(alpn_without_overlap_proceeds_without_alpn_when_asked_to) {
    for (const auto& v : versions) {
        BOOST_TEST_CONTEXT(v.name) {
            auto server_config = only(test::server_config_for(pki().ecdsa_server), v.version);
            server_config.alpn = {"h2"};
            server_config.proceed_without_common_alpn = true;
            auto client_config = only(test::client_config_trusting(pki().ca), v.version);
            client_config.alpn = {"imap"};
            connection<> x{credentials::client(client_config), "localhost",
                           credentials::server(server_config)};
            x.complete();
            BOOST_TEST(x.c.provider().alpn().empty());
            BOOST_TEST(x.s.provider().alpn().empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(run_completes_both_sides_driven_from_two_threads) {
    for (const auto& v : versions) {
        BOOST_TEST_CONTEXT(v.name) {
            const auto server_creds =
                credentials::server(only(test::server_config_for(pki().ecdsa_server), v.version));
            const auto client_creds =
                credentials::client(only(test::client_config_trusting(pki().ca), v.version));
            connection<> x{client_creds, "localhost", server_creds};
            const auto deadline = clock::now() + std::chrono::seconds(20);
            std::error_code server_error = errc::invalid_state;
            std::thread server_thread([&] { server_error = x.s.run(deadline); });
            const std::error_code client_error = x.c.run(deadline);
            server_thread.join();
            BOOST_TEST(text(client_error) == "success");
            BOOST_TEST(text(server_error) == "success");
            BOOST_TEST(x.c.done());
            BOOST_TEST(x.s.done());
            BOOST_TEST(x.c.provider().protocol() == v.name);
            BOOST_TEST(x.c.metrics().bytes_sent == x.s.metrics().bytes_received);
        }
    }
}

BOOST_AUTO_TEST_CASE(hello_retry_is_recorded_when_the_server_needs_another_key_share) {
    // The client sends key shares for its first groups (OpenSSL: X25519; GnuTLS: X25519 and
    // P-384); the server accepts P-256 only, so it asks for another ClientHello.
    auto server_config = test::server_config_for(pki().ecdsa_server);
    server_config.groups = {"secp256r1"};
    auto client_config = test::client_config_trusting(pki().ca);
    client_config.groups = {"x25519", "secp384r1", "secp256r1"};
    connection<record_metrics> x{credentials::client(client_config), "localhost",
                                 credentials::server(server_config)};
    x.complete();
    BOOST_TEST(x.c.provider().protocol() == "TLSv1.3");
    const auto cm = x.c.metrics();
    const auto sm = x.s.metrics();
    BOOST_TEST(cm.timings.hello_retry);
    BOOST_TEST(sm.timings.hello_retry);
    // ClientHello, HelloRetryRequest, ClientHello, server flight, Finished.
    BOOST_TEST(cm.round_trips == 2u);
    BOOST_TEST(cm.flights_sent == 3u);
    BOOST_TEST(cm.flights_received == 2u);
    BOOST_TEST(cm.bytes_sent == sm.bytes_received);
}

BOOST_AUTO_TEST_CASE(hello_retry_is_not_recorded_when_the_first_key_share_is_accepted) {
    auto server_config = test::server_config_for(pki().ecdsa_server);
    server_config.groups = {"x25519", "secp256r1"};
    auto client_config = test::client_config_trusting(pki().ca);
    client_config.groups = {"x25519", "secp256r1"};
    connection<record_metrics> x{credentials::client(client_config), "localhost",
                                 credentials::server(server_config)};
    x.complete();
    BOOST_TEST(!x.c.metrics().timings.hello_retry);
    BOOST_TEST(!x.s.metrics().timings.hello_retry);
    BOOST_TEST(x.c.metrics().round_trips == 1u);
}

BOOST_AUTO_TEST_CASE(ip_address_server_name_is_verified_against_the_ip_san_and_not_sent_as_sni) {
    const auto server_creds = credentials::server(test::server_config_for(pki().ecdsa_server));
    const auto client_creds = credentials::client(test::client_config_trusting(pki().ca));
    for (const std::string_view address : {"127.0.0.1", "::1"}) {
        BOOST_TEST_CONTEXT(address) {
            connection<> x{client_creds, address, server_creds};
            x.complete();
            // RFC 6066: SNI carries host names only.
            BOOST_TEST(query_attributes(x.s.provider()).server_name.empty());
        }
    }
    // The address is really checked: one the certificate does not name is refused.
    connection<> x{client_creds, "192.0.2.1", server_creds};
    const auto [cr, sr] = test::drive(x.c, x.s);
    BOOST_TEST(text(cr.error) == text(errc::host_name_mismatch));
}

BOOST_AUTO_TEST_CASE(host_name_server_name_is_sent_as_sni) {
    connection<> x{credentials::client(test::client_config_trusting(pki().ca)), "localhost",
                   credentials::server(test::server_config_for(pki().ecdsa_server))};
    x.complete();
    BOOST_TEST(query_attributes(x.s.provider()).server_name == "localhost");
}
