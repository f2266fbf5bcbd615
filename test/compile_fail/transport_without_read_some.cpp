// A transport that cannot read is rejected by the transport concept.
// expect: t.read_some(into)
#include "secctx/secctx.hpp"

struct write_only_transport {
    secctx::io_result write_some(std::span<const std::byte>) { return {}; }
    std::error_code wait(secctx::wait_for, secctx::clock::time_point) { return {}; }
};

int main() {
    secctx::credentials creds;
    secctx::basic_handshake<secctx::client, write_only_transport, secctx::dynamic_buffer> hs{
        secctx::client{creds, "example.com"}, write_only_transport{}};
}
