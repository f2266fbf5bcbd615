// `secctx demo`: makes a throwaway CA and server certificate in memory and runs real
// client+server handshakes over each transport, on each engine, printing what was negotiated and
// what it cost.
#include "commands.hpp"
#include "engines.hpp"
#include "options.hpp"

#include "secctx/buffer/dynamic.hpp"
#include "secctx/channel.hpp"
#include "secctx/handshake.hpp"
#include "secctx/transport/memory.hpp"
#include "secctx/transport/pipe.hpp"
#include "secctx/transport/socket.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using namespace secctx;
using std::chrono::duration_cast;
using std::chrono::microseconds;

template <class Engine, class T>
using client_handshake =
    basic_handshake<typename Engine::client, T, dynamic_buffer, record_metrics>;
template <class Engine, class T>
using server_handshake =
    basic_handshake<typename Engine::server, T, dynamic_buffer, record_metrics>;

constexpr std::size_t message_size = std::size_t{64} * 1024;

struct outcome {
    std::error_code error;
    std::string detail;
    std::string exchange; // what happened after the handshake
    std::string protocol, cipher, alpn;
    handshake_metrics client_metrics;
    microseconds elapsed{0};
};

// What the client's handshake negotiated and cost.
template <class Client>
void negotiated(outcome& out, Client& c) {
    out.protocol = c.provider().protocol();
    out.cipher = c.provider().cipher();
    out.alpn = c.provider().alpn();
    out.client_metrics = c.metrics();
}

template <class Client, class Server>
void describe(outcome& out, Client& c, Server& s) {
    const auto& failed = c.error() ? static_cast<const std::error_code&>(c.error()) : s.error();
    if (failed) {
        out.error = failed;
        out.detail = c.error() ? c.error_detail() : s.error_detail();
        return;
    }
    negotiated(out, c);
}

std::vector<std::byte> message() {
    std::vector<std::byte> bytes(message_size);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<std::byte>(i * 131 + 7);
    return bytes;
}

// The conversation after the handshake: the client sends a message, the server echoes it, both
// check it byte for byte, then each side sends close_notify and reads the other's (a clean end,
// not a truncation). Each part blocks only on bytes the other side has already sent, so the parts
// can take turns on one thread, run on two, or in two processes.
template <class Channel>
std::error_code echo_once(Channel& server_side, std::vector<std::byte>& received,
                          clock::time_point deadline) {
    if (const auto ec = server_side.read_exactly(received, deadline))
        return ec;
    return server_side.write_all(received, deadline);
}

template <class Channel>
std::error_code read_then_close(Channel& channel, std::vector<std::byte>& into,
                                clock::time_point deadline) {
    if (const auto ec = channel.read_exactly(into, deadline))
        return ec;
    return channel.shutdown_send();
}

template <class Channel>
std::error_code expect_close(Channel& channel, clock::time_point deadline) {
    std::byte rest[1];
    const io_result r = channel.read(rest, deadline);
    return r.error == errc::end_of_stream
               ? std::error_code()
               : (r.error ? r.error : make_error_code(errc::protocol_error));
}

// The server's whole part: echo, then close after the client did.
template <class Channel>
std::error_code serve_conversation(Channel& server_side, clock::time_point deadline) {
    std::vector<std::byte> received(message_size);
    if (const auto ec = echo_once(server_side, received, deadline))
        return ec;
    if (const auto ec = expect_close(server_side, deadline))
        return ec;
    return server_side.shutdown_send();
}

// The client's whole part: send, check the echo, close, see the server close.
template <class Channel>
std::error_code client_conversation(Channel& client_side, clock::time_point deadline) {
    const auto sent = message();
    std::vector<std::byte> echoed(sent.size());
    if (const auto ec = client_side.write_all(sent, deadline))
        return ec;
    if (const auto ec = read_then_close(client_side, echoed, deadline))
        return ec;
    if (echoed != sent)
        return errc::protocol_error;
    return expect_close(client_side, deadline);
}

const std::string conversation_done =
    std::to_string(message_size / 1024) + " KiB each way, byte-exact; close_notify both ways";

// With `two_threads`, each side runs on its own thread; otherwise they take turns on this one.
template <class Client, class Server>
void exchange(outcome& out, Client&& client_handshake, Server&& server_handshake,
              bool two_threads) {
    basic_channel_for<std::remove_cvref_t<Client>> c{std::forward<Client>(client_handshake)};
    basic_channel_for<std::remove_cvref_t<Server>> s{std::forward<Server>(server_handshake)};
    const auto deadline = clock::now() + std::chrono::seconds(10);
    std::error_code client_error, server_error;
    if (two_threads) {
        std::thread server_thread([&] { server_error = serve_conversation(s, deadline); });
        client_error = client_conversation(c, deadline);
        server_thread.join();
    } else {
        const auto sent = message();
        std::vector<std::byte> echoed(sent.size()), received(sent.size());
        client_error = c.write_all(sent, deadline);
        server_error = echo_once(s, received, deadline);
        if (!client_error)
            client_error = read_then_close(c, echoed, deadline);
        if (!server_error)
            server_error = expect_close(s, deadline);
        if (!server_error)
            server_error = s.shutdown_send();
        if (!client_error)
            client_error =
                echoed == sent ? expect_close(c, deadline) : make_error_code(errc::protocol_error);
    }
    if (client_error || server_error) {
        out.error = client_error ? client_error : server_error;
        out.detail = "data exchange: " + (client_error ? c.error_detail() : s.error_detail());
        return;
    }
    out.exchange = conversation_done;
}

template <class Engine>
outcome run_stepped(const typename Engine::credentials& client_creds,
                    const typename Engine::credentials& server_creds) {
    using client = typename Engine::client;
    using server = typename Engine::server;
    outcome out;
    memory_link link;
    client_handshake<Engine, memory_transport> c{client{client_creds, "localhost"},
                                                 link.client_end()};
    server_handshake<Engine, memory_transport> s{server{server_creds}, link.server_end()};
    const auto start = std::chrono::steady_clock::now();
    for (int round = 0; round < 32 && !(c.done() && s.done()); ++round) {
        const auto cr = c.step();
        const auto sr = s.step();
        if (cr.status == step_status::failed || sr.status == step_status::failed)
            break;
    }
    out.elapsed = duration_cast<microseconds>(std::chrono::steady_clock::now() - start);
    describe(out, c, s);
    if (!out.error && !(c.done() && s.done()))
        out.error = errc::invalid_state;
    if (!out.error)
        exchange(out, std::move(c), std::move(s), false);
    return out;
}

// Both ends blocking in run() on their own threads, over any transport pair.
template <class Engine, class Transport>
outcome run_pair(const typename Engine::credentials& client_creds,
                 const typename Engine::credentials& server_creds, Transport client_end,
                 Transport server_end) {
    using client = typename Engine::client;
    using server = typename Engine::server;
    outcome out;
    client_handshake<Engine, Transport> c{client{client_creds, "localhost"}, std::move(client_end)};
    server_handshake<Engine, Transport> s{server{server_creds}, std::move(server_end)};
    const auto deadline = clock::now() + std::chrono::seconds(10);
    const auto start = std::chrono::steady_clock::now();
    std::thread server_thread([&] { s.run(deadline); });
    c.run(deadline);
    server_thread.join();
    out.elapsed = duration_cast<microseconds>(std::chrono::steady_clock::now() - start);
    describe(out, c, s);
    if (!out.error)
        exchange(out, std::move(c), std::move(s), true);
    return out;
}

template <class Engine>
outcome run_threads(const typename Engine::credentials& client_creds,
                    const typename Engine::credentials& server_creds) {
    memory_link link;
    return run_pair<Engine>(client_creds, server_creds, link.client_end(), link.server_end());
}

template <class Engine>
outcome run_socket(const typename Engine::credentials& client_creds,
                   const typename Engine::credentials& server_creds) {
    outcome out;
    socket_listener listener;
    socket_transport client_end, server_end;
    const auto deadline = clock::now() + std::chrono::seconds(10);
    if (const auto ec = socket_listener::listen_tcp("127.0.0.1:0", listener)) {
        out.error = ec;
        out.detail = "listen on 127.0.0.1";
    } else if (const auto ec = connect_tcp("127.0.0.1", listener.port(), deadline, client_end)) {
        out.error = ec;
        out.detail = "connect to 127.0.0.1";
    } else if (const auto ec = listener.accept(server_end, deadline)) {
        out.error = ec;
        out.detail = "accept";
    }
    if (out.error)
        return out;
    return run_pair<Engine>(client_creds, server_creds, std::move(client_end),
                            std::move(server_end));
}

// The server in a child process, over a pipe each way: the client's view is reported.
template <class Engine>
outcome run_child(const typename Engine::credentials& client_creds,
                  const typename Engine::credentials& server_creds) {
    using client = typename Engine::client;
    using server = typename Engine::server;
    outcome out;
    int to_server[2] = {-1, -1}, to_client[2] = {-1, -1};
    const auto give_up = [&](const char* call) {
        out.error = std::error_code(errno, std::system_category());
        out.detail = call;
        for (const int fd : {to_server[0], to_server[1], to_client[0], to_client[1]})
            if (fd >= 0)
                ::close(fd);
        return out;
    };
    if (::pipe2(to_server, O_CLOEXEC) != 0 || ::pipe2(to_client, O_CLOEXEC) != 0)
        return give_up("pipe");
    const auto deadline = clock::now() + std::chrono::seconds(10);
    const pid_t child = ::fork();
    if (child < 0)
        return give_up("fork");
    if (child == 0) {
        ::close(to_server[1]);
        ::close(to_client[0]);
        server_handshake<Engine, pipe_transport> s{server{server_creds},
                                                   pipe_transport(to_server[0], to_client[1])};
        if (s.run(deadline))
            ::_exit(1);
        basic_channel_for<decltype(s)> channel{std::move(s)};
        ::_exit(serve_conversation(channel, deadline) ? 1 : 0);
    }
    ::close(to_server[0]);
    ::close(to_client[1]);
    client_handshake<Engine, pipe_transport> c{client{client_creds, "localhost"},
                                               pipe_transport(to_client[0], to_server[1])};
    const auto start = std::chrono::steady_clock::now();
    const auto ec = c.run(deadline);
    out.elapsed = duration_cast<microseconds>(std::chrono::steady_clock::now() - start);
    if (ec) {
        out.error = ec;
        out.detail = c.error_detail();
    } else {
        negotiated(out, c);
        basic_channel_for<decltype(c)> channel{std::move(c)};
        if (const auto talk = client_conversation(channel, deadline)) {
            out.error = talk;
            out.detail = "data exchange: " + channel.error_detail();
        } else {
            out.exchange = conversation_done;
        }
    }
    int status = 0;
    if (::waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (!out.error) {
            out.error = errc::protocol_error;
            out.detail = "the server process failed";
        }
    }
    return out;
}

// The demo's rows for one engine; false if a handshake failed.
template <class Engine>
bool demo_engine(const issued_certificate& leaf, const std::string& ca_pem,
                 const std::string& versions, const std::string& alpn) {
    using credentials = typename Engine::credentials;
    bool all_ok = true;
    for (const auto version : {tls_version::tls1_3, tls_version::tls1_2}) {
        if (versions != "all" && (versions == "1.3") != (version == tls_version::tls1_3))
            continue;
        server_config sc;
        sc.certificate_chain = pem_source::from_memory(leaf.certificate_pem);
        sc.private_key = pem_source::from_memory(leaf.private_key_pem);
        sc.alpn = secctx::tool::split_list(alpn);
        sc.min_version = sc.max_version = version;
        client_config cc;
        cc.trust.certificates = pem_source::from_memory(ca_pem);
        cc.alpn = sc.alpn;
        cc.min_version = cc.max_version = version;
        std::error_code ec;
        std::string detail;
        const auto server_creds = credentials::server(sc, ec, &detail);
        const auto client_creds = ec ? credentials() : credentials::client(cc, ec, &detail);
        if (ec) {
            std::fprintf(stderr, "%s credentials: %s (%s)\n", Engine::name, ec.message().c_str(),
                         detail.c_str());
            return false;
        }
        const struct {
            const char* name;
            outcome (*run)(const credentials&, const credentials&);
        } transports[] = {{"memory/stepped", run_stepped<Engine>},
                          {"memory/threads", run_threads<Engine>},
                          {"socket/tcp", run_socket<Engine>},
                          {"pipe/child", run_child<Engine>}};
        for (const auto& t : transports) {
            const outcome o = t.run(client_creds, server_creds);
            if (o.error) {
                all_ok = false;
                std::printf("%-7s %-15s FAILED: %s%s%s\n", Engine::name, t.name,
                            o.error.message().c_str(), o.detail.empty() ? "" : ": ",
                            o.detail.c_str());
                continue;
            }
            const auto& m = o.client_metrics;
            const auto us = [](auto d) {
                return static_cast<long long>(duration_cast<microseconds>(d).count());
            };
            std::printf(
                "%-7s %-15s %-8s %-40s %-5s %3u %7u %7zu %7zu %4s %4s %9lld %10lld %10lld\n",
                Engine::name, t.name, o.protocol.c_str(), o.cipher.c_str(),
                o.alpn.empty() ? "-" : o.alpn.c_str(), m.round_trips,
                m.flights_sent + m.flights_received, m.bytes_sent, m.bytes_received,
                m.timings.hello_retry ? "yes" : "no", m.resumed ? "yes" : "no", us(o.elapsed),
                us(m.timings.computing), us(m.timings.waiting));
            std::printf("%-23s then: %s\n", "", o.exchange.c_str());
        }
    }
    return all_ok;
}

int demo(int argc, char** argv) {
    std::string versions = "all";
    std::string alpn = "h2,http/1.1";
    std::string engine = "all";
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if ((arg == "--tls" || arg == "--alpn" || arg == "--engine") && i + 1 < argc) {
            (arg == "--tls" ? versions : arg == "--alpn" ? alpn : engine) = argv[++i];
        } else {
            std::fprintf(stderr, "secctx demo: unknown option '%s'\nsee secctx --help\n", argv[i]);
            return 2;
        }
    }
    if (versions != "all" && versions != "1.2" && versions != "1.3") {
        std::fprintf(stderr, "secctx demo: --tls takes 1.2, 1.3 or all\n");
        return 2;
    }
    if (engine != "all" && engine != "openssl" && engine != "gnutls") {
        std::fprintf(stderr, "secctx demo: --engine takes openssl, gnutls or all\n");
        return 2;
    }

    const openssl::throwaway_ca ca(key_type::ecdsa_p256, "secctx demo CA");
    const issued_certificate leaf = ca.issue({});
    std::printf(
        "throwaway CA \"secctx demo CA\" issued an ECDSA P-256 certificate for localhost\n\n");
    std::printf("%-7s %-15s %-8s %-40s %-5s %3s %7s %7s %7s %4s %4s %9s %10s %10s\n", "engine",
                "transport", "protocol", "cipher", "alpn", "rtt", "flights", "c->s B", "s->c B",
                "hrr", "res", "total us", "compute us", "waiting us");
    bool all_ok = true;
    if (engine != "gnutls")
        all_ok &= demo_engine<tool::openssl_engine>(leaf, ca.certificate_pem(), versions, alpn);
    if (engine != "openssl")
        all_ok &= demo_engine<tool::gnutls_engine>(leaf, ca.certificate_pem(), versions, alpn);
    std::printf("\n%s\n", all_ok ? "all handshakes succeeded" : "some handshakes FAILED");
    return all_ok ? 0 : 1;
}

} // namespace

namespace secctx::tool {

int run_demo(int argc, char** argv) {
    return demo(argc, argv);
}

} // namespace secctx::tool
