// A transport whose calls may throw is rejected by the transport concept: the loops that call it
// are noexcept, so an exception would end the process.
// expect: read_some(into)' is not 'noexcept'
#include "secctx/secctx.hpp"

struct throwing_transport {
    secctx::io_result read_some(std::span<std::byte>) { return {}; }
    secctx::io_result write_some(std::span<const std::byte>) noexcept { return {}; }
    std::error_code wait(secctx::wait_for, secctx::clock::time_point) noexcept { return {}; }
};

int main() {
    secctx::credentials creds;
    secctx::basic_handshake<secctx::client, throwing_transport, secctx::dynamic_buffer> hs{
        secctx::client{creds, "example.com"}, throwing_transport{}};
}
