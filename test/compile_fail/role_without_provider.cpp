// A role that does not name its provider is rejected by the role concept.
// expect: typename R::provider_type
#include "secctx/secctx.hpp"

struct nameless_role {
    static constexpr secctx::role_kind kind = secctx::role_kind::client;
};

int main() {
    secctx::memory_link link;
    secctx::basic_handshake<nameless_role, secctx::memory_transport, secctx::dynamic_buffer> hs{
        nameless_role{}, link.client_end()};
}
