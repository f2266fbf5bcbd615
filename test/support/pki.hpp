// The certificates every test needs, made once per test process (RSA key generation is slow).
#pragma once

#include "secctx/openssl.hpp" // the tests' raw OpenSSL peers and tools, with either engine
#include "secctx/secctx.hpp"
#include "support/engine.hpp"

#include <string>

namespace secctx::test {

struct pki {
    throwaway_ca ca{key_type::ecdsa_p256, "secctx test CA"};
    throwaway_ca untrusted_ca{key_type::ecdsa_p256, "secctx untrusted CA"};
    issued_certificate ecdsa_server = ca.issue({});
    issued_certificate rsa_server = ca.issue([] {
        certificate_request r;
        r.key = key_type::rsa_2048;
        return r;
    }());
    issued_certificate client = ca.issue([] {
        certificate_request r;
        r.common_name = "secctx test client";
        r.dns_names = {};
        r.ip_addresses = {};
        return r;
    }());
    issued_certificate expired_server = ca.issue([] {
        certificate_request r;
        r.valid_from = -std::chrono::hours(48);
        r.valid_until = -std::chrono::hours(24);
        return r;
    }());
    issued_certificate untrusted_server = untrusted_ca.issue({});

    static const pki& get() {
        static const pki instance;
        return instance;
    }
};

inline server_config server_config_for(const issued_certificate& identity) {
    server_config config;
    config.certificate_chain = pem_source::from_memory(identity.certificate_pem);
    config.private_key = pem_source::from_memory(identity.private_key_pem);
    return config;
}

inline client_config client_config_trusting(const throwaway_ca& ca) {
    client_config config;
    config.trust.certificates = pem_source::from_memory(ca.certificate_pem());
    return config;
}

// Client and server credentials whose handshakes negotiate exactly `version`, built once per
// version and shared by every test of the process (SSL_CTX setup is not what the tests test).
struct credential_pair {
    credentials client_creds;
    credentials server_creds;
};

inline const credential_pair& credentials_for(tls_version version) {
    static const auto make = [](tls_version v) {
        const auto& p = pki::get();
        auto config = server_config_for(p.ecdsa_server);
        config.min_version = config.max_version = v;
        return credential_pair{credentials::client(client_config_trusting(p.ca)),
                               credentials::server(config)};
    };
    static const credential_pair tls13 = make(tls_version::tls1_3);
    static const credential_pair tls12 = make(tls_version::tls1_2);
    return version == tls_version::tls1_3 ? tls13 : tls12;
}

} // namespace secctx::test
