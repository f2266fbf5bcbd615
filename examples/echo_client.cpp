// A blocking TLS client: connects, verifies the server, sends one line and prints the reply.
//
//   echo_client ADDRESS:PORT SERVER_NAME CA_FILE TEXT
//
// The server's certificate must chain to CA_FILE and name SERVER_NAME (which is also sent as SNI).
// Without a CA file of your own, `settings.trust.system_store = true` trusts the system's.
#include <secctx/secctx.hpp>
#include <secctx/transport/socket.hpp>

#include <cstdio>
#include <string>
#include <string_view>

int main(int argc, char** argv) {
    using namespace secctx;
    if (argc != 5) {
        std::fprintf(stderr, "usage: echo_client ADDRESS:PORT SERVER_NAME CA_FILE TEXT\n");
        return 2;
    }
    client_config settings;
    settings.trust.certificates = pem_source::from_file(argv[3]);
    std::error_code ec;
    std::string detail;
    const credentials creds = credentials::client(settings, ec, &detail);
    if (ec) {
        std::fprintf(stderr, "credentials: %s (%s)\n", ec.message().c_str(), detail.c_str());
        return 1;
    }
    const auto deadline = clock::now() + std::chrono::seconds(10);
    socket_transport socket;
    if ((ec = connect_tcp(argv[1], deadline, socket))) {
        std::fprintf(stderr, "connect: %s\n", ec.message().c_str());
        return 1;
    }
    basic_handshake<client, socket_transport, dynamic_buffer> handshake{client{creds, argv[2]},
                                                                        std::move(socket)};
    if ((ec = handshake.run(deadline))) {
        // Names the cause: certificate_untrusted, host_name_mismatch, timed_out, ...
        std::fprintf(stderr, "handshake: %s (%s)\n", ec.message().c_str(),
                     handshake.error_detail().c_str());
        return 1;
    }
    basic_channel_for<decltype(handshake)> channel{std::move(handshake)};
    const std::string_view text = argv[4];
    std::string reply(text.size(), '\0');
    if ((ec = channel.write_all(std::as_bytes(std::span(text)), deadline)) ||
        (ec = channel.read_exactly(std::as_writable_bytes(std::span(reply)), deadline))) {
        std::fprintf(stderr, "exchange: %s\n", ec.message().c_str());
        return 1;
    }
    const connection_attributes attributes = channel.attributes();
    std::printf("%s (%s, %s)\n", reply.c_str(), attributes.protocol.c_str(),
                attributes.cipher.c_str());
    // close_notify both ways, waiting at most until the deadline for the server's.
    return channel.shutdown(deadline) ? 1 : 0;
}
