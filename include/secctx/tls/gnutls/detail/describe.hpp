// A certificate in engine-neutral terms (certificate_info): DER, RFC 2253 names, the SANs, as
// the OpenSSL provider gives them.
#pragma once

#include "secctx/attributes.hpp"
#include "secctx/detail/hex.hpp"
#include "secctx/tls/gnutls/detail/handles.hpp"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <cstdio>
#include <string>
#include <vector>

namespace secctx::gnutls {

namespace detail {

template <class Get>
std::string dn_text(Get get) {
    gnutls_datum_t dn{};
    if (get(&dn) < 0)
        return {};
    std::string text(reinterpret_cast<const char*>(dn.data), dn.size);
    gnutls_free(dn.data);
    return text;
}

// Dotted quad for IPv4, eight uncompressed hex groups for IPv6 (as the OpenSSL provider prints).
inline std::string address_text(const unsigned char* b, std::size_t size) {
    char text[40] = {};
    if (size == 4) {
        if (std::snprintf(text, sizeof text, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]) < 0)
            return {};
    } else if (size == 16) {
        int at = 0;
        for (int i = 0; i < 16; i += 2)
            at += std::snprintf(text + at, sizeof text - static_cast<std::size_t>(at),
                                i == 0 ? "%x" : ":%x", (b[i] << 8) | b[i + 1]);
    }
    return text;
}

// The last CN of the subject (the most specific, as a name check reads it).
inline std::string common_name(gnutls_x509_crt_t crt) {
    std::string last;
    for (unsigned index = 0;; ++index) {
        char name[256];
        std::size_t size = sizeof name;
        if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, index, 0, name, &size) <
            0)
            return last;
        last.assign(name, size);
    }
}

inline certificate_info describe(const gnutls_datum_t& der) {
    certificate_info info;
    info.der.assign(reinterpret_cast<const std::byte*>(der.data),
                    reinterpret_cast<const std::byte*>(der.data) + der.size);
    gnutls_x509_crt_t raw = nullptr;
    if (gnutls_x509_crt_init(&raw) < 0)
        return info;
    x509_crt_ptr crt(raw);
    if (gnutls_x509_crt_import(raw, &der, GNUTLS_X509_FMT_DER) < 0)
        return info;
    info.subject = dn_text([&](gnutls_datum_t* d) { return gnutls_x509_crt_get_dn3(raw, d, 0); });
    info.issuer =
        dn_text([&](gnutls_datum_t* d) { return gnutls_x509_crt_get_issuer_dn3(raw, d, 0); });
    for (unsigned i = 0;; ++i) {
        unsigned char name[256];
        std::size_t size = sizeof name;
        const int type = gnutls_x509_crt_get_subject_alt_name(raw, i, name, &size, nullptr);
        if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            break;
        const std::string text(reinterpret_cast<char*>(name), type >= 0 ? size : 0);
        if (type == GNUTLS_SAN_DNSNAME)
            info.subject_alt_names.push_back("DNS:" + text);
        else if (type == GNUTLS_SAN_IPADDRESS)
            info.subject_alt_names.push_back("IP:" + address_text(name, size));
        else if (type == GNUTLS_SAN_RFC822NAME)
            info.subject_alt_names.push_back("email:" + text);
        else if (type == GNUTLS_SAN_URI)
            info.subject_alt_names.push_back("URI:" + text);
        else if (type == GNUTLS_SAN_OTHERNAME_MSUSERPRINCIPAL) // decoded by GnuTLS
            info.subject_alt_names.push_back("UPN:" + text);
    }
    info.common_name = common_name(raw);
    unsigned char digest[32];
    std::size_t digest_size = sizeof digest;
    if (gnutls_x509_crt_get_fingerprint(raw, GNUTLS_DIG_SHA256, digest, &digest_size) >= 0)
        info.sha256_fingerprint = secctx::detail::to_hex(digest, digest_size);
    return info;
}

} // namespace detail

} // namespace secctx::gnutls
