// QueryContextAttributes for the GnuTLS provider, in the same form as the OpenSSL provider's.
#pragma once

#include "secctx/attributes.hpp"
#include "secctx/tls/gnutls/detail/handles.hpp"
#include "secctx/tls/gnutls/provider.hpp"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <arpa/inet.h>

#include <cctype>
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
        if (type == GNUTLS_SAN_DNSNAME)
            info.subject_alt_names.push_back("DNS:" +
                                             std::string(reinterpret_cast<char*>(name), size));
        else if (type == GNUTLS_SAN_IPADDRESS)
            info.subject_alt_names.push_back("IP:" + address_text(name, size));
    }
    return info;
}

inline std::string lower(const char* text) {
    std::string out = text != nullptr ? text : "";
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

} // namespace detail

// Empty attributes after a failure (the context is gone).
inline connection_attributes query_attributes(const provider& p) {
    connection_attributes a;
    gnutls_session_t session = p.native_handle();
    if (session == nullptr)
        return a;
    a.protocol = p.protocol();
    a.cipher = p.cipher();
    a.alpn = p.alpn();
    a.resumed = p.resumed();
    if (const auto group = gnutls_group_get(session); group != GNUTLS_GROUP_INVALID)
        a.key_exchange_group = detail::lower(gnutls_group_get_name(group));
    char name[256];
    std::size_t size = sizeof name;
    unsigned type = 0;
    if (!p.requested_name().empty())
        a.server_name = p.requested_name();
    else if (gnutls_server_name_get(session, name, &size, &type, 0) == GNUTLS_E_SUCCESS &&
             type == GNUTLS_NAME_DNS)
        a.server_name.assign(name, size);
    unsigned count = 0;
    const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
    for (unsigned i = 0; i < count; ++i)
        a.peer_chain.push_back(detail::describe(chain[i]));
    const unsigned status = p.verify_status();
    a.peer_verified = count != 0 && p.peer_verified();
    if (status == 0) {
        a.verification_result = "ok";
    } else {
        gnutls_datum_t out{};
        if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) ==
            GNUTLS_E_SUCCESS) {
            a.verification_result.assign(reinterpret_cast<const char*>(out.data), out.size);
            gnutls_free(out.data);
        }
    }
    return a;
}

} // namespace secctx::gnutls
