// Trust anchors into an SSL_CTX's store: a bundle from a file or memory, a hashed directory, the
// system store; a client with none configured trusts the system store.
#pragma once

#include "secctx/role.hpp"
#include "secctx/tls/config.hpp"
#include "secctx/tls/openssl/detail/handles.hpp"
#include "secctx/tls/openssl/detail/pem.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>

namespace secctx::openssl::detail {

inline bool load_trust(SSL_CTX* ctx, const trust_anchors& trust, role_kind kind) {
    if (trust.empty() && kind == role_kind::client)
        return SSL_CTX_set_default_verify_paths(ctx) == 1;
    if (trust.system_store && SSL_CTX_set_default_verify_paths(ctx) != 1)
        return false;
    if (!trust.directory.empty() &&
        SSL_CTX_load_verify_locations(ctx, nullptr, trust.directory.c_str()) != 1)
        return false;
    if (trust.certificates.where == pem_source::kind::file)
        return SSL_CTX_load_verify_locations(ctx, trust.certificates.value.c_str(), nullptr) == 1;
    if (trust.certificates.where == pem_source::kind::memory) {
        auto bio = memory_bio(trust.certificates.value);
        X509_STORE* store = SSL_CTX_get_cert_store(ctx);
        int added = 0;
        while (x509_ptr ca{PEM_read_bio_X509(bio.get(), nullptr, pem_password, nullptr)}) {
            if (X509_STORE_add_cert(store, ca.get()) != 1)
                return false;
            ++added;
        }
        if (added == 0)
            return false; // PEM's own reason ("no start line") stays for the detail
        return read_to_the_end();
    }
    return true;
}

} // namespace secctx::openssl::detail
