// Client certificates on demand in GnuTLS (certificate_selection.hpp). Each candidate is checked
// by the credentials' own loader (its chain against its key) and kept as GnuTLS's pcert list and
// private key; the retrieve function, called when the server asks for a certificate, asks the
// selector and hands over the chosen one. GnuTLS cannot pause there: a retrieve function that
// does not answer fails the handshake. So the GnuTLS provider lacks the
// deferred_certificate_choice capability, and a selector's later() fails with
// certificate_selection_failed.
#pragma once

#include "secctx/certificate_selection.hpp"
#include "secctx/tls/config.hpp"
#include "secctx/tls/gnutls/detail/describe.hpp"
#include "secctx/tls/gnutls/detail/handles.hpp"
#include "secctx/tls/gnutls/detail/pem.hpp"
#include "secctx/tls/signature_scheme.hpp"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace secctx::gnutls::detail {

// One candidate as GnuTLS takes it from a retrieve function.
class loaded_certificate {
public:
    loaded_certificate() = default;
    loaded_certificate(const loaded_certificate&) = delete;
    loaded_certificate& operator=(const loaded_certificate&) = delete;
    ~loaded_certificate() {
        for (auto& p : chain_)
            gnutls_pcert_deinit(&p);
    }

    // Loads `given` through a credentials object of its own, so that its chain and key are
    // checked as the credentials' own certificate is. GnuTLS's code, and `why`, on failure.
    int load(const client_certificate& given, std::string& why) {
        gnutls_certificate_credentials_t raw = nullptr;
        if (gnutls_certificate_allocate_credentials(&raw) < 0)
            return GNUTLS_E_MEMORY_ERROR;
        certificate_credentials_ptr holder(raw);
        tls_config one;
        one.certificate_chain = given.certificate_chain;
        one.private_key = given.private_key;
        one.private_key_password = given.private_key_password;
        if (given.certificate_chain.empty() || given.private_key.empty()) {
            why = "a chain and its key are both needed";
            return GNUTLS_E_INVALID_REQUEST;
        }
        if (const int rc = load_identity(raw, one, why); rc < 0)
            return rc;
        gnutls_x509_crt_t* crts = nullptr;
        unsigned count = 0;
        gnutls_x509_privkey_t key = nullptr;
        if (int rc = gnutls_certificate_get_x509_crt(raw, 0, &crts, &count); rc < 0)
            return rc;
        int rc = gnutls_certificate_get_x509_key(raw, 0, &key);
        for (unsigned i = 0; i < count; ++i) {
            if (rc >= 0) {
                gnutls_pcert_st pcert{};
                rc = gnutls_pcert_import_x509(&pcert, crts[i], 0);
                if (rc >= 0)
                    chain_.push_back(pcert);
            }
            if (rc >= 0)
                issuers_.push_back(dn_text([&](gnutls_datum_t* d) {
                    return gnutls_x509_crt_get_issuer_dn3(crts[i], d, 0);
                }));
            gnutls_x509_crt_deinit(crts[i]);
        }
        gnutls_free(crts);
        gnutls_privkey_t private_key = nullptr;
        if (rc >= 0)
            rc = gnutls_privkey_init(&private_key);
        if (rc >= 0) {
            key_.reset(private_key);
            rc = gnutls_privkey_import_x509(private_key, key, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE);
            if (rc >= 0)
                key = nullptr; // the private key owns it now
        }
        if (key != nullptr)
            gnutls_x509_privkey_deinit(key);
        return rc < 0 ? rc : 0;
    }

    certificate_candidate describe_it() const {
        certificate_candidate c;
        c.leaf = describe(chain_.front().cert);
        c.issuers = issuers_;
        unsigned bits = 0;
        const int algorithm = gnutls_privkey_get_pk_algorithm(key_.get(), &bits);
        gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
        if (algorithm == GNUTLS_PK_ECDSA)
            gnutls_pubkey_export_ecc_raw(chain_.front().pubkey, &curve, nullptr, nullptr);
        const char* kind = algorithm == GNUTLS_PK_ECDSA           ? "EC"
                           : algorithm == GNUTLS_PK_RSA           ? "RSA"
                           : algorithm == GNUTLS_PK_RSA_PSS       ? "RSA-PSS"
                           : algorithm == GNUTLS_PK_EDDSA_ED25519 ? "ED25519"
                           : algorithm == GNUTLS_PK_EDDSA_ED448   ? "ED448"
                                                                  : "";
        const char* curve_name = curve == GNUTLS_ECC_CURVE_SECP256R1   ? "secp256r1"
                                 : curve == GNUTLS_ECC_CURVE_SECP384R1 ? "secp384r1"
                                 : curve == GNUTLS_ECC_CURVE_SECP521R1 ? "secp521r1"
                                                                       : "";
        c.signature_schemes = tls::signature_schemes_for_key(kind, curve_name);
        return c;
    }

    gnutls_pcert_st* chain() noexcept { return chain_.data(); }
    unsigned length() const noexcept { return static_cast<unsigned>(chain_.size()); }
    gnutls_privkey_t key() const noexcept { return key_.get(); }

private:
    std::vector<gnutls_pcert_st> chain_;
    std::vector<std::string> issuers_;
    privkey_ptr key_;
};

// A credentials' candidates and selector.
struct certificate_candidates {
    std::vector<std::unique_ptr<loaded_certificate>> loaded;
    std::vector<certificate_candidate> described; // what the selector is shown, same order
    certificate_selector select;

    bool enabled() const noexcept { return !loaded.empty() || static_cast<bool>(select); }
};

// A client connection's choice: where its failure is kept for the provider to report.
struct certificate_chooser {
    const certificate_candidates* candidates = nullptr;
    std::string server_name;
    bool failed = false;
    std::string why;
};

// The IANA name of a GnuTLS signature algorithm, or an empty view.
inline std::string_view signature_scheme_of(gnutls_sign_algorithm_t algorithm) noexcept {
    switch (algorithm) {
    case GNUTLS_SIGN_RSA_SHA1:
        return tls::signature_scheme_name(0x0201);
    case GNUTLS_SIGN_ECDSA_SHA1:
        return tls::signature_scheme_name(0x0203);
    case GNUTLS_SIGN_RSA_SHA256:
        return tls::signature_scheme_name(0x0401);
    case GNUTLS_SIGN_RSA_SHA384:
        return tls::signature_scheme_name(0x0501);
    case GNUTLS_SIGN_RSA_SHA512:
        return tls::signature_scheme_name(0x0601);
    case GNUTLS_SIGN_ECDSA_SHA256:
    case GNUTLS_SIGN_ECDSA_SECP256R1_SHA256:
        return tls::signature_scheme_name(0x0403);
    case GNUTLS_SIGN_ECDSA_SHA384:
    case GNUTLS_SIGN_ECDSA_SECP384R1_SHA384:
        return tls::signature_scheme_name(0x0503);
    case GNUTLS_SIGN_ECDSA_SHA512:
    case GNUTLS_SIGN_ECDSA_SECP521R1_SHA512:
        return tls::signature_scheme_name(0x0603);
    case GNUTLS_SIGN_RSA_PSS_RSAE_SHA256:
        return tls::signature_scheme_name(0x0804);
    case GNUTLS_SIGN_RSA_PSS_RSAE_SHA384:
        return tls::signature_scheme_name(0x0805);
    case GNUTLS_SIGN_RSA_PSS_RSAE_SHA512:
        return tls::signature_scheme_name(0x0806);
    case GNUTLS_SIGN_EDDSA_ED25519:
        return tls::signature_scheme_name(0x0807);
    case GNUTLS_SIGN_EDDSA_ED448:
        return tls::signature_scheme_name(0x0808);
    case GNUTLS_SIGN_RSA_PSS_SHA256:
        return tls::signature_scheme_name(0x0809);
    case GNUTLS_SIGN_RSA_PSS_SHA384:
        return tls::signature_scheme_name(0x080a);
    case GNUTLS_SIGN_RSA_PSS_SHA512:
        return tls::signature_scheme_name(0x080b);
    default:
        return {};
    }
}

// What the server's CertificateRequest asked for, as GnuTLS's retrieve function is told.
inline certificate_request_info question(gnutls_session_t session, const gnutls_datum_t* names,
                                         int count, const std::string& server_name) {
    certificate_request_info r;
    for (int i = 0; i < count; ++i)
        r.authorities.push_back(
            dn_text([&](gnutls_datum_t* d) { return gnutls_x509_rdn_get2(&names[i], d, 0); }));
    gnutls_sign_algorithm_t algorithm{};
    for (unsigned i = 0; gnutls_sign_algorithm_get_requested(session, i, &algorithm) == 0; ++i)
        if (const auto name = signature_scheme_of(algorithm); !name.empty())
            r.signature_schemes.emplace_back(name);
    r.server_name = server_name;
    return r;
}

} // namespace secctx::gnutls::detail
