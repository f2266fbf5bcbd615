// `secctx server`: one thread, epoll, non-blocking step() and channel calls, many connections.
// Modelled on `openssl s_server`; one log line per connection on stderr.
#include "tool.hpp"

#include "secctx/transport/pipe.hpp"
#include "secctx/transport/socket.hpp"

#include <arpa/inet.h>
#include <sys/epoll.h>

#include <chrono>
#include <cstdio>
#include <list>
#include <optional>
#include <string>

namespace secctx::tool {

namespace {

using server_handshake = basic_handshake<server, socket_transport, dynamic_buffer>;
using server_channel = basic_channel_for<server_handshake>;

enum class mode { echo, http };

struct settings {
    mode answer = mode::echo;
    std::size_t max_connections = 1024;
    std::chrono::milliseconds handshake_timeout{10'000};
};

std::string peer_name(int fd) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0)
        return "?";
    char text[INET6_ADDRSTRLEN] = "local";
    unsigned port = 0;
    if (address.ss_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
        ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        port = ntohs(v4->sin_port);
    } else if (address.ss_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
        ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        port = ntohs(v6->sin6_port);
    }
    return std::string(text) + ":" + std::to_string(port);
}

// What the server answers: the bytes themselves (echo), or a response per HTTP request.
class responder {
public:
    explicit responder(mode m) : mode_(m) {}

    // Appends the answer to `received` to `out`; true when the connection should close after it.
    bool answer(std::string_view received, std::string& out) {
        if (mode_ == mode::echo) {
            out.append(received);
            return false;
        }
        requests_.append(received);
        bool close = false;
        for (std::size_t end; (end = requests_.find("\r\n\r\n")) != std::string::npos;) {
            const std::string head = requests_.substr(0, end);
            requests_.erase(0, end + 4);
            const bool http10 = head.find("HTTP/1.0") != std::string::npos;
            close = http10 || head.find("Connection: close") != std::string::npos ||
                    head.find("connection: close") != std::string::npos;
            static constexpr std::string_view body = "hello from secctx\n";
            out += http10 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n";
            out += "Content-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                   (close ? "\r\nConnection: close" : "") + "\r\n\r\n";
            out += body;
            if (close)
                break;
        }
        return close;
    }

private:
    mode mode_;
    std::string requests_;
};

struct connection {
    std::string peer;
    std::string summary; // what the handshake negotiated, for the connection's log line
    clock::time_point accepted;
    clock::time_point deadline;
    std::optional<server_handshake> handshake;
    std::optional<server_channel> channel;
    responder reply;
    std::string outbox; // plaintext not yet taken by the channel
    bool closing = false;
    int fd = -1;
};

class event_loop {
public:
    event_loop(socket_listener listener, const credentials& creds, const settings& s)
        : listener_(std::move(listener)), credentials_(creds), settings_(s),
          epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
        watch(listener_.native_handle(), EPOLLIN, nullptr, EPOLL_CTL_ADD);
    }

    ~event_loop() { ::close(epoll_); }

    int run() {
        epoll_event events[64];
        for (;;) {
            const int n = ::epoll_wait(epoll_, events, 64, 100);
            if (n < 0 && errno != EINTR) {
                std::perror("secctx server: epoll_wait");
                return 1;
            }
            for (int i = 0; i < n; ++i) {
                if (events[i].data.ptr == nullptr)
                    accept_all();
                else
                    serve(*static_cast<connection*>(events[i].data.ptr));
            }
            expire_handshakes();
        }
    }

private:
    void watch(int fd, std::uint32_t what, connection* c, int op) {
        epoll_event event{};
        event.events = what;
        event.data.ptr = c;
        ::epoll_ctl(epoll_, op, fd, &event);
    }

    void accept_all() {
        for (;;) {
            socket_transport socket;
            if (listener_.accept(socket, clock::now()))
                return;
            const std::string peer = peer_name(socket.native_handle());
            if (connections_.size() >= settings_.max_connections) {
                std::fprintf(stderr, "%s refused: too many connections (%zu)\n", peer.c_str(),
                             connections_.size());
                continue; // the socket closes here
            }
            auto& c = connections_.emplace_back(connection{peer,
                                                           {},
                                                           clock::now(),
                                                           {},
                                                           {},
                                                           {},
                                                           responder(settings_.answer),
                                                           {},
                                                           false,
                                                           socket.native_handle()});
            handshake_limits limits;
            limits.timeout = settings_.handshake_timeout;
            c.deadline = c.accepted + settings_.handshake_timeout;
            c.handshake.emplace(server{credentials_}, std::move(socket), dynamic_buffer(), limits);
            watch(c.fd, EPOLLIN, &c, EPOLL_CTL_ADD);
            serve(c);
        }
    }

    void serve(connection& c) {
        if (c.handshake)
            advance_handshake(c);
        else if (c.channel)
            advance_channel(c);
    }

    void advance_handshake(connection& c) {
        const step_result r = c.handshake->step();
        switch (r.status) {
        case step_status::want_read:
            watch(c.fd, EPOLLIN, &c, EPOLL_CTL_MOD);
            return;
        case step_status::want_write:
            watch(c.fd, EPOLLOUT, &c, EPOLL_CTL_MOD);
            return;
        case step_status::failed:
            std::fprintf(stderr, "%s handshake failed: %s\n", c.peer.c_str(),
                         describe(r.error, c.handshake->error_detail()).c_str());
            drop(c);
            return;
        case step_status::done:
            break;
        }
        const auto& p = c.handshake->provider();
        const auto elapsed =
            std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - c.accepted);
        c.summary = std::string(p.protocol()) + " " + std::string(p.cipher()) +
                    " alpn=" + (p.alpn().empty() ? std::string("-") : std::string(p.alpn())) +
                    " handshake " + std::to_string(elapsed.count()) + " us" +
                    (p.resumed() ? " resumed" : "");
        c.channel.emplace(std::move(*c.handshake));
        c.handshake.reset();
        advance_channel(c);
    }

    void advance_channel(connection& c) {
        server_channel& ch = *c.channel;
        std::byte buffer[16384];
        for (;;) {
            // Answer what was asked before reading more: a peer that never reads cannot make
            // the server buffer without bound.
            while (!c.outbox.empty()) {
                const io_result w = ch.write_some(std::as_bytes(std::span(c.outbox)));
                if (w.error == errc::would_block) {
                    watch(c.fd, EPOLLOUT, &c, EPOLL_CTL_MOD);
                    return;
                }
                if (w.error)
                    return finish(c, "write failed: " + describe(w.error, ch.error_detail()));
                c.outbox.erase(0, w.bytes);
            }
            if (const auto ec = ch.flush(); ec == errc::would_block) {
                watch(c.fd, EPOLLOUT, &c, EPOLL_CTL_MOD);
                return;
            }
            if (c.closing)
                return finish(c, "closed after the response");
            const io_result r = ch.read_some(buffer);
            if (r.error == errc::would_block) {
                watch(c.fd, EPOLLIN, &c, EPOLL_CTL_MOD);
                return;
            }
            if (r.error == errc::end_of_stream) {
                ch.shutdown_send();
                return finish(c, "closed by the peer (close_notify)");
            }
            if (r.error == errc::truncated || r.error == errc::truncated_mid_record)
                return finish(c, "truncated: " + r.error.message());
            if (r.error)
                return finish(c, "failed: " + describe(r.error, ch.error_detail()));
            const std::string_view text(reinterpret_cast<const char*>(buffer), r.bytes);
            if (c.reply.answer(text, c.outbox)) {
                c.closing = true;
            }
        }
    }

    void finish(connection& c, const std::string& why) {
        if (c.closing && c.channel && !c.channel->error())
            c.channel->shutdown_send();
        std::fprintf(stderr, "%s %s; %s\n", c.peer.c_str(), c.summary.c_str(), why.c_str());
        drop(c);
    }

    void drop(connection& c) {
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
        connections_.remove_if([&](const connection& x) { return &x == &c; });
    }

    void expire_handshakes() {
        const auto now = clock::now();
        for (auto it = connections_.begin(); it != connections_.end();) {
            auto next = std::next(it);
            if (it->handshake && now >= it->deadline) {
                std::fprintf(stderr, "%s handshake failed: %s\n", it->peer.c_str(),
                             make_error_code(errc::timed_out).message().c_str());
                drop(*it);
            }
            it = next;
        }
    }

    socket_listener listener_;
    credentials credentials_;
    settings settings_;
    int epoll_;
    std::list<connection> connections_; // stable addresses: epoll holds pointers
};

// One connection over this process's stdin/stdout (pipe transport), blocking.
int serve_stdio(const credentials& creds, const settings& s) {
    using stdio_handshake = basic_handshake<server, pipe_transport, dynamic_buffer>;
    handshake_limits limits;
    limits.timeout = s.handshake_timeout;
    stdio_handshake handshake{server{creds}, pipe_transport::standard_streams(), dynamic_buffer(),
                              limits};
    if (const auto ec = handshake.run()) {
        std::fprintf(stderr, "stdio handshake failed: %s\n",
                     describe(ec, handshake.error_detail()).c_str());
        return 1;
    }
    basic_channel_for<stdio_handshake> channel{std::move(handshake)};
    const auto attributes = channel.attributes();
    std::fprintf(stderr, "stdio %s %s alpn=%s\n", attributes.protocol.c_str(),
                 attributes.cipher.c_str(),
                 attributes.alpn.empty() ? "-" : attributes.alpn.c_str());
    responder reply(s.answer);
    std::byte buffer[16384];
    for (;;) {
        const io_result r = channel.read(buffer, clock::time_point::max());
        if (r.error == errc::end_of_stream) {
            std::fprintf(stderr, "stdio closed by the peer (close_notify)\n");
            return channel.shutdown_send() ? 1 : 0;
        }
        if (r.error) {
            std::fprintf(stderr, "stdio %s\n", describe(r.error, channel.error_detail()).c_str());
            return 1;
        }
        std::string out;
        const bool close = reply.answer({reinterpret_cast<const char*>(buffer), r.bytes}, out);
        if (const auto ec =
                channel.write_all(std::as_bytes(std::span(out)), clock::time_point::max()))
            return 1;
        if (close) {
            channel.shutdown_send();
            return 0;
        }
    }
}

} // namespace

int run_server(int argc, char** argv) {
    options o(argc, argv,
              {"--listen", "--cert", "--key", "--ca", "--verify-client", "--alpn", "--mode",
               "--max-connections", "--handshake-timeout"},
              {"--stdio"});
    settings s;
    s.max_connections = static_cast<std::size_t>(o.number("--max-connections", 1024));
    s.handshake_timeout = std::chrono::milliseconds(o.number("--handshake-timeout", 10'000));
    const std::string answer = o.get("--mode", "echo");
    if (answer != "echo" && answer != "http")
        return std::fprintf(stderr, "secctx server: --mode takes echo or http\n"), 2;
    s.answer = answer == "http" ? mode::http : mode::echo;
    if (!o.error().empty() || !o.has("--cert") || !o.has("--key") ||
        (!o.has("--listen") && !o.has("--stdio"))) {
        std::fprintf(stderr, "secctx server: %s\nsee secctx --help\n",
                     o.error().empty() ? "--listen (or --stdio), --cert and --key are required"
                                       : o.error().c_str());
        return 2;
    }
    server_config config;
    config.certificate_chain = pem_source::from_file(o.get("--cert"));
    config.private_key = pem_source::from_file(o.get("--key"));
    if (o.has("--ca"))
        config.trust.certificates = pem_source::from_file(o.get("--ca"));
    const std::string verify = o.get("--verify-client", "none");
    if (verify == "required")
        config.verify_clients = client_certificates::required;
    else if (verify == "optional")
        config.verify_clients = client_certificates::optional;
    else if (verify != "none")
        return std::fprintf(stderr, "secctx server: --verify-client takes required or optional\n"),
               2;
    config.alpn = split_list(o.get("--alpn"));
    std::error_code ec;
    std::string detail;
    const credentials creds = credentials::server(config, ec, &detail);
    if (ec) {
        std::fprintf(stderr, "secctx server: credentials: %s\n", describe(ec, detail).c_str());
        return 1;
    }
    if (o.has("--stdio"))
        return serve_stdio(creds, s);
    socket_listener listener;
    if (const auto listen_error = socket_listener::listen_tcp(o.get("--listen"), listener)) {
        std::fprintf(stderr, "secctx server: cannot listen on %s: %s\n", o.get("--listen").c_str(),
                     listen_error.message().c_str());
        return 1;
    }
    std::fprintf(stderr, "listening on port %u\n", static_cast<unsigned>(listener.port()));
    return event_loop(std::move(listener), creds, s).run();
}

} // namespace secctx::tool
