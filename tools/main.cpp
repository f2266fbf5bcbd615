// The secctx command-line tool: one program, three commands (demo, server, client).
#include "commands.hpp"

#include <cstdio>
#include <exception>
#include <string_view>

namespace {

constexpr const char* usage = R"(usage: secctx <command> [options]

Establishes TLS security contexts (the Schannel token-exchange handshake) with secctx.

commands:
  demo [--tls 1.2|1.3|all] [--alpn LIST] [--engine openssl|gnutls|all]
        Makes a throwaway CA and a server certificate (ECDSA P-256, for "localhost") in memory,
        then runs a client and a server handshake over each transport:
          memory/stepped  both ends stepped from one thread (non-blocking step())
          memory/threads  each end blocking in run() on its own thread
          socket/tcp      the same over a TCP connection on 127.0.0.1 (socket_transport)
          pipe/child      the server in a child process, a pipe each way (pipe_transport)
        and prints, per transport and TLS version: protocol, cipher, ALPN, round trips, bytes each
        way (the client's view), flights, whether a HelloRetryRequest happened, whether the
        session was resumed, and wall-clock, computing (inside the provider) and waiting (for
        the peer) microseconds. Then each connection becomes a secure channel: the client sends
        64 KiB, the server echoes them, both check them byte for byte, and both sides send and
        receive close_notify; the demo prints that it did.
        --tls   which versions to run (default: all)
        --alpn  comma-separated ALPN list offered by both sides (default: h2,http/1.1)
        --engine  which TLS engine runs both ends (default: all, a row each)
        Exits 0 if every handshake succeeded, 1 otherwise.
  server --listen HOST:PORT --cert FILE --key FILE [--key-password-file FILE] [--ca FILE]
         [--verify-client required|optional] [--alpn LIST] [--mode echo|http] [--stdio]
         [--threads N] [--max-connections N] [--handshake-timeout MS] [--idle-timeout MS]
         [--max-output BYTES] [--ciphersuites LIST] [--cipher LIST] [--groups LIST]
         [--min-version tls1.2|tls1.3] [--max-version tls1.2|tls1.3] [--no-session-tickets]
         [--session-cache N] [--session-lifetime SECONDS] [--engine openssl|gnutls]
         [--client-map FILE [--require-identity]] [--crl FILE] [--ocsp-response FILE]
        A TLS server: --threads event loops (epoll, non-blocking step()), default 1, for many
        connections at once; buffers come from one pool, none held by an idle connection.
        --mode echo sends every byte back; --mode http answers each request with a small
        HTTP/1.1 200 response (keep-alive, pipelined requests answered in order; closes after
        HTTP/1.0 or "Connection: close", with close_notify). --stdio speaks TLS on its own
        stdin/stdout for one connection. --ca gives the anchors for client certificates.
        --client-map maps client certificates to identities (docs/identity-mapping.md has
        the format; a bad line is refused at start with its number): the identity is logged
        per connection and named in --mode http answers; --require-identity refuses a client
        certificate that maps to none. Both need --verify-client. --crl checks client
        certificates against the CRLs in FILE (PEM): a revoked one, or one whose issuer has no
        current CRL there, is refused. --ocsp-response staples the DER OCSP response in FILE
        for clients that ask (read again whenever the file changes; never once expired).
        The certificate may be RSA or ECDSA. --ciphersuites (TLS 1.3), --cipher (TLS 1.2) and
        --groups take IANA names, comma-separated. Resumption: stateless tickets, which
        --no-session-tickets turns off, and a session cache for clients that resume by
        session ID, shared by the threads: --session-cache N sessions (default 20480, 0 for
        none), --session-lifetime SECONDS (default 7200, at most 604800).
        An encrypted --key is decrypted with the first line of --key-password-file; without
        it such a key is refused (never prompted for).
        Limits, each closing with its own log line:
        --handshake-timeout (default 60000 ms, as nginx), --idle-timeout (no byte either way on an
        established connection, default 60000 ms), --max-output (answers the peer has not
        read, default 262144 bytes), --max-connections (default 1024, kept under the
        descriptor limit; over it connections are refused at once). One log line per
        connection on stderr: peer, protocol, cipher, ALPN, handshake microseconds, and how it
        ended (a peer that drops TCP without close_notify is logged as truncated).
        --engine picks the TLS engine (default openssl); every option works on both
        (docs/engines.md says how GnuTLS forms suites from the lists, and how its ticket keys
        rotate: every --session-lifetime).
  client --connect HOST:PORT [--ca FILE] [--servername NAME] [--cert FILE --key FILE]
         [--key-password-file FILE]
         [--alpn LIST] [--send TEXT] [--stdio] [--timeout MS] [--engine openssl|gnutls]
         [--crl FILE] [--ocsp check|require|off]
        Connects, verifies the server (against --ca, else the system store, for --servername
        or HOST), prints the negotiated attributes, sends TEXT and prints the reply; --stdio
        relays stdin and stdout instead. --crl checks the server's certificate against the
        CRLs in FILE, as the server's --crl does. --ocsp asks for a stapled OCSP response:
        check refuses a bad or revoked one, require also refuses none or an unknown status.
        Exits 0 only if the handshake and the
        exchange succeeded.
  --help   prints this text.
)";

int dispatch(int argc, char** argv) {
    const std::string_view command = argc > 1 ? argv[1] : "";
    if (command == "--help" || command == "-h" || command == "help") {
        std::fputs(usage, stdout);
        return 0;
    }
    if (command == "demo")
        return secctx::tool::run_demo(argc - 2, argv + 2);
    if (command == "server")
        return secctx::tool::run_server(argc - 2, argv + 2);
    if (command == "client")
        return secctx::tool::run_client(argc - 2, argv + 2);
    std::fprintf(stderr, "%s%s", command.empty() ? "" : "secctx: unknown command\n\n", usage);
    return 2;
}

} // namespace

// The library reports through error codes; what can still throw here is the tools' own setup
// (strings, the throwaway CA of the demo) running out of memory or failing in an engine.
int main(int argc, char** argv) {
    try {
        return dispatch(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "secctx: %s\n", e.what());
        return 1;
    }
}
