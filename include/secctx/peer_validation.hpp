// Manual validation of the peer's certificate (Schannel's SCH_CRED_MANUAL_CRED_VALIDATION), in the
// handshake loop: the application judges the chain the peer sent, after the engine's own checks or
// instead of them, and answers at once or later, from any thread, while the loop waits.
//
//   peer_validator   the application's judge, set in tls_config::validation. Called on the thread
//                    running the handshake, once per handshake that receives a certificate, with
//                    a validation_request. Returns verdict::accept(), verdict::reject(reason,
//                    why) or verdict::later(); an exception it throws rejects the certificate.
//   verdict::later() step() returns want_verdict; the application gives the verdict through the
//                    handshake's pending_verdict (any thread, any time before the deadline) and
//                    steps again. Only on providers with the deferred_verdicts capability
//                    (tls/provider.hpp); docs/engines.md says which.
//   pending_verdict  a handle on the verdict a handshake waits for (pending_decision.hpp).
#pragma once

#include "secctx/attributes.hpp"
#include "secctx/detail/decision_slot.hpp"
#include "secctx/error.hpp"
#include "secctx/pending_decision.hpp"

#include <functional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace secctx {

// Who has the last word on the peer's certificate once a validator is set.
enum class validation_mode {
    // The engine checks first (chain to an anchor, dates, host name, revocation when asked); the
    // validator is asked only about chains the engine accepted, and may still reject them.
    after_engine,
    // The validator decides alone. It sees the engine's verdict and may accept a chain the engine
    // rejected (pinning, a private PKI): the attributes then say verified_by::application.
    instead_of_engine,
};

// What the validator is asked to judge.
struct validation_request {
    // The certificates the peer sent, its own first (DER and parsed fields).
    std::vector<certificate_info> chain;
    // The engine's verdict: empty if it found the chain good, else why not (certificate_untrusted,
    // certificate_expired, host_name_mismatch, certificate_revoked...).
    std::error_code engine_verdict;
    // The engine's own words for engine_verdict.
    std::string engine_detail;
    // A client: the name the server's certificate was checked against. A server: the name the
    // client asked for (SNI), empty if none.
    std::string server_name;
};

class verdict {
public:
    enum class kind { accept, reject, later };

    static verdict accept() noexcept { return verdict(kind::accept, {}, {}); }
    // `reason` is what the handshake fails with (certificate_rejected unless the application
    // knows better: certificate_revoked, certificate_untrusted...); it also chooses the alert the
    // peer receives (tls::alert_for_rejection). `why` is kept for error_detail().
    static verdict reject(errc reason = errc::certificate_rejected, std::string why = {}) {
        return verdict(kind::reject, reason, std::move(why));
    }
    static verdict later() noexcept { return verdict(kind::later, {}, {}); }

    kind what() const noexcept { return kind_; }
    bool accepted() const noexcept { return kind_ == kind::accept; }
    errc reason() const noexcept { return reason_; }
    const std::string& why() const noexcept { return why_; }

private:
    verdict(kind k, errc reason, std::string why)
        : kind_(k), reason_(reason), why_(std::move(why)) {}

    kind kind_;
    errc reason_;
    std::string why_;
};

using peer_validator = std::function<verdict(const validation_request&)>;

struct peer_validation {
    peer_validator validator; // empty: the engine alone decides, as without this
    validation_mode mode = validation_mode::after_engine;

    bool enabled() const noexcept { return static_cast<bool>(validator); }
};

namespace detail {
using verdict_slot = decision_slot<validation_request, verdict>;
} // namespace detail

using pending_verdict = pending_decision<validation_request, verdict>;

} // namespace secctx
