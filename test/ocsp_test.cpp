// OCSP stapling (client_config::ocsp, server_config::ocsp_response_file), both ways and on both
// engines: a server staples the response in its file, reads it again when the file changes and
// never staples one that has expired; a client checks a stapled response (signed by the issuer,
// about its certificate, current) and, when it requires one, passes only a good one. The
// responses come from OpenSSL's throwaway_ca (GnuTLS has no API that makes them), whose PEM both
// engines load. Responses secctx's server would not staple (expired, not yet valid) come from
// real servers, openssl s_server and gnutls-serv, in tools_test.
#include "secctx/openssl.hpp" // throwaway_ca::ocsp_response, whichever engine is tested
#include "support/drive.hpp"
#include "support/peers.hpp" // pem_files

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

using namespace secctx;
using namespace std::chrono_literals;
using test::text;

namespace {

struct ocsp_pki {
    openssl::throwaway_ca ca{key_type::ecdsa_p256, "secctx OCSP test CA"};
    openssl::throwaway_ca other_ca{key_type::ecdsa_p256, "secctx other CA"};
    issued_certificate server = ca.issue({});
    issued_certificate second_server = ca.issue({});

    std::string response(ocsp_certificate_status status = ocsp_certificate_status::good,
                         std::chrono::seconds this_update = -1h,
                         std::chrono::seconds next_update = 24h) const {
        return ca.ocsp_response({server.certificate_pem, status, this_update, next_update, true});
    }

    static const ocsp_pki& get() {
        static const ocsp_pki instance;
        return instance;
    }
};

const ocsp_pki& pki() {
    return ocsp_pki::get();
}

// The same response with the last byte of its signature (the last byte of the DER, as no
// certificate follows it) changed.
std::string badly_signed(std::string der) {
    der.back() = static_cast<char>(der.back() ^ 0x01);
    return der;
}

struct staple_files : test::pem_files {
    staple_files() : test::pem_files("ocsp") {}

    std::string put(const std::string& der) const {
        // Written beside and renamed over, as tooling that refreshes a response does.
        const auto path = directory / "staple.der";
        const auto next = directory / "staple.der.new";
        std::ofstream(next, std::ios::binary) << der;
        std::filesystem::rename(next, path);
        return path.string();
    }
};

server_config stapling_server(const std::string& file, tls_version version) {
    server_config config;
    config.certificate_chain = pem_source::from_memory(pki().server.certificate_pem);
    config.private_key = pem_source::from_memory(pki().server.private_key_pem);
    config.ocsp_response_file = file;
    config.min_version = config.max_version = version;
    return config;
}

client_config checking_client(ocsp_stapling policy, tls_version version) {
    client_config config;
    config.trust.certificates = pem_source::from_memory(pki().ca.certificate_pem());
    config.ocsp = policy;
    config.min_version = config.max_version = version;
    return config;
}

// The client's error after a handshake with a server made with `server_creds`.
std::string client_result(const credentials& server_creds, ocsp_stapling policy,
                          tls_version version) {
    memory_link link;
    test::client_handshake c{
        client{credentials::client(checking_client(policy, version)), "localhost"},
        link.client_end()};
    test::server_handshake s{server{server_creds}, link.server_end()};
    test::drive(c, s);
    if (c.error())
        BOOST_TEST_MESSAGE(text(c.error()) << " (" << c.error_detail() << ")");
    return text(c.error());
}

std::string client_result(const std::string& staple, ocsp_stapling policy, tls_version version) {
    const staple_files files;
    return client_result(credentials::server(stapling_server(files.put(staple), version)), policy,
                         version);
}

std::string refusal(const server_config& config) {
    std::error_code ec;
    std::string detail;
    (void)credentials::server(config, ec, &detail);
    BOOST_TEST_MESSAGE(text(ec) << ": " << detail);
    return text(ec);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_good_stapled_response_passes_a_check_and_a_requirement) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            BOOST_TEST(client_result(pki().response(), ocsp_stapling::require, version) ==
                       "success");
            BOOST_TEST(client_result(pki().response(), ocsp_stapling::check, version) == "success");
            BOOST_TEST(client_result(pki().response(), ocsp_stapling::off, version) == "success");
        }
    }
}

BOOST_AUTO_TEST_CASE(a_server_that_staples_nothing_fails_only_a_requirement) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            server_config config = stapling_server({}, version);
            const auto plain = credentials::server(config);
            BOOST_TEST(client_result(plain, ocsp_stapling::check, version) == "success");
            BOOST_TEST(client_result(plain, ocsp_stapling::require, version) ==
                       text(errc::revocation_unknown));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_stapled_revoked_status_fails_with_certificate_revoked) {
    const auto revoked = pki().response(ocsp_certificate_status::revoked);
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            BOOST_TEST(client_result(revoked, ocsp_stapling::check, version) ==
                       text(errc::certificate_revoked));
            BOOST_TEST(client_result(revoked, ocsp_stapling::require, version) ==
                       text(errc::certificate_revoked));
#if !defined(SECCTX_DEFAULT_ENGINE_GNUTLS) || GNUTLS_VERSION_NUMBER >= 0x030800
            // GnuTLS before 3.8 always asks, and checks what it gets (docs/engines.md).
            BOOST_TEST(client_result(revoked, ocsp_stapling::off, version) == "success",
                       "a client that does not ask is not stapled to");
#endif
        }
    }
}

BOOST_AUTO_TEST_CASE(an_unknown_status_passes_a_check_and_fails_a_requirement) {
    const auto unknown = pki().response(ocsp_certificate_status::unknown);
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            BOOST_TEST(client_result(unknown, ocsp_stapling::check, version) == "success");
            BOOST_TEST(client_result(unknown, ocsp_stapling::require, version) ==
                       text(errc::revocation_unknown));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_response_badly_signed_or_by_another_issuer_fails_even_a_check) {
    const struct {
        const char* what;
        std::string der;
    } bad[] = {
        {"badly signed", badly_signed(pki().response())},
        {"signed by another CA",
         pki().other_ca.ocsp_response(
             {pki().server.certificate_pem, ocsp_certificate_status::good, -1h, 24h, true})},
    };
    for (const auto& b : bad)
        for (const auto version : test::versions) {
            BOOST_TEST_CONTEXT(b.what << ", " << test::name_of(version)) {
                BOOST_TEST(client_result(b.der, ocsp_stapling::check, version) ==
                           text(errc::revocation_unknown));
            }
        }
}

BOOST_AUTO_TEST_CASE(the_file_is_read_again_when_it_changes_and_never_stapled_once_expired) {
    const staple_files files;
    const auto path = files.put(pki().response());
    const auto creds = credentials::server(stapling_server(path, tls_version::tls1_3));
    BOOST_TEST(client_result(creds, ocsp_stapling::require, tls_version::tls1_3) == "success");
    files.put(pki().response(ocsp_certificate_status::revoked));
    BOOST_TEST(client_result(creds, ocsp_stapling::require, tls_version::tls1_3) ==
               text(errc::certificate_revoked));
    // A file that went bad (tooling mid-write): the last good response is kept.
    files.put("not DER");
    BOOST_TEST(client_result(creds, ocsp_stapling::require, tls_version::tls1_3) ==
               text(errc::certificate_revoked));
    files.put(pki().response(ocsp_certificate_status::good, -48h, -24h));
    BOOST_TEST(client_result(creds, ocsp_stapling::require, tls_version::tls1_3) ==
                   text(errc::revocation_unknown),
               "an expired response is not stapled");
    BOOST_TEST(client_result(creds, ocsp_stapling::check, tls_version::tls1_3) == "success");
    files.put(pki().response());
    BOOST_TEST(client_result(creds, ocsp_stapling::require, tls_version::tls1_3) == "success");
}

BOOST_AUTO_TEST_CASE(a_server_refuses_a_response_file_it_could_never_staple) {
    const staple_files files;
    BOOST_TEST(refusal(stapling_server("/nonexistent/staple.der", tls_version::tls1_3)) ==
               text(errc::invalid_credentials));
    BOOST_TEST(refusal(stapling_server(files.put("not DER"), tls_version::tls1_3)) ==
               text(errc::invalid_credentials));
    const auto for_another = pki().ca.ocsp_response(
        {pki().second_server.certificate_pem, ocsp_certificate_status::good, -1h, 24h, true});
    BOOST_TEST(refusal(stapling_server(files.put(for_another), tls_version::tls1_3)) ==
               text(errc::invalid_credentials));
    // Expired at start: loaded (tooling will refresh it), not stapled.
    BOOST_TEST(refusal(stapling_server(
                   files.put(pki().response(ocsp_certificate_status::good, -48h, -24h)),
                   tls_version::tls1_3)) == "success");
}

BOOST_AUTO_TEST_CASE(a_client_that_skips_verification_cannot_check_a_staple) {
    client_config config = checking_client(ocsp_stapling::check, tls_version::tls1_3);
    config.dangerous_skip_verification = true;
    std::error_code ec;
    (void)credentials::client(config, ec);
    BOOST_TEST(text(ec) == text(errc::invalid_configuration));
}
