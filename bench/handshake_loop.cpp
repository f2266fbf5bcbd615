// handshake_loop VARIANT N: N complete handshakes of one variant (bench/variants.hpp), for
// instruction counts under `valgrind --tool=callgrind`. Setup (CA, credentials, the loop's own
// objects) happens once before the first handshake, so that running N=1 and N=21 and dividing the
// difference by 20 gives the cost of one handshake with setup and teardown subtracted.
#include "variants.hpp"

#include <charconv>
#include <cstdio>
#include <string_view>

namespace {

int usage(const char* program) {
    std::fprintf(stderr,
                 "usage: %s VARIANT N\n"
                 "  performs N client+server handshakes (N >= 0) of VARIANT, one of:\n",
                 program);
    for (const auto v : secctx::bench::all_variants)
        std::fprintf(stderr, "    %.*s\n", static_cast<int>(secctx::bench::name_of(v).size()),
                     secctx::bench::name_of(v).data());
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    using namespace secctx::bench;
    if (argc != 3)
        return usage(argv[0]);
    const auto which = parse_variant(argv[1]);
    const std::string_view count_text = argv[2];
    unsigned long count = 0;
    const auto [end, error] =
        std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
    if (!which || error != std::errc() || end != count_text.data() + count_text.size() ||
        count_text.empty())
        return usage(argv[0]);

    const pki p;
    return with_loop(*which, [&]<class Loop>() {
        Loop loop(p);
        for (unsigned long i = 0; i < count; ++i) {
            if (!loop.handshake()) {
                std::fprintf(stderr, "%s: handshake %lu of %s failed\n", argv[0], i + 1, argv[1]);
                return 1;
            }
        }
        return 0;
    });
}
