// Schannel's three kinds of certificate mapping, as an identity_mapper (identity_mapping.hpp):
//
//   one-to-one    this exact certificate (the SHA-256 fingerprint of its DER) is this identity;
//   by name       the certificate's email, UPN, DNS or URI alternative name, or its subject CN,
//                 looked up in a table of names;
//   many-to-one   any certificate issued by this issuer (its RFC 2253 name), optionally only those
//                 whose subject or one of whose alternative names matches a pattern, is this
//                 identity.
//
// Rules of the first kind are tried first, then the second, then the third; within a kind, in
// the order they were added. The first match gives the identity. Names compare without regard to
// case, except URIs and CNs; patterns take `*` for any run of characters and ignore case.
//
// The text form (`secctx server --client-map FILE`; docs/identity-mapping.md): one rule per line,
// `#` starts a comment line, fields are separated by spaces, and a field with spaces is written in
// double quotes (\" and \\ inside):
//
//   certificate <sha256 hex, colons allowed> <identity>
//   email|upn|dns|uri|cn <name> <identity>
//   issuer "<issuer DN>" [subject "<pattern>"] [san "<pattern>"] <identity>
//
// A line that is none of these is refused with its number. Thread-safe once built (const).
#pragma once

#include "secctx/attributes.hpp"
#include "secctx/error.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace secctx {

enum class name_field { email, upn, dns, uri, common_name };

class certificate_map {
public:
    // The most a map file may hold: far more than any directory of client certificates, and a
    // bound on what a mistaken path (a disk image, /dev/zero) can make the server read.
    static constexpr std::size_t max_file_size = std::size_t{64} * 1024 * 1024;

    // One-to-one. `fingerprint`: 64 hex digits, colons allowed. False (nothing added) otherwise.
    bool map_certificate(std::string_view fingerprint, std::string identity,
                         std::string rule = "certificate") {
        auto hex = normalized_fingerprint(fingerprint);
        if (!hex || identity.empty())
            return false;
        certificates_.push_back({std::move(*hex), {std::move(identity), std::move(rule)}});
        return true;
    }

    // By name.
    bool map_name(name_field field, std::string value, std::string identity,
                  std::string rule = {}) {
        if (value.empty() || identity.empty())
            return false;
        if (rule.empty())
            rule = field_name(field);
        names_.push_back({field, std::move(value), {std::move(identity), std::move(rule)}});
        return true;
    }

    // Many-to-one. An empty pattern matches anything.
    bool map_issuer(std::string issuer, std::string identity, std::string subject_pattern = {},
                    std::string san_pattern = {}, std::string rule = "issuer") {
        if (issuer.empty() || identity.empty())
            return false;
        issuers_.push_back({std::move(issuer),
                            std::move(subject_pattern),
                            std::move(san_pattern),
                            {std::move(identity), std::move(rule)}});
        return true;
    }

    std::size_t size() const noexcept {
        return certificates_.size() + names_.size() + issuers_.size();
    }

    std::optional<peer_identity> operator()(const std::vector<certificate_info>& chain) const {
        if (chain.empty())
            return std::nullopt;
        const certificate_info& leaf = chain.front();
        for (const auto& r : certificates_)
            if (r.fingerprint == leaf.sha256_fingerprint)
                return r.identity;
        for (const auto& r : names_)
            if (has_name(leaf, r.field, r.value))
                return r.identity;
        for (const auto& r : issuers_) {
            if (!equal_ignoring_case(r.issuer, leaf.issuer))
                continue;
            if (!r.subject_pattern.empty() && !matches(r.subject_pattern, leaf.subject))
                continue;
            if (!r.san_pattern.empty() &&
                std::none_of(leaf.subject_alt_names.begin(), leaf.subject_alt_names.end(),
                             [&](const std::string& san) { return matches(r.san_pattern, san); }))
                continue;
            return r.identity;
        }
        return std::nullopt;
    }

    // The text form. `source` names it in rules and errors ("clients.map"). A bad line gives
    // errc::invalid_configuration and, in `detail`, "source:line: what is wrong"; the map
    // returned is then empty.
    static certificate_map parse(std::string_view text, std::string_view source,
                                 std::error_code& ec, std::string* detail = nullptr) {
        ec.clear();
        certificate_map map;
        std::size_t number = 0;
        while (!text.empty()) {
            const std::size_t end = text.find('\n');
            std::string_view line = text.substr(0, end);
            text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
            ++number;
            if (!line.empty() && line.back() == '\r')
                line.remove_suffix(1);
            const std::string where = std::string(source) + ":" + std::to_string(number);
            if (const std::string problem = map.add_line(line, where); !problem.empty()) {
                ec = errc::invalid_configuration;
                if (detail != nullptr)
                    *detail = (where + ": ").append(problem);
                return {};
            }
        }
        return map;
    }

    static certificate_map load(const std::string& path, std::error_code& ec,
                                std::string* detail = nullptr) {
        ec.clear();
        std::ifstream file(path, std::ios::binary);
        if (!file) {
            ec = errc::invalid_configuration;
            if (detail != nullptr)
                *detail = path + ": " + std::strerror(errno);
            return {};
        }
        std::string text;
        char chunk[65536];
        while (file.read(chunk, sizeof chunk) || file.gcount() > 0) {
            text.append(chunk, static_cast<std::size_t>(file.gcount()));
            if (text.size() > max_file_size) {
                ec = errc::invalid_configuration;
                if (detail != nullptr)
                    *detail = path + ": larger than " + std::to_string(max_file_size) + " bytes";
                return {};
            }
        }
        if (file.bad()) {
            ec = errc::invalid_configuration;
            if (detail != nullptr)
                *detail = path + ": read error";
            return {};
        }
        return parse(text, path, ec, detail);
    }

private:
    struct certificate_rule {
        std::string fingerprint;
        peer_identity identity;
    };
    struct name_rule {
        name_field field;
        std::string value;
        peer_identity identity;
    };
    struct issuer_rule {
        std::string issuer;
        std::string subject_pattern;
        std::string san_pattern;
        peer_identity identity;
    };

    static const char* field_name(name_field field) noexcept {
        switch (field) {
        case name_field::email:
            return "email";
        case name_field::upn:
            return "upn";
        case name_field::dns:
            return "dns";
        case name_field::uri:
            return "uri";
        case name_field::common_name:
            return "cn";
        }
        return "";
    }

    static std::optional<std::string> normalized_fingerprint(std::string_view text) {
        std::string hex;
        for (const char c : text) {
            if (c == ':')
                continue;
            if (!std::isxdigit(static_cast<unsigned char>(c)))
                return std::nullopt;
            hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        if (hex.size() != 64)
            return std::nullopt;
        return hex;
    }

    static bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
        return a.size() == b.size() &&
               std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                   return std::tolower(static_cast<unsigned char>(x)) ==
                          std::tolower(static_cast<unsigned char>(y));
               });
    }

    // `*` matches any run of characters; case is ignored. Iterative, with one backtrack point:
    // linear in practice, never exponential.
    static bool matches(std::string_view pattern, std::string_view text) noexcept {
        std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
        const auto same = [](char x, char y) {
            return std::tolower(static_cast<unsigned char>(x)) ==
                   std::tolower(static_cast<unsigned char>(y));
        };
        while (t < text.size()) {
            if (p < pattern.size() && pattern[p] == '*') {
                star = p++;
                resume = t;
            } else if (p < pattern.size() && same(pattern[p], text[t])) {
                ++p;
                ++t;
            } else if (star != std::string_view::npos) {
                p = star + 1;
                t = ++resume;
            } else {
                return false;
            }
        }
        while (p < pattern.size() && pattern[p] == '*')
            ++p;
        return p == pattern.size();
    }

    static bool has_name(const certificate_info& leaf, name_field field, std::string_view value) {
        if (field == name_field::common_name)
            return leaf.common_name == value;
        const std::string_view prefix = field == name_field::email ? "email:"
                                        : field == name_field::upn ? "UPN:"
                                        : field == name_field::dns ? "DNS:"
                                                                   : "URI:";
        for (const auto& san : leaf.subject_alt_names) {
            if (san.size() != prefix.size() + value.size() || san.compare(0, prefix.size(), prefix))
                continue;
            const std::string_view name = std::string_view(san).substr(prefix.size());
            if (field == name_field::uri ? name == value : equal_ignoring_case(name, value))
                return true;
        }
        return false;
    }

    // The fields of a line: separated by spaces or tabs, double quotes around a field with
    // spaces. Returns what is wrong, or empty.
    static std::string split(std::string_view line, std::vector<std::string>& fields) {
        std::size_t at = 0;
        while (at < line.size()) {
            if (line[at] == ' ' || line[at] == '\t') {
                ++at;
                continue;
            }
            std::string field;
            if (line[at] == '"') {
                ++at;
                bool closed = false;
                while (at < line.size()) {
                    const char c = line[at++];
                    if (c == '"') {
                        closed = true;
                        break;
                    }
                    if (c == '\\') {
                        if (at == line.size() || (line[at] != '"' && line[at] != '\\'))
                            return "only \\\" and \\\\ may be escaped";
                        field += line[at++];
                        continue;
                    }
                    field += c;
                }
                if (!closed)
                    return "a quoted field has no closing quote";
                if (at < line.size() && line[at] != ' ' && line[at] != '\t')
                    return "a quoted field must be followed by a space";
            } else {
                while (at < line.size() && line[at] != ' ' && line[at] != '\t') {
                    if (line[at] == '"')
                        return "a quote inside a field";
                    field += line[at++];
                }
            }
            fields.push_back(std::move(field));
        }
        return {};
    }

    // Adds the rule on `line`, named `where`. Returns what is wrong, or empty.
    std::string add_line(std::string_view line, const std::string& where) {
        const std::size_t first = line.find_first_not_of(" \t");
        if (first == std::string_view::npos || line[first] == '#')
            return {};
        std::vector<std::string> f;
        if (auto problem = split(line, f); !problem.empty())
            return problem;
        const std::string& kind = f.front();
        if (kind == "certificate") {
            if (f.size() != 3)
                return "expected: certificate <sha256 fingerprint> <identity>";
            if (!map_certificate(f[1], f[2], where + " certificate"))
                return "a certificate fingerprint is 64 hex digits (SHA-256), colons allowed";
            return {};
        }
        static constexpr std::pair<const char*, name_field> name_kinds[] = {
            {"email", name_field::email},
            {"upn", name_field::upn},
            {"dns", name_field::dns},
            {"uri", name_field::uri},
            {"cn", name_field::common_name}};
        for (const auto& [word, field] : name_kinds) {
            if (kind != word)
                continue;
            if (f.size() != 3 || f[1].empty() || f[2].empty())
                return "expected: " + kind + " <name> <identity>";
            map_name(field, f[1], f[2], (where + " ").append(kind));
            return {};
        }
        if (kind == "issuer") {
            if (f.size() < 3 || f[1].empty())
                return "expected: issuer \"<issuer DN>\" [subject \"<pattern>\"] "
                       "[san \"<pattern>\"] <identity>";
            std::string subject, san;
            std::size_t at = 2;
            for (; at + 1 < f.size(); at += 2) {
                if (f[at] == "subject" && subject.empty() && !f[at + 1].empty())
                    subject = f[at + 1];
                else if (f[at] == "san" && san.empty() && !f[at + 1].empty())
                    san = f[at + 1];
                else
                    return "after the issuer: subject \"<pattern>\" or san \"<pattern>\", each "
                           "at most once, then the identity";
            }
            if (at != f.size() - 1 || f.back().empty())
                return "an issuer rule ends with the identity";
            map_issuer(f[1], f.back(), subject, san, where + " issuer");
            return {};
        }
        return "unknown rule \"" + kind + "\" (certificate, email, upn, dns, uri, cn or issuer)";
    }

    std::vector<certificate_rule> certificates_;
    std::vector<name_rule> names_;
    std::vector<issuer_rule> issuers_;
};

} // namespace secctx
