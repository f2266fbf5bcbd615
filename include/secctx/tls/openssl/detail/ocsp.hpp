// OCSP stapling in OpenSSL, both ways. A server reads the response it staples (read_staple); a
// client that asked for one checks it in the status callback (check_staple), which OpenSSL calls
// once the chain is verified, in TLS 1.2 after the CertificateStatus message and in TLS 1.3 after
// the Certificate message that carries it. OpenSSL checks nothing of a stapled response itself.
#pragma once

#include "secctx/detail/stapled_response.hpp"
#include "secctx/error.hpp"
#include "secctx/tls/config.hpp"
#include "secctx/tls/openssl/detail/handles.hpp"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>

#include <ctime>
#include <optional>
#include <string>

namespace secctx::openssl::detail {

// How far a peer's clock may be off: OpenSSL's own `openssl ocsp` default.
inline constexpr long ocsp_clock_leeway_seconds = 300;

inline std::optional<std::time_t> to_time(const ASN1_GENERALIZEDTIME* t) {
    std::tm parts{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &parts) != 1)
        return std::nullopt;
    return timegm(&parts);
}

// The basic response inside a DER OCSP response, or what is wrong with it.
inline ocsp_basicresp_ptr basic_response(const unsigned char* der, long size, std::string& why) {
    const unsigned char* p = der;
    ocsp_response_ptr response(d2i_OCSP_RESPONSE(nullptr, &p, size));
    if (!response || p != der + size) {
        why = "it does not parse as an OCSP response";
        return nullptr;
    }
    if (const int status = OCSP_response_status(response.get());
        status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        why = std::string("the responder answered \"") + OCSP_response_status_str(status) + "\"";
        return nullptr;
    }
    ocsp_basicresp_ptr basic(OCSP_response_get1_basic(response.get()));
    if (!basic)
        why = "it is not a basic OCSP response";
    return basic;
}

// The single response about `subject` (issued by `issuer`), whatever hash its certificate ID
// uses, or null.
inline OCSP_SINGLERESP* response_about(OCSP_BASICRESP* basic, X509* subject, X509* issuer) {
    for (int i = 0; i < OCSP_resp_count(basic); ++i) {
        OCSP_SINGLERESP* single = OCSP_resp_get0(basic, i);
        auto* id = const_cast<OCSP_CERTID*>(OCSP_SINGLERESP_get0_id(single));
        ASN1_OBJECT* hash = nullptr;
        if (OCSP_id_get0_info(nullptr, &hash, nullptr, nullptr, id) != 1)
            continue;
        const EVP_MD* md = EVP_get_digestbyobj(hash);
        if (md == nullptr)
            continue;
        ocsp_certid_ptr mine(OCSP_cert_to_id(md, subject, issuer));
        if (mine && OCSP_id_cmp(mine.get(), id) == 0)
            return single;
    }
    return nullptr;
}

// A server's: whether the DER response `der` may be stapled for `leaf`, and until when. Its
// issuer may not be in the server's chain, so the response is matched by serial number; its
// signature is the client's to check.
inline secctx::detail::staple_facts read_staple(const std::string& der, X509* leaf) {
    secctx::detail::staple_facts facts;
    ERR_set_mark();
    const auto basic = basic_response(reinterpret_cast<const unsigned char*>(der.data()),
                                      static_cast<long>(der.size()), facts.problem);
    ERR_pop_to_mark();
    if (!basic)
        return facts;
    for (int i = 0; i < OCSP_resp_count(basic.get()); ++i) {
        OCSP_SINGLERESP* single = OCSP_resp_get0(basic.get(), i);
        ASN1_INTEGER* serial = nullptr;
        auto* id = const_cast<OCSP_CERTID*>(OCSP_SINGLERESP_get0_id(single));
        if (OCSP_id_get0_info(nullptr, nullptr, nullptr, &serial, id) != 1 ||
            ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(leaf)) != 0)
            continue;
        int reason = 0;
        ASN1_GENERALIZEDTIME* revoked_at = nullptr;
        ASN1_GENERALIZEDTIME* this_update = nullptr;
        ASN1_GENERALIZEDTIME* next_update = nullptr;
        OCSP_single_get0_status(single, &reason, &revoked_at, &this_update, &next_update);
        if (next_update != nullptr) {
            facts.next_update = to_time(next_update);
            if (!facts.next_update)
                facts.problem = "its nextUpdate is not a valid time";
        }
        return facts;
    }
    facts.problem = "it is not about the server's certificate (no serial number matches)";
    return facts;
}

// A client connection's check of the stapled response, kept where the status callback finds it
// (the SSL's ex_data) with the failure it found, for the provider to report.
struct staple_check {
    ocsp_stapling policy = ocsp_stapling::off;
    bool failed = false;
    errc reason = errc::revocation_unknown;
    std::string why;

    static int index() noexcept {
        static const int i = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
        return i;
    }

    static staple_check* of(const SSL* ssl) noexcept {
        return static_cast<staple_check*>(SSL_get_ex_data(ssl, index()));
    }

    int fail(errc r, const std::string& words) {
        failed = true;
        reason = r;
        why = "stapled OCSP response: " + words;
        return 0;
    }

    // 1: the handshake goes on; 0: it fails (OpenSSL sends bad_certificate_status_response, the
    // alert RFC 6066 8 prescribes for an unsatisfactory response).
    int check(SSL* ssl) {
        if (SSL_session_reused(ssl) == 1)
            return 1; // no certificate: it was checked when the session was made
        const unsigned char* der = nullptr;
        const long size = SSL_get_tlsext_status_ocsp_resp(ssl, &der);
        if (der == nullptr || size <= 0)
            return policy == ocsp_stapling::require
                       ? fail(errc::revocation_unknown, "the server stapled none")
                       : 1;
        std::string why;
        const auto basic = basic_response(der, size, why);
        if (!basic)
            return fail(errc::revocation_unknown, why);
        // The verified chain: the leaf, its issuers and the trust anchor, among which the
        // responder (the issuer, or one it delegated to by the OCSP-signing usage) is found.
        STACK_OF(X509)* chain = SSL_get0_verified_chain(ssl);
        X509* leaf = SSL_get0_peer_certificate(ssl);
        if (chain == nullptr || leaf == nullptr || sk_X509_num(chain) < 1)
            return fail(errc::revocation_unknown, "no verified chain to check it against");
        X509* issuer = sk_X509_num(chain) > 1 ? sk_X509_value(chain, 1) : leaf;
        X509_STORE* anchors = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl));
        if (OCSP_basic_verify(basic.get(), chain, anchors, 0) <= 0)
            return fail(errc::revocation_unknown, "it is not signed by the certificate's issuer "
                                                  "or by a responder the issuer delegated to");
        OCSP_SINGLERESP* single = response_about(basic.get(), leaf, issuer);
        if (single == nullptr)
            return fail(errc::revocation_unknown, "it is not about the server's certificate");
        int reason = 0;
        ASN1_GENERALIZEDTIME* revoked_at = nullptr;
        ASN1_GENERALIZEDTIME* this_update = nullptr;
        ASN1_GENERALIZEDTIME* next_update = nullptr;
        const int status =
            OCSP_single_get0_status(single, &reason, &revoked_at, &this_update, &next_update);
        const std::time_t now = std::time(nullptr);
        const auto from = to_time(this_update);
        if (!from || *from > now + ocsp_clock_leeway_seconds)
            return fail(errc::revocation_unknown, "it is not yet valid (thisUpdate)");
        if (next_update != nullptr) {
            const auto until = to_time(next_update);
            if (!until || *until < now - ocsp_clock_leeway_seconds)
                return fail(errc::revocation_unknown, "it has expired (nextUpdate)");
        }
        if (status == V_OCSP_CERTSTATUS_REVOKED)
            return fail(errc::certificate_revoked, "the server's certificate is revoked");
        if (status != V_OCSP_CERTSTATUS_GOOD && policy == ocsp_stapling::require)
            return fail(errc::revocation_unknown,
                        "the responder does not know the server's certificate");
        return 1;
    }
};

// SSL_CTX_set_tlsext_status_cb's callback on a client that asks for a staple.
inline int check_staple(SSL* ssl, void*) {
    staple_check* c = staple_check::of(ssl);
    if (c == nullptr)
        return 1;
    ERR_set_mark(); // OpenSSL's reasons for what the check refused are not the handshake's
    int result = -1;
    try {
        result = c->check(ssl);
    } catch (...) { // nothing may unwind through OpenSSL; -1 is internal_error
    }
    ERR_pop_to_mark();
    return result;
}

} // namespace secctx::openssl::detail
