// What a throwaway_ca (of either engine) is asked for and what it issues: engine-neutral, so a
// certificate made by one engine's CA loads into the other's credentials.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace secctx {

enum class key_type { ecdsa_p256, rsa_2048 };

struct certificate_request {
    std::string common_name = "localhost";
    std::vector<std::string> dns_names = {"localhost"};
    std::vector<std::string> ip_addresses = {"127.0.0.1", "::1"};
    // More subject alternative names, for clients mapped to identities by name.
    std::vector<std::string> emails;
    std::vector<std::string> uris;
    std::vector<std::string> user_principal_names; // Microsoft's UPN otherName
    key_type key = key_type::ecdsa_p256;
    // Validity, relative to now: the default is valid from an hour ago for a day.
    std::chrono::seconds valid_from = -std::chrono::hours(1);
    std::chrono::seconds valid_until = std::chrono::hours(24);
};

// What a throwaway_ca's certificate revocation list says, relative to now.
struct revocation_request {
    std::vector<std::string> revoked; // PEM certificates this CA issued
    std::chrono::seconds this_update = -std::chrono::hours(1);
    std::chrono::seconds next_update = std::chrono::hours(24);
};

// What a throwaway_ca's OCSP response says of one certificate it issued, relative to now.
enum class ocsp_certificate_status { good, revoked, unknown };

struct ocsp_response_request {
    std::string certificate_pem; // the certificate the response is about
    ocsp_certificate_status status = ocsp_certificate_status::good;
    std::chrono::seconds this_update = -std::chrono::hours(1);
    std::chrono::seconds next_update = std::chrono::hours(24);
    bool has_next_update = true; // false: "newer information is always available" (RFC 6960)
};

struct issued_certificate {
    std::string certificate_pem; // the leaf; the CA is the peer's trust anchor, not sent
    std::string private_key_pem;
};

} // namespace secctx
