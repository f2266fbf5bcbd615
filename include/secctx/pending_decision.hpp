// A handle on a decision a handshake waits for: a verdict on the peer's certificate
// (verdict::later(), peer_validation.hpp: pending_verdict) or a choice of client certificate
// (certificate_choice::later(), certificate_selection.hpp: pending_certificate). Copyable and
// thread-safe; it outlives the handshake safely: an answer given to a handshake that is gone, has
// failed or has timed out is refused with errc::invalid_state.
#pragma once

#include "secctx/detail/decision_slot.hpp"
#include "secctx/error.hpp"

#include <functional>
#include <memory>
#include <system_error>
#include <utility>

namespace secctx {

template <class Request, class Answer>
class pending_decision {
public:
    using slot_type = detail::decision_slot<Request, Answer>;

    pending_decision() = default;
    explicit pending_decision(std::shared_ptr<slot_type> slot) : slot_(std::move(slot)) {}

    // Whether the handshake is waiting for this answer now.
    bool awaited() const { return slot_ && slot_->awaiting(); }
    // What the application was asked (a copy: the handshake may end meanwhile).
    Request request() const { return slot_ ? slot_->request() : Request{}; }
    // Gives the answer. errc::invalid_state when none is awaited: none was asked, one was already
    // given, the handshake failed, timed out or is gone, or `answer` is itself a later().
    std::error_code give(Answer answer) const {
        return slot_ ? slot_->give(std::move(answer)) : make_error_code(errc::invalid_state);
    }
    // Calls `wake` once, on the thread that gives the answer (at once if it was given before):
    // for an event loop, to step the handshake again. Not called if the handshake ends first.
    void on_given(std::function<void()> wake) const {
        if (slot_)
            slot_->on_given(std::move(wake));
    }

private:
    std::shared_ptr<slot_type> slot_;
};

} // namespace secctx
