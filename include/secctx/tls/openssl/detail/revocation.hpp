// Certificate revocation lists into an SSL_CTX's store, and the flags and the per-certificate
// callback that make OpenSSL check them (tls_config::revocation).
#pragma once

#include "secctx/tls/config.hpp"
#include "secctx/tls/openssl/detail/error_mapping.hpp"
#include "secctx/tls/openssl/detail/handles.hpp"
#include "secctx/tls/openssl/detail/pem.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <string>

namespace secctx::openssl::detail {

// The per-certificate verification callback of credentials whose CRLs are not required: a
// certificate without a usable CRL passes (and the verification result stays good).
inline int pass_without_crl(int ok, X509_STORE_CTX* ctx) {
    if (ok == 0 && crl_unavailable(X509_STORE_CTX_get_error(ctx))) {
        X509_STORE_CTX_set_error(ctx, X509_V_OK);
        return 1;
    }
    return ok;
}

// Loads the CRLs and sets the check, for lists without a revocation_conflict(). Returns what is
// wrong, or nullptr; OpenSSL's error queue keeps its own reason.
inline const char* load_revocation(SSL_CTX* ctx, const revocation_lists& lists) {
    if (lists.check == revocation_scope::none)
        return nullptr;
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    if (lists.crls.where == pem_source::kind::file) {
        X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
        if (lookup == nullptr ||
            X509_load_crl_file(lookup, lists.crls.value.c_str(), X509_FILETYPE_PEM) <= 0)
            return "the CRL file could not be loaded";
    } else if (lists.crls.where == pem_source::kind::memory) {
        auto bio = memory_bio(lists.crls.value);
        int added = 0;
        while (x509_crl_ptr crl{PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)}) {
            if (X509_STORE_add_crl(store, crl.get()) != 1)
                return "a CRL could not be added";
            ++added;
        }
        if (added == 0 || !read_to_the_end())
            return "the CRLs in memory are not PEM CRLs";
    }
    if (!lists.directory.empty() && X509_STORE_load_path(store, lists.directory.c_str()) != 1)
        return "the CRL directory could not be used";
    unsigned long flags = X509_V_FLAG_CRL_CHECK;
    if (lists.check == revocation_scope::chain)
        flags |= X509_V_FLAG_CRL_CHECK_ALL;
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), flags);
    return nullptr;
}

} // namespace secctx::openssl::detail
