// From tls_config's engine-neutral settings (versions and the IANA names of its lists) to one
// GnuTLS priority string. GnuTLS forms cipher suites from separate lists of ciphers, key
// exchanges and MACs, shared by TLS 1.2 and 1.3, so a list of suites becomes the union of their
// parts (docs/engines.md says what that allows).
#pragma once

#include "secctx/tls/config.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secctx::gnutls::detail {

inline std::string upper(std::string_view name) {
    std::string text(name);
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
}

template <std::size_t N>
const char* find_name(const std::pair<std::string_view, const char*> (&table)[N],
                      std::string_view key) noexcept {
    for (const auto& [name, gnutls] : table)
        if (name == key)
            return gnutls;
    return nullptr;
}

inline const char* group_keyword(std::string_view upper_name) noexcept {
    static constexpr std::pair<std::string_view, const char*> groups[] = {
        {"X25519", "GROUP-X25519"},       {"X448", "GROUP-X448"},
        {"SECP256R1", "GROUP-SECP256R1"}, {"SECP384R1", "GROUP-SECP384R1"},
        {"SECP521R1", "GROUP-SECP521R1"}, {"FFDHE2048", "GROUP-FFDHE2048"},
        {"FFDHE3072", "GROUP-FFDHE3072"}, {"FFDHE4096", "GROUP-FFDHE4096"},
        {"FFDHE6144", "GROUP-FFDHE6144"}, {"FFDHE8192", "GROUP-FFDHE8192"}};
    return find_name(groups, upper_name);
}

inline const char* cipher_keyword(std::string_view iana_cipher) noexcept {
    static constexpr std::pair<std::string_view, const char*> ciphers[] = {
        {"AES_128_GCM", "AES-128-GCM"},
        {"AES_256_GCM", "AES-256-GCM"},
        {"CHACHA20_POLY1305", "CHACHA20-POLY1305"},
        {"AES_128_CCM", "AES-128-CCM"},
        {"AES_256_CCM", "AES-256-CCM"},
        {"AES_128_CCM_8", "AES-128-CCM-8"},
        {"AES_256_CCM_8", "AES-256-CCM-8"},
        {"AES_128_CBC", "AES-128-CBC"},
        {"AES_256_CBC", "AES-256-CBC"}};
    return find_name(ciphers, iana_cipher);
}

inline const char* kx_keyword(std::string_view iana_kx) noexcept {
    static constexpr std::pair<std::string_view, const char*> kx[] = {
        {"ECDHE_ECDSA", "ECDHE-ECDSA"},
        {"ECDHE_RSA", "ECDHE-RSA"},
        {"DHE_RSA", "DHE-RSA"},
        {"RSA", "RSA"}};
    return find_name(kx, iana_kx);
}

// The parts of the suites named, as priority keywords.
struct suite_parts {
    std::vector<std::string> ciphers;
    std::vector<std::string> kx;
    std::vector<std::string> macs;

    static void add(std::vector<std::string>& list, std::string keyword) {
        if (std::find(list.begin(), list.end(), keyword) == list.end())
            list.push_back(std::move(keyword));
    }
};

// "TLS_AES_128_GCM_SHA256": false if it is not a TLS 1.3 suite GnuTLS knows.
inline bool add_tls13_suite(std::string_view name, suite_parts& parts) {
    constexpr std::string_view prefix = "TLS_";
    if (!name.starts_with(prefix) || name.find("_WITH_") != std::string_view::npos)
        return false;
    const auto last = name.rfind('_');
    const char* cipher = cipher_keyword(name.substr(prefix.size(), last - prefix.size()));
    if (cipher == nullptr || last == std::string_view::npos)
        return false;
    suite_parts::add(parts.ciphers, cipher);
    suite_parts::add(parts.macs, "AEAD");
    return true;
}

// "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": false if it is not a TLS 1.2 suite GnuTLS knows.
inline bool add_tls12_suite(std::string_view name, suite_parts& parts) {
    constexpr std::string_view prefix = "TLS_";
    const auto with = name.find("_WITH_");
    if (!name.starts_with(prefix) || with == std::string_view::npos)
        return false;
    const char* kx = kx_keyword(name.substr(prefix.size(), with - prefix.size()));
    const auto rest = name.substr(with + 6);
    const auto last = rest.rfind('_');
    if (kx == nullptr || last == std::string_view::npos)
        return false;
    const char* cipher = cipher_keyword(rest.substr(0, last));
    const auto hash = rest.substr(last + 1);
    if (cipher == nullptr || (hash != "SHA" && hash != "SHA256" && hash != "SHA384"))
        return false;
    const bool aead = std::string_view(cipher).find("CBC") == std::string_view::npos;
    suite_parts::add(parts.kx, kx);
    suite_parts::add(parts.ciphers, cipher);
    suite_parts::add(parts.macs, aead ? "AEAD" : hash == "SHA" ? "SHA1" : std::string(hash));
    return true;
}

// The priority string for `config`; false, with `unknown` naming the first entry it cannot use.
inline bool priority_string(const tls_config& config, std::string& priority, std::string& unknown) {
    priority = "NORMAL:-VERS-ALL";
    if (config.max_version == tls_version::tls1_3)
        priority += ":+VERS-TLS1.3";
    if (config.min_version == tls_version::tls1_2)
        priority += ":+VERS-TLS1.2";
    suite_parts parts;
    for (const auto& name : config.tls13_cipher_suites)
        if (!add_tls13_suite(upper(name), parts))
            return unknown = name, false;
    for (const auto& name : config.tls12_cipher_suites)
        if (!add_tls12_suite(upper(name), parts))
            return unknown = name, false;
    // A TLS 1.2 list alone keeps TLS 1.3's default suites (as it does with OpenSSL); their
    // ciphers then also pair with the listed key exchanges under TLS 1.2.
    if (config.tls13_cipher_suites.empty() && !config.tls12_cipher_suites.empty() &&
        config.max_version == tls_version::tls1_3)
        for (const char* suite : {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                                  "TLS_AES_128_GCM_SHA256", "TLS_AES_128_CCM_SHA256"})
            add_tls13_suite(suite, parts);
    const auto append = [&](std::string_view all, const std::vector<std::string>& keywords) {
        if (keywords.empty())
            return;
        priority += ":-";
        priority += all;
        for (const auto& k : keywords)
            priority += ":+" + k;
    };
    append("CIPHER-ALL", parts.ciphers);
    append("KX-ALL", parts.kx);
    append("MAC-ALL", parts.macs);
    std::vector<std::string> groups;
    for (const auto& name : config.groups) {
        const char* keyword = group_keyword(upper(name));
        if (keyword == nullptr)
            return unknown = name, false;
        groups.emplace_back(keyword);
    }
    append("GROUP-ALL", groups);
    return true;
}

} // namespace secctx::gnutls::detail
