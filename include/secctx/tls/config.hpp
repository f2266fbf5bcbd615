// What a credentials object is built from: certificates, keys, trust anchors and protocol
// settings, independent of the engine. Every default is the secure one; weaker settings have names
// that say so.
#pragma once

#include <string>
#include <vector>

namespace secctx {

enum class tls_version { tls1_2, tls1_3 };

// PEM text, either in a file or in memory.
struct pem_source {
    enum class kind { none, file, memory };

    static pem_source from_file(std::string path) { return {kind::file, std::move(path)}; }
    static pem_source from_memory(std::string text) { return {kind::memory, std::move(text)}; }

    bool empty() const noexcept { return where == kind::none; }

    kind where = kind::none;
    std::string value;
};

struct trust_anchors {
    pem_source certificates; // a CA bundle, file or memory
    std::string directory;   // a hashed certificate directory (c_rehash / openssl rehash)
    bool system_store = false;

    bool empty() const noexcept {
        return certificates.empty() && directory.empty() && !system_store;
    }
};

struct tls_config {
    pem_source certificate_chain; // leaf first, then intermediates
    pem_source private_key;
    // Who signs the peer's certificate. A client with no anchors configured uses the system store.
    trust_anchors trust;
    // ALPN protocol names, most preferred first.
    std::vector<std::string> alpn;
    tls_version min_version = tls_version::tls1_2;
    tls_version max_version = tls_version::tls1_3;
    // Engine-specific lists; empty keeps the engine's secure defaults. For OpenSSL: a cipher list
    // for TLS 1.2, a ciphersuite list for TLS 1.3, and a group list ("X25519:P-256").
    std::string tls12_ciphers;
    std::string tls13_ciphersuites;
    std::string groups;
};

struct client_config : tls_config {
    // Accept any server certificate and any host name. For tests against throwaway servers only.
    bool dangerous_skip_verification = false;
};

enum class client_certificates { none, optional, required };

struct server_config : tls_config {
    client_certificates verify_clients = client_certificates::none;
    // Fail the handshake (no_application_protocol alert) when the client offers ALPN protocols
    // and none is ours; otherwise the handshake goes on without ALPN.
    bool alpn_required = false;
};

} // namespace secctx
