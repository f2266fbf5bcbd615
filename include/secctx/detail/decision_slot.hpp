// Where a deferred decision of the application (a verdict on the peer's certificate, a choice of
// client certificate) meets the handshake waiting for it (see pending_decision.hpp).
#pragma once

#include "secctx/error.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>

namespace secctx {

namespace detail {

// The handshake's thread opens it (await) and takes the answer (take); any thread gives one
// (give); failure, the deadline or the handshake's end close it. Shared by the provider and every
// pending_decision handle. `Answer` has what() and a kind::later, which is no answer.
template <class Request, class Answer>
class decision_slot {
public:
    void await(Request request) {
        std::lock_guard lock(mutex_);
        request_ = std::move(request);
        given_.reset();
        state_ = state::awaiting;
    }

    std::error_code give(Answer v) {
        std::function<void()> wake;
        {
            std::lock_guard lock(mutex_);
            if (state_ != state::awaiting || v.what() == Answer::kind::later)
                return errc::invalid_state;
            given_ = std::move(v);
            state_ = state::given;
            wake = std::move(wake_);
        }
        ready_.notify_all();
        if (wake)
            wake();
        return {};
    }

    // The answer, once given; the slot is then idle again.
    std::optional<Answer> take() {
        std::lock_guard lock(mutex_);
        if (state_ != state::given)
            return std::nullopt;
        state_ = state::idle;
        return std::exchange(given_, std::nullopt);
    }

    bool awaiting() const {
        std::lock_guard lock(mutex_);
        return state_ == state::awaiting;
    }

    // No answer can be used any more: later gives are refused.
    void close() {
        std::lock_guard lock(mutex_);
        state_ = state::closed;
        wake_ = nullptr;
    }

    // Blocks until an answer is given or `deadline`; true if one was.
    bool wait_until(std::chrono::steady_clock::time_point deadline) {
        std::unique_lock lock(mutex_);
        if (deadline == std::chrono::steady_clock::time_point::max()) {
            ready_.wait(lock, [&] { return state_ != state::awaiting; });
        } else {
            ready_.wait_until(lock, deadline, [&] { return state_ != state::awaiting; });
        }
        return state_ == state::given;
    }

    // Calls `wake` once, from the thread that gives the answer (at once if one was given);
    // never once the slot is closed.
    void on_given(std::function<void()> wake) {
        {
            std::lock_guard lock(mutex_);
            if (state_ == state::awaiting) {
                wake_ = std::move(wake);
                return;
            }
            if (state_ == state::closed)
                return;
        }
        wake();
    }

    Request request() const {
        std::lock_guard lock(mutex_);
        return request_;
    }

private:
    enum class state { idle, awaiting, given, closed };

    mutable std::mutex mutex_;
    std::condition_variable ready_;
    state state_ = state::idle;
    Request request_;
    std::optional<Answer> given_;
    std::function<void()> wake_;
};

} // namespace detail

} // namespace secctx
