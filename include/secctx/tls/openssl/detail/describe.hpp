// A certificate in engine-neutral terms (certificate_info): DER, RFC 2253 names, the SANs.
#pragma once

#include "secctx/attributes.hpp"
#include "secctx/tls/openssl/detail/handles.hpp"

#include <openssl/bio.h>
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
    info.subject_alt_names = alt_names(certificate);
    return info;
}

} // namespace detail

} // namespace secctx::openssl
