// RAII owners for the OpenSSL objects secctx creates; no naked *_free calls elsewhere.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

namespace secctx::openssl::detail {

template <class T, void (*Free)(T*)>
struct deleter {
    void operator()(T* p) const noexcept { Free(p); }
};

using ssl_ptr = std::unique_ptr<SSL, deleter<SSL, SSL_free>>;
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, deleter<SSL_CTX, SSL_CTX_free>>;
using ssl_session_ptr = std::unique_ptr<SSL_SESSION, deleter<SSL_SESSION, SSL_SESSION_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, BIO_free_all>>;
using bio_method_ptr = std::unique_ptr<BIO_METHOD, deleter<BIO_METHOD, BIO_meth_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using x509_crl_ptr = std::unique_ptr<X509_CRL, deleter<X509_CRL, X509_CRL_free>>;
using x509_revoked_ptr = std::unique_ptr<X509_REVOKED, deleter<X509_REVOKED, X509_REVOKED_free>>;
using asn1_time_ptr = std::unique_ptr<ASN1_TIME, deleter<ASN1_TIME, ASN1_TIME_free>>;
using x509_name_ptr = std::unique_ptr<X509_NAME, deleter<X509_NAME, X509_NAME_free>>;
using x509_extension_ptr =
    std::unique_ptr<X509_EXTENSION, deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using ocsp_response_ptr =
    std::unique_ptr<OCSP_RESPONSE, deleter<OCSP_RESPONSE, OCSP_RESPONSE_free>>;
using ocsp_basicresp_ptr =
    std::unique_ptr<OCSP_BASICRESP, deleter<OCSP_BASICRESP, OCSP_BASICRESP_free>>;
using ocsp_certid_ptr = std::unique_ptr<OCSP_CERTID, deleter<OCSP_CERTID, OCSP_CERTID_free>>;
using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using evp_pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;

} // namespace secctx::openssl::detail
