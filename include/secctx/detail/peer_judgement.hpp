// One connection's judgement of its peer's certificate, as any provider keeps it: the engine's
// verdict, the validator's, and the slot a deferred verdict comes through (peer_validation.hpp).
// On the heap, owned by the provider, so that an engine's callbacks find it where it was when
// the provider moves.
#pragma once

#include "secctx/attributes.hpp"
#include "secctx/detail/verdict_slot.hpp"
#include "secctx/error.hpp"
#include "secctx/peer_validation.hpp"

#include <memory>
#include <string>
#include <system_error>

namespace secctx::detail {

struct peer_judgement {
    std::shared_ptr<verdict_slot> slot = std::make_shared<verdict_slot>();
    const peer_validation* config = nullptr; // the credentials' (they outlive the connection)
    bool engine_checked = false;             // kept across a handshake called again
    std::error_code engine_verdict;          // empty: the engine found the chain good
    std::string engine_detail;
    bool rejected = false;
    errc rejected_for = errc::certificate_rejected;
    std::string why;
    verifier verified_by = verifier::none;

    // Whether the engine's rejection ends the handshake without asking the validator.
    bool engine_has_the_last_word() const noexcept {
        return engine_verdict && config->mode == validation_mode::after_engine;
    }

    verdict ask(const validation_request& request) const {
        try {
            return config->validator(request);
        } catch (...) {
            return verdict::reject(errc::certificate_rejected, "the validator threw an exception");
        }
    }

    // Records the verdict; true if it accepts.
    bool decide(const verdict& v) {
        if (v.accepted()) {
            verified_by = engine_verdict ? verifier::application : verifier::engine;
            return true;
        }
        rejected = true;
        rejected_for = v.reason();
        why = v.why();
        return false;
    }

    std::string rejection_detail() const {
        return "the application's validator rejected the certificate (" +
               make_error_code(rejected_for).message() + ")" + (why.empty() ? "" : ": " + why);
    }
};

} // namespace secctx::detail
