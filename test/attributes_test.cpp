// The secure channel's attributes (QueryContextAttributes) against what `openssl s_client`
// reports for the same peer: a real `openssl s_server` on loopback, asked once by secctx and once
// by s_client.
#include "secctx/transport/socket.hpp"

#include "support/drive.hpp"
#include "support/peers.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

using namespace secctx;
using test::free_port;
using test::run;
using test::text;
namespace fs = std::filesystem;

namespace {

using socket_client = basic_handshake<client, socket_transport, dynamic_buffer>;

// Connects to 127.0.0.1:port by `deadline`: s_server starts in the background, and until it
// listens the connection is refused.
std::error_code connect_when_listening(unsigned short port, clock::time_point deadline,
                                       socket_transport& out) {
    for (;;) {
        const std::error_code ec = connect_tcp("127.0.0.1", port, deadline, out);
        if (ec != std::errc::connection_refused || clock::now() >= deadline)
            return ec;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// "key: value" and "key=value" lines of s_client's report, by key.
std::map<std::string, std::string> report_lines(const std::string& report) {
    std::map<std::string, std::string> lines;
    std::size_t at = 0;
    while (at < report.size()) {
        const std::size_t end = std::min(report.find('\n', at), report.size());
        const std::string line = report.substr(at, end - at);
        at = end + 1;
        // "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384"
        if (line.rfind("New, ", 0) == 0) {
            const std::size_t comma = line.find(',', 5);
            const std::size_t cipher = line.find("Cipher is ");
            if (comma != std::string::npos && cipher != std::string::npos) {
                lines.emplace("Protocol", line.substr(5, comma - 5));
                lines.emplace("Cipher", line.substr(cipher + 10));
            }
            continue;
        }
        const std::size_t colon = line.find(": ");
        const std::size_t equals = line.find('=');
        if (colon != std::string::npos && (equals == std::string::npos || colon < equals))
            lines.emplace(line.substr(0, colon), line.substr(colon + 2));
        else if (equals != std::string::npos)
            lines.emplace(line.substr(0, equals), line.substr(equals + 1));
    }
    return lines;
}

std::string without_spaces(std::string text) {
    text.erase(std::remove(text.begin(), text.end(), ' '), text.end());
    return text;
}

struct server_case {
    const char* name;
    const char* version_flag;
    const issued_certificate& (*identity)();
};

const issued_certificate& ecdsa() {
    return test::pki::get().ecdsa_server;
}
const issued_certificate& rsa() {
    return test::pki::get().rsa_server;
}

} // namespace

BOOST_AUTO_TEST_CASE(attributes_match_what_openssl_s_client_reports_for_the_same_server) {
    const server_case cases[] = {{"TLS 1.3, ECDSA", "-tls1_3", ecdsa},
                                 {"TLS 1.2, RSA", "-tls1_2", rsa}};
    const test::pem_files files("attributes");
    const auto ca = files.write("ca.pem", test::pki::get().ca.certificate_pem());
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            const auto cert = files.write("cert.pem", c.identity().certificate_pem);
            const auto key = files.write("key.pem", c.identity().private_key_pem);
            const unsigned short port = free_port();
            // Two connections: secctx's, then s_client's; then s_server exits by itself.
            const std::string server =
                "timeout 30 openssl s_server -quiet -naccept 2 -accept 127.0.0.1:" +
                std::to_string(port) + " -cert " + cert + " -key " + key + " " + c.version_flag +
                " -alpn h2 >/dev/null 2>&1 &";
            BOOST_TEST_REQUIRE(std::system(server.c_str()) == 0);

            const auto deadline = clock::now() + std::chrono::seconds(10);
            socket_transport socket;
            BOOST_TEST_REQUIRE(!connect_when_listening(port, deadline, socket));
            auto config = test::client_config_trusting(test::pki::get().ca);
            config.alpn = {"h2"};
            // s_client's own preference, so that both clients get the same group.
            config.groups = {"x25519", "secp256r1"};
            socket_client handshake{client{credentials::client(config), "localhost"},
                                    std::move(socket)};
            BOOST_TEST_REQUIRE(text(handshake.run(deadline)) == "success",
                               handshake.error_detail());
            basic_channel_for<socket_client> channel{std::move(handshake)};
            const connection_attributes ours = channel.attributes();
            channel.shutdown_send();

            const auto report = report_lines(
                run("timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                    " -CAfile " + ca + " -servername localhost -alpn h2 </dev/null 2>&1"));
            const auto theirs = [&](const std::string& key) {
                const auto found = report.find(key);
                return found == report.end() ? std::string("<missing " + key + ">") : found->second;
            };

            BOOST_TEST(ours.protocol == theirs("Protocol"));
            // s_client names TLS 1.2 suites in OpenSSL's spelling; secctx, in IANA's.
            BOOST_TEST(std::string(OPENSSL_cipher_name(ours.cipher.c_str())) == theirs("Cipher"));
            BOOST_TEST(ours.alpn == theirs("ALPN protocol"));
            // "X25519, 253 bits" / "ECDH, prime256v1, 256 bits": the group is named in it, P-256
            // by its X9.62 name.
            const std::string group =
                ours.key_exchange_group == "secp256r1" ? "prime256v1" : ours.key_exchange_group;
            BOOST_TEST(!group.empty());
            BOOST_TEST(test::lower(theirs("Server Temp Key")).find(group) != std::string::npos,
                       theirs("Server Temp Key") << " names " << group);
            BOOST_TEST_REQUIRE(!ours.peer_chain.empty());
            BOOST_TEST(without_spaces(ours.peer_chain.front().subject) ==
                       without_spaces(theirs("subject")));
            BOOST_TEST(without_spaces(ours.peer_chain.front().issuer) ==
                       without_spaces(theirs("issuer")));
            BOOST_TEST(ours.peer_verified);
            BOOST_TEST(theirs("Verification") == "OK");
            BOOST_TEST(ours.server_name == "localhost");
            BOOST_TEST(!ours.resumed);
        }
    }
}

BOOST_AUTO_TEST_CASE(both_ends_see_each_others_certificates_and_the_sni_name) {
    const auto& p = test::pki::get();
    auto server_settings = test::server_config_for(p.ecdsa_server);
    server_settings.verify_clients = client_certificates::required;
    server_settings.trust.certificates = pem_source::from_memory(p.ca.certificate_pem());
    auto client_settings = test::client_config_trusting(p.ca);
    client_settings.certificate_chain = pem_source::from_memory(p.client.certificate_pem);
    client_settings.private_key = pem_source::from_memory(p.client.private_key_pem);
    memory_link link;
    test::client_handshake c{client{credentials::client(client_settings), "localhost"},
                             link.client_end()};
    test::server_handshake s{server{credentials::server(server_settings)}, link.server_end()};
    test::drive(c, s);
    BOOST_TEST_REQUIRE(c.done());
    BOOST_TEST_REQUIRE(s.done());
    basic_channel_for<test::client_handshake> client_channel{std::move(c)};
    basic_channel_for<test::server_handshake> server_channel{std::move(s)};

    const auto seen_by_client = client_channel.attributes();
    const auto seen_by_server = server_channel.attributes();
    BOOST_TEST(seen_by_server.server_name == "localhost"); // what the client asked for
    BOOST_TEST(seen_by_client.peer_chain.front().subject == "CN=localhost");
    BOOST_TEST(seen_by_server.peer_chain.front().subject == "CN=secctx test client");
    BOOST_TEST(seen_by_server.peer_chain.front().issuer == "CN=secctx test CA");
    const auto& names = seen_by_client.peer_chain.front().subject_alt_names;
    BOOST_TEST((std::find(names.begin(), names.end(), "DNS:localhost") != names.end()));
    BOOST_TEST((std::find(names.begin(), names.end(), "IP:127.0.0.1") != names.end()));
    BOOST_TEST(seen_by_client.peer_verified);
    BOOST_TEST(seen_by_server.peer_verified);
    BOOST_TEST(seen_by_client.verification_result == "ok");
    BOOST_TEST(!seen_by_client.peer_chain.front().der.empty());
    BOOST_TEST(seen_by_client.protocol == seen_by_server.protocol);
    BOOST_TEST(seen_by_client.cipher == seen_by_server.cipher);
    BOOST_TEST(seen_by_client.key_exchange_group == seen_by_server.key_exchange_group);
}

BOOST_AUTO_TEST_CASE(attributes_are_empty_after_a_failure) {
    memory_link link;
    test::client_handshake c{
        client{credentials::client(test::client_config_trusting(test::pki::get().ca)),
               "wrong.example"},
        link.client_end()};
    test::server_handshake s{
        server{credentials::server(test::server_config_for(test::pki::get().ecdsa_server))},
        link.server_end()};
    test::drive(c, s);
    BOOST_TEST(!c.done());
    basic_channel_for<test::client_handshake> channel{std::move(c)};
    BOOST_TEST(channel.error() == errc::host_name_mismatch);
    BOOST_TEST(channel.attributes().protocol.empty());
    BOOST_TEST(channel.attributes().peer_chain.empty());
}

BOOST_AUTO_TEST_CASE(a_channel_from_an_unfinished_handshake_destroys_the_context) {
    memory_link link;
    test::client_handshake c{
        client{credentials::client(test::client_config_trusting(test::pki::get().ca)), "localhost"},
        link.client_end()};
    BOOST_TEST((c.step().status == step_status::want_read)); // ClientHello sent, nothing back
    basic_channel_for<test::client_handshake> channel{std::move(c)};
    BOOST_TEST(channel.error() == errc::invalid_state);
    BOOST_TEST(channel.provider().native_handle() == nullptr);
    BOOST_TEST(channel.attributes().protocol.empty());
}

BOOST_AUTO_TEST_CASE(nothing_follows_our_close_notify_not_even_a_key_update) {
    memory_link link;
    test::client_handshake c{
        client{credentials::client(test::client_config_trusting(test::pki::get().ca)), "localhost"},
        link.client_end()};
    test::server_handshake s{
        server{credentials::server(test::server_config_for(test::pki::get().ecdsa_server))},
        link.server_end()};
    test::drive(c, s);
    BOOST_TEST_REQUIRE(c.done());
    basic_channel_for<test::client_handshake> channel{std::move(c)};
    BOOST_TEST(!channel.shutdown_send());
    BOOST_TEST(channel.update_keys(true) == errc::invalid_state);
    BOOST_TEST(!channel.error()); // refused, not failed
}
