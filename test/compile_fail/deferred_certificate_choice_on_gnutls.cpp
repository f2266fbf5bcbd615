// GnuTLS cannot pause a handshake for the client's choice of certificate, so its handshake has no
// pending_certificate(): asking for a deferred choice does not compile, and the diagnostic names
// the missing capability (docs/engines.md, "What each engine can do").
// expect: deferred_certificate_choice
#include "secctx/buffer/dynamic.hpp"
#include "secctx/handshake.hpp"
#include "secctx/roles.hpp"
#include "secctx/tls/gnutls/provider.hpp"
#include "secctx/transport/memory.hpp"

int main() {
    using gnutls_client = secctx::basic_client<secctx::gnutls::provider>;
    secctx::memory_link link;
    secctx::basic_handshake<gnutls_client, secctx::memory_transport, secctx::dynamic_buffer> h{
        gnutls_client{secctx::gnutls::credentials{}, "localhost"}, link.client_end()};
    (void)h.pending_certificate();
}
