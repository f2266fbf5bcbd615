// Loading the certificate chain and its private key (PEM, from files or memory) into GnuTLS
// certificate credentials; an encrypted key takes the configured password and never asks a
// terminal. GnuTLS checks that the key matches the leaf.
#pragma once

#include "secctx/buffer/detail/wipe.hpp"
#include "secctx/tls/config.hpp"
#include "secctx/tls/gnutls/detail/handles.hpp"

#include <gnutls/gnutls.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

namespace secctx::gnutls::detail {

// The text of a PEM source: the file's contents or the text in memory. False, with `why` naming
// the file and the system's reason, if a file cannot be read.
inline bool pem_text(const pem_source& source, std::string& text, std::string& why) {
    if (source.where == pem_source::kind::memory) {
        text = source.value;
        return true;
    }
    std::ifstream file(source.value, std::ios::binary);
    if (file)
        text.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    if (file && !file.bad())
        return true;
    why = source.value + ": " + std::strerror(errno);
    return false;
}

// GnuTLS's return code (0 on success, or a negative error), and a reason when it is not its own.
inline int load_identity(gnutls_certificate_credentials_t credentials, const tls_config& config,
                         std::string& why) {
    if (config.certificate_chain.empty() != config.private_key.empty()) {
        why = "a certificate chain needs its private key, and a key its chain";
        return GNUTLS_E_INVALID_REQUEST;
    }
    if (config.certificate_chain.empty())
        return 0;
    std::string chain;
    std::string key_text;
    if (!pem_text(config.certificate_chain, chain, why) ||
        !pem_text(config.private_key, key_text, why))
        return GNUTLS_E_FILE_ERROR;
    // The chain and the key are parsed here, into objects secctx owns, rather than by
    // gnutls_certificate_set_x509_key_mem2, which leaks a certificate when a block of the chain is
    // damaged (GnuTLS 3.7.9).
    const gnutls_datum_t chain_datum = borrow(chain.data(), chain.size());
    gnutls_x509_crt_t* list = nullptr;
    unsigned count = 0;
    int rc = gnutls_x509_crt_list_import2(&list, &count, &chain_datum, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0)
        return rc;
    const auto free_list = [&] {
        for (unsigned i = 0; i < count; ++i)
            gnutls_x509_crt_deinit(list[i]);
        gnutls_free(list);
    };
    gnutls_x509_privkey_t raw_key = nullptr;
    rc = gnutls_x509_privkey_init(&raw_key);
    if (rc < 0) {
        free_list();
        return rc;
    }
    x509_privkey_ptr key(raw_key);
    const gnutls_datum_t key_datum = borrow(key_text.data(), key_text.size());
    const char* password =
        config.private_key_password.empty() ? nullptr : config.private_key_password.c_str();
    rc = gnutls_x509_privkey_import2(raw_key, &key_datum, GNUTLS_X509_FMT_PEM, password, 0);
    secctx::detail::wipe(key_text.data(), key_text.size());
    if (rc >= 0)
        rc = gnutls_certificate_set_x509_key(credentials, list, static_cast<int>(count), raw_key);
    free_list();
    return rc < 0 ? rc : 0;
}

} // namespace secctx::gnutls::detail
