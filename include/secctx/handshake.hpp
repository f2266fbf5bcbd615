// basic_handshake: the token-exchange loop of the source document, composed at compile time from
// a role (client or server, over a provider), a transport and a buffer policy.
//
//   step()  one non-blocking advance, as far as the transport allows: call the provider with what
//           has arrived, keep the extra, send the token, decide by the status. Returns done,
//           want_read, want_write, want_verdict, want_certificate or failed, with everything the
//           caller needs (step_result.hpp).
//   run()   step() to completion over a transport that can wait(), within a deadline; it waits
//           for a deferred verdict or choice of certificate too.
//   pending()  the verdict the handshake waits for after want_verdict (peer_validation.hpp), on
//           providers with the deferred_verdicts capability.
//   pending_certificate()  the client's choice of certificate it waits for after
//           want_certificate (certificate_selection.hpp), on providers with the
//           deferred_certificate_choice capability.
//
// Failure is terminal: the provider's context is destroyed at once, the alert it produced is
// flushed as far as the transport takes it without blocking, and every later call returns the
// same error. No call throws.
#pragma once

#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/error.hpp"
#include "secctx/limits.hpp"
#include "secctx/metrics.hpp"
#include "secctx/pending_decision.hpp"
#include "secctx/role.hpp"
#include "secctx/step_result.hpp"
#include "secctx/tls/provider.hpp"
#include "secctx/transport/detail/read_into_queue.hpp"
#include "secctx/transport/detail/write_queued.hpp"
#include "secctx/transport/transport.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

namespace secctx {

template <role Role, transport Transport, buffer_policy Buffers,
          metrics_policy Metrics = no_metrics>
requires security_provider<typename Role::provider_type, Buffers>
class basic_handshake {
public:
    using role_type = Role;
    using transport_type = Transport;
    using buffer_type = Buffers;
    using provider_type = typename Role::provider_type;

    basic_handshake(Role role, Transport transport, Buffers buffers = Buffers(),
                    handshake_limits limits = {}) noexcept
        : role_(std::move(role)), transport_(std::move(transport)), buffers_(std::move(buffers)),
          limits_(limits) {}

    // Bytes the application has already read from the transport (a server that sniffed the first
    // byte to detect TLS, a protocol that upgrades in band). They are processed before anything
    // the transport delivers and count against the limits like any received byte.
    std::error_code feed(std::span<const std::byte> bytes) noexcept {
        if (phase_ == phase::done || phase_ == phase::failed)
            return phase_ == phase::failed ? error_ : make_error_code(errc::invalid_state);
        auto& input = buffers_.input();
        const auto room = input.prepare(bytes.size());
        if (room.size() < bytes.size())
            return fail(prepare_failure(input, bytes.size())).error;
        if (!bytes.empty())
            std::memcpy(room.data(), bytes.data(), bytes.size());
        input.commit(bytes.size());
        if (const auto ec = received(bytes.size()))
            return fail(ec).error;
        if (phase_ == phase::receive)
            phase_ = phase::call_provider;
        return {};
    }

    // The source document's loop, one step at a time. Each phase returns the step_result that ends
    // this call, or nothing to go on with the phase it moved to.
    step_result step() noexcept {
        if (phase_ == phase::start)
            begin();
        for (;;) {
            std::optional<step_result> stop;
            switch (phase_) {
            case phase::call_provider: // steps 1-2: Initialize/AcceptSecurityContext
                stop = call_provider();
                break;
            case phase::send: // step 3: send the token; SEC_E_OK ends the loop
                stop = send_token();
                break;
            case phase::receive: // step 4: wait for the peer's token, or the rest of it
                stop = receive_token();
                break;
            case phase::done:
                return result(step_status::done);
            case phase::failed:
            case phase::start:
                return result(step_status::failed);
            }
            if (stop)
                return *stop;
        }
    }

    // Drives step() to completion, blocking in the transport's wait(), until `deadline` or the
    // limits' timeout, whichever is first.
    std::error_code run(clock::time_point deadline = clock::time_point::max()) noexcept {
        for (;;) {
            const step_result r = step();
            switch (r.status) {
            case step_status::done:
                return {};
            case step_status::failed:
                return r.error;
            case step_status::want_read:
            case step_status::want_write: {
                const auto what =
                    r.status == step_status::want_read ? wait_for::readable : wait_for::writable;
                const auto ec = transport_.wait(what, std::min(deadline, deadline_));
                if (ec && ec != std::errc::interrupted)
                    return fail(ec).error;
                break;
            }
            case step_status::want_verdict:
                if (!wait_for_decision(slot_for_verdict(), std::min(deadline, deadline_)))
                    return fail(errc::timed_out).error;
                break;
            case step_status::want_certificate:
                if (!wait_for_decision(slot_for_certificate(), std::min(deadline, deadline_)))
                    return fail(errc::timed_out).error;
                break;
            }
        }
    }

    // After want_verdict: the handle through which the verdict is given, from any thread. It
    // stays valid after the handshake ends (giving then fails with errc::invalid_state). A
    // provider without the deferred_verdicts capability has none: calling this does not compile.
    pending_verdict pending() const noexcept requires deferred_verdicts<provider_type> {
        return pending_verdict(role_.provider().verdicts());
    }

    // After want_certificate: the handle through which the client's choice of certificate is
    // given, from any thread, as pending() is for verdicts. A provider without the
    // deferred_certificate_choice capability has none: calling this does not compile.
    secctx::pending_certificate
    pending_certificate() const noexcept requires deferred_certificate_choice<provider_type> {
        return secctx::pending_certificate(role_.provider().certificate_choices());
    }

    bool done() const noexcept { return phase_ == phase::done; }
    // When the limits' timeout ends the handshake (set by the first step()).
    clock::time_point deadline() const noexcept { return deadline_; }
    const std::error_code& error() const noexcept { return error_; }
    // The engine's own words for the failure (OpenSSL's reason string, the verification result).
    std::string error_detail() const { return role_.provider().error_detail(); }

    // Received bytes the handshake has not consumed: once done(), the application data that
    // arrived with the last flight, which the secure channel must read first.
    std::span<const std::byte> extra() noexcept { return buffers_.input().data(); }

    handshake_metrics metrics() const noexcept {
        handshake_metrics m = counters_;
        m.timings = metrics_.timings();
        m.resumed = phase_ == phase::done && role_.provider().resumed();
        return m;
    }

    Role& role() noexcept { return role_; }
    const Role& role() const noexcept { return role_; }
    provider_type& provider() noexcept { return role_.provider(); }
    const provider_type& provider() const noexcept { return role_.provider(); }
    Transport& transport() noexcept { return transport_; }
    // The metrics policy itself, for policies that record more than handshake_timings.
    Metrics& recorder() noexcept { return metrics_; }
    const Metrics& recorder() const noexcept { return metrics_; }
    Buffers& buffers() noexcept { return buffers_; }

private:
    enum class phase : unsigned char { start, call_provider, send, receive, done, failed };
    enum class direction : unsigned char { none, sent, received };

    void begin() noexcept {
        const auto now = clock::now();
        const auto room =
            std::chrono::duration_cast<std::chrono::milliseconds>(clock::time_point::max() - now);
        deadline_ = limits_.timeout >= room ? clock::time_point::max() : now + limits_.timeout;
        // The client speaks first; the server waits for the client's token unless the
        // application already fed it some.
        const bool speak = Role::kind == role_kind::client || buffers_.input().size() != 0;
        phase_ = speak ? phase::call_provider : phase::receive;
        last_.missing_bytes = provider_type::token_header_size;
    }

    std::optional<step_result> call_provider() noexcept {
        if (expired())
            return fail(errc::timed_out);
        metrics_.computing_begin(buffers_.input().data());
        last_ = role_.provider().handshake(buffers_);
        metrics_.computing_end(buffers_.output().data());
        if (last_.status == provider_status::error)
            return fail(last_.error);
        if (const auto waiting = awaited_decision(); waiting && buffers_.output().size() == 0)
            return result(*waiting);
        if (buffers_.output().size() != 0 && count_flight(direction::sent))
            return fail(errc::too_many_flights);
        phase_ = phase::send;
        return std::nullopt;
    }

    std::optional<step_result> send_token() noexcept {
        if (const auto ec = write_pending())
            return ec == errc::would_block ? result(step_status::want_write) : fail(ec);
        if (const auto waiting = awaited_decision()) {
            phase_ = phase::call_provider;
            return result(*waiting);
        }
        if (last_.status != provider_status::ok) {
            phase_ = phase::receive;
            return std::nullopt;
        }
        phase_ = phase::done;
        buffers_.output().release();
        buffers_.input().release(); // kept if bytes for the application wait in it
        return std::nullopt;
    }

    std::optional<step_result> receive_token() noexcept {
        if (expired())
            return fail(errc::timed_out);
        const io_result got =
            detail::read_into_queue(transport_, buffers_.input(), last_.missing_bytes);
        if (got.error == errc::would_block) {
            metrics_.waiting_begin();
            return result(step_status::want_read);
        }
        if (got.error == errc::token_too_large)
            return refuse(got.error);
        if (got.error == errc::end_of_stream)
            return fail(errc::peer_closed_during_handshake);
        if (got.error)
            return fail(got.error);
        metrics_.waiting_end();
        if (const auto ec = received(got.bytes))
            return fail(ec);
        // An incomplete token needs its missing bytes before the provider can use it: until then
        // the input holds part of one (SEC_E_INCOMPLETE_MESSAGE).
        if (got.bytes < last_.missing_bytes) {
            last_.missing_bytes -= got.bytes;
            last_.status = provider_status::incomplete_message;
        } else {
            phase_ = phase::call_provider;
        }
        return std::nullopt;
    }

    // Blocks until the deferred verdict is given or `deadline`; false if it was not given.
    // The application's decision the provider waits for, if it does.
    std::optional<step_status> awaited_decision() const noexcept {
        if (last_.status == provider_status::verdict_needed)
            return step_status::want_verdict;
        if (last_.status == provider_status::certificate_needed)
            return step_status::want_certificate;
        return std::nullopt;
    }

    // The provider's slots, or null where it has no such capability.
    detail::verdict_slot* slot_for_verdict() const noexcept {
        if constexpr (deferred_verdicts<provider_type>)
            return role_.provider().verdicts().get();
        else
            return nullptr;
    }

    detail::certificate_slot* slot_for_certificate() const noexcept {
        if constexpr (deferred_certificate_choice<provider_type>)
            return role_.provider().certificate_choices().get();
        else
            return nullptr;
    }

    template <class Slot>
    static bool wait_for_decision(Slot* slot, clock::time_point deadline) noexcept {
        try {
            return slot != nullptr && slot->wait_until(deadline);
        } catch (...) { // a lock that fails: as good as no decision
            return false;
        }
    }

    bool expired() const noexcept {
        return deadline_ != clock::time_point::max() && clock::now() >= deadline_;
    }

    // Counts a change of direction; true when it is one too many.
    bool count_flight(direction now) noexcept {
        if (direction_ == now)
            return false;
        if (now == direction::sent) {
            ++counters_.flights_sent;
        } else {
            ++counters_.flights_received;
            counters_.round_trips += direction_ == direction::sent;
        }
        direction_ = now;
        return counters_.flights_sent + counters_.flights_received > limits_.max_flights;
    }

    std::error_code received(std::size_t bytes) noexcept {
        counters_.bytes_received += bytes;
        if (counters_.bytes_received > limits_.max_bytes_received)
            return errc::handshake_too_large;
        if (bytes != 0 && count_flight(direction::received))
            return errc::too_many_flights;
        return {};
    }

    // Writes the pending output until the transport has taken all of it (success) or refuses
    // (errc::would_block, or the transport's error).
    std::error_code write_pending() noexcept {
        return detail::write_queued(transport_, buffers_.output(), counters_.bytes_sent);
    }

    step_result fail(std::error_code ec) noexcept {
        if (phase_ == phase::failed)
            return result(step_status::failed);
        phase_ = phase::failed;
        error_ = ec;
        auto& output = buffers_.output();
        if (last_.status != provider_status::error) {
            // The loop gave up (a limit, the transport): what waits in the output is a flight the
            // peer must not get, not an alert.
            output.consume(output.size());
            role_.provider().abandon(ec);
        }
        last_ = {provider_status::error, 0, ec};
        // The alert the provider produced goes out if the transport takes it now.
        write_pending();
        return result(step_status::failed);
    }

    // The input can never take the peer's token: the provider owes the peer an alert.
    step_result refuse(std::error_code ec) noexcept {
        last_ = role_.provider().reject_record(buffers_, ec);
        return fail(ec);
    }

    step_result result(step_status status) noexcept {
        return {status,
                last_.status,
                error_,
                buffers_.output().data(),
                buffers_.input().data(),
                phase_ == phase::done ? extra_owner::application : extra_owner::handshake,
                status == step_status::want_read ? last_.missing_bytes : 0};
    }

    Role role_;
    Transport transport_;
    Buffers buffers_;
    [[no_unique_address]] Metrics metrics_;
    handshake_limits limits_;
    clock::time_point deadline_ = clock::time_point::max();
    provider_result last_;
    std::error_code error_;
    handshake_metrics counters_;
    phase phase_ = phase::start;
    direction direction_ = direction::none;
};

} // namespace secctx
