// Client certificates on demand (Schannel's SEC_I_INCOMPLETE_CREDENTIALS): a client holding
// several certificates, or none, learns that the server asks for one, with the server's
// acceptable CA names and signature schemes, and chooses one of them or none, at once or later.
//
//   client_config::certificates     the candidates (chain and key each)
//   client_config::select_certificate
//                                   a certificate_selector: called when the server asks; returns
//                                   certificate_choice::use(i), none() or later(). Empty: the
//                                   first_acceptable() choice.
//   later()                         step() returns want_certificate until the choice is given
//                                   through the handshake's pending_certificate() (any thread,
//                                   before the deadline). Only engines with the
//                                   deferred_certificate_choice capability can wait
//                                   (docs/engines.md); elsewhere pending_certificate() does not
//                                   compile and a later() fails the handshake.
//
// A client that sends none to a server that requires one fails as without certificates: the
// server's alert, peer_rejected_certificate or client_certificate_required.
#pragma once

#include "secctx/attributes.hpp"
#include "secctx/detail/decision_slot.hpp"
#include "secctx/pending_decision.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace secctx {

// What the server's CertificateRequest says.
struct certificate_request_info {
    // The distinguished names of the CAs whose certificates it accepts (RFC 2253 text, as
    // certificate_info::issuer), in its order. Empty: it names none (any may do).
    std::vector<std::string> authorities;
    // The signature schemes it accepts for the client's CertificateVerify, by their IANA names
    // ("ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256", ...), most preferred first.
    std::vector<std::string> signature_schemes;
    std::string server_name; // the name this client connected to
};

// One of client_config::certificates, as loaded.
struct certificate_candidate {
    certificate_info leaf;
    std::vector<std::string> issuers; // the issuer of each certificate of its chain, leaf first
    // What its key can sign a CertificateVerify with (IANA names).
    std::vector<std::string> signature_schemes;
};

class certificate_choice {
public:
    enum class kind { use, none, later };

    // The candidate at `index` in client_config::certificates.
    static certificate_choice use(std::size_t index) { return {kind::use, index}; }
    // No certificate: the client sends an empty Certificate message.
    static certificate_choice none() { return {kind::none, 0}; }
    // Not now: the choice is given later through the handshake's pending_certificate().
    static certificate_choice later() { return {kind::later, 0}; }

    kind what() const noexcept { return kind_; }
    std::size_t index() const noexcept { return index_; }

private:
    certificate_choice(kind k, std::size_t index) : kind_(k), index_(index) {}

    kind kind_;
    std::size_t index_;
};

using certificate_selector = std::function<certificate_choice(
    const certificate_request_info&, const std::vector<certificate_candidate>&)>;

// The default: the first candidate issued under a name the server accepts (any, when it names
// none) whose key signs with a scheme the server accepts (any, when it names none); none when no
// candidate fits, rather than one the server would refuse.
inline certificate_choice first_acceptable(const certificate_request_info& request,
                                           const std::vector<certificate_candidate>& candidates) {
    const auto among = [](const std::vector<std::string>& wanted,
                          const std::vector<std::string>& have) {
        return wanted.empty() || std::any_of(have.begin(), have.end(), [&](const auto& h) {
                   return std::find(wanted.begin(), wanted.end(), h) != wanted.end();
               });
    };
    for (std::size_t i = 0; i < candidates.size(); ++i)
        if (among(request.authorities, candidates[i].issuers) &&
            among(request.signature_schemes, candidates[i].signature_schemes))
            return certificate_choice::use(i);
    return certificate_choice::none();
}

namespace detail {
using certificate_slot = decision_slot<certificate_request_info, certificate_choice>;
} // namespace detail

using pending_certificate = pending_decision<certificate_request_info, certificate_choice>;

} // namespace secctx
