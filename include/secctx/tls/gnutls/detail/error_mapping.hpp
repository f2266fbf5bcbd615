// The one place that classifies what GnuTLS reports: from a failed call's return code, the alert
// the peer sent and the certificate verification status to the secctx error a user can act on,
// the same one the OpenSSL provider gives for the same failure. GnuTLS's own words stay available
// through provider::error_detail().
#pragma once

#include "secctx/error.hpp"
#include "secctx/tls/alert.hpp"

#include <gnutls/gnutls.h>

#include <cstdint>

namespace secctx::gnutls::detail {

inline errc map_verify_status(unsigned status) noexcept {
    if (status & GNUTLS_CERT_EXPIRED)
        return errc::certificate_expired;
    if (status & GNUTLS_CERT_NOT_ACTIVATED)
        return errc::certificate_not_yet_valid;
    if (status & GNUTLS_CERT_REVOKED)
        return errc::certificate_revoked;
    if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
        return errc::host_name_mismatch;
    if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
        return errc::certificate_untrusted;
    // A stapled OCSP response that is badly signed, about another certificate or out of date,
    // or none where the certificate demands one (TLS feature "must staple").
    if (status & (GNUTLS_CERT_INVALID_OCSP_STATUS | GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED |
                  GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE | GNUTLS_CERT_MISSING_OCSP_STATUS))
        return errc::revocation_unknown;
    return errc::certificate_invalid;
}

inline errc map_error(int code, gnutls_session_t session, unsigned verify_status) noexcept {
    switch (code) {
    case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
    case GNUTLS_E_CERTIFICATE_ERROR:
        return map_verify_status(verify_status);
    case GNUTLS_E_FATAL_ALERT_RECEIVED:
        return tls::error_for_received_alert(static_cast<std::uint8_t>(gnutls_alert_get(session)));
    case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
        return errc::no_shared_version;
    case GNUTLS_E_NO_CIPHER_SUITES:
    case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
    case GNUTLS_E_NO_COMMON_KEY_SHARE:
    case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
    case GNUTLS_E_ECC_NO_SUPPORTED_CURVES:
    case GNUTLS_E_UNWANTED_ALGORITHM:
        return errc::no_shared_cipher;
    case GNUTLS_E_NO_APPLICATION_PROTOCOL:
        return errc::no_application_protocol;
    case GNUTLS_E_NO_CERTIFICATE_FOUND:
    case GNUTLS_E_CERTIFICATE_REQUIRED:
        return errc::client_certificate_required;
    case GNUTLS_E_RECORD_OVERFLOW:
    case GNUTLS_E_LARGE_PACKET:
        return errc::record_too_large;
    case GNUTLS_E_HANDSHAKE_TOO_LARGE:
        return errc::handshake_too_large;
    case GNUTLS_E_MEMORY_ERROR:
        return errc::out_of_memory;
    case GNUTLS_E_PREMATURE_TERMINATION:
        return errc::peer_closed_during_handshake;
    case GNUTLS_E_REHANDSHAKE:
        return errc::renegotiation_refused;
    default:
        return errc::protocol_error;
    }
}

} // namespace secctx::gnutls::detail
