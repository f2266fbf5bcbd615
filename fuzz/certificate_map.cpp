// The client map's text form (certificate_map.hpp, `secctx server --client-map`): arbitrary text
// either parses into rules or is refused with "source:line: " naming a line of the input and an
// empty map; parsing is deterministic; and the map, applied to a certificate whose names are cut
// from the same input, answers without a crash (the patterns' matching included), and only with a
// named identity whose rule names a line of the input.
//
// Input: the map's text; the certificate's subject, issuer, CN and names are slices of it.
#include "input.hpp"

#include "secctx/certificate_map.hpp"

#include <algorithm>
#include <string>
#include <string_view>

using namespace secctx;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::error_code ec;
    std::string detail;
    const certificate_map map = certificate_map::parse(text, "fuzz.map", ec, &detail);
    const std::size_t lines =
        static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    if (ec) {
        fuzz::check(map.size() == 0, "a refused map holds rules");
        fuzz::check(detail.rfind("fuzz.map:", 0) == 0, "a refusal does not name the source");
        const std::size_t line = std::stoul(detail.substr(9));
        fuzz::check(line >= 1 && line <= lines, "a refusal names a line the input does not have");
        return 0;
    }
    fuzz::check(map.size() <= lines, "more rules than lines");
    std::error_code again;
    fuzz::check(certificate_map::parse(text, "fuzz.map", again).size() == map.size() && !again,
                "parsing is not deterministic");

    const auto slice = [&](std::size_t from, std::size_t length) {
        return from >= text.size() ? std::string() : std::string(text.substr(from, length));
    };
    certificate_info leaf;
    leaf.subject = slice(0, 40);
    leaf.issuer = slice(size / 4, 40);
    leaf.common_name = slice(size / 3, 20);
    leaf.subject_alt_names = {"DNS:" + slice(size / 2, 30), "email:" + slice(size / 5, 30),
                              "URI:" + slice(size / 6, 30), "UPN:" + slice(size / 7, 30)};
    leaf.sha256_fingerprint = std::string(64, 'a');
    if (const auto identity = map({leaf})) {
        fuzz::check(identity->mapped(), "an identity without a name");
        fuzz::check(identity->rule.rfind("fuzz.map:", 0) == 0, "a rule that names no line");
    }
    return 0;
}
