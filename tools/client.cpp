// `secctx client`: connects, prints the negotiated attributes, sends text and prints the reply.
// Modelled on `openssl s_client`. Exit code 0 only if the handshake and the exchange succeeded.
#include "commands.hpp"
#include "engines.hpp"
#include "options.hpp"

#include "secctx/buffer/dynamic.hpp"
#include "secctx/channel.hpp"
#include "secctx/handshake.hpp"
#include "secctx/transport/pipe.hpp"
#include "secctx/transport/socket.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>

namespace secctx::tool {

namespace {

void print_attributes(const connection_attributes& a) {
    std::printf("protocol: %s\ncipher: %s\ngroup: %s\nalpn: %s\nresumed: %s\n", a.protocol.c_str(),
                a.cipher.c_str(), a.key_exchange_group.c_str(),
                a.alpn.empty() ? "-" : a.alpn.c_str(), a.resumed ? "yes" : "no");
    if (!a.peer_chain.empty())
        std::printf("peer: %s\nissuer: %s\n", a.peer_chain.front().subject.c_str(),
                    a.peer_chain.front().issuer.c_str());
    std::printf("verification: %s\n", a.verification_result.c_str());
    // Shown before any data arrives; like the printing itself, a diagnostic whose failure
    // changes nothing.
    static_cast<void>(std::fflush(stdout));
}

// The server's bytes, relayed: a short write or a failed flush (stdout closed, disk full) is an
// error, not data silently lost.
std::error_code to_stdout(std::span<const std::byte> bytes) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() ||
        std::fflush(stdout) != 0)
        return {errno, std::generic_category()};
    return {};
}

// Everything the server sends until it closes or goes quiet; success unless the stream failed
// or was truncated.
template <class Channel>
std::error_code print_reply(Channel& channel, clock::time_point deadline) {
    std::byte buffer[16384];
    for (;;) {
        const io_result r = channel.read(buffer, deadline);
        if (r.error == errc::end_of_stream || r.error == errc::timed_out)
            return {};
        if (r.error)
            return r.error;
        if (const auto ec = to_stdout(std::span(buffer, r.bytes)))
            return ec;
    }
}

// --stdio: stdin to the server, the server to stdout, until either side ends.
template <class Channel>
std::error_code relay_stdio(Channel& channel) {
    std::byte buffer[16384];
    pollfd watched[2] = {{0, POLLIN, 0}, {channel.transport().native_handle(), POLLIN, 0}};
    bool input_open = true;
    for (;;) {
        const io_result r = channel.read_some(buffer);
        if (!r.error) {
            if (const auto ec = to_stdout(std::span(buffer, r.bytes)))
                return ec;
            continue;
        }
        if (r.error == errc::end_of_stream)
            return {};
        if (r.error != errc::would_block)
            return r.error;
        watched[0].fd = input_open ? 0 : -1;
        if (::poll(watched, 2, -1) < 0 && errno != EINTR)
            return {errno, std::system_category()};
        if (input_open && (watched[0].revents & (POLLIN | POLLHUP)) != 0) {
            const ssize_t n = ::read(0, buffer, sizeof buffer);
            if (n <= 0) {
                input_open = false;
                if (const auto ec = channel.shutdown_send())
                    return ec;
            } else if (const auto ec =
                           channel.write_all(std::span(buffer, static_cast<std::size_t>(n)),
                                             clock::now() + std::chrono::seconds(30))) {
                return ec;
            }
        }
    }
}

// The handshake and the channel over one engine (--engine).
template <class Engine>
int connect(options& o, client_config& config, const std::string& host, const std::string& endpoint,
            std::chrono::milliseconds timeout) {
    using client = typename Engine::client;
    using credentials = typename Engine::credentials;
    using client_handshake = basic_handshake<client, socket_transport, dynamic_buffer>;
    using client_channel = basic_channel_for<client_handshake>;
    std::error_code ec;
    std::string detail;
    const credentials creds = credentials::client(config, ec, &detail);
    forget(config.private_key_password);
    if (ec) {
        std::fprintf(stderr, "secctx client: credentials: %s\n", describe(ec, detail).c_str());
        return 1;
    }
    const auto deadline = clock::now() + timeout;
    socket_transport socket;
    if (const auto connect_error = connect_tcp(endpoint, deadline, socket)) {
        std::fprintf(stderr, "secctx client: cannot connect to %s: %s\n", endpoint.c_str(),
                     connect_error.message().c_str());
        return 1;
    }
    handshake_limits limits;
    limits.timeout = timeout;
    client_handshake handshake{client{creds, o.get("--servername", host)}, std::move(socket),
                               dynamic_buffer(), limits};
    if (const auto handshake_error = handshake.run(deadline)) {
        std::fprintf(stderr, "secctx client: handshake failed: %s\n",
                     describe(handshake_error, handshake.error_detail()).c_str());
        return 1;
    }
    client_channel channel{std::move(handshake)};
    print_attributes(channel.attributes());
    if (o.has("--stdio")) {
        if (const auto relay_error = relay_stdio(channel)) {
            std::fprintf(stderr, "secctx client: %s\n",
                         describe(relay_error, channel.error_detail()).c_str());
            return 1;
        }
        return 0;
    }
    if (o.has("--send")) {
        const std::string text = o.get("--send");
        if (const auto send_error = channel.write_all(std::as_bytes(std::span(text)), deadline)) {
            std::fprintf(stderr, "secctx client: send failed: %s\n",
                         describe(send_error, channel.error_detail()).c_str());
            return 1;
        }
        std::printf("reply: ");
        // The reply is what arrives within a short quiet period: servers that echo do not close.
        const auto reply_deadline = std::min(deadline, clock::now() + std::chrono::seconds(1));
        if (const auto reply_error = print_reply(channel, reply_deadline)) {
            std::fprintf(stderr, "\nsecctx client: reading the reply failed: %s\n",
                         describe(reply_error, channel.error_detail()).c_str());
            return 1;
        }
        std::printf("\n");
    }
    channel.shutdown(clock::now() + std::chrono::milliseconds(200));
    return 0;
}

} // namespace

int run_client(int argc, char** argv) {
    options o(argc, argv,
              {"--connect", "--ca", "--servername", "--cert", "--key", "--key-password-file",
               "--alpn", "--send", "--timeout", "--crl", "--ocsp", "--engine"},
              {"--stdio"});
    const auto timeout = std::chrono::milliseconds(o.number("--timeout", 10'000));
    if (!o.error().empty() || !o.has("--connect")) {
        std::fprintf(stderr, "secctx client: %s\nsee secctx --help\n",
                     o.error().empty() ? "--connect HOST:PORT is required" : o.error().c_str());
        return 2;
    }
    const std::string endpoint = o.get("--connect");
    std::string host = endpoint.substr(0, endpoint.rfind(':'));
    if (host.size() > 2 && host.front() == '[')
        host = host.substr(1, host.size() - 2);
    client_config config;
    if (o.has("--ca"))
        config.trust.certificates = pem_source::from_file(o.get("--ca"));
    if (o.has("--cert")) {
        config.certificate_chain = pem_source::from_file(o.get("--cert"));
        config.private_key = pem_source::from_file(o.get("--key"));
    }
    if (!read_key_password(o, "client", config.private_key_password))
        return 2;
    config.alpn = split_list(o.get("--alpn"));
    read_revocation(o, config);
    if (const std::string ocsp = o.get("--ocsp", "off"); ocsp == "require")
        config.ocsp = ocsp_stapling::require;
    else if (ocsp == "check")
        config.ocsp = ocsp_stapling::check;
    else if (ocsp != "off")
        return std::fprintf(stderr, "secctx client: --ocsp takes check, require or off\n"), 2;
    const std::string engine = o.get("--engine", "openssl");
    if (engine == "gnutls")
        return connect<gnutls_engine>(o, config, host, endpoint, timeout);
    if (engine != "openssl")
        return std::fprintf(stderr, "secctx client: --engine takes openssl or gnutls\n"), 2;
    return connect<openssl_engine>(o, config, host, endpoint, timeout);
}

} // namespace secctx::tool
