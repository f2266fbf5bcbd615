// `secctx server`'s event loops: epoll driving non-blocking step() and channel calls, many
// connections per loop, one loop per --threads. One log line per connection on stderr; every
// connection ends by a limit or by the peer, each with its own line.
#pragma once

#include "../options.hpp"
#include "responder.hpp"
#include "settings.hpp"

#include "secctx/buffer/pooled.hpp"
#include "secctx/channel.hpp"
#include "secctx/handshake.hpp"
#include "secctx/transport/socket.hpp"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <list>
#include <optional>
#include <string>

namespace secctx::tool {

// The server over one engine (--engine): its connections, what its loops share, and the loop.
template <class Engine>
struct engine_server {
    using server = typename Engine::server;
    using credentials = typename Engine::credentials;
    // Pooled buffers: an idle connection holds no buffer memory, only its engine's state.
    using server_handshake = basic_handshake<server, socket_transport, pooled_buffer>;
    using server_channel = basic_channel_for<server_handshake>;

    struct connection {
        int fd = -1;
        std::string peer;
        std::string summary; // what the handshake negotiated, for the connection's log line
        clock::time_point accepted;
        clock::time_point last_activity;
        std::optional<server_handshake> handshake;
        std::optional<server_channel> channel;
        responder reply{mode::echo};
        std::string outbox;   // plaintext not yet taken by the channel
        std::string farewell; // why the connection closes once the outbox is out, if it does
        std::uint32_t watching = 0;
        bool ready = false; // in the loop's ready list: its turn ended with work left
        std::list<connection>* home = nullptr;
        typename std::list<connection>::iterator self;
    };

    // What all loops share: the pool the connections' buffers come from, the connection count that
    // --max-connections bounds, and the listening socket.
    struct shared_state {
        const settings& limits;
        const credentials& creds;
        buffer_pool& pool;
        int listener;
        std::atomic<std::size_t> connections{0};
    };

    // One thread's loop. All loops watch the one listening socket with EPOLLEXCLUSIVE rather than
    // each having a SO_REUSEPORT socket of its own: the kernel wakes only a loop that is waiting in
    // epoll_wait, so a new connection goes to a loop with nothing to do instead of to one picked by
    // a hash of the peer's address while it is busy with handshakes; and it works for any --listen
    // address (port 0 included) with one descriptor and one accept queue.
    class event_loop {
    public:
        explicit event_loop(shared_state& shared)
            : shared_(shared), limits_(shared.limits), epoll_(::epoll_create1(EPOLL_CLOEXEC)),
              reserve_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {
            watch_listener();
        }

        event_loop(const event_loop&) = delete;
        event_loop& operator=(const event_loop&) = delete;

        ~event_loop() {
            ::close(epoll_);
            if (reserve_ >= 0)
                ::close(reserve_);
        }

        // A loop that cannot wait ends the process: the other loops would serve on while this one's
        // connections hang, and the main thread would wait for it forever.
        [[noreturn]] void run() {
            if (epoll_ < 0)
                fail("epoll_create1");
            epoll_event events[128];
            for (;;) {
                // Connections whose turn ended with work left go on at once, after the others.
                const int n = ::epoll_wait(epoll_, events, 128, ready_.empty() ? 100 : 0);
                if (n < 0 && errno != EINTR)
                    fail("epoll_wait");
                for (int i = 0; i < n; ++i) {
                    if (events[i].data.ptr == nullptr)
                        accept_some();
                    else
                        serve(*static_cast<connection*>(events[i].data.ptr));
                }
                serve_ready();
                expire(clock::now());
            }
        }

    private:
        [[noreturn]] static void fail(const char* call) {
            std::fprintf(stderr, "secctx server: %s: %s\n", call, std::strerror(errno));
            std::_Exit(1);
        }

        // If the listener cannot be watched now (kernel memory), the loop tries again later.
        void watch_listener() {
            epoll_event event{};
            event.events = EPOLLIN | EPOLLEXCLUSIVE;
            event.data.ptr = nullptr;
            if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, shared_.listener, &event) == 0)
                accept_paused_until_.reset();
            else
                accept_paused_until_ = clock::now() + std::chrono::milliseconds(100);
        }

        // Only a change costs a system call: a busy connection asks for the same events every time.
        void want(connection& c, std::uint32_t what) {
            if (c.watching == what)
                return;
            epoll_event event{};
            event.events = what;
            event.data.ptr = &c;
            if (::epoll_ctl(epoll_, c.watching == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd,
                            &event) != 0)
                // Unwatched, the connection would only wait for its deadline.
                return finish(c, std::string("closed: cannot watch the socket: ") +
                                     std::strerror(errno));
            c.watching = what;
        }

        // At most a batch per wake-up, so that one loop does not take every connection of a burst
        // while the others wait: the socket stays readable and wakes the next idle loop.
        void accept_some() {
            for (int i = 0; i < 16; ++i) {
                const int fd =
                    ::accept4(shared_.listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                    if (connection_gone(errno))
                        continue;
                    if (errno != EAGAIN && errno != EWOULDBLOCK)
                        cannot_accept(errno);
                    return;
                }
                // Handshake flights and small responses are latency-bound: send them at once.
                const int on = 1;
                ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
                admit(socket_transport(fd));
            }
        }

        // accept4() passes on what went wrong with the connection it was taking (Linux's accept(2)
        // says to retry on these): that connection is gone, the listener is fine.
        static bool connection_gone(int error) {
            switch (error) {
            case EINTR:
            case ECONNABORTED:
            case EPROTO:
            case ENETDOWN:
            case ENOPROTOOPT:
            case EHOSTDOWN:
            case ENONET:
            case EHOSTUNREACH:
            case EOPNOTSUPP:
            case ENETUNREACH:
            case EPERM:
                return true;
            default:
                return false;
            }
        }

        // Out of descriptors (EMFILE, ENFILE) or kernel memory: the pending connection would keep
        // the listener readable and the loop spinning. A descriptor kept in reserve is given up to
        // accept it and close it at once, so the peer learns now; if even that fails, this loop
        // stops accepting for a moment.
        void cannot_accept(int error) {
            if ((error == EMFILE || error == ENFILE) && reserve_ >= 0) {
                ::close(reserve_);
                const int fd = ::accept4(shared_.listener, nullptr, nullptr, SOCK_CLOEXEC);
                if (fd >= 0) {
                    std::fprintf(stderr, "%s refused: out of file descriptors\n",
                                 peer_name(fd).c_str());
                    ::close(fd);
                }
                reserve_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd >= 0)
                    return;
            }
            std::fprintf(stderr, "accept paused for 100 ms: %s\n", std::strerror(error));
            ::epoll_ctl(epoll_, EPOLL_CTL_DEL, shared_.listener, nullptr);
            accept_paused_until_ = clock::now() + std::chrono::milliseconds(100);
        }

        void admit(socket_transport socket) {
            const std::string peer = peer_name(socket.native_handle());
            if (shared_.connections.fetch_add(1, std::memory_order_relaxed) >=
                limits_.max_connections) {
                shared_.connections.fetch_sub(1, std::memory_order_relaxed);
                std::fprintf(stderr, "%s refused: too many connections (%zu)\n", peer.c_str(),
                             limits_.max_connections);
                return; // the socket closes here
            }
            const auto now = clock::now();
            handshaking_.emplace_back();
            connection& c = handshaking_.back();
            c.fd = socket.native_handle();
            c.peer = peer;
            c.accepted = c.last_activity = now;
            c.reply = responder(limits_.answer);
            c.home = &handshaking_;
            c.self = std::prev(handshaking_.end());
            handshake_limits hl;
            hl.timeout = limits_.handshake_timeout;
            c.handshake.emplace(server{shared_.creds}, std::move(socket),
                                pooled_buffer(shared_.pool), hl);
            advance_handshake(c);
        }

        void serve(connection& c) {
            if (c.handshake)
                advance_handshake(c);
            else
                advance_channel(c);
        }

        // Each connection that was ready when the round began gets one more turn.
        void serve_ready() {
            for (std::size_t turns = ready_.size(); turns != 0 && !ready_.empty(); --turns) {
                connection& c = *ready_.front();
                ready_.pop_front();
                c.ready = false;
                advance_channel(c);
            }
        }

        void advance_handshake(connection& c) {
            const step_result r = c.handshake->step();
            switch (r.status) {
            case step_status::want_read:
                return want(c, EPOLLIN);
            case step_status::want_write:
                return want(c, EPOLLOUT);
            case step_status::want_verdict:     // the server's validators answer at once
            case step_status::want_certificate: // a client's status: a server never returns it
                std::fprintf(stderr, "%s handshake waits for a decision nobody gives\n",
                             c.peer.c_str());
                return drop(c);
            case step_status::failed:
                // The handshake's own deadline can pass first when a step comes just after it.
                if (r.error == errc::timed_out)
                    return close_for_handshake_timeout(c);
                // The alert went out with the failed step, as far as the socket took it; the
                // connection closes now.
                std::fprintf(stderr, "%s handshake failed: %s\n", c.peer.c_str(),
                             describe(r.error, c.handshake->error_detail()).c_str());
                return drop(c);
            case step_status::done:
                break;
            }
            const auto& p = c.handshake->provider();
            const auto now = clock::now();
            const auto elapsed =
                std::chrono::duration_cast<std::chrono::microseconds>(now - c.accepted);
            c.summary = std::string(p.protocol()) + " " + std::string(p.cipher()) +
                        " alpn=" + (p.alpn().empty() ? std::string("-") : std::string(p.alpn())) +
                        " handshake " + std::to_string(elapsed.count()) + " us" +
                        (p.resumed() ? " resumed" : "");
            if (const peer_identity who = p.identity(); who.mapped()) {
                c.summary += " identity=" + who.name + " (" + who.rule + ")";
                c.reply.identify_client(who.name);
            }
            c.channel.emplace(std::move(*c.handshake));
            c.handshake.reset();
            established_.splice(established_.end(), handshaking_, c.self);
            c.home = &established_;
            c.last_activity = now;
            advance_channel(c);
        }

        // Bytes moved: the connection goes to the back of the idle order.
        void touch(connection& c) {
            c.last_activity = clock::now();
            established_.splice(established_.end(), established_, c.self);
        }

        std::size_t buffered(const connection& c) const {
            return c.outbox.size() + c.channel->buffers().output().size();
        }

        // A turn reads at most this many times: a peer that keeps its socket readable (a streamed
        // body, an echo at full speed) must not keep the loop from its other connections and from
        // the deadlines.
        static constexpr int reads_per_turn = 16;

        void advance_channel(connection& c) {
            server_channel& ch = *c.channel;
            std::byte buffer[16384];
            for (int reads = 0;; ++reads) {
                bool moved = false;
                while (!c.outbox.empty()) {
                    const io_result w = ch.write_some(std::as_bytes(std::span(c.outbox)));
                    if (w.error == errc::would_block)
                        break;
                    if (w.error)
                        return finish(c, "write failed: " + describe(w.error, ch.error_detail()));
                    c.outbox.erase(0, w.bytes);
                    moved = true;
                }
                bool output_waits = !c.outbox.empty();
                if (!output_waits) {
                    const auto ec = ch.flush();
                    if (ec && ec != errc::would_block)
                        return finish(c, "write failed: " + describe(ec, ch.error_detail()));
                    output_waits = ec == errc::would_block;
                    if (c.outbox.capacity() > std::size_t{64} * 1024)
                        c.outbox.shrink_to_fit(); // an idle connection keeps no large buffer
                }
                if (moved)
                    touch(c);
                if (!c.farewell.empty()) {
                    // Nothing more is read: what was asked is answered, then close_notify, then the
                    // TCP connection closes.
                    if (output_waits)
                        return want(c, EPOLLOUT);
                    ch.shutdown_send();
                    discard_unread(c.fd);
                    return finish(c, c.farewell);
                }
                if (reads == reads_per_turn) {
                    // What the channel holds already (whole records, plaintext) would not wake
                    // epoll: the turn goes on from the ready list instead.
                    if (!c.ready) {
                        c.ready = true;
                        ready_.push_back(&c);
                    }
                    return want(c, output_waits ? EPOLLIN | EPOLLOUT : EPOLLIN);
                }
                // Requests are read on while answers wait for the peer, up to --max-output: a peer
                // that sends but never reads is closed then, instead of being buffered for.
                const io_result r = ch.read_some(buffer);
                if (r.error == errc::would_block)
                    return want(c, output_waits ? EPOLLIN | EPOLLOUT : EPOLLIN);
                if (r.error == errc::end_of_stream) {
                    c.farewell = "closed by the peer (close_notify)";
                    continue;
                }
                if (r.error == errc::truncated || r.error == errc::truncated_mid_record)
                    return finish(c, "truncated: " + r.error.message());
                if (r.error)
                    return finish(c, "failed: " + describe(r.error, ch.error_detail()));
                touch(c);
                const std::string_view text(reinterpret_cast<const char*>(buffer), r.bytes);
                if (c.reply.answer(text, c.outbox))
                    c.farewell = "closed after the response";
                if (buffered(c) > limits_.max_output)
                    return finish(c, "closed: output limit (" + std::to_string(buffered(c)) +
                                         " bytes not read by the peer, --max-output " +
                                         std::to_string(limits_.max_output) + ")");
            }
        }

        // Closing a socket with unread bytes makes the kernel answer with a reset, which may
        // destroy the response before the peer reads it: requests already here that will not be
        // answered (after "Connection: close", the rest of a refused head) are read and dropped
        // first. Bytes that arrive later still meet a reset: there is no lingering close.
        static void discard_unread(int fd) {
            char sink[16384];
            for (int i = 0; i < 4 && ::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
            }
        }

        void finish(connection& c, const std::string& why) {
            std::fprintf(stderr, "%s %s; %s\n", c.peer.c_str(), c.summary.c_str(), why.c_str());
            drop(c);
        }

        // Closing the descriptor also takes it out of the epoll set.
        void drop(connection& c) {
            if (c.ready)
                ready_.erase(std::find(ready_.begin(), ready_.end(), &c));
            c.home->erase(c.self);
            shared_.connections.fetch_sub(1, std::memory_order_relaxed);
        }

        void close_for_handshake_timeout(connection& c) {
            std::fprintf(stderr, "%s closed: handshake timeout (%lld ms)\n", c.peer.c_str(),
                         static_cast<long long>(limits_.handshake_timeout.count()));
            drop(c);
        }

        // Both lists are in deadline order (accepted, last active), so only expired ones are looked
        // at.
        void expire(clock::time_point now) {
            while (!handshaking_.empty() &&
                   now - handshaking_.front().accepted >= limits_.handshake_timeout) {
                close_for_handshake_timeout(handshaking_.front());
            }
            while (!established_.empty() &&
                   now - established_.front().last_activity >= limits_.idle_timeout) {
                connection& c = established_.front();
                c.channel->shutdown_send(); // a clean end: the peer can tell it from a cut
                std::fprintf(stderr, "%s %s; closed: idle timeout (%lld ms)\n", c.peer.c_str(),
                             c.summary.c_str(),
                             static_cast<long long>(limits_.idle_timeout.count()));
                drop(c);
            }
            if (accept_paused_until_ && now >= *accept_paused_until_)
                watch_listener();
            // Another loop may have taken the descriptor the reserve gave up.
            if (reserve_ < 0)
                reserve_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        }

        shared_state& shared_;
        const settings& limits_;
        int epoll_;
        int reserve_;
        std::optional<clock::time_point> accept_paused_until_;
        // Stable addresses (epoll holds pointers), and splice() keeps each list in deadline order.
        std::list<connection> handshaking_;
        std::list<connection> established_;
        std::deque<connection*> ready_;
    };
};

} // namespace secctx::tool
