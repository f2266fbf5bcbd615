// TLS signature schemes (RFC 8446 4.2.3; TLS 1.2's hash and signature pairs share the code
// points) by their IANA names, which secctx reports on every engine, and the schemes a key of a
// kind can sign with.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace secctx::tls {

// The IANA name of a code point, or an empty view for one secctx does not name.
inline std::string_view signature_scheme_name(std::uint16_t code) noexcept {
    switch (code) {
    case 0x0201:
        return "rsa_pkcs1_sha1";
    case 0x0203:
        return "ecdsa_sha1";
    case 0x0401:
        return "rsa_pkcs1_sha256";
    case 0x0501:
        return "rsa_pkcs1_sha384";
    case 0x0601:
        return "rsa_pkcs1_sha512";
    case 0x0403:
        return "ecdsa_secp256r1_sha256";
    case 0x0503:
        return "ecdsa_secp384r1_sha384";
    case 0x0603:
        return "ecdsa_secp521r1_sha512";
    case 0x0804:
        return "rsa_pss_rsae_sha256";
    case 0x0805:
        return "rsa_pss_rsae_sha384";
    case 0x0806:
        return "rsa_pss_rsae_sha512";
    case 0x0807:
        return "ed25519";
    case 0x0808:
        return "ed448";
    case 0x0809:
        return "rsa_pss_pss_sha256";
    case 0x080a:
        return "rsa_pss_pss_sha384";
    case 0x080b:
        return "rsa_pss_pss_sha512";
    default:
        return {};
    }
}

// What a key signs a CertificateVerify with, by its kind: "RSA", "RSA-PSS", "EC" (with its curve's
// SEC name, "secp256r1"...), "ED25519", "ED448". Unknown kinds and curves: none.
inline std::vector<std::string> signature_schemes_for_key(std::string_view kind,
                                                          std::string_view curve = {}) {
    if (kind == "RSA")
        return {"rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512",
                "rsa_pkcs1_sha256",    "rsa_pkcs1_sha384",    "rsa_pkcs1_sha512"};
    if (kind == "RSA-PSS")
        return {"rsa_pss_pss_sha256", "rsa_pss_pss_sha384", "rsa_pss_pss_sha512"};
    if (kind == "ED25519")
        return {"ed25519"};
    if (kind == "ED448")
        return {"ed448"};
    if (kind == "EC" && (curve == "secp256r1" || curve == "prime256v1"))
        return {"ecdsa_secp256r1_sha256"};
    if (kind == "EC" && curve == "secp384r1")
        return {"ecdsa_secp384r1_sha384"};
    if (kind == "EC" && curve == "secp521r1")
        return {"ecdsa_secp521r1_sha512"};
    return {};
}

} // namespace secctx::tls
