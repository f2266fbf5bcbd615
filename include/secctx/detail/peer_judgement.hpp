// One connection's judgement of its peer's certificate, as any provider keeps it: the engine's
// verdict, the validator's, the slot a deferred verdict comes through (peer_validation.hpp) and
// the identity a server's mapping gives the certificate (identity_mapping.hpp).
// On the heap, owned by the provider, so that an engine's callbacks find it where it was when
// the provider moves.
#pragma once

#include "secctx/attributes.hpp"
#include "secctx/error.hpp"
#include "secctx/identity_mapping.hpp"
#include "secctx/peer_validation.hpp"

#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace secctx::detail {

struct peer_judgement {
    std::shared_ptr<verdict_slot> slot = std::make_shared<verdict_slot>();
    // The credentials' (they outlive the connection); null or empty: none.
    const peer_validation* validation = nullptr;
    const identity_mapping* mapping = nullptr;
    validation_request request;     // what the validator is asked, and the mapper maps
    bool engine_checked = false;    // kept across a handshake called again
    std::error_code engine_verdict; // empty: the engine found the chain good
    std::string engine_detail;
    bool rejected = false;
    errc rejected_for = errc::certificate_rejected;
    std::string why;
    verifier verified_by = verifier::none;
    peer_identity identity;

    bool has_validator() const noexcept { return validation != nullptr && validation->enabled(); }
    bool maps() const noexcept { return mapping != nullptr && mapping->enabled(); }

    // Whether the engine's rejection ends the handshake without asking the validator.
    bool engine_has_the_last_word() const noexcept {
        return engine_verdict &&
               (!has_validator() || validation->mode == validation_mode::after_engine);
    }

    // The validator's verdict on `request` (kept); without a validator, the engine's stands.
    verdict ask() const {
        if (!has_validator())
            return verdict::accept();
        try {
            return validation->validator(request);
        } catch (...) {
            return verdict::reject(errc::certificate_rejected, "the validator threw an exception");
        }
    }

    // Records the verdict and, for an accepted chain, its identity; true if the handshake goes
    // on. A required identity that the mapping does not give rejects the chain.
    bool decide(const verdict& v) {
        if (v.accepted()) {
            map(request.chain);
            if (maps() && mapping->required && !identity.mapped())
                return reject(
                    errc::identity_unmapped,
                    "no rule maps the certificate (" +
                        (request.chain.empty() ? std::string() : request.chain.front().subject) +
                        ") to an identity");
            verified_by = engine_verdict ? verifier::application : verifier::engine;
            return true;
        }
        return reject(v.reason(), v.why());
    }

    // The identity of `chain`, if this connection maps one (also for a resumed session's chain).
    void map(const std::vector<certificate_info>& chain) {
        if (!maps())
            return;
        try {
            if (auto found = mapping->mapper(chain))
                identity = std::move(*found);
        } catch (...) { // a mapper that throws maps to none
            identity = {};
        }
    }

    bool reject(errc reason, std::string words) {
        rejected = true;
        rejected_for = reason;
        why = std::move(words);
        return false;
    }

    std::string rejection_detail() const {
        if (rejected_for == errc::identity_unmapped)
            return make_error_code(rejected_for).message() + ": " + why;
        return "the application's validator rejected the certificate (" +
               make_error_code(rejected_for).message() + ")" + (why.empty() ? "" : ": " + why);
    }
};

} // namespace secctx::detail
