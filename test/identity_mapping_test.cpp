// A server maps client certificates to identities (Schannel's certificate mapping) during the
// handshake: the identity and its rule in the attributes, a required identity refused with
// identity_unmapped and an alert, the identity kept on resumption, after a deferred verdict, and
// the names a mapping reads (email, URI, UPN, CN, fingerprint) parsed alike by both engines.
// Built for both engines.
#include "support/drive.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>
#include <string>

using namespace secctx;
using namespace std::chrono_literals;
using test::text;

namespace {

using client_channel = basic_channel_for<test::client_handshake>;
using server_channel = basic_channel_for<test::server_handshake>;

// A client of the test CA with every kind of name a map can read.
const issued_certificate& alice() {
    static const issued_certificate made = test::pki::get().ca.issue([] {
        certificate_request r;
        r.common_name = "Alice Example";
        r.dns_names = {"alice.clients.example.com"};
        r.ip_addresses = {};
        r.emails = {"alice@example.com"};
        r.uris = {"spiffe://example.com/alice"};
        r.user_principal_names = {"alice@CORP.EXAMPLE"};
        return r;
    }());
    return made;
}

server_config mapping_server(certificate_map map, bool required, tls_version version) {
    auto config = test::server_config_for(test::pki::get().ecdsa_server);
    config.min_version = config.max_version = version;
    config.verify_clients = client_certificates::required;
    config.trust.certificates = pem_source::from_memory(test::pki::get().ca.certificate_pem());
    config.client_identity = {std::move(map), required};
    return config;
}

client_config client_as(const issued_certificate& identity, tls_version version) {
    auto config = test::client_config_trusting(test::pki::get().ca);
    config.min_version = config.max_version = version;
    config.certificate_chain = pem_source::from_memory(identity.certificate_pem);
    config.private_key = pem_source::from_memory(identity.private_key_pem);
    return config;
}

// One connection; the handshakes stepped from one thread, then both channels made.
struct connection {
    connection(const credentials& cc, const credentials& sc)
        : c{client{cc, "localhost"}, link.client_end()}, s{server{sc}, link.server_end()} {
        test::drive(c, s);
    }

    // The server's view of the client, once both are done.
    connection_attributes server_view() {
        BOOST_TEST_REQUIRE(c.done(), text(c.error()));
        BOOST_TEST_REQUIRE(s.done(), text(s.error()) << " " << s.error_detail());
        return query_attributes(s.provider());
    }

    // Tickets received, close_notify both ways: the session stays resumable.
    void close() {
        client_channel cc{std::move(c)};
        server_channel sc{std::move(s)};
        BOOST_TEST(text(cc.receive_session_tickets(clock::now() + 5s)) == "success");
        BOOST_TEST(text(cc.shutdown_send()) == "success");
        BOOST_TEST(text(sc.shutdown(clock::now() + 5s)) == "success");
        BOOST_TEST(text(cc.shutdown(clock::now() + 5s)) == "success");
    }

    memory_link link;
    test::client_handshake c;
    test::server_handshake s;
};

certificate_map map_of(const std::string& text) {
    std::error_code ec;
    std::string detail;
    auto map = certificate_map::parse(text, "clients.map", ec, &detail);
    BOOST_TEST_REQUIRE(!ec, detail);
    return map;
}

} // namespace

BOOST_AUTO_TEST_CASE(both_engines_read_every_name_a_map_uses) {
    const auto server_creds =
        credentials::server(mapping_server(map_of("cn nobody x\n"), false, tls_version::tls1_3));
    connection x{credentials::client(client_as(alice(), tls_version::tls1_3)), server_creds};
    const auto leaf = x.server_view().peer_chain.at(0);
    BOOST_TEST(leaf.common_name == "Alice Example");
    BOOST_TEST(leaf.sha256_fingerprint.size() == 64u);
    const std::vector<std::string> expected = {
        "DNS:alice.clients.example.com", "email:alice@example.com",
        "URI:spiffe://example.com/alice", "UPN:alice@CORP.EXAMPLE"};
    BOOST_TEST(leaf.subject_alt_names == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_identity_and_its_rule_are_in_the_attributes) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            // The fingerprint, from a first connection: one-to-one beats the name rules.
            std::string print;
            {
                connection first{
                    credentials::client(client_as(alice(), version)),
                    credentials::server(mapping_server(map_of("cn x y\n"), false, version))};
                print = first.server_view().peer_chain.at(0).sha256_fingerprint;
            }
            const struct {
                std::string map;
                std::string identity;
                std::string rule;
            } cases[] = {
                {"email alice@example.com by-email\ncertificate " + print + " by-print\n",
                 "by-print", "clients.map:2 certificate"},
                {"upn ALICE@corp.example by-upn\n", "by-upn", "clients.map:1 upn"},
                {"uri spiffe://example.com/alice by-uri\n", "by-uri", "clients.map:1 uri"},
                {"dns alice.clients.example.com by-dns\n", "by-dns", "clients.map:1 dns"},
                {"cn \"Alice Example\" by-cn\n", "by-cn", "clients.map:1 cn"},
                {"issuer \"CN=secctx test CA\" san \"email:*@example.com\" staff\n", "staff",
                 "clients.map:1 issuer"},
            };
            for (const auto& c : cases) {
                BOOST_TEST_CONTEXT(c.map) {
                    connection x{credentials::client(client_as(alice(), version)),
                                 credentials::server(mapping_server(map_of(c.map), true, version))};
                    const auto a = x.server_view();
                    BOOST_TEST(a.identity.name == c.identity);
                    BOOST_TEST(a.identity.rule == c.rule);
                    BOOST_TEST(query_attributes(x.c.provider()).identity.name == "",
                               "a client maps nothing");
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(an_unmapped_certificate_is_refused_when_an_identity_is_required) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            const auto map = map_of("email someone-else@example.com x\n");
            connection optional{credentials::client(client_as(alice(), version)),
                                credentials::server(mapping_server(map, false, version))};
            BOOST_TEST(!optional.server_view().identity.mapped());

            connection required{credentials::client(client_as(alice(), version)),
                                credentials::server(mapping_server(map, true, version))};
            BOOST_TEST(text(required.s.error()) == text(errc::identity_unmapped));
            BOOST_TEST(required.s.error_detail().find("CN=Alice Example") != std::string::npos,
                       required.s.error_detail());
            // TLS 1.3: the client is done before the server maps; the alert ends its first read.
            if (version == tls_version::tls1_2)
                BOOST_TEST(text(required.c.error()) == text(errc::peer_rejected_certificate));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_resumed_session_keeps_its_identity) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            const auto client_creds = credentials::client(client_as(alice(), version));
            const auto server_creds = credentials::server(
                mapping_server(map_of("email alice@example.com alice\n"), true, version));
            {
                connection first{client_creds, server_creds};
                BOOST_TEST(first.server_view().identity.name == "alice");
                first.close();
            }
            connection again{client_creds, server_creds};
            const auto a = again.server_view();
            BOOST_TEST_REQUIRE(a.resumed);
            BOOST_TEST(a.identity.name == "alice");
            BOOST_TEST(a.identity.rule == "clients.map:1 email");
        }
    }
}

BOOST_AUTO_TEST_CASE(the_identity_follows_a_deferred_verdict) {
    auto config =
        mapping_server(map_of("email alice@example.com alice\n"), true, tls_version::tls1_3);
    config.validation.validator = [](const validation_request&) { return verdict::later(); };
    memory_link link;
    test::client_handshake c{
        client{credentials::client(client_as(alice(), tls_version::tls1_3)), "localhost"},
        link.client_end()};
    test::server_handshake s{server{credentials::server(config)}, link.server_end()};
    step_result r;
    for (int round = 0; round < 32 && r.status != step_status::want_verdict; ++round) {
        c.step();
        r = s.step();
    }
    BOOST_TEST_REQUIRE((r.status == step_status::want_verdict));
    BOOST_TEST(!query_attributes(s.provider()).identity.mapped(), "not before the verdict");
    BOOST_TEST(text(s.pending().give(verdict::accept())) == "success");
    test::drive(c, s);
    BOOST_TEST_REQUIRE(s.done(), text(s.error()));
    BOOST_TEST(query_attributes(s.provider()).identity.name == "alice");
}

BOOST_AUTO_TEST_CASE(a_mapper_that_throws_maps_to_none) {
    auto config = mapping_server({}, true, tls_version::tls1_2);
    config.client_identity.mapper =
        [](const std::vector<certificate_info>&) -> std::optional<peer_identity> {
        throw std::runtime_error("directory unreachable");
    };
    connection x{credentials::client(client_as(alice(), tls_version::tls1_2)),
                 credentials::server(config)};
    BOOST_TEST(text(x.s.error()) == text(errc::identity_unmapped));
}

BOOST_AUTO_TEST_CASE(a_mapping_the_server_cannot_apply_is_invalid_configuration) {
    auto config = mapping_server(map_of("cn a b\n"), false, tls_version::tls1_3);
    config.verify_clients = client_certificates::none;
    std::error_code ec;
    std::string detail;
    (void)credentials::server(config, ec, &detail);
    BOOST_TEST(text(ec) == text(errc::invalid_configuration));
    BOOST_TEST(detail.find("verify_clients") != std::string::npos);

    config.verify_clients = client_certificates::optional;
    config.client_identity.required = true;
    (void)credentials::server(config, ec, &detail);
    BOOST_TEST(text(ec) == text(errc::invalid_configuration));
    BOOST_TEST(detail.find("required") != std::string::npos);
}
