// Trust anchors into GnuTLS certificate credentials: a bundle from a file or memory, a directory
// of PEM files, the system store; a client with none configured trusts the system store.
#pragma once

#include "secctx/role.hpp"
#include "secctx/tls/config.hpp"
#include "secctx/tls/gnutls/detail/handles.hpp"
#include "secctx/tls/gnutls/detail/pem.hpp"

#include <gnutls/gnutls.h>

#include <string>

namespace secctx::gnutls::detail {

// GnuTLS's return code: 0 on success, or a negative error (a bundle with no certificate is one).
inline int load_trust(gnutls_certificate_credentials_t credentials, const trust_anchors& trust,
                      role_kind kind) {
    if (trust.empty() && kind == role_kind::client)
        return gnutls_certificate_set_x509_system_trust(credentials) < 0 ? GNUTLS_E_FILE_ERROR : 0;
    if (trust.system_store && gnutls_certificate_set_x509_system_trust(credentials) < 0)
        return GNUTLS_E_FILE_ERROR;
    if (!trust.directory.empty()) {
        const int rc = gnutls_certificate_set_x509_trust_dir(credentials, trust.directory.c_str(),
                                                             GNUTLS_X509_FMT_PEM);
        if (rc < 0)
            return rc;
    }
    if (trust.certificates.empty())
        return 0;
    std::string bundle;
    std::string why;
    if (!pem_text(trust.certificates, bundle, why))
        return GNUTLS_E_FILE_ERROR;
    const gnutls_datum_t datum = borrow(bundle.data(), bundle.size());
    const int added =
        gnutls_certificate_set_x509_trust_mem(credentials, &datum, GNUTLS_X509_FMT_PEM);
    if (added < 0)
        return added;
    return added == 0 ? GNUTLS_E_BASE64_DECODING_ERROR : 0;
}

} // namespace secctx::gnutls::detail
