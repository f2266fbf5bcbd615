// The one place that classifies what OpenSSL reports: from a failed call's SSL_get_error reason,
// its packed error queue and the certificate verification result to the secctx error a user can
// act on. OpenSSL's own reason string stays available through provider::error_detail().
#pragma once

#include "secctx/error.hpp"
#include "secctx/tls/alert.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cstdint>

namespace secctx::openssl::detail {

// Whether a verification result says only that no usable CRL was found for a certificate: what
// revocation_lists::require_crl decides about.
inline bool crl_unavailable(long result) noexcept {
    switch (result) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
        return true;
    default:
        return false;
    }
}

inline errc map_verify_result(long result) noexcept {
    if (crl_unavailable(result))
        return errc::revocation_unknown;
    switch (result) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return errc::certificate_expired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return errc::certificate_not_yet_valid;
    case X509_V_ERR_CERT_REVOKED:
        return errc::certificate_revoked;

    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return errc::host_name_mismatch;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
        return errc::certificate_untrusted;
    default:
        return errc::certificate_invalid;
    }
}

inline errc map_ssl_reason(int reason, long verify_result) noexcept {
    if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256)
        return tls::error_for_received_alert(
            static_cast<std::uint8_t>(reason - SSL_AD_REASON_OFFSET));
    switch (reason) {
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
        return map_verify_result(verify_result);
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_WRONG_SSL_VERSION:
        return errc::not_tls;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
        return errc::no_shared_version;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
        return errc::no_shared_cipher;
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        return errc::client_certificate_required;
    case SSL_R_NO_APPLICATION_PROTOCOL:
        return errc::no_application_protocol;
    case SSL_R_ENCRYPTED_LENGTH_TOO_LONG:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_DATA_LENGTH_TOO_LONG:
        return errc::record_too_large;
    case SSL_R_EXCESSIVE_MESSAGE_SIZE:
        return errc::handshake_too_large;
    default:
        return errc::protocol_error;
    }
}

inline errc map_error(unsigned long packed, long verify_result) noexcept {
    if (packed == 0)
        return errc::protocol_error;
    if (ERR_GET_REASON(packed) == ERR_R_MALLOC_FAILURE)
        return errc::out_of_memory;
    // A common reason (ERR_R_INTERNAL_ERROR, ERR_R_EVP_LIB...) carries flag bits above any
    // library reason, so it is told apart first: it must not pass for a received alert.
    if (ERR_GET_LIB(packed) == ERR_LIB_SSL && ERR_GET_RFLAGS(packed) == 0)
        return map_ssl_reason(ERR_GET_REASON(packed), verify_result);
    return errc::protocol_error;
}

// After a failed engine call on `ssl`: drains the thread's error queue into `engine_error` (the
// first SSL-library error is the cause; later entries are its consequences), keeps the
// verification result when the peer was verified, and classifies. `write_error`, when set, is
// why the output could not take the engine's bytes, and wins.
inline std::error_code classify_failure(const SSL* ssl, int reason, std::error_code write_error,
                                        unsigned long& engine_error, long& verify_result) noexcept {
    // Without verification OpenSSL still records what it found wrong with the chain; it explains
    // nothing then, and must not be blamed in the error detail.
    if (SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE)
        verify_result = SSL_get_verify_result(ssl);
    unsigned long first = 0;
    while (const unsigned long packed = ERR_get_error()) {
        if (first == 0)
            first = packed;
        if (engine_error == 0 && ERR_GET_LIB(packed) == ERR_LIB_SSL)
            engine_error = packed;
    }
    if (engine_error == 0)
        engine_error = first;
    if (write_error)
        return write_error;
    if (reason == SSL_ERROR_ZERO_RETURN)
        return errc::peer_closed_during_handshake;
    return map_error(engine_error, verify_result);
}

} // namespace secctx::openssl::detail
