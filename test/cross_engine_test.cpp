// The two engines against each other in one process: a client on one, a server on the other, both
// ways, TLS 1.2 and 1.3, with data both ways, resumption, KeyUpdate and close_notify; and each
// engine against itself. The same loop and the same channel drive both.
#include "secctx/buffer/dynamic.hpp"
#include "secctx/buffer/fixed.hpp"
#include "secctx/buffer/pooled.hpp"
#include "secctx/channel.hpp"
#include "secctx/gnutls.hpp"
#include "secctx/handshake.hpp"
#include "secctx/openssl.hpp"
#include "secctx/transport/memory.hpp"

#include "support/drive.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace secctx;
using test::bytes;

namespace {

using channel_buffers = fixed_buffer<channel_input_capacity, 4 * channel_input_capacity>;

template <class Engine>
struct engine_credentials {
    typename Engine::credentials client;
    typename Engine::credentials server;
};

template <class Engine>
engine_credentials<Engine> credentials_of(tls_version version) {
    const auto& p = test::pki::get();
    auto server_config = test::server_config_for(p.ecdsa_server);
    server_config.min_version = server_config.max_version = version;
    return {Engine::credentials::client(test::client_config_trusting(p.ca)),
            Engine::credentials::server(server_config)};
}

struct openssl_engine {
    using credentials = openssl::credentials;
    using client = openssl::client;
    using server = openssl::server;
    static constexpr const char* name = "openssl";
};

struct gnutls_engine {
    using credentials = gnutls::credentials;
    using client = gnutls::client;
    using server = gnutls::server;
    static constexpr const char* name = "gnutls";
};

// One connection: handshake, data both ways (more than a record), a KeyUpdate under TLS 1.3, and
// close_notify both ways. Returns whether the client resumed.
template <class ClientEngine, class ServerEngine, class Buffers>
bool connect_and_talk(const typename ClientEngine::credentials& client_creds,
                      const typename ServerEngine::credentials& server_creds, Buffers cb,
                      Buffers sb) {
    memory_link link;
    basic_handshake<typename ClientEngine::client, memory_transport, Buffers> c{
        typename ClientEngine::client{client_creds, "localhost"}, link.client_end(), std::move(cb)};
    basic_handshake<typename ServerEngine::server, memory_transport, Buffers> s{
        typename ServerEngine::server{server_creds}, link.server_end(), std::move(sb)};
    test::drive(c, s);
    BOOST_TEST_REQUIRE(c.done(), test::text(c.error()) << ": " << c.error_detail());
    BOOST_TEST_REQUIRE(s.done(), test::text(s.error()) << ": " << s.error_detail());
    BOOST_TEST(c.provider().cipher() == s.provider().cipher());
    BOOST_TEST(c.provider().protocol() == s.provider().protocol());

    basic_channel_for<decltype(c)> cc{std::move(c)};
    basic_channel_for<decltype(s)> sc{std::move(s)};
    const auto deadline = clock::now() + std::chrono::seconds(10);
    const bytes request = test::random_bytes(40000, 1);
    const bytes response = test::random_bytes(20000, 2);
    BOOST_TEST_REQUIRE(!cc.write_all(request, deadline));
    bytes got(request.size());
    BOOST_TEST_REQUIRE(!sc.read_exactly(got, deadline));
    BOOST_TEST(got == request);
    if (cc.attributes().protocol == "TLSv1.3") {
        BOOST_TEST_REQUIRE(!sc.update_keys(true));
    }
    BOOST_TEST_REQUIRE(!sc.write_all(response, deadline));
    got.assign(response.size(), std::byte{});
    BOOST_TEST_REQUIRE(!cc.read_exactly(got, deadline));
    BOOST_TEST(got == response);
    const auto ca = cc.attributes();
    const auto sa = sc.attributes();
    BOOST_TEST(ca.cipher == sa.cipher);
    BOOST_TEST(ca.key_exchange_group == sa.key_exchange_group);
    BOOST_TEST(ca.peer_verified);
    BOOST_TEST_REQUIRE(!ca.peer_chain.empty());
    BOOST_TEST(ca.peer_chain.front().subject == "CN=localhost");
    // OpenSSL's server forgets the name in a resumed TLS 1.2 session.
    BOOST_TEST((sa.server_name == "localhost" || (ca.resumed && ca.protocol == "TLSv1.2")));
    if (ca.protocol == "TLSv1.3") {
        BOOST_TEST_REQUIRE(!sc.shutdown_send());
        BOOST_TEST(!cc.receive_session_tickets(deadline));
    }
    BOOST_TEST(!cc.shutdown_send());
    std::byte rest[16];
    BOOST_TEST((sc.read(rest, deadline).error == errc::end_of_stream));
    return ca.resumed;
}

template <class ClientEngine, class ServerEngine>
void both_versions() {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(ClientEngine::name << " client, " << ServerEngine::name << " server, "
                                              << test::name_of(version)) {
            const auto c = credentials_of<ClientEngine>(version);
            const auto s = credentials_of<ServerEngine>(version);
            BOOST_TEST(!(connect_and_talk<ClientEngine, ServerEngine>(
                c.client, s.server, dynamic_buffer{}, dynamic_buffer{})));
            // The second connection resumes the session the first one received.
            BOOST_TEST((connect_and_talk<ClientEngine, ServerEngine>(
                c.client, s.server, channel_buffers{}, channel_buffers{})));
            buffer_pool pool(8);
            BOOST_TEST((connect_and_talk<ClientEngine, ServerEngine>(
                c.client, s.server, pooled_buffer{pool}, pooled_buffer{pool})));
        }
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(gnutls_client_against_openssl_server) {
    both_versions<gnutls_engine, openssl_engine>();
}

BOOST_AUTO_TEST_CASE(openssl_client_against_gnutls_server) {
    both_versions<openssl_engine, gnutls_engine>();
}

BOOST_AUTO_TEST_CASE(gnutls_against_gnutls) {
    both_versions<gnutls_engine, gnutls_engine>();
}

BOOST_AUTO_TEST_CASE(openssl_against_openssl) {
    both_versions<openssl_engine, openssl_engine>();
}

BOOST_AUTO_TEST_CASE(a_gnutls_throwaway_ca_issues_what_both_engines_load) {
    const gnutls::throwaway_ca ca;
    const auto leaf = ca.issue({});
    server_config sc = test::server_config_for(leaf);
    client_config cc;
    cc.trust.certificates = pem_source::from_memory(ca.certificate_pem());
    const auto g = gnutls::credentials::server(sc);
    const auto o = openssl::credentials::client(cc);
    BOOST_TEST((connect_and_talk<openssl_engine, gnutls_engine>(o, g, dynamic_buffer{},
                                                                dynamic_buffer{})) == false);
    const auto o_server = openssl::credentials::server(sc);
    const auto g_client = gnutls::credentials::client(cc);
    BOOST_TEST((connect_and_talk<gnutls_engine, openssl_engine>(
                   g_client, o_server, dynamic_buffer{}, dynamic_buffer{})) == false);
}
