// OCSP stapling in GnuTLS, both ways. A server reads the response it staples (read_staple) and
// hands it over from GnuTLS's status request function. A client's stapled response is checked by
// gnutls_certificate_verify_peers itself (its signature by the issuer or a delegated responder,
// that it is about the leaf, a revoked status, a passed nextUpdate); what GnuTLS leaves alone
// (a thisUpdate in the future, a status of "unknown", and no response at all where one is
// required) check_staple adds, so that both engines pass and fail the same responses.
#pragma once

#include "secctx/detail/stapled_response.hpp"
#include "secctx/tls/config.hpp"
#include "secctx/tls/gnutls/detail/handles.hpp"

#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>

#include <algorithm>
#include <ctime>
#include <string>

namespace secctx::gnutls::detail {

using ocsp_resp_ptr = owner<gnutls_ocsp_resp_t, gnutls_ocsp_resp_deinit>;

// How far a peer's clock may be off: OpenSSL's own `openssl ocsp` default, for both engines.
inline constexpr std::time_t ocsp_clock_leeway_seconds = 300;

// A DER OCSP response that GnuTLS parsed and that carries single responses, or what is wrong.
inline ocsp_resp_ptr successful_response(const gnutls_datum_t& der, std::string& why) {
    gnutls_ocsp_resp_t raw = nullptr;
    if (gnutls_ocsp_resp_init(&raw) < 0) {
        why = "out of memory";
        return nullptr;
    }
    ocsp_resp_ptr response(raw);
    if (gnutls_ocsp_resp_import(raw, &der) < 0) {
        why = "it does not parse as an OCSP response";
        return nullptr;
    }
    if (const int status = gnutls_ocsp_resp_get_status(raw);
        status != GNUTLS_OCSP_RESP_SUCCESSFUL) {
        why = "the responder answered with error " + std::to_string(status);
        return nullptr;
    }
    return response;
}

struct single_response {
    unsigned status = GNUTLS_OCSP_CERT_UNKNOWN;
    std::time_t this_update = -1;
    std::time_t next_update = -1; // -1: none given
};

// The single response at `index`; false past the last.
inline bool single_at(gnutls_ocsp_resp_t response, unsigned index, single_response& out,
                      gnutls_datum_t* serial) {
    std::time_t revoked_at = 0;
    unsigned reason = 0;
    return gnutls_ocsp_resp_get_single(response, index, nullptr, nullptr, nullptr, serial,
                                       &out.status, &out.this_update, &out.next_update, &revoked_at,
                                       &reason) >= 0;
}

// A server's: whether the DER response `der` may be stapled for the certificate whose serial
// number is `serial`, and until when. Its signature is the client's to check.
inline secctx::detail::staple_facts read_staple(const std::string& der, const std::string& serial) {
    secctx::detail::staple_facts facts;
    const auto response = successful_response(borrow(der.data(), der.size()), facts.problem);
    if (!response)
        return facts;
    single_response single;
    gnutls_datum_t number{};
    for (unsigned i = 0; single_at(response.get(), i, single, &number); ++i) {
        const bool ours =
            number.size == serial.size() &&
            std::equal(serial.begin(), serial.end(), number.data,
                       [](char a, unsigned char b) { return static_cast<unsigned char>(a) == b; });
        gnutls_free(number.data);
        number = {};
        if (!ours)
            continue;
        if (single.next_update != -1)
            facts.next_update = single.next_update;
        return facts;
    }
    facts.problem = "it is not about the server's certificate (no serial number matches)";
    return facts;
}

// A client's, once gnutls_certificate_verify_peers found the chain and any stapled response
// good: an empty string, or what fails the staple under `policy`.
inline std::string check_staple(gnutls_session_t session, ocsp_stapling policy) {
    gnutls_datum_t der{};
    if (gnutls_ocsp_status_request_get(session, &der) < 0)
        return policy == ocsp_stapling::require ? "the server stapled none" : std::string();
    std::string why;
    const auto response = successful_response(der, why);
    if (!response)
        return why;
    unsigned count = 0;
    const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
    gnutls_x509_crt_t raw = nullptr;
    if (count == 0 || gnutls_x509_crt_init(&raw) < 0)
        return "no certificate to check it against";
    const x509_crt_ptr leaf(raw);
    if (gnutls_x509_crt_import(raw, &chain[0], GNUTLS_X509_FMT_DER) < 0)
        return "the server's certificate does not parse";
    single_response single;
    for (unsigned i = 0; single_at(response.get(), i, single, nullptr); ++i) {
        if (gnutls_ocsp_resp_check_crt(response.get(), i, raw) != 0)
            continue;
        if (single.this_update > std::time(nullptr) + ocsp_clock_leeway_seconds)
            return "it is not yet valid (thisUpdate)";
        if (single.status != GNUTLS_OCSP_CERT_GOOD && policy == ocsp_stapling::require)
            return "the responder does not know the server's certificate";
        return {};
    }
    return "it is not about the server's certificate";
}

} // namespace secctx::gnutls::detail
