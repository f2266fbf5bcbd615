// What a credentials object is built from: certificates, keys, trust anchors and protocol
// settings, independent of the engine. Every default is the secure one; weaker settings have names
// that say so.
#pragma once

#include "secctx/certificate_selection.hpp"
#include "secctx/identity_mapping.hpp"
#include "secctx/peer_validation.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
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

// Revocation of the peer's certificates by certificate revocation lists (CRLs), checked by the
// engine with the rest of the chain. A revoked certificate fails with certificate_revoked.
enum class revocation_scope {
    none,  // no CRL is consulted
    leaf,  // the peer's own certificate
    chain, // every certificate of the chain (the trust anchor's own CRL included, if it lists it)
};

struct revocation_lists {
    revocation_scope check = revocation_scope::none;
    pem_source crls;       // PEM CRLs (several may follow each other), file or memory
    std::string directory; // a hashed directory of CRLs (`openssl rehash`: HASH.r0, ...)
    // With a check: a certificate whose issuer has no CRL here, or only one that has expired, is
    // not yet valid or is not signed by that issuer, fails with revocation_unknown. Off: such a
    // certificate passes (a soft fail); a revoked one still fails.
    bool require_crl = true;

    bool given() const noexcept { return !crls.empty() || !directory.empty(); }
};

// What no engine can do with revocation settings, in words for the detail of
// errc::invalid_configuration; nullptr when they are coherent (then there is nothing to load, or
// CRLs to load for a check).
inline const char* revocation_conflict(const revocation_lists& lists) noexcept {
    if (lists.check == revocation_scope::none && lists.given())
        return "CRLs given, but revocation.check is none: they would not be checked";
    if (lists.check != revocation_scope::none && !lists.given())
        return "revocation.check needs CRLs (revocation.crls or revocation.directory)";
    return nullptr;
}

// OCSP stapling (RFC 6066 status_request; in TLS 1.3 the status rides in the server's Certificate
// message): the server sends, with its certificate, a response its CA's OCSP responder signed, so
// the client learns the certificate is not revoked without asking anyone. A client's choice.
enum class ocsp_stapling {
    off,     // not asked for
    check,   // asked for; a stapled response must be signed by the certificate's issuer (or a
             // responder it delegated to), be about the certificate, be current, and not say
             // revoked. None stapled, or one whose status is "unknown", passes.
    require, // asked for; only a stapled response as above whose status is "good" passes
};

struct tls_config {
    pem_source certificate_chain; // leaf first, then intermediates
    pem_source private_key;
    // The password of an encrypted private key (a PKCS#8 "ENCRYPTED PRIVATE KEY" or a traditional
    // PEM with DEK-Info). Empty: the key must not be encrypted, and an encrypted one is refused
    // with invalid_credentials; secctx never asks the terminal for a password.
    std::string private_key_password;
    // Who signs the peer's certificate. A client with no anchors configured uses the system store.
    trust_anchors trust;
    // The most intermediate CAs the peer's chain may have between its certificate and a trust
    // anchor (OpenSSL's verify depth; a trust anchor the peer also sends does not count). A longer
    // chain fails with certificate_invalid. At most 100.
    unsigned max_chain_depth = 10;
    // Certificate revocation lists for the peer's chain; none by default.
    revocation_lists revocation;
    // The application's own judgement of the peer's certificate, after the engine's or instead of
    // it (peer_validation.hpp). A server asks for client certificates only with verify_clients.
    peer_validation validation;
    // ALPN protocol names, most preferred first.
    std::vector<std::string> alpn;
    tls_version min_version = tls_version::tls1_2;
    tls_version max_version = tls_version::tls1_3;
    // Allow-lists, most preferred first, in the IANA registries' names, which every engine
    // translates to its own (case is ignored); empty keeps the engine's secure defaults. An unknown
    // name is invalid_configuration, naming it.
    //   groups:              "x25519", "secp256r1", "secp384r1", "secp521r1", "x448",
    //                        "ffdhe2048" ... "ffdhe8192"
    //   tls13_cipher_suites: "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
    //                        "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256"
    //   tls12_cipher_suites: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", ... (RFC names)
    std::vector<std::string> groups;
    std::vector<std::string> tls13_cipher_suites;
    std::vector<std::string> tls12_cipher_suites;
    // Receives the secrets of every connection made with these credentials as NSS key log lines
    // (the SSLKEYLOGFILE format Wireshark reads, without the newline), for debugging. Off when
    // empty. Anyone who gets the lines can decrypt the traffic: never turn it on in production.
    // Called from the thread running the handshake, so it must be thread-safe when handshakes run
    // on several threads; an exception it throws is swallowed.
    std::function<void(std::string_view line)> key_log;
    // The engine's own record buffers (OpenSSL: about 17 KB to read and 17 KB to write per
    // connection, besides the buffer policy's queues) are freed whenever they are empty
    // (SSL_MODE_RELEASE_BUFFERS), so an idle connection holds none. Costs an allocation and a
    // free per burst of records; turn it off for few connections that stream constantly.
    bool release_idle_buffers = true;
};

// One of the certificates a client may choose from (client_config::certificates).
struct client_certificate {
    pem_source certificate_chain; // leaf first, then intermediates
    pem_source private_key;
    std::string private_key_password; // as tls_config::private_key_password
};

struct client_config : tls_config {
    // Accept any server certificate and any host name. For tests against throwaway servers only.
    bool dangerous_skip_verification = false;
    // Whether the server is asked for a stapled OCSP response for its certificate, and what
    // passes. A failure is certificate_revoked (the response says so) or revocation_unknown.
    ocsp_stapling ocsp = ocsp_stapling::off;
    // Client certificates on demand (certificate_selection.hpp): when a server asks for a
    // certificate, `select_certificate` chooses one of `certificates`, or none, at once or later;
    // empty, first_acceptable() chooses. Instead of tls_config::certificate_chain and private_key,
    // the one certificate always sent when asked: setting both is invalid_configuration.
    std::vector<client_certificate> certificates;
    certificate_selector select_certificate;
    // Session resumption: the sessions servers give (TLS 1.3 tickets, TLS 1.2 tickets or ids) are
    // kept in the credentials, per server name, and offered by the next client made with them for
    // the same name. A TLS 1.3 ticket is offered once (tickets are single-use); a TLS 1.2 session
    // stays until a newer one for the name replaces it, it expires, or it is evicted.
    bool resume_sessions = true;
    // Sessions kept at most, all names together; the oldest is evicted first.
    std::size_t session_cache_size = 64;
};

enum class client_certificates { none, optional, required };

struct server_config : tls_config {
    client_certificates verify_clients = client_certificates::none;
    // Which identity each client certificate stands for (identity_mapping.hpp); in the
    // attributes as `identity`.
    identity_mapping client_identity;
    // A DER OCSP response for the leaf of certificate_chain (`openssl ocsp -respout`), stapled for
    // clients that ask. The file is checked at each such handshake and read again when it has
    // changed, so the tooling that refreshes it needs no reload; a response is never stapled once
    // its nextUpdate has passed. A file that cannot be read, or a response that does not parse,
    // failed, or is not about the leaf, is invalid_credentials at start; later, it is not stapled
    // and the last good response is kept while it is current. Empty: no stapling.
    std::string ocsp_response_file;
    // When the client offers ALPN protocols and none is ours, the handshake fails with a fatal
    // no_application_protocol alert, as RFC 7301 3.2 says a server SHALL (and OpenSSL's server and
    // nginx do). This goes on without ALPN instead, for servers whose clients name protocols the
    // server speaks under another name. A client that offers no ALPN is served either way.
    bool proceed_without_common_alpn = false;
    // Stateless session tickets (TLS 1.2 and 1.3), encrypted with keys held in memory by the
    // credentials; the server keeps nothing per ticket.
    bool session_tickets = true;
    // The server's session cache, for clients that resume by session ID (TLS 1.2 without
    // tickets) and, when session_tickets is off, for TLS 1.3 tickets (which then name a cached
    // session; each TLS 1.3 handshake adds one per ticket, two by default). At most this many
    // sessions, shared by every connection made with these credentials on any thread; when it is
    // full the oldest (the first to expire) is evicted, and an evicted or expired session's
    // secrets are wiped as it is freed. A session takes about 1.1 KB (TLS 1.2, no client
    // certificate), so the default holds at most about 22 MB; a server that verifies clients keeps
    // each client's chain in its session too (up to OpenSSL's 100 KiB max_cert_list), and should
    // size its cache for that. 0: no cache (and with session_tickets off, no resumption at all).
    std::size_t session_cache_size = 20480;
    // How long a session may be resumed after it was issued, from the cache or from a ticket. A
    // TLS 1.3 resumption issues new tickets, which start a new lifetime. At most 7 days (RFC 8446
    // 4.6.1 bounds a ticket's lifetime so).
    std::chrono::seconds session_lifetime = std::chrono::hours(2);
    // How long a ticket key encrypts new tickets before a fresh one replaces it. The replaced key
    // still decrypts for one more lifetime (its tickets are resumed and renewed), then is erased.
    std::chrono::seconds ticket_key_lifetime = std::chrono::hours(12);
};

// Who judges the peer, as configured: what no engine can honour, in words for the detail of
// errc::invalid_configuration; nullptr when the configuration is coherent.
inline const char* peer_judgement_conflict(const client_config& config) noexcept {
    if (config.dangerous_skip_verification && config.validation.enabled())
        return "dangerous_skip_verification and a validator: to decide alone, the validator takes "
               "validation_mode::instead_of_engine";
    if (!config.certificate_chain.empty() &&
        (!config.certificates.empty() || config.select_certificate))
        return "certificate_chain and certificates to choose from: give the one certificate as "
               "the only one of certificates";
    if (config.dangerous_skip_verification && config.ocsp != ocsp_stapling::off)
        return "dangerous_skip_verification and an OCSP check: a response is checked against the "
               "verified chain";
    return nullptr;
}

inline const char* peer_judgement_conflict(const server_config& config) noexcept {
    const bool asks = config.verify_clients != client_certificates::none;
    if (config.validation.enabled() && !asks)
        return "a validator judges client certificates: verify_clients must ask for them";
    if (config.client_identity.enabled() && !asks)
        return "client_identity maps client certificates: verify_clients must ask for them";
    if (config.client_identity.required && config.verify_clients != client_certificates::required)
        return "a required client identity needs verify_clients = required: a client without a "
               "certificate maps to none";
    const bool engine_judges =
        !config.validation.enabled() || config.validation.mode == validation_mode::after_engine;
    if (asks && engine_judges && config.trust.empty())
        return "verifying client certificates needs trust anchors";
    return nullptr;
}

} // namespace secctx
