// `secctx server`: the options, the credentials, and the event loops (server/event_loop.hpp) on
// the engine chosen. Modelled on `openssl s_server`.
#include "commands.hpp"
#include "engines.hpp"
#include "options.hpp"
#include "server/event_loop.hpp"
#include "server/settings.hpp"
#include "server/stdio.hpp"

#include "secctx/certificate_map.hpp"
#include "secctx/transport/socket.hpp"

#include <pthread.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace secctx::tool {

namespace {

// Serves with `config` on `Engine` until the process ends (or, with --stdio, the one connection
// does).
template <class Engine>
int serve(server_config& config, settings& s, const std::string& listen, bool stdio) {
    using credentials = typename Engine::credentials;
    using loops = engine_server<Engine>;
    std::error_code ec;
    std::string detail;
    const credentials creds = credentials::server(config, ec, &detail);
    forget(config.private_key_password);
    if (ec) {
        std::fprintf(stderr, "secctx server: credentials: %s\n", describe(ec, detail).c_str());
        return 1;
    }
    if (stdio)
        return serve_stdio<Engine>(creds, s);
    socket_listener listener;
    if (const auto listen_error = socket_listener::listen_tcp(listen, listener)) {
        std::fprintf(stderr, "secctx server: cannot listen on %s: %s\n", listen.c_str(),
                     listen_error.message().c_str());
        return 1;
    }
    s.max_connections = connections_that_fit(s.max_connections, s.threads);
    // Blocks are taken lazily: the bound only caps busy connections (two blocks each at most).
    buffer_pool pool(2 * s.max_connections + 64);
    typename loops::shared_state shared{s, creds, pool, listener.native_handle()};
    std::fprintf(stderr, "listening on port %u (%u threads, %s)\n",
                 static_cast<unsigned>(listener.port()), s.threads, Engine::name);
    std::vector<std::jthread> others;
    for (unsigned i = 1; i < s.threads; ++i)
        others.emplace_back([&shared] {
            // Named, so that tools (and the tests) can tell the loops from other threads, such
            // as a sanitizer's.
            pthread_setname_np(pthread_self(), "secctx-loop");
            typename loops::event_loop(shared).run();
        });
    typename loops::event_loop(shared).run();
}

} // namespace

int run_server(int argc, char** argv) {
    options o(argc, argv,
              {"--listen",
               "--cert",
               "--key",
               "--key-password-file",
               "--ca",
               "--verify-client",
               "--alpn",
               "--mode",
               "--max-connections",
               "--handshake-timeout",
               "--idle-timeout",
               "--max-output",
               "--threads",
               "--ciphersuites",
               "--cipher",
               "--groups",
               "--min-version",
               "--max-version",
               "--session-cache",
               "--session-lifetime",
               "--client-map",
               "--crl",
               "--ocsp-response",
               "--engine"},
              {"--stdio", "--no-session-tickets", "--require-identity"});
    // Sockets send with MSG_NOSIGNAL; this is for stderr, when whatever reads the log is gone.
    static_cast<void>(std::signal(SIGPIPE, SIG_IGN)); // fails only for a bad signal number
    settings s;
    s.max_connections = static_cast<std::size_t>(o.number("--max-connections", 1024));
    s.handshake_timeout = std::chrono::milliseconds(o.number("--handshake-timeout", 60'000));
    s.idle_timeout = std::chrono::milliseconds(o.number("--idle-timeout", 60'000));
    // A week at most: the deadlines are compared in the clock's nanoseconds.
    constexpr std::chrono::milliseconds longest = std::chrono::days(7);
    if (s.handshake_timeout > longest || s.idle_timeout > longest)
        return std::fprintf(stderr,
                            "secctx server: --handshake-timeout and --idle-timeout take "
                            "at most %lld ms\n",
                            static_cast<long long>(longest.count())),
               2;
    s.max_output = static_cast<std::size_t>(o.number("--max-output", 256L * 1024));
    s.threads = static_cast<unsigned>(o.number("--threads", 1));
    if (s.threads == 0 || s.threads > 256)
        return std::fprintf(stderr, "secctx server: --threads takes 1 to 256\n"), 2;
    const std::string answer = o.get("--mode", "echo");
    if (answer != "echo" && answer != "http")
        return std::fprintf(stderr, "secctx server: --mode takes echo or http\n"), 2;
    s.answer = answer == "http" ? mode::http : mode::echo;
    // Read before the options' errors are looked at, as every number is. One cache for the
    // process: the credentials, and so the cache, are shared by every loop.
    const auto session_cache = static_cast<std::size_t>(o.number("--session-cache", 20480));
    const std::chrono::seconds session_lifetime(o.number("--session-lifetime", 7200));
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
    if (!read_key_password(o, "server", config.private_key_password))
        return 2;
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
    if (o.has("--client-map")) {
        std::error_code ec;
        std::string detail;
        config.client_identity.mapper = certificate_map::load(o.get("--client-map"), ec, &detail);
        if (ec)
            return std::fprintf(stderr, "secctx server: --client-map %s\n", detail.c_str()), 2;
    }
    config.client_identity.required = o.has("--require-identity");
    read_revocation(o, config);
    config.ocsp_response_file = o.get("--ocsp-response");
    if (config.client_identity.required && !config.client_identity.enabled())
        return std::fprintf(stderr, "secctx server: --require-identity needs --client-map\n"), 2;
    config.alpn = split_list(o.get("--alpn"));
    config.tls13_cipher_suites = split_list(o.get("--ciphersuites"));
    config.tls12_cipher_suites = split_list(o.get("--cipher"));
    config.groups = split_list(o.get("--groups"));
    config.session_tickets = !o.has("--no-session-tickets");
    config.session_cache_size = session_cache;
    config.session_lifetime = session_lifetime;
    if (!parse_version(o.get("--min-version", "tls1.2"), config.min_version) ||
        !parse_version(o.get("--max-version", "tls1.3"), config.max_version))
        return std::fprintf(stderr, "secctx server: --min-version and --max-version take tls1.2 or "
                                    "tls1.3\n"),
               2;
    const std::string engine = o.get("--engine", "openssl");
    if (engine == "gnutls")
        return serve<gnutls_engine>(config, s, o.get("--listen"), o.has("--stdio"));
    if (engine != "openssl")
        return std::fprintf(stderr, "secctx server: --engine takes openssl or gnutls\n"), 2;
    return serve<openssl_engine>(config, s, o.get("--listen"), o.has("--stdio"));
}

} // namespace secctx::tool
