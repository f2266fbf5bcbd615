// The tool's command lines: "--name value" options and switches, lists, versions, key passwords
// from files, and how an error is worded.
#pragma once

#include "secctx/error.hpp"
#include "secctx/tls/config.hpp"

#include <openssl/crypto.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace secctx::tool {

// "--name value" options and "--flag" switches; anything else is an error.
class options {
public:
    options(int argc, char** argv, std::initializer_list<std::string_view> with_value,
            std::initializer_list<std::string_view> switches) {
        for (int i = 0; i < argc; ++i) {
            const std::string_view arg = argv[i];
            if (std::find(with_value.begin(), with_value.end(), arg) != with_value.end() &&
                i + 1 < argc) {
                values_[std::string(arg)] = argv[++i];
            } else if (std::find(switches.begin(), switches.end(), arg) != switches.end()) {
                values_[std::string(arg)] = "";
            } else {
                error_ = "unknown or incomplete option '" + std::string(arg) + "'";
                return;
            }
        }
    }

    const std::string& error() const noexcept { return error_; }
    bool has(const std::string& name) const { return values_.count(name) != 0; }
    std::string get(const std::string& name, std::string fallback = {}) const {
        const auto found = values_.find(name);
        return found == values_.end() ? fallback : found->second;
    }
    // A non-negative number, or `fallback`; a malformed one sets error().
    long number(const std::string& name, long fallback) {
        if (!has(name))
            return fallback;
        const std::string text = get(name);
        long value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || value < 0)
            error_ = name + " takes a non-negative number";
        return value;
    }

private:
    std::map<std::string, std::string> values_;
    std::string error_;
};

inline std::vector<std::string> split_list(std::string_view list) {
    std::vector<std::string> names;
    while (!list.empty()) {
        const auto comma = list.find(',');
        names.emplace_back(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
    return names;
}

// The password of an encrypted key: the first line of --key-password-file, as nginx's
// ssl_password_file reads it, if the option is given. False, said on stderr for `command`, if the
// file cannot be read.
inline bool read_key_password(const options& o, const char* command, std::string& password) {
    if (!o.has("--key-password-file"))
        return true;
    const std::string path = o.get("--key-password-file");
    std::ifstream in(path);
    if (!in || !std::getline(in, password)) {
        std::fprintf(stderr, "secctx %s: cannot read --key-password-file %s\n", command,
                     path.c_str());
        return false;
    }
    if (!password.empty() && password.back() == '\r')
        password.pop_back();
    return true;
}

// --crl FILE: the peer's own certificate is checked against the CRLs in FILE (PEM), and one from
// its issuer is required.
inline void read_revocation(const options& o, tls_config& config) {
    if (!o.has("--crl"))
        return;
    config.revocation.check = revocation_scope::leaf;
    config.revocation.crls = pem_source::from_file(o.get("--crl"));
}

// Once the credentials hold the key, the password has no use left in the process.
inline void forget(std::string& secret) noexcept {
    OPENSSL_cleanse(secret.data(), secret.size());
    secret.clear();
}

inline bool parse_version(const std::string& text, tls_version& out) {
    if (text == "tls1.2" || text == "TLSv1.2")
        out = tls_version::tls1_2;
    else if (text == "tls1.3" || text == "TLSv1.3")
        out = tls_version::tls1_3;
    else
        return false;
    return true;
}

inline std::string describe(const std::error_code& ec, const std::string& detail) {
    return ec.message() + (detail.empty() ? "" : " (" + detail + ")");
}

} // namespace secctx::tool
