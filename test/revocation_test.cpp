// Certificate revocation lists (tls_config::revocation), on the client and on the server: a
// revoked certificate fails with certificate_revoked and its alert; a CRL that is missing, expired,
// not yet valid, for another issuer or badly signed fails with revocation_unknown when CRLs are
// required, and passes when they are not; CRLs from memory, a file and a hashed directory; and
// configurations that cannot work are refused. Built for both engines.
#include "support/drive.hpp"
#include "support/engine.hpp" // test::lower
#include "support/peers.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/pem.h>

#include <chrono>
#include <string>

using namespace secctx;
using namespace std::chrono_literals;
using test::text;

namespace {

const test::pki& pki() {
    return test::pki::get();
}

std::string crl_of(const throwaway_ca& ca, std::vector<std::string> revoked,
                   std::chrono::seconds this_update = -1h, std::chrono::seconds next_update = 24h) {
    return ca.revocation_list({std::move(revoked), this_update, next_update});
}

// The same CRL with its signature's last byte changed.
std::string badly_signed(const std::string& pem) {
    openssl::detail::bio_ptr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    openssl::detail::x509_crl_ptr crl(PEM_read_bio_X509_CRL(in.get(), nullptr, nullptr, nullptr));
    BOOST_TEST_REQUIRE(crl != nullptr);
    const ASN1_BIT_STRING* signature = nullptr;
    X509_CRL_get0_signature(crl.get(), &signature, nullptr);
    auto* bytes = const_cast<unsigned char*>(ASN1_STRING_get0_data(signature));
    bytes[ASN1_STRING_length(signature) - 1] ^= 0x01;
    openssl::detail::bio_ptr out(BIO_new(BIO_s_mem()));
    // Written from the decoded structure, so the changed signature is what goes out.
    BOOST_TEST_REQUIRE(i2d_X509_CRL_bio(out.get(), crl.get()) == 1);
    char* der = nullptr;
    const long size = BIO_get_mem_data(out.get(), &der);
    const auto* p = reinterpret_cast<const unsigned char*>(der);
    openssl::detail::x509_crl_ptr changed(d2i_X509_CRL(nullptr, &p, size));
    BOOST_TEST_REQUIRE(changed != nullptr);
    openssl::detail::bio_ptr text(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_CRL(text.get(), changed.get());
    char* data = nullptr;
    const long length = BIO_get_mem_data(text.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

revocation_lists crls_in_memory(std::string pem, bool required = true,
                                revocation_scope scope = revocation_scope::leaf) {
    revocation_lists r;
    r.check = scope;
    r.crls = pem_source::from_memory(std::move(pem));
    r.require_crl = required;
    return r;
}

struct connection {
    connection(const client_config& cc, const server_config& sc)
        : c{client{credentials::client(cc), "localhost"}, link.client_end()},
          s{server{credentials::server(sc)}, link.server_end()} {
        test::drive(c, s);
    }
    memory_link link;
    test::client_handshake c;
    test::server_handshake s;
};

// The client checks the server's certificate against `lists`; returns the client's error.
std::string client_checking(const issued_certificate& server_identity, revocation_lists lists,
                            tls_version version = tls_version::tls1_3) {
    auto cc = test::client_config_trusting(pki().ca);
    cc.min_version = cc.max_version = version;
    cc.revocation = std::move(lists);
    connection x{cc, test::server_config_for(server_identity)};
    if (x.c.error())
        BOOST_TEST_MESSAGE(text(x.c.error()) << " (" << x.c.error_detail() << ")");
    return text(x.c.error());
}

} // namespace

BOOST_AUTO_TEST_CASE(a_revoked_server_certificate_fails_with_certificate_revoked) {
    const auto crl = crl_of(pki().ca, {pki().ecdsa_server.certificate_pem});
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            BOOST_TEST(client_checking(pki().ecdsa_server, crls_in_memory(crl), version) ==
                       text(errc::certificate_revoked));
            BOOST_TEST(client_checking(pki().rsa_server, crls_in_memory(crl), version) == "success",
                       "a certificate the CRL does not list");
            BOOST_TEST(client_checking(pki().ecdsa_server,
                                       crls_in_memory(crl, true, revocation_scope::chain),
                                       version) == text(errc::certificate_revoked));
            BOOST_TEST(client_checking(pki().rsa_server,
                                       crls_in_memory(crl, true, revocation_scope::chain),
                                       version) == "success");
        }
    }
}

// An intermediate CA that its root revoked: only a check of the whole chain sees it; and there, an
// intermediate whose issuer (the root) has no CRL is unknown unless CRLs are not required.
BOOST_AUTO_TEST_CASE(a_chain_check_refuses_a_revoked_intermediate_that_a_leaf_check_passes) {
    const auto intermediate = pki().ca.intermediate("secctx test intermediate");
    const auto leaf = intermediate.issue({});
    const issued_certificate chained{leaf.certificate_pem + intermediate.certificate_pem(),
                                     leaf.private_key_pem};
    const auto intermediate_crl = crl_of(intermediate, {});
    const auto both = intermediate_crl + crl_of(pki().ca, {intermediate.certificate_pem()});
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            BOOST_TEST(client_checking(chained, crls_in_memory(both), version) == "success");
            BOOST_TEST(client_checking(chained, crls_in_memory(both, true, revocation_scope::chain),
                                       version) == text(errc::certificate_revoked));
            BOOST_TEST(client_checking(
                           chained, crls_in_memory(intermediate_crl, true, revocation_scope::chain),
                           version) == text(errc::revocation_unknown));
            BOOST_TEST(
                client_checking(chained,
                                crls_in_memory(intermediate_crl, false, revocation_scope::chain),
                                version) == "success");
        }
    }
}

BOOST_AUTO_TEST_CASE(a_server_refuses_a_revoked_client_and_the_client_hears_why) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            auto sc = test::server_config_for(pki().ecdsa_server);
            sc.min_version = sc.max_version = version;
            sc.verify_clients = client_certificates::required;
            sc.trust.certificates = pem_source::from_memory(pki().ca.certificate_pem());
            sc.revocation = crls_in_memory(crl_of(pki().ca, {pki().client.certificate_pem}));
            auto cc = test::client_config_trusting(pki().ca);
            cc.min_version = cc.max_version = version;
            cc.certificate_chain = pem_source::from_memory(pki().client.certificate_pem);
            cc.private_key = pem_source::from_memory(pki().client.private_key_pem);
            connection x{cc, sc};
            BOOST_TEST(text(x.s.error()) == text(errc::certificate_revoked), x.s.error_detail());
            // TLS 1.2: the client hears of it, certificate_revoked, in the handshake.
            if (version == tls_version::tls1_2) {
                BOOST_TEST(text(x.c.error()) == text(errc::peer_rejected_certificate));
                BOOST_TEST(test::lower(x.c.error_detail()).find("revoked") != std::string::npos,
                           x.c.error_detail());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(without_a_usable_crl_a_required_check_fails_and_a_soft_one_passes) {
    const struct {
        const char* what;
        std::string crl;
    } unusable[] = {
        {"a CRL of another issuer", crl_of(pki().untrusted_ca, {})},
        {"an expired CRL", crl_of(pki().ca, {}, -48h, -24h)},
        {"a CRL not yet valid", crl_of(pki().ca, {}, 24h, 48h)},
        {"a badly signed CRL", badly_signed(crl_of(pki().ca, {}))},
    };
    for (const auto& u : unusable) {
        BOOST_TEST_CONTEXT(u.what) {
            BOOST_TEST(client_checking(pki().ecdsa_server, crls_in_memory(u.crl, true)) ==
                       text(errc::revocation_unknown));
            BOOST_TEST(client_checking(pki().ecdsa_server, crls_in_memory(u.crl, false)) ==
                       "success");
        }
    }
    // A soft check still refuses what a usable CRL revokes.
    const auto both =
        crl_of(pki().untrusted_ca, {}) + crl_of(pki().ca, {pki().ecdsa_server.certificate_pem});
    BOOST_TEST(client_checking(pki().ecdsa_server, crls_in_memory(both, false)) ==
               text(errc::certificate_revoked));
}

BOOST_AUTO_TEST_CASE(crls_come_from_a_file_or_a_hashed_directory) {
    const test::pem_files files("revocation");
    const std::string crl = crl_of(pki().ca, {pki().ecdsa_server.certificate_pem});
    revocation_lists from_file;
    from_file.check = revocation_scope::leaf;
    from_file.crls = pem_source::from_file(files.write("ca.crl", crl));
    BOOST_TEST(client_checking(pki().ecdsa_server, from_file) == text(errc::certificate_revoked));

    const auto directory = files.directory / "crls";
    std::filesystem::create_directory(directory);
    const std::string hash =
        test::run("openssl crl -hash -noout -in " + files.write("for-hash.crl", crl));
    files.write("crls/" + hash.substr(0, hash.find('\n')) + ".r0", crl);
    revocation_lists from_directory;
    from_directory.check = revocation_scope::leaf;
    from_directory.directory = directory.string();
    BOOST_TEST(client_checking(pki().ecdsa_server, from_directory) ==
               text(errc::certificate_revoked));
}

BOOST_AUTO_TEST_CASE(revocation_settings_that_cannot_work_are_refused) {
    const auto refusal = [](revocation_lists lists) {
        auto cc = test::client_config_trusting(pki().ca);
        cc.revocation = std::move(lists);
        std::error_code ec;
        std::string detail;
        (void)credentials::client(cc, ec, &detail);
        BOOST_TEST_MESSAGE(text(ec) << ": " << detail);
        return text(ec);
    };
    revocation_lists unchecked = crls_in_memory(crl_of(pki().ca, {}));
    unchecked.check = revocation_scope::none;
    BOOST_TEST(refusal(unchecked) == text(errc::invalid_configuration));
    revocation_lists without = {};
    without.check = revocation_scope::leaf;
    BOOST_TEST(refusal(without) == text(errc::invalid_configuration));
    BOOST_TEST(refusal(crls_in_memory("-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 "
                                      "CRL-----\n")) == text(errc::invalid_credentials));
    BOOST_TEST(refusal(crls_in_memory("no PEM at all")) == text(errc::invalid_credentials));
    revocation_lists missing_file;
    missing_file.check = revocation_scope::leaf;
    missing_file.crls = pem_source::from_file("/nonexistent/ca.crl");
    BOOST_TEST(refusal(missing_file) == text(errc::invalid_credentials));
}
