// From the engine-neutral names of tls_config's lists (the IANA registries') to OpenSSL's list
// syntax. TLS 1.3 suites already have their IANA names in OpenSSL; TLS 1.2 suites are found by
// their RFC name; groups have OpenSSL names of their own.
#pragma once

#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace secctx::openssl::detail {

inline bool same_name(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

inline const char* group_name(std::string_view iana) noexcept {
    static constexpr std::pair<std::string_view, const char*> groups[] = {
        {"x25519", "X25519"},       {"x448", "X448"},           {"secp256r1", "P-256"},
        {"secp384r1", "P-384"},     {"secp521r1", "P-521"},     {"ffdhe2048", "ffdhe2048"},
        {"ffdhe3072", "ffdhe3072"}, {"ffdhe4096", "ffdhe4096"}, {"ffdhe6144", "ffdhe6144"},
        {"ffdhe8192", "ffdhe8192"}};
    for (const auto& [name, openssl] : groups)
        if (same_name(name, iana))
            return openssl;
    return nullptr;
}

inline const char* tls13_suite_name(std::string_view iana) noexcept {
    static constexpr const char* suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                             "TLS_CHACHA20_POLY1305_SHA256",
                                             "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"};
    for (const char* suite : suites)
        if (same_name(suite, iana))
            return suite;
    return nullptr;
}

// OpenSSL's name for an RFC suite name, or null; "(NONE)" is what OpenSSL says for unknown.
inline const char* tls12_suite_name(std::string_view iana) {
    std::string upper(iana);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    const char* name = OPENSSL_cipher_name(upper.c_str());
    return name == nullptr || std::string_view(name) == "(NONE)" ? nullptr : name;
}

// Joins the translations with ':'; false, with `unknown` naming the first entry that has none.
template <class Translate>
bool translate_list(const std::vector<std::string>& names, Translate translate, std::string& list,
                    std::string& unknown) {
    list.clear();
    for (const auto& name : names) {
        const char* translated = translate(name);
        if (translated == nullptr) {
            unknown = name;
            return false;
        }
        list += list.empty() ? "" : ":";
        list += translated;
    }
    return true;
}

} // namespace secctx::openssl::detail
