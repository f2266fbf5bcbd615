// TLS alerts, for providers of any engine: the descriptions (RFC 8446 6), what a fatal one
// received from the peer means as a secctx error, and the plaintext alert a provider sends when
// its engine cannot.
#pragma once

#include "secctx/error.hpp"
#include "secctx/tls/record_framing.hpp"

#include <cstdint>
#include <cstring>

namespace secctx::tls {

enum class alert_description : std::uint8_t {
    close_notify = 0,
    unexpected_message = 10,
    bad_record_mac = 20,
    record_overflow = 22,
    handshake_failure = 40,
    bad_certificate = 42,
    unsupported_certificate = 43,
    certificate_revoked = 44,
    certificate_expired = 45,
    certificate_unknown = 46,
    illegal_parameter = 47,
    unknown_ca = 48,
    decode_error = 50,
    decrypt_error = 51,
    protocol_version = 70,
    insufficient_security = 71,
    internal_error = 80,
    no_renegotiation = 100,
    unrecognized_name = 112,
    certificate_required = 116,
    no_application_protocol = 120,
};

// What a fatal alert from the peer tells the application, the same whichever engine read it.
inline errc error_for_received_alert(std::uint8_t description) noexcept {
    switch (static_cast<alert_description>(description)) {
    case alert_description::protocol_version:
        return errc::no_shared_version;
    case alert_description::no_application_protocol:
        return errc::no_application_protocol;
    case alert_description::certificate_required:
        return errc::client_certificate_required;
    case alert_description::bad_certificate:
    case alert_description::unsupported_certificate:
    case alert_description::certificate_revoked:
    case alert_description::certificate_expired:
    case alert_description::certificate_unknown:
    case alert_description::unknown_ca:
        return errc::peer_rejected_certificate;
    default:
        return errc::peer_alert;
    }
}

// The alert a certificate rejected for `reason` owes the peer (RFC 8446 6.2), whichever engine
// sends it: the engines' own choices for their own checks, and certificate_unknown ("some other
// issue ... rendering it unacceptable") for the application's reasons.
inline alert_description alert_for_rejection(errc reason) noexcept {
    switch (reason) {
    case errc::certificate_revoked:
        return alert_description::certificate_revoked;
    case errc::certificate_expired:
        return alert_description::certificate_expired;
    case errc::certificate_untrusted:
        return alert_description::unknown_ca;
    case errc::certificate_not_yet_valid:
    case errc::certificate_invalid:
    case errc::host_name_mismatch:
        return alert_description::bad_certificate;
    default:
        return alert_description::certificate_unknown;
    }
}

// Replaces what `output` holds with a fatal alert in a plaintext record, if it fits: a peer reads
// it in any state as long as nothing protected has been sent to it yet. A provider's last resort
// when the engine cannot make the alert, as when its own flight did not fit the output.
template <class Queue>
void replace_with_plaintext_alert(Queue& output, alert_description description) noexcept {
    const std::byte alert[] = {std::byte{21},
                               std::byte{3},
                               std::byte{3},
                               std::byte{0},
                               std::byte{2},
                               std::byte{2},
                               static_cast<std::byte>(description)};
    output.consume(output.size());
    const auto room = output.prepare(sizeof alert);
    if (room.size() < sizeof alert)
        return;
    std::memcpy(room.data(), alert, sizeof alert);
    output.commit(sizeof alert);
}

} // namespace secctx::tls
