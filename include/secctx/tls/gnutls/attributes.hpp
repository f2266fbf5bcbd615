// QueryContextAttributes for the GnuTLS provider, in the same form as the OpenSSL provider's.
#pragma once

#include "secctx/attributes.hpp"
#include "secctx/tls/gnutls/detail/describe.hpp"
#include "secctx/tls/gnutls/provider.hpp"

#include <gnutls/gnutls.h>

#include <cctype>
#include <string>

namespace secctx::gnutls {

namespace detail {

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
    a.verified_by = count != 0 ? p.verified_by() : verifier::none;
    a.identity = p.identity();
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
