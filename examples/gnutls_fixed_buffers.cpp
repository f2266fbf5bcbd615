// The same handshake and channel on the GnuTLS engine, named explicitly, with fixed buffers: the
// queues live inside the handshake object, so the library allocates nothing per handshake or per
// record. Both ends are stepped from one thread over the in-memory transport.
#include <secctx/buffer/fixed.hpp>
#include <secctx/channel.hpp>
#include <secctx/gnutls.hpp>
#include <secctx/handshake.hpp>
#include <secctx/transport/memory.hpp>

#include <cstdio>
#include <exception>
#include <span>
#include <string>
#include <string_view>

// The throwaway CA and the credentials throw on failure (their error-code overloads do not).
int main() try {
    using namespace secctx;
    // One record's worth each way: all a handshake or a channel ever needs at once.
    using buffers = fixed_buffer<channel_input_capacity>;

    const gnutls::throwaway_ca ca;
    const issued_certificate leaf = ca.issue({}); // for "localhost"
    server_config server_settings;
    server_settings.certificate_chain = pem_source::from_memory(leaf.certificate_pem);
    server_settings.private_key = pem_source::from_memory(leaf.private_key_pem);
    client_config client_settings;
    client_settings.trust.certificates = pem_source::from_memory(ca.certificate_pem());
    client_settings.groups = {"x25519", "secp256r1"}; // IANA names, on either engine

    const auto server_credentials = gnutls::credentials::server(server_settings);
    const auto client_credentials = gnutls::credentials::client(client_settings);

    memory_link link;
    basic_handshake<gnutls::client, memory_transport, buffers> c{
        gnutls::client{client_credentials, "localhost"}, link.client_end()};
    basic_handshake<gnutls::server, memory_transport, buffers> s{gnutls::server{server_credentials},
                                                                 link.server_end()};
    while (!(c.done() && s.done())) {
        for (const step_result& r : {c.step(), s.step()}) {
            if (r.status == step_status::failed) {
                std::printf("handshake failed: %s\n", r.error.message().c_str());
                return 1;
            }
        }
    }

    basic_channel_for<decltype(c)> client_channel{std::move(c)};
    basic_channel_for<decltype(s)> server_channel{std::move(s)};
    const auto deadline = clock::now() + std::chrono::seconds(5);
    // New sending keys for the client, and a request that the server renew its own (TLS 1.3).
    std::error_code ec = client_channel.update_keys(true);
    const std::string_view hello = "hello over GnuTLS";
    if (!ec)
        ec = client_channel.write_all(std::as_bytes(std::span(hello)), deadline);
    std::string received(hello.size(), '\0');
    if (!ec)
        ec = server_channel.read_exactly(std::as_writable_bytes(std::span(received)), deadline);
    if (ec || received != hello) {
        std::printf("exchange failed: %s\n", ec.message().c_str());
        return 1;
    }
    const connection_attributes attributes = client_channel.attributes();
    std::printf("\"%s\" arrived over %s with %s, group %s, server verified: %s\n", received.c_str(),
                attributes.protocol.c_str(), attributes.cipher.c_str(),
                attributes.key_exchange_group.c_str(), attributes.peer_verified ? "yes" : "no");
    return 0;
} catch (const std::exception& e) {
    std::printf("failed: %s\n", e.what());
    return 1;
}
