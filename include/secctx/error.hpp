// Every failure secctx reports is a std::error_code in this category, or a transport's own
// std::system_category code (for example ECONNRESET) passed through unchanged. The messages are
// written for the person who has to act on them; docs/errors.md lists each with its cause.
#pragma once

#include <string>
#include <system_error>
#include <type_traits>

namespace secctx {

enum class errc {
    // Transport results. would_block is the only one that is not a failure: a non-blocking
    // transport cannot move bytes now, and step() turns it into want_read / want_write.
    would_block = 1,
    end_of_stream, // from a secure channel: the peer's close_notify, a clean end

    // Ends of stream that are not clean: never to be taken for the end of the data.
    truncated,            // EOF at a record boundary without close_notify
    truncated_mid_record, // EOF inside a record

    // The peer and the clock.
    peer_closed_during_handshake,
    timed_out,

    // Limits that protect a server (see handshake_limits).
    handshake_too_large,
    too_many_flights,
    token_too_large,
    record_too_large,
    out_of_memory,

    // Certificates and names.
    certificate_untrusted,
    certificate_expired,
    certificate_not_yet_valid,
    certificate_revoked,
    certificate_invalid,
    certificate_rejected, // by the application's validator (peer_validation.hpp)
    revocation_unknown,
    identity_unmapped, // a server's client_identity, required, mapped the certificate to none
    host_name_mismatch,
    client_certificate_required,
    peer_rejected_certificate,

    // Negotiation.
    no_shared_version,
    no_shared_cipher,
    no_application_protocol,
    not_tls,
    peer_alert,
    protocol_error,

    // The caller.
    invalid_configuration,
    invalid_credentials,
    server_name_required,
    invalid_state,
    renegotiation_refused,
    // A client's certificate selector (certificate_selection.hpp) chose a candidate that does not
    // exist, threw, or deferred on an engine that cannot wait for its choice.
    certificate_selection_failed,
};

namespace detail {

class error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "secctx"; }

    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::would_block:
            return "the transport cannot move bytes without blocking";
        case errc::end_of_stream:
            return "the end of the stream";
        case errc::truncated:
            return "the peer closed the connection without close_notify: the data may be "
                   "truncated";
        case errc::truncated_mid_record:
            return "the peer closed the connection in the middle of a TLS record";
        case errc::peer_closed_during_handshake:
            return "the peer closed the connection before the handshake finished";
        case errc::timed_out:
            return "the deadline passed";
        case errc::handshake_too_large:
            return "the peer sent more handshake bytes than the limit allows";
        case errc::too_many_flights:
            return "the handshake took more flights than the limit allows";
        case errc::token_too_large:
            return "a token or record does not fit in the buffer policy's capacity";
        case errc::record_too_large:
            return "the peer sent a TLS record larger than the protocol allows";
        case errc::out_of_memory:
            return "a buffer could not be allocated";
        case errc::certificate_untrusted:
            return "the peer's certificate does not chain to a trusted authority";
        case errc::certificate_expired:
            return "the peer's certificate has expired";
        case errc::certificate_not_yet_valid:
            return "the peer's certificate is not yet valid";
        case errc::certificate_revoked:
            return "the peer's certificate has been revoked";
        case errc::certificate_invalid:
            return "the peer's certificate failed verification";
        case errc::certificate_rejected:
            return "the application rejected the peer's certificate";
        case errc::revocation_unknown:
            return "whether the peer's certificate is revoked could not be established";
        case errc::identity_unmapped:
            return "no identity is mapped to the client's certificate";
        case errc::host_name_mismatch:
            return "the server's certificate does not match the requested host name";
        case errc::client_certificate_required:
            return "the server requires a client certificate and none was sent";
        case errc::peer_rejected_certificate:
            return "the peer rejected our certificate";
        case errc::no_shared_version:
            return "client and server have no TLS version in common";
        case errc::no_shared_cipher:
            return "client and server have no cipher suite in common";
        case errc::no_application_protocol:
            return "client and server have no application protocol (ALPN) in common";
        case errc::not_tls:
            return "the peer does not speak TLS";
        case errc::peer_alert:
            return "the peer aborted the connection with an alert";
        case errc::protocol_error:
            return "the peer violated the TLS protocol";
        case errc::invalid_configuration:
            return "the TLS configuration is invalid";
        case errc::invalid_credentials:
            return "the certificate, key or trust anchors could not be loaded";
        case errc::server_name_required:
            return "a server name is required to verify the server's certificate";
        case errc::invalid_state:
            return "the operation is not valid in the current state";
        case errc::certificate_selection_failed:
            return "the client's certificate selector failed";
        case errc::renegotiation_refused:
            return "the peer tried to renegotiate; secctx refuses renegotiation";
        }
        return "unknown secctx error";
    }
};

} // namespace detail

inline const std::error_category& error_category() noexcept {
    static const detail::error_category category;
    return category;
}

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace secctx

template <>
struct std::is_error_code_enum<secctx::errc> : std::true_type {};
