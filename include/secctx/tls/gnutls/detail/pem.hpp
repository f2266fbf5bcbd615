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
    std::string key;
    if (!pem_text(config.certificate_chain, chain, why) || !pem_text(config.private_key, key, why))
        return GNUTLS_E_FILE_ERROR;
    const gnutls_datum_t chain_datum = borrow(chain.data(), chain.size());
    const gnutls_datum_t key_datum = borrow(key.data(), key.size());
    const char* password =
        config.private_key_password.empty() ? nullptr : config.private_key_password.c_str();
    const int rc = gnutls_certificate_set_x509_key_mem2(credentials, &chain_datum, &key_datum,
                                                        GNUTLS_X509_FMT_PEM, password, 0);
    secctx::detail::wipe(key.data(), key.size());
    return rc < 0 ? rc : 0;
}

} // namespace secctx::gnutls::detail
