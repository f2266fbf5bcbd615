// A certificate in engine-neutral terms (certificate_info): DER, RFC 2253 names, the SANs.
#pragma once

#include "secctx/attributes.hpp"
#include "secctx/detail/hex.hpp"
#include "secctx/tls/openssl/detail/handles.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <string>
#include <vector>

namespace secctx::openssl {

namespace detail {

inline std::string name_text(const X509_NAME* name) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0)
        return {};
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

// Dotted quad for IPv4, eight uncompressed hex groups for IPv6 (as OpenSSL prints them).
inline std::string address_text(const ASN1_OCTET_STRING* address) {
    const unsigned char* b = address->data;
    char text[40] = {};
    if (address->length == 4) {
        if (std::snprintf(text, sizeof text, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]) < 0)
            return {};
    } else if (address->length == 16) {
        int at = 0;
        for (int i = 0; i < 16; i += 2)
            at += std::snprintf(text + at, sizeof text - static_cast<std::size_t>(at),
                                i == 0 ? "%x" : ":%x", (b[i] << 8) | b[i + 1]);
    }
    return text;
}

inline std::string string_text(const ASN1_STRING* text) {
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                       static_cast<std::size_t>(ASN1_STRING_length(text)));
}

// The last CN of `name` in UTF-8 (the most specific, as a name check reads it).
inline std::string common_name(const X509_NAME* name) {
    int at = -1;
    for (int next = X509_NAME_get_index_by_NID(name, NID_commonName, -1); next >= 0;
         next = X509_NAME_get_index_by_NID(name, NID_commonName, next))
        at = next;
    if (at < 0)
        return {};
    unsigned char* utf8 = nullptr;
    const int size =
        ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at)));
    if (size < 0)
        return {};
    std::string text(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(size));
    OPENSSL_free(utf8);
    return text;
}

inline std::vector<std::string> alt_names(X509* certificate) {
    std::vector<std::string> names;
    auto* general = static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; i < sk_GENERAL_NAME_num(general); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(general, i);
        if (name->type == GEN_DNS) {
            const auto* dns = name->d.dNSName;
            names.push_back("DNS:" + std::string(reinterpret_cast<const char*>(dns->data),
                                                 static_cast<std::size_t>(dns->length)));
        } else if (name->type == GEN_IPADD) {
            names.push_back("IP:" + address_text(name->d.iPAddress));
        } else if (name->type == GEN_EMAIL) {
            names.push_back("email:" + string_text(name->d.rfc822Name));
        } else if (name->type == GEN_URI) {
            names.push_back("URI:" + string_text(name->d.uniformResourceIdentifier));
        } else if (name->type == GEN_OTHERNAME &&
                   OBJ_obj2nid(name->d.otherName->type_id) == NID_ms_upn &&
                   name->d.otherName->value->type == V_ASN1_UTF8STRING) {
            names.push_back("UPN:" + string_text(name->d.otherName->value->value.utf8string));
        }
    }
    GENERAL_NAMES_free(general);
    return names;
}

inline certificate_info describe(X509* certificate) {
    certificate_info info;
    const int size = i2d_X509(certificate, nullptr);
    if (size > 0) {
        info.der.resize(static_cast<std::size_t>(size));
        auto* out = reinterpret_cast<unsigned char*>(info.der.data());
        i2d_X509(certificate, &out);
    }
    info.subject = name_text(X509_get_subject_name(certificate));
    info.issuer = name_text(X509_get_issuer_name(certificate));
    info.common_name = common_name(X509_get_subject_name(certificate));
    info.subject_alt_names = alt_names(certificate);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned size_of_digest = 0;
    if (X509_digest(certificate, EVP_sha256(), digest, &size_of_digest) == 1)
        info.sha256_fingerprint = secctx::detail::to_hex(digest, size_of_digest);
    return info;
}

// The certificates the peer sent, its own first: what a connection (or its resumed session)
// keeps of them. A client's view of the chain starts with the leaf; a server's does not.
inline std::vector<certificate_info> peer_chain(const SSL* ssl) {
    std::vector<certificate_info> chain;
    X509* leaf = SSL_get0_peer_certificate(ssl);
    if (leaf == nullptr)
        return chain;
    chain.push_back(describe(leaf));
    STACK_OF(X509)* sent = SSL_get_peer_cert_chain(ssl);
    for (int i = 0; i < sk_X509_num(sent); ++i)
        if (X509* c = sk_X509_value(sent, i); X509_cmp(c, leaf) != 0)
            chain.push_back(describe(c));
    return chain;
}

} // namespace detail

} // namespace secctx::openssl
