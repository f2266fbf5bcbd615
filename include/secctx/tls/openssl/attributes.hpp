// QueryContextAttributes for the OpenSSL provider.
#pragma once

#include "secctx/attributes.hpp"
#include "secctx/tls/openssl/detail/describe.hpp"
#include "secctx/tls/openssl/provider.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace secctx::openssl {

// Empty attributes after a failure (the context is gone).
inline connection_attributes query_attributes(const provider& p) {
    connection_attributes a;
    SSL* ssl = p.native_handle();
    if (ssl == nullptr)
        return a;
    a.protocol = p.protocol();
    a.cipher = p.cipher();
    a.alpn = p.alpn();
    a.resumed = p.resumed();
    if (const int group = SSL_get_negotiated_group(ssl); group != 0)
        if (const char* name = SSL_group_to_name(ssl, group))
            a.key_exchange_group = name;
    if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name))
        a.server_name = name;
    a.peer_chain = detail::peer_chain(ssl);
    const X509* leaf = SSL_get0_peer_certificate(ssl);
    const long result = SSL_get_verify_result(ssl);
    a.peer_verified =
        leaf != nullptr && result == X509_V_OK && SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE;
    a.verified_by = p.verified_by();
    a.identity = p.identity();
    a.verification_result = X509_verify_cert_error_string(result);
    return a;
}

} // namespace secctx::openssl
