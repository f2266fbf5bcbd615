// Every way a handshake fails ends with its own error, for good: the error is sticky, the partial
// context is destroyed, OpenSSL's reason is kept, and (under ASan/LSan) nothing leaks.
#include "support/drive.hpp"
#include "support/peers.hpp"
#include "support/pki.hpp"

#include "secctx/tls/openssl/detail/error_mapping.hpp"

#include <boost/test/unit_test.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <string>

using namespace secctx;
using test::client_handshake;
using test::server_handshake;
using test::text;

namespace {

const test::pki& pki() {
    return test::pki::get();
}

struct connection {
    connection(const credentials& client_creds, std::string_view server_name,
               const credentials& server_creds)
        : c{client{client_creds, server_name}, link.client_end()}, s{server{server_creds},
                                                                     link.server_end()} {}

    memory_link link;
    client_handshake c;
    server_handshake s;
};

enum class engine_reason { expected, not_expected };

// A failed handshake stays failed with the same error, keeps the engine's reason and has destroyed
// its context.
template <class Handshake>
void check_failed_for_good(Handshake& h, errc expected,
                           engine_reason reason = engine_reason::expected) {
    BOOST_TEST_MESSAGE(text(h.error()) << " (" << h.error_detail() << ")");
    BOOST_TEST(text(h.error()) == text(expected));
    BOOST_TEST(!h.done());
    for (int again = 0; again < 2; ++again) {
        const step_result r = h.step();
        BOOST_TEST((r.status == step_status::failed));
        BOOST_TEST((r.provider == provider_status::error));
        BOOST_TEST(text(r.error) == text(expected));
    }
    BOOST_TEST(h.provider().native_handle() == nullptr);
    BOOST_TEST(text(h.provider().error()) == text(expected));
    if (reason == engine_reason::expected)
        BOOST_TEST(!h.error_detail().empty(), "error_detail() keeps OpenSSL's reason");
}

bool contains_alert_record(std::span<const std::byte> bytes) {
    return !bytes.empty() && bytes[0] == std::byte{0x15};
}

template <class Config>
Config only(Config config, tls_version version) {
    config.min_version = config.max_version = version;
    return config;
}

struct version_case {
    tls_version version;
    const char* name;
};

constexpr version_case versions[] = {{tls_version::tls1_3, "TLS 1.3"},
                                     {tls_version::tls1_2, "TLS 1.2"}};

// The client refuses the server's certificate: the client fails with `client_error`, and the
// alert it sends makes the server fail with peer_rejected_certificate.
void check_certificate_refused(const issued_certificate& identity, std::string_view server_name,
                               errc client_error) {
    for (const auto& v : versions) {
        BOOST_TEST_CONTEXT(v.name) {
            connection x{
                credentials::client(only(test::client_config_trusting(pki().ca), v.version)),
                server_name,
                credentials::server(only(test::server_config_for(identity), v.version))};
            test::drive(x.c, x.s);
            check_failed_for_good(x.c, client_error);
            BOOST_TEST(x.c.error_detail().find("certificate verification") != std::string::npos);
            check_failed_for_good(x.s, errc::peer_rejected_certificate);
        }
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(untrusted_certificate_fails_with_certificate_untrusted) {
    check_certificate_refused(pki().untrusted_server, "localhost", errc::certificate_untrusted);
}

BOOST_AUTO_TEST_CASE(host_name_mismatch_fails_with_host_name_mismatch) {
    check_certificate_refused(pki().ecdsa_server, "wrong.example", errc::host_name_mismatch);
}

BOOST_AUTO_TEST_CASE(expired_certificate_fails_with_certificate_expired) {
    check_certificate_refused(pki().expired_server, "localhost", errc::certificate_expired);
}

BOOST_AUTO_TEST_CASE(no_shared_version_fails_with_no_shared_version_on_both_sides) {
    auto client_config = test::client_config_trusting(pki().ca);
    client_config.max_version = tls_version::tls1_2;
    auto server_config = test::server_config_for(pki().ecdsa_server);
    server_config.min_version = tls_version::tls1_3;
    connection x{credentials::client(client_config), "localhost",
                 credentials::server(server_config)};
    test::drive(x.c, x.s);
    check_failed_for_good(x.s, errc::no_shared_version);
    // The server's protocol_version alert says the same to the client.
    check_failed_for_good(x.c, errc::no_shared_version);
}

BOOST_AUTO_TEST_CASE(no_shared_cipher_fails_with_no_shared_cipher_on_the_server) {
    auto client_config = only(test::client_config_trusting(pki().ca), tls_version::tls1_2);
    client_config.tls12_cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"};
    auto server_config = only(test::server_config_for(pki().ecdsa_server), tls_version::tls1_2);
    server_config.tls12_cipher_suites = {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"};
    connection x{credentials::client(client_config), "localhost",
                 credentials::server(server_config)};
    test::drive(x.c, x.s);
    check_failed_for_good(x.s, errc::no_shared_cipher);
    // TLS sends a bare handshake_failure alert here: the client only learns that the server gave
    // up.
    check_failed_for_good(x.c, errc::peer_alert);
}

BOOST_AUTO_TEST_CASE(missing_required_client_certificate_fails_with_client_certificate_required) {
    auto server_config = test::server_config_for(pki().ecdsa_server);
    server_config.verify_clients = client_certificates::required;
    server_config.trust.certificates = pem_source::from_memory(pki().ca.certificate_pem());
    const auto client_config = test::client_config_trusting(pki().ca);

    BOOST_TEST_CONTEXT("TLS 1.3") {
        connection x{credentials::client(client_config), "localhost",
                     credentials::server(server_config)};
        test::drive(x.c, x.s);
        check_failed_for_good(x.s, errc::client_certificate_required);
        // TLS 1.3: the client's handshake ends with its own Finished, before the server has read
        // its (empty) Certificate. The client is done; the server's certificate_required alert
        // waits on the link for whoever reads application data next.
        BOOST_TEST(x.c.done());
        BOOST_TEST(x.c.transport().pending() + x.c.extra().size() > 0u);
    }
    BOOST_TEST_CONTEXT("TLS 1.2") {
        connection x{credentials::client(only(client_config, tls_version::tls1_2)), "localhost",
                     credentials::server(only(server_config, tls_version::tls1_2))};
        test::drive(x.c, x.s);
        check_failed_for_good(x.s, errc::client_certificate_required);
        // TLS 1.2: the client waits for the server's Finished and gets a handshake_failure alert.
        check_failed_for_good(x.c, errc::peer_alert);
    }
}

BOOST_AUTO_TEST_CASE(without_verification_the_chain_is_not_blamed_for_a_later_failure) {
    // An untrusted server certificate, which the client does not verify; the handshake then
    // fails for another reason (TLS 1.2: the server wants a client certificate).
    auto server_config = only(test::server_config_for(pki().untrusted_server), tls_version::tls1_2);
    server_config.verify_clients = client_certificates::required;
    server_config.trust.certificates = pem_source::from_memory(pki().ca.certificate_pem());
    client_config client_settings;
    client_settings.dangerous_skip_verification = true;
    connection x{credentials::client(client_settings), "localhost",
                 credentials::server(server_config)};
    test::drive(x.c, x.s);
    check_failed_for_good(x.c, errc::peer_alert);
    BOOST_TEST(x.c.error_detail().find("certificate verification") == std::string::npos,
               x.c.error_detail());
}

BOOST_AUTO_TEST_CASE(garbage_instead_of_a_client_hello_fails_with_not_tls) {
    memory_link link;
    auto peer = link.client_end();
    server_handshake s{server{credentials::server(test::server_config_for(pki().ecdsa_server))},
                       link.server_end()};
    test::put(peer, test::to_bytes("GET / HTTP/1.1\r\n\r\n"));
    const step_result r = s.step();
    BOOST_TEST((r.status == step_status::failed));
    check_failed_for_good(s, errc::not_tls);
}

BOOST_AUTO_TEST_CASE(an_ssl2_style_client_hello_fails_at_once_with_not_tls) {
    memory_link link;
    auto peer = link.client_end();
    server_handshake s{server{credentials::server(test::server_config_for(pki().ecdsa_server))},
                       link.server_end()};
    // An SSL 2 ClientHello header announcing 46 bytes; only the header arrives, yet the server
    // must not wait for the body.
    const std::byte ssl2_header[] = {std::byte{0x80}, std::byte{0x2e}, std::byte{0x01},
                                     std::byte{0x03}, std::byte{0x01}};
    test::put(peer, ssl2_header);
    const step_result r = s.step();
    BOOST_TEST((r.status == step_status::failed));
    check_failed_for_good(s, errc::not_tls, engine_reason::not_expected);
}

BOOST_AUTO_TEST_CASE(a_high_bit_header_after_a_client_hello_fails_without_sending_the_flight) {
    connection x{credentials::client(test::client_config_trusting(pki().ca)), "localhost",
                 credentials::server(test::server_config_for(pki().ecdsa_server))};
    BOOST_TEST((x.c.step().status == step_status::want_read));
    auto server_side = x.link.server_end();
    test::bytes hello = test::drain(server_side);
    const std::byte not_tls[] = {std::byte{0x80}, std::byte{0x2e}, std::byte{0x01}, std::byte{0x03},
                                 std::byte{0x01}};
    hello.insert(hello.end(), std::begin(not_tls), std::end(not_tls));
    test::put(x.c.transport(), hello);

    const step_result r = x.s.step();
    BOOST_TEST((r.status == step_status::failed));
    BOOST_TEST(r.output.empty());
    check_failed_for_good(x.s, errc::not_tls, engine_reason::not_expected);
    BOOST_TEST(x.c.transport().pending() == 0u); // not one byte of the server's flight went out
}

BOOST_AUTO_TEST_CASE(an_unknown_content_type_fails_with_an_alert_once_its_body_arrives) {
    memory_link link;
    auto peer = link.client_end();
    server_handshake s{server{credentials::server(test::server_config_for(pki().ecdsa_server))},
                       link.server_end()};
    const std::byte header[] = {std::byte{99}, std::byte{3}, std::byte{1}, std::byte{0},
                                std::byte{10}};
    test::put(peer, header);
    const step_result waiting = s.step();
    BOOST_TEST((waiting.status == step_status::want_read));
    BOOST_TEST(waiting.missing_bytes == 10u);
    test::put(peer, test::bytes(10, std::byte{0}));
    const step_result r = s.step();
    BOOST_TEST((r.status == step_status::failed));
    check_failed_for_good(s, errc::protocol_error);
    const test::bytes alert = test::drain(peer);
    BOOST_TEST_REQUIRE(!alert.empty());
    BOOST_TEST((alert[0] == std::byte{21}));
}

BOOST_AUTO_TEST_CASE(peer_closing_mid_handshake_fails_with_peer_closed_during_handshake) {
    connection x{credentials::client(test::client_config_trusting(pki().ca)), "localhost",
                 credentials::server(test::server_config_for(pki().ecdsa_server))};
    BOOST_TEST((x.c.step().status == step_status::want_read));
    // Half of the ClientHello reaches the server, then the client goes away.
    auto server_side = x.link.server_end();
    const test::bytes hello = test::drain(server_side);
    BOOST_TEST_REQUIRE(hello.size() > 10u);
    const std::size_t half = hello.size() / 2;
    test::put(x.c.transport(), std::span(hello).first(half));

    const step_result partial = x.s.step();
    BOOST_TEST((partial.status == step_status::want_read));
    BOOST_TEST(partial.missing_bytes == hello.size() - half);

    x.c.transport().close();
    const step_result r = x.s.step();
    BOOST_TEST((r.status == step_status::failed));
    check_failed_for_good(x.s, errc::peer_closed_during_handshake, engine_reason::not_expected);
}

BOOST_AUTO_TEST_CASE(oversized_record_fails_with_record_too_large_and_sends_an_alert) {
    memory_link link;
    auto peer = link.client_end();
    server_handshake s{server{credentials::server(test::server_config_for(pki().ecdsa_server))},
                       link.server_end()};
    // A handshake record header that claims 65535 bytes, more than any TLS record may carry.
    const std::byte header[] = {std::byte{0x16}, std::byte{0x03}, std::byte{0x01}, std::byte{0xff},
                                std::byte{0xff}};
    test::put(peer, header);
    const step_result r = s.step();
    BOOST_TEST((r.status == step_status::failed));
    check_failed_for_good(s, errc::record_too_large);
    // The record_overflow alert was owed to the peer: either still waiting in the output or
    // already on the link.
    const test::bytes reached_peer = test::drain(peer);
    BOOST_TEST((contains_alert_record(r.output) || contains_alert_record(reached_peer)),
               "an alert record (0x15) goes to the peer");
}

BOOST_AUTO_TEST_CASE(empty_credentials_fail_with_invalid_state) {
    const credentials none;
    BOOST_TEST(!none);
    memory_link link;
    client_handshake c{client{none, "localhost"}, link.client_end()};
    server_handshake s{server{none}, link.server_end()};
    BOOST_TEST((c.step().status == step_status::failed));
    // One whole (tiny) record, so that the server calls its provider.
    const std::byte record[] = {std::byte{0x16}, std::byte{0x03}, std::byte{0x01},
                                std::byte{0x00}, std::byte{0x01}, std::byte{0x01}};
    test::put(c.transport(), record);
    BOOST_TEST((s.step().status == step_status::failed));
    check_failed_for_good(c, errc::invalid_state, engine_reason::not_expected);
    check_failed_for_good(s, errc::invalid_state, engine_reason::not_expected);
}

BOOST_AUTO_TEST_CASE(verifying_client_without_server_name_fails_with_server_name_required) {
    memory_link link;
    client_handshake c{client{credentials::client(test::client_config_trusting(pki().ca)), ""},
                       link.client_end()};
    BOOST_TEST((c.step().status == step_status::failed));
    check_failed_for_good(c, errc::server_name_required, engine_reason::not_expected);
    BOOST_TEST(link.server_end().pending() == 0u, "nothing was sent");
}

BOOST_AUTO_TEST_CASE(client_that_skips_verification_needs_no_server_name) {
    client_config config;
    config.dangerous_skip_verification = true;
    connection x{credentials::client(config), "",
                 credentials::server(test::server_config_for(pki().untrusted_server))};
    test::drive(x.c, x.s);
    BOOST_TEST(x.c.done());
    BOOST_TEST(x.s.done());
}

BOOST_AUTO_TEST_CASE(server_credentials_without_a_certificate_fail_with_invalid_configuration) {
    std::error_code ec;
    std::string detail;
    const auto made = credentials::server(server_config{}, ec, &detail);
    BOOST_TEST(text(ec) == text(errc::invalid_configuration));
    BOOST_TEST(!detail.empty());
    BOOST_TEST(!made);
    try {
        credentials::server(server_config{});
        BOOST_ERROR("credentials::server(config) throws on an invalid configuration");
    } catch (const std::system_error& e) {
        BOOST_TEST(text(e.code()) == text(errc::invalid_configuration));
    }
}

BOOST_AUTO_TEST_CASE(credentials_of_the_other_role_fail_with_invalid_configuration) {
    const auto client_creds = credentials::client(test::client_config_trusting(pki().ca));
    const auto server_creds = credentials::server(test::server_config_for(pki().ecdsa_server));
    // A client given a server's credentials fails at its first step.
    connection wrong_client{server_creds, "localhost", server_creds};
    test::drive(wrong_client.c, wrong_client.s);
    check_failed_for_good(wrong_client.c, errc::invalid_configuration, engine_reason::not_expected);
    // A server given a client's credentials fails when the client's token arrives.
    connection wrong_server{client_creds, "localhost", client_creds};
    test::drive(wrong_server.c, wrong_server.s);
    check_failed_for_good(wrong_server.s, errc::invalid_configuration, engine_reason::not_expected);
}

BOOST_AUTO_TEST_CASE(a_server_verifying_clients_without_trust_anchors_is_invalid_configuration) {
    auto config = test::server_config_for(pki().ecdsa_server);
    for (const auto mode : {client_certificates::optional, client_certificates::required}) {
        config.verify_clients = mode;
        std::error_code ec;
        std::string detail;
        const auto made = credentials::server(config, ec, &detail);
        BOOST_TEST(text(ec) == text(errc::invalid_configuration));
        BOOST_TEST(detail == "verifying client certificates needs trust anchors");
        BOOST_TEST(!made);
    }
}

BOOST_AUTO_TEST_CASE(alpn_names_the_extension_cannot_carry_are_invalid_configuration) {
    const std::vector<std::string> longest(257, std::string(255, 'a')); // 257 x 256 > 65,533
    const std::vector<std::string> fits(255, std::string(255, 'a'));
    for (const auto& [names, fault] :
         {std::pair{std::vector<std::string>{"h2", ""},
                    "an ALPN protocol name must be 1 to 255 bytes"},
          std::pair{std::vector<std::string>{std::string(256, 'a')},
                    "an ALPN protocol name must be 1 to 255 bytes"},
          std::pair{longest, "the ALPN protocol names must fit in 65,533 bytes, with a byte of "
                             "length each"}}) {
        client_config config;
        config.alpn = names;
        std::error_code ec;
        std::string detail;
        BOOST_TEST(!credentials::client(config, ec, &detail));
        BOOST_TEST(text(ec) == text(errc::invalid_configuration));
        BOOST_TEST(detail == fault);
    }
    client_config config;
    config.alpn = fits;
    std::error_code ec;
    BOOST_TEST(static_cast<bool>(credentials::client(config, ec)), ec.message());
}

// OpenSSL 3 keeps flag bits in a common reason (ERR_R_*), which puts it above every library
// reason: none of them is an alert the peer sent.
BOOST_AUTO_TEST_CASE(engine_failures_of_our_own_are_not_taken_for_a_peer_alert) {
    using openssl::detail::map_error;
    BOOST_TEST(text(map_error(ERR_PACK(ERR_LIB_SSL, 0, ERR_R_MALLOC_FAILURE), X509_V_OK)) ==
               text(errc::out_of_memory));
    for (const int common : {ERR_R_INTERNAL_ERROR, ERR_R_EVP_LIB, ERR_R_PASSED_NULL_PARAMETER})
        BOOST_TEST(text(map_error(ERR_PACK(ERR_LIB_SSL, 0, common), X509_V_OK)) ==
                   text(errc::protocol_error));
    // Alerts the peer did send still map by their description.
    BOOST_TEST(text(map_error(ERR_PACK(ERR_LIB_SSL, 0, SSL_AD_REASON_OFFSET + SSL_AD_UNKNOWN_CA),
                              X509_V_OK)) == text(errc::peer_rejected_certificate));
    BOOST_TEST(
        text(map_error(ERR_PACK(ERR_LIB_SSL, 0, SSL_AD_REASON_OFFSET + SSL_AD_HANDSHAKE_FAILURE),
                       X509_V_OK)) == text(errc::peer_alert));
}

BOOST_AUTO_TEST_CASE(garbage_pem_fails_with_invalid_credentials_and_a_reason) {
    const auto garbage = pem_source::from_memory("this is not PEM\n");
    const auto& identity = pki().ecdsa_server;
    const auto valid_certificate = pem_source::from_memory(identity.certificate_pem);
    const auto valid_key = pem_source::from_memory(identity.private_key_pem);
    const auto other_key = pem_source::from_memory(pki().client.private_key_pem);

    struct bad_case {
        const char* what;
        pem_source certificate_chain, private_key, trust;
    };
    const bad_case cases[] = {
        {"garbage certificate chain", garbage, valid_key, {}},
        {"garbage private key", valid_certificate, garbage, {}},
        {"private key of another certificate", valid_certificate, other_key, {}},
        {"garbage trust anchors", {}, {}, garbage},
    };
    for (const auto& bad : cases) {
        BOOST_TEST_CONTEXT(bad.what) {
            client_config config;
            config.certificate_chain = bad.certificate_chain;
            config.private_key = bad.private_key;
            config.trust.certificates = bad.trust;
            std::error_code ec;
            std::string detail;
            const auto made = credentials::client(config, ec, &detail);
            BOOST_TEST(!made);
            BOOST_TEST(text(ec) == text(errc::invalid_credentials));
            BOOST_TEST(!detail.empty(), "the detail carries OpenSSL's reason");
        }
    }
    // The same through a server's credentials and the throwing overload.
    auto config = test::server_config_for(identity);
    config.certificate_chain = garbage;
    try {
        credentials::server(config);
        BOOST_ERROR("credentials::server(config) throws on garbage PEM");
    } catch (const std::system_error& e) {
        BOOST_TEST(text(e.code()) == text(errc::invalid_credentials));
        BOOST_TEST(std::string(e.what()).size() > e.code().message().size());
    }
}

BOOST_AUTO_TEST_CASE(a_damaged_block_in_a_chain_or_bundle_fails_instead_of_shortening_it) {
    const std::string damaged =
        "-----BEGIN CERTIFICATE-----\nMIIB!!!this*is*not*base64!!!\n-----END CERTIFICATE-----\n";
    const auto& identity = pki().ecdsa_server;
    auto config = test::server_config_for(identity);
    config.certificate_chain = pem_source::from_memory(identity.certificate_pem + damaged);
    std::error_code ec;
    std::string detail;
    BOOST_TEST(!credentials::server(config, ec, &detail));
    BOOST_TEST(text(ec) == text(errc::invalid_credentials));
    BOOST_TEST(!detail.empty());

    client_config client_settings;
    client_settings.trust.certificates =
        pem_source::from_memory(pki().ca.certificate_pem() + damaged);
    detail.clear();
    BOOST_TEST(!credentials::client(client_settings, ec, &detail));
    BOOST_TEST(text(ec) == text(errc::invalid_credentials));
    BOOST_TEST(!detail.empty());
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_named_by_its_cause) {
    auto config = test::server_config_for(pki().ecdsa_server);
    config.private_key = pem_source::from_file("/nonexistent/secctx/key.pem");
    std::error_code ec;
    std::string detail;
    BOOST_TEST(!credentials::server(config, ec, &detail));
    BOOST_TEST(text(ec) == text(errc::invalid_credentials));
    BOOST_TEST(detail.find("No such file or directory") != std::string::npos, detail);
}

// The server's key, encrypted with `password` as PKCS#8 or as a traditional PEM with DEK-Info.
std::string encrypted_key(const std::string& password, bool pkcs8) {
    const auto& plain = pki().ecdsa_server.private_key_pem;
    openssl::detail::bio_ptr in(BIO_new_mem_buf(plain.data(), static_cast<int>(plain.size())));
    openssl::detail::evp_pkey_ptr key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
    openssl::detail::bio_ptr out(BIO_new(BIO_s_mem()));
    auto* text = reinterpret_cast<unsigned char*>(const_cast<char*>(password.c_str()));
    const int written =
        pkcs8 ? PEM_write_bio_PKCS8PrivateKey(out.get(), key.get(), EVP_aes_256_cbc(),
                                              password.c_str(), static_cast<int>(password.size()),
                                              nullptr, nullptr)
              : PEM_write_bio_PrivateKey_traditional(out.get(), key.get(), EVP_aes_256_cbc(), text,
                                                     static_cast<int>(password.size()), nullptr,
                                                     nullptr);
    BOOST_TEST_REQUIRE(written == 1);
    char* data = nullptr;
    const long size = BIO_get_mem_data(out.get(), &data);
    return {data, static_cast<std::size_t>(size)};
}

BOOST_AUTO_TEST_CASE(an_encrypted_key_loads_with_its_password_and_never_with_a_prompt) {
    const std::string password = "correct horse battery staple";
    test::pem_files files{"encrypted-key"};
    for (const bool pkcs8 : {true, false}) {
        const std::string pem = encrypted_key(password, pkcs8);
        BOOST_TEST_REQUIRE(pem.find("ENCRYPTED") != std::string::npos);
        for (const auto& key :
             {pem_source::from_memory(pem), pem_source::from_file(files.write("key.pem", pem))}) {
            BOOST_TEST_CONTEXT((pkcs8 ? "PKCS#8" : "traditional")
                               << " key from "
                               << (key.where == pem_source::kind::file ? "a file" : "memory")) {
                auto config = test::server_config_for(pki().ecdsa_server);
                config.private_key = key;
                config.private_key_password = password;
                std::error_code ec;
                BOOST_TEST(static_cast<bool>(credentials::server(config, ec)), ec.message());
                // No password or a wrong one: refused at once (OpenSSL's default would wait for
                // the terminal), with a reason that holds neither password.
                for (const std::string given : {"", "wrong"}) {
                    config.private_key_password = given;
                    std::string detail;
                    BOOST_TEST(!credentials::server(config, ec, &detail));
                    BOOST_TEST(text(ec) == text(errc::invalid_credentials));
                    BOOST_TEST(!detail.empty());
                    BOOST_TEST(detail.find(password) == std::string::npos);
                    BOOST_TEST((given.empty() || detail.find(given) == std::string::npos));
                }
            }
        }
    }
}
