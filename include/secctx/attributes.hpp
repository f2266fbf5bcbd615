// What QueryContextAttributes answers: the negotiated parameters of an established context and
// what is known of the peer, in engine-neutral terms. A provider offers them through a free
// function found by argument-dependent lookup, `query_attributes(const Provider&)`.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace secctx {

struct certificate_info {
    std::vector<std::byte> der;
    std::string subject;     // RFC 2253 text
    std::string issuer;      // RFC 2253 text
    std::string common_name; // the subject's (last) CN, empty if none
    // "DNS:example.com", "IP:127.0.0.1", "email:a@example.com", "URI:spiffe://...",
    // "UPN:user@realm" (Microsoft's user principal name), in the certificate's order.
    std::vector<std::string> subject_alt_names;
    std::string sha256_fingerprint; // of the DER, lowercase hex without separators
};

// The account a client certificate stands for (identity_mapping.hpp).
struct peer_identity {
    std::string name; // empty: mapped to none
    std::string rule; // what produced it, for logs: "clients.map:3 certificate"

    bool mapped() const noexcept { return !name.empty(); }
};

// Who vouched for the peer's certificate.
enum class verifier {
    none,   // nobody: not verified, or no certificate
    engine, // the engine (chain to a trust anchor, dates, name), and the validator if one is set
    application, // the validator alone: it accepted a chain the engine rejected or did not check
};

struct connection_attributes {
    std::string protocol;           // "TLSv1.3"
    std::string cipher;             // the IANA name: "TLS_AES_128_GCM_SHA256"
    std::string key_exchange_group; // the IANA name: "x25519", "secp256r1"; empty if none
    std::string alpn;               // empty if none was agreed
    // The name the client asked for (SNI); on the server, what the client sent.
    std::string server_name;
    // The certificates the peer sent, its own first; empty if it sent none.
    std::vector<certificate_info> peer_chain;
    // Whether the peer's certificate was verified and found good, and the verifier's words.
    bool peer_verified = false;
    verifier verified_by = verifier::none;
    std::string verification_result;
    // A server's: the identity its client_identity mapping gave the client's certificate.
    peer_identity identity;
    bool resumed = false;
};

} // namespace secctx
