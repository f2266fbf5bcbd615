// The Asio adapter: secctx's handshake and secure channel, driven asynchronously on a
// boost::asio::ip::tcp::socket with any completion token (a callback, use_awaitable,
// use_future...).
//
//   asio_socket_transport     a transport over a tcp::socket the application owns (and keeps alive
//                             for as long as the handshake or channel uses it). It may be made
//                             before the socket is opened (before async_connect or async_accept):
//                             read_some/write_some put the socket in non-blocking mode when they
//                             find it blocking, and never block; wait() blocks with a deadline
//                             (poll), for run() and the channel's blocking calls.
//   async_handshake(h, token)                 steps h until done or failed: void(std::error_code);
//                                             a deferred verdict (want_verdict) or choice of
//                                             certificate (want_certificate) is waited for
//                                             without blocking, until it is given or the
//                                             handshake's deadline
//   async_read_some(c, buffer, token)         at least one plaintext byte, or the end of stream
//                                             (errc::end_of_stream, errc::truncated...) or the
//                                             failure: void(std::error_code, std::size_t)
//   async_write(c, buffer, token)             every byte of buffer encrypted and written, flushed
//                                             included: void(std::error_code, std::size_t)
//   async_shutdown(c, token)                  close_notify sent and flushed: void(std::error_code)
//   async_shutdown(c, shutdown_wait::peer, token)
//                                             the same, then reads (discarding application data)
//                                             until the peer's close_notify
//
// Each operation is a composed operation (boost::asio::async_compose): it calls the non-blocking
// step() / read_some() / write_some() / flush(), and where they say want_read / want_write or
// errc::would_block it waits with socket.async_wait(). No thread, no blocking call, no type
// erasure: the handshake and channel types are template parameters. The handshake or channel and
// the buffer must outlive the operation; one read and one write may be outstanding at a time,
// not two of the same kind. Completion is never inside the initiating call (it is posted).
//
// Bounding in time: the handshake's limits.timeout is checked whenever step() runs, but a silent
// peer never wakes the wait; cancel or close the socket from a timer (the operation then completes
// with the wait's error, boost::asio::error::operation_aborted as a std::error_code).
//
// Built only where Boost.Asio is found. Boost 1.74's Asio needs <utility> before it under C++20.
#pragma once

#include "secctx/channel.hpp"
#include "secctx/error.hpp"
#include "secctx/handshake.hpp"
#include "secctx/step_result.hpp"
#include "secctx/transport/detail/posix.hpp"
#include "secctx/transport/transport.hpp"

#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <system_error>

namespace secctx {

namespace asio_detail {

// Asio's errors as std::error_code: errno values keep std::system_category (like every other
// transport's), the rest keep their Boost category through Boost.System's conversion.
inline std::error_code to_std(const boost::system::error_code& ec) noexcept {
    if (!ec)
        return {};
    if (ec.category() == boost::system::system_category())
        return {ec.value(), std::system_category()};
    if (ec.category() == boost::system::generic_category())
        return {ec.value(), std::generic_category()};
    return ec;
}

inline bool would_block(const boost::system::error_code& ec) noexcept {
    return ec == boost::asio::error::would_block || ec == boost::asio::error::try_again;
}

} // namespace asio_detail

class asio_socket_transport {
public:
    using socket_type = boost::asio::ip::tcp::socket;

    explicit asio_socket_transport(socket_type& socket) noexcept : socket_(&socket) {}

    io_result read_some(std::span<std::byte> into) noexcept {
        if (const std::error_code ec = make_non_blocking())
            return {0, ec};
        for (;;) {
            boost::system::error_code ec;
            const std::size_t n =
                socket_->read_some(boost::asio::buffer(into.data(), into.size()), ec);
            if (!ec)
                return {n, {}};
            if (ec == boost::asio::error::interrupted)
                continue;
            if (asio_detail::would_block(ec))
                return {0, errc::would_block};
            if (ec == boost::asio::error::eof)
                return {0, errc::end_of_stream};
            return {0, asio_detail::to_std(ec)};
        }
    }

    // Asio sends with MSG_NOSIGNAL on Linux: a peer that went away is EPIPE, never SIGPIPE.
    io_result write_some(std::span<const std::byte> from) noexcept {
        if (const std::error_code ec = make_non_blocking())
            return {0, ec};
        for (;;) {
            boost::system::error_code ec;
            const std::size_t n =
                socket_->write_some(boost::asio::buffer(from.data(), from.size()), ec);
            if (!ec)
                return {n, {}};
            if (ec == boost::asio::error::interrupted)
                continue;
            if (asio_detail::would_block(ec))
                return {0, errc::would_block};
            return {0, asio_detail::to_std(ec)};
        }
    }

    // Blocking, for run() and the channel's blocking calls; the asynchronous operations below
    // never call it.
    std::error_code wait(wait_for what, clock::time_point deadline) noexcept {
        return detail::poll_until(socket_->native_handle(), what, deadline);
    }

    socket_type& socket() const noexcept { return *socket_; }

private:
    // A blocking socket would stall the io_context's thread inside a step. The mode is set here,
    // not once in the constructor: the socket may not be open yet when the transport is made, and
    // Asio forgets the mode when the socket is closed and opened again (a retried connect).
    std::error_code make_non_blocking() noexcept {
        if (socket_->non_blocking())
            return {};
        boost::system::error_code ec;
        socket_->non_blocking(true, ec);
        return asio_detail::to_std(ec);
    }

    socket_type* socket_;
};

static_assert(transport<asio_socket_transport>);

// A handshake or channel whose transport can hand out the Asio socket to wait on.
template <class T>
concept asio_waitable = requires(T& t) {
    t.transport().socket().async_wait(boost::asio::socket_base::wait_read,
                                      [](boost::system::error_code) {});
};

enum class shutdown_wait { none, peer };

namespace asio_detail {

enum class state : unsigned char { starting, running, completing };

// Completes now, or, if the operation is still inside its initiating call, from a posted call
// (an Asio handler never runs inside the function that started the operation).
template <class Self, class... Args>
void finish(Self& self, state& st, Args... args) {
    if (st != state::starting) {
        self.complete(args...);
        return;
    }
    st = state::completing;
    auto executor = self.get_executor();
    boost::asio::post(executor,
                      [self = std::move(self), args...]() mutable { self.complete(args...); });
}

template <class Socket, class Self>
void await(Socket& socket, bool readable, Self& self, state& st) {
    st = state::running;
    socket.async_wait(readable ? boost::asio::socket_base::wait_read
                               : boost::asio::socket_base::wait_write,
                      std::move(self));
}

// A wait for a deferred decision, shared by its wake-up and the deadline's timer: the
// first to come steps the operation again, the other finds it gone.
template <class Self>
struct verdict_wait {
    template <class Executor>
    explicit verdict_wait(const Executor& executor) : timer(executor) {}

    void resume() {
        if (resumed.exchange(true))
            return;
        timer.cancel();
        Self next = std::move(*op);
        op.reset();
        next();
    }

    boost::asio::steady_timer timer;
    std::atomic<bool> resumed{false};
    std::optional<Self> op;
};

// Waits for a deferred decision (a verdict, or a client's choice of certificate) or the
// handshake's deadline, whichever comes first, then steps again on the operation's executor. The
// decision may be given on any thread.
template <class Handshake, class Self, class Pending>
void await_decision(Handshake& handshake, Self& self, state& st, const Pending& pending) {
    st = state::running;
    auto executor = self.get_executor();
    auto wait = std::make_shared<verdict_wait<Self>>(executor);
    wait->op.emplace(std::move(self));
    if (handshake.deadline() != clock::time_point::max()) {
        wait->timer.expires_at(handshake.deadline());
        wait->timer.async_wait([wait](boost::system::error_code) { wait->resume(); });
    }
    pending.on_given([wait, executor] { boost::asio::post(executor, [wait] { wait->resume(); }); });
}

template <class Handshake, class Self>
void await_verdict(Handshake& handshake, Self& self, state& st) {
    if constexpr (deferred_verdicts<typename Handshake::provider_type>)
        await_decision(handshake, self, st, handshake.pending());
    else // a provider that cannot defer never asks to wait for a verdict
        finish(self, st, make_error_code(errc::invalid_state));
}

template <class Handshake, class Self>
void await_certificate(Handshake& handshake, Self& self, state& st) {
    if constexpr (deferred_certificate_choice<typename Handshake::provider_type>)
        await_decision(handshake, self, st, handshake.pending_certificate());
    else // a provider that cannot defer never asks to wait for a choice
        finish(self, st, make_error_code(errc::invalid_state));
}

template <class Handshake>
struct handshake_op {
    Handshake* handshake;
    state st = state::starting;

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}) {
        if (ec)
            return self.complete(to_std(ec));
        const step_result r = handshake->step();
        switch (r.status) {
        case step_status::done:
            return finish(self, st, std::error_code());
        case step_status::failed:
            return finish(self, st, r.error);
        case step_status::want_read:
        case step_status::want_write:
            return await(handshake->transport().socket(), r.status == step_status::want_read, self,
                         st);
        case step_status::want_verdict:
            return await_verdict(*handshake, self, st);
        case step_status::want_certificate:
            return await_certificate(*handshake, self, st);
        }
    }
};

template <class Channel>
struct read_op {
    Channel* channel;
    std::span<std::byte> into;
    state st = state::starting;

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}) {
        if (ec)
            return self.complete(to_std(ec), std::size_t{0});
        const io_result r = channel->read_some(into);
        if (r.error == errc::would_block)
            return await(channel->transport().socket(), true, self, st);
        finish(self, st, r.error, r.bytes);
    }
};

template <class Channel>
struct write_op {
    Channel* channel;
    std::span<const std::byte> from;
    std::size_t written = 0;
    state st = state::starting;

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}) {
        if (ec)
            return self.complete(to_std(ec), written);
        while (written < from.size()) {
            const io_result r = channel->write_some(from.subspan(written));
            if (r.error == errc::would_block)
                return await(channel->transport().socket(), false, self, st);
            if (r.error)
                return finish(self, st, r.error, written);
            written += r.bytes;
        }
        // Every byte is encrypted; the last records may still wait in the output.
        const std::error_code flushed = channel->flush();
        if (flushed == errc::would_block)
            return await(channel->transport().socket(), false, self, st);
        finish(self, st, flushed, written);
    }
};

template <class Channel>
struct shutdown_op {
    Channel* channel;
    shutdown_wait how;
    bool flushed = false;
    state st = state::starting;
    std::array<std::byte, 1024> discard{};

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}) {
        if (ec)
            return self.complete(to_std(ec));
        if (!flushed) {
            if (const auto sent = channel->shutdown_send())
                return finish(self, st, sent);
            const std::error_code rest = channel->flush();
            if (rest == errc::would_block)
                return await(channel->transport().socket(), false, self, st);
            if (rest || how == shutdown_wait::none)
                return finish(self, st, rest);
            flushed = true;
        }
        for (;;) {
            const io_result r = channel->read_some(discard);
            if (r.error == errc::would_block)
                return await(channel->transport().socket(), true, self, st);
            if (r.error == errc::end_of_stream)
                return finish(self, st, std::error_code());
            if (r.error)
                return finish(self, st, r.error);
        }
    }
};

} // namespace asio_detail

// Steps the handshake until done (std::error_code{}) or failed (its error), waiting on the socket
// between steps. Handler: void(std::error_code).
template <asio_waitable Handshake, class CompletionToken>
auto async_handshake(Handshake& handshake, CompletionToken&& token) {
    return boost::asio::async_compose<CompletionToken, void(std::error_code)>(
        asio_detail::handshake_op<Handshake>{&handshake}, token, handshake.transport().socket());
}

// Reads plaintext: at least one byte, or the end of the stream or the failure, as
// channel.read_some() reports them. Handler: void(std::error_code, std::size_t).
template <asio_waitable Channel, class CompletionToken>
auto async_read_some(Channel& channel, std::span<std::byte> into, CompletionToken&& token) {
    return boost::asio::async_compose<CompletionToken, void(std::error_code, std::size_t)>(
        asio_detail::read_op<Channel>{&channel, into}, token, channel.transport().socket());
}

template <asio_waitable Channel, class CompletionToken>
auto async_read_some(Channel& channel, boost::asio::mutable_buffer into, CompletionToken&& token) {
    return async_read_some(channel,
                           std::span<std::byte>(static_cast<std::byte*>(into.data()), into.size()),
                           std::forward<CompletionToken>(token));
}

// Encrypts and writes every byte of `from`, and flushes. Handler:
// void(std::error_code, std::size_t plaintext bytes taken).
template <asio_waitable Channel, class CompletionToken>
auto async_write(Channel& channel, std::span<const std::byte> from, CompletionToken&& token) {
    return boost::asio::async_compose<CompletionToken, void(std::error_code, std::size_t)>(
        asio_detail::write_op<Channel>{&channel, from}, token, channel.transport().socket());
}

template <asio_waitable Channel, class CompletionToken>
auto async_write(Channel& channel, boost::asio::const_buffer from, CompletionToken&& token) {
    return async_write(
        channel,
        std::span<const std::byte>(static_cast<const std::byte*>(from.data()), from.size()),
        std::forward<CompletionToken>(token));
}

// Sends close_notify and flushes it; with shutdown_wait::peer, then reads until the peer's
// close_notify (success), discarding application data: errc::truncated if the peer hung up
// without one. A peer that never answers keeps it waiting: bound it with a timer. Handler:
// void(std::error_code).
template <asio_waitable Channel, class CompletionToken>
auto async_shutdown(Channel& channel, shutdown_wait how, CompletionToken&& token) {
    return boost::asio::async_compose<CompletionToken, void(std::error_code)>(
        asio_detail::shutdown_op<Channel>{&channel, how}, token, channel.transport().socket());
}

template <asio_waitable Channel, class CompletionToken>
auto async_shutdown(Channel& channel, CompletionToken&& token) {
    return async_shutdown(channel, shutdown_wait::none, std::forward<CompletionToken>(token));
}

} // namespace secctx
