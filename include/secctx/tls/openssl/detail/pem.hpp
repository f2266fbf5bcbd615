// Loading PEM text (files or memory) into an SSL_CTX: the certificate chain and its private key,
// encrypted keys with the configured password and never the terminal's, and the rule that a
// damaged block fails the load rather than silently shortening a chain or a bundle.
#pragma once

#include "secctx/tls/config.hpp"
#include "secctx/tls/openssl/detail/handles.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <string>

namespace secctx::openssl::detail {

inline bio_ptr memory_bio(const std::string& text) {
    return bio_ptr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// OpenSSL's default for an encrypted PEM block asks the terminal for its password, which
// would stop a server that starts without one; this one gives the configured password or
// none, so the block fails to load. `password` is the std::string, or null for none.
inline int pem_password(char* buffer, int size, int /*writing*/, void* password) {
    if (password == nullptr)
        return 0;
    const auto& text = *static_cast<const std::string*>(password);
    if (text.size() > static_cast<std::size_t>(size))
        return 0;
    std::copy_n(text.data(), text.size(), buffer); // counted: OpenSSL needs no NUL
    return static_cast<int>(text.size());
}

// After reading PEM blocks until one fails: true if that was the end of the text (no start
// line), false if a damaged block stopped it, which must not silently shorten a chain or a
// bundle (its reason stays for the detail).
inline bool read_to_the_end() noexcept {
    const unsigned long last = ERR_peek_last_error();
    if (last != 0 &&
        (ERR_GET_LIB(last) != ERR_LIB_PEM || ERR_GET_REASON(last) != PEM_R_NO_START_LINE))
        return false;
    ERR_clear_error();
    return true;
}

inline bool load_certificate_and_key(SSL_CTX* ctx, const tls_config& config) {
    if (config.certificate_chain.empty() != config.private_key.empty())
        return false;
    if (config.certificate_chain.empty())
        return true;
    if (config.certificate_chain.where == pem_source::kind::file) {
        if (SSL_CTX_use_certificate_chain_file(ctx, config.certificate_chain.value.c_str()) != 1)
            return false;
    } else {
        auto bio = memory_bio(config.certificate_chain.value);
        x509_ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, pem_password, nullptr));
        if (!leaf || SSL_CTX_use_certificate(ctx, leaf.get()) != 1)
            return false;
        while (X509* next = PEM_read_bio_X509(bio.get(), nullptr, pem_password, nullptr)) {
            if (SSL_CTX_add0_chain_cert(ctx, next) != 1) {
                X509_free(next);
                return false;
            }
        }
        if (!read_to_the_end())
            return false;
    }
    if (config.private_key.where == pem_source::kind::file) {
        if (SSL_CTX_use_PrivateKey_file(ctx, config.private_key.value.c_str(), SSL_FILETYPE_PEM) !=
            1)
            return false;
    } else {
        auto bio = memory_bio(config.private_key.value);
        // The password the file loader gets from the context, lent by load_identity().
        evp_pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, pem_password,
                                                 SSL_CTX_get_default_passwd_cb_userdata(ctx)));
        if (!key || SSL_CTX_use_PrivateKey(ctx, key.get()) != 1)
            return false;
    }
    return SSL_CTX_check_private_key(ctx) == 1;
}

inline bool load_identity(SSL_CTX* ctx, const tls_config& config) {
    // Set for good, so that nothing OpenSSL reads for this context later prompts either;
    // the password itself is lent only while the identity loads.
    SSL_CTX_set_default_passwd_cb(ctx, pem_password);
    SSL_CTX_set_default_passwd_cb_userdata(ctx,
                                           const_cast<std::string*>(&config.private_key_password));
    const bool loaded = load_certificate_and_key(ctx, config);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
    return loaded;
}

} // namespace secctx::openssl::detail
