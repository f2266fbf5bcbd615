// What differs between the engines where a test must know it: each engine-parametrized test is
// built twice (test/CMakeLists.txt), and reads the engine's behaviour from here.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>

namespace secctx::test::engine {

#if defined(SECCTX_DEFAULT_ENGINE_GNUTLS)
inline constexpr const char* name = "gnutls";
// GnuTLS's TLS 1.3 client sends its middlebox-compatibility change_cipher_spec as soon as it has
// read the ServerHello; OpenSSL's, with its Finished.
inline constexpr bool early_compat_ccs = true;
#else
inline constexpr const char* name = "openssl";
inline constexpr bool early_compat_ccs = false;
#endif

} // namespace secctx::test::engine

namespace secctx::test {

inline std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

} // namespace secctx::test
