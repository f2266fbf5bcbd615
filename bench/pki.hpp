// The one PKI every benchmark variant runs on: a throwaway CA, an ECDSA P-256 leaf for
// "localhost", and the same engine-neutral configuration turned into each engine's credentials, so
// that both engines (and the hand-written loops, which take the engines' own objects from these
// credentials) make the very same handshake.
#pragma once

#include "secctx/gnutls.hpp"
#include "secctx/openssl.hpp"

namespace secctx::bench {

inline constexpr char server_name[] = "localhost";
// A TLS 1.3 handshake takes two rounds; anything beyond this is a stuck loop.
inline constexpr int max_rounds = 16;

// TLS 1.3 only, X25519 only, the client verifying the server's chain and name against the CA, the
// server issuing session tickets (two per handshake, the OpenSSL default that the GnuTLS provider
// keeps) that no client ever offers back.
struct pki {
    static tls_config common() {
        tls_config config;
        config.min_version = tls_version::tls1_3;
        config.max_version = tls_version::tls1_3;
        config.groups = {"x25519"};
        return config;
    }

    static server_config server_settings(const issued_certificate& identity) {
        server_config config;
        static_cast<tls_config&>(config) = common();
        config.certificate_chain = pem_source::from_memory(identity.certificate_pem);
        config.private_key = pem_source::from_memory(identity.private_key_pem);
        return config;
    }

    static client_config client_settings(const openssl::throwaway_ca& anchor) {
        client_config config;
        static_cast<tls_config&>(config) = common();
        config.trust.certificates = pem_source::from_memory(anchor.certificate_pem());
        // Every variant makes full handshakes: no session is ever offered again.
        config.resume_sessions = false;
        return config;
    }

    openssl::throwaway_ca ca{key_type::ecdsa_p256, "secctx bench CA"};
    issued_certificate identity = ca.issue({});
    openssl::credentials openssl_server = openssl::credentials::server(server_settings(identity));
    openssl::credentials openssl_client = openssl::credentials::client(client_settings(ca));
    gnutls::credentials gnutls_server = gnutls::credentials::server(server_settings(identity));
    gnutls::credentials gnutls_client = gnutls::credentials::client(client_settings(ca));
};

// Each engine's roles and its credentials in the PKI, for the loops that take the engine as a
// parameter.
struct openssl_engine {
    using client = openssl::client;
    using server = openssl::server;
    static const openssl::credentials& client_credentials(const pki& p) { return p.openssl_client; }
    static const openssl::credentials& server_credentials(const pki& p) { return p.openssl_server; }
};

struct gnutls_engine {
    using client = gnutls::client;
    using server = gnutls::server;
    static const gnutls::credentials& client_credentials(const pki& p) { return p.gnutls_client; }
    static const gnutls::credentials& server_credentials(const pki& p) { return p.gnutls_server; }
};

} // namespace secctx::bench
