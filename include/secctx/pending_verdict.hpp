// A handle on the verdict a handshake waits for (verdict::later(), peer_validation.hpp).
// Copyable and thread-safe; it outlives the handshake safely: a verdict given to a handshake that
// is gone, has failed or has timed out is refused with errc::invalid_state.
#pragma once

#include "secctx/detail/verdict_slot.hpp"
#include "secctx/error.hpp"
#include "secctx/peer_validation.hpp"

#include <functional>
#include <memory>
#include <system_error>
#include <utility>

namespace secctx {

class pending_verdict {
public:
    pending_verdict() = default;
    explicit pending_verdict(std::shared_ptr<detail::verdict_slot> slot) : slot_(std::move(slot)) {}

    // Whether the handshake is waiting for this verdict now.
    bool awaited() const { return slot_ && slot_->awaiting(); }
    // What the validator was asked (a copy: the handshake may end meanwhile).
    validation_request request() const { return slot_ ? slot_->request() : validation_request{}; }
    // Gives the verdict. errc::invalid_state when no verdict is awaited: none was asked, one was
    // already given, the handshake failed, timed out or is gone, or `v` is verdict::later().
    std::error_code give(verdict v) const {
        return slot_ ? slot_->give(std::move(v)) : make_error_code(errc::invalid_state);
    }
    // Calls `wake` once, on the thread that gives the verdict (at once if it was given before):
    // for an event loop, to step the handshake again. Not called if the handshake ends first.
    void on_given(std::function<void()> wake) const {
        if (slot_)
            slot_->on_given(std::move(wake));
    }

private:
    std::shared_ptr<detail::verdict_slot> slot_;
};

} // namespace secctx
