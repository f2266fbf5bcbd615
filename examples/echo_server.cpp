// A blocking TLS echo server, one connection at a time: the smallest server to copy from.
//
//   echo_server CERT KEY [ADDRESS:PORT]     (default 127.0.0.1:0, a free port)
//
// Prints "listening on port N", then for each connection: the handshake with run() and a
// deadline, every byte sent back until the client's close_notify, and close_notify in turn.
// For many connections at once, see tools/server/event_loop.hpp (non-blocking step()).
#include <secctx/secctx.hpp>
#include <secctx/transport/socket.hpp>

#include <cstdio>

int main(int argc, char** argv) {
    using namespace secctx;
    if (argc < 3) {
        std::fprintf(stderr, "usage: echo_server CERT KEY [ADDRESS:PORT]\n");
        return 2;
    }
    server_config settings;
    settings.certificate_chain = pem_source::from_file(argv[1]);
    settings.private_key = pem_source::from_file(argv[2]);
    std::error_code ec;
    std::string detail;
    const credentials creds = credentials::server(settings, ec, &detail);
    if (ec) {
        std::fprintf(stderr, "credentials: %s (%s)\n", ec.message().c_str(), detail.c_str());
        return 1;
    }
    socket_listener listener;
    if ((ec = socket_listener::listen_tcp(argc > 3 ? argv[3] : "127.0.0.1:0", listener))) {
        std::fprintf(stderr, "listen: %s\n", ec.message().c_str());
        return 1;
    }
    std::printf("listening on port %u\n", static_cast<unsigned>(listener.port()));
    if (std::fflush(stdout) != 0) // whoever waits for the port reads it now
        return 1;

    for (;;) {
        socket_transport socket;
        if ((ec = listener.accept(socket))) {
            std::fprintf(stderr, "accept: %s\n", ec.message().c_str());
            continue;
        }
        // A peer gets ten seconds to finish its handshake, and a minute of silence after it.
        basic_handshake<server, socket_transport, dynamic_buffer> handshake{server{creds},
                                                                            std::move(socket)};
        if ((ec = handshake.run(clock::now() + std::chrono::seconds(10)))) {
            std::fprintf(stderr, "handshake: %s (%s)\n", ec.message().c_str(),
                         handshake.error_detail().c_str());
            continue;
        }
        basic_channel_for<decltype(handshake)> channel{std::move(handshake)};
        std::byte buffer[16384];
        for (;;) {
            const io_result got = channel.read(buffer, clock::now() + std::chrono::minutes(1));
            if (got.error == errc::end_of_stream) { // the client's close_notify: a clean end
                channel.shutdown_send();
                break;
            }
            if (got.error) {
                std::fprintf(stderr, "read: %s\n", got.error.message().c_str());
                break;
            }
            if ((ec = channel.write_all(std::span(buffer, got.bytes),
                                        clock::now() + std::chrono::seconds(10)))) {
                std::fprintf(stderr, "write: %s\n", ec.message().c_str());
                break;
            }
        }
    }
}
