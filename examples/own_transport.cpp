// A transport of your own: any type with non-blocking read_some() and write_some() and a blocking
// wait() (the contract is in secctx/transport/transport.hpp). This one wraps another transport
// and counts the bytes that cross it each way, the way a transport over your own connection
// object, message bus or shared memory would forward to it.
#include <secctx/secctx.hpp>

#include <cstdio>
#include <exception>

template <secctx::transport Inner>
class counting_transport {
public:
    explicit counting_transport(Inner inner) noexcept : inner_(std::move(inner)) {}

    // What the inner transport reports, unchanged: would_block, end_of_stream and its own errors
    // carry their meaning to the loop. Only the bytes taken count.
    secctx::io_result read_some(std::span<std::byte> into) noexcept {
        const secctx::io_result r = inner_.read_some(into);
        received_ += r.error ? 0 : r.bytes;
        return r;
    }

    secctx::io_result write_some(std::span<const std::byte> from) noexcept {
        const secctx::io_result r = inner_.write_some(from);
        sent_ += r.error ? 0 : r.bytes;
        return r;
    }

    std::error_code wait(secctx::wait_for what, secctx::clock::time_point deadline) noexcept {
        return inner_.wait(what, deadline);
    }

    std::size_t sent() const noexcept { return sent_; }
    std::size_t received() const noexcept { return received_; }

private:
    Inner inner_;
    std::size_t sent_ = 0;
    std::size_t received_ = 0;
};

static_assert(secctx::transport<counting_transport<secctx::memory_transport>>);

// The throwaway CA and the credentials throw on failure (their error-code overloads do not).
int main() try {
    using namespace secctx;
    const throwaway_ca ca;
    const issued_certificate leaf = ca.issue({});
    server_config server_settings;
    server_settings.certificate_chain = pem_source::from_memory(leaf.certificate_pem);
    server_settings.private_key = pem_source::from_memory(leaf.private_key_pem);
    client_config client_settings;
    client_settings.trust.certificates = pem_source::from_memory(ca.certificate_pem());

    using counted = counting_transport<memory_transport>;
    memory_link link;
    basic_handshake<client, counted, dynamic_buffer> c{
        client{credentials::client(client_settings), "localhost"}, counted{link.client_end()}};
    basic_handshake<server, counted, dynamic_buffer> s{server{credentials::server(server_settings)},
                                                       counted{link.server_end()}};
    while (!(c.done() && s.done())) {
        for (const step_result& r : {c.step(), s.step()}) {
            if (r.status == step_status::failed) {
                std::printf("handshake failed: %s\n", r.error.message().c_str());
                return 1;
            }
        }
    }
    std::printf("handshake done: the client sent %zu bytes and received %zu\n",
                c.transport().sent(), c.transport().received());
    return c.transport().sent() != 0 && c.transport().received() != 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::printf("failed: %s\n", e.what());
    return 1;
}
