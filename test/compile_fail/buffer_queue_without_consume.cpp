// A buffer policy whose queues cannot consume bytes is rejected by the byte_queue concept.
// expect: q.consume(n)
#include "secctx/secctx.hpp"

struct queue_without_consume {
    std::span<std::byte> prepare(std::size_t) noexcept { return {}; }
    void commit(std::size_t) noexcept {}
    std::span<const std::byte> data() const noexcept { return {}; }
    std::size_t size() const noexcept { return 0; }
    std::size_t max_size() const noexcept { return 0; }
    void release() noexcept {}
};

struct broken_buffers {
    queue_without_consume& input() { return in; }
    queue_without_consume& output() { return out; }
    queue_without_consume in, out;
};

int main() {
    secctx::credentials creds;
    secctx::memory_link link;
    secctx::basic_handshake<secctx::client, secctx::memory_transport, broken_buffers> hs{
        secctx::client{creds, "example.com"}, link.client_end()};
}
