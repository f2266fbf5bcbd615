// The fuzz targets' reading of their input, and their checks. No TLS here: the targets that test
// plain data structures include only this.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

namespace secctx::fuzz {

using bytes = std::vector<std::byte>;

[[noreturn]] inline void fail(const char* what) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
}

// Unlike assert(), holds in every build type.
inline void check(bool condition, const char* what) {
    if (!condition)
        fail(what);
}

// ---- the fuzzer's input ----

// Reads the input front to back; past the end every read gives zeros or nothing, so any input is
// a valid one.
class input {
public:
    input(const std::uint8_t* data, std::size_t size) noexcept
        : rest_(reinterpret_cast<const std::byte*>(data), size) {}

    std::uint8_t byte() noexcept {
        if (rest_.empty())
            return 0;
        const auto b = std::to_integer<std::uint8_t>(rest_.front());
        rest_ = rest_.subspan(1);
        return b;
    }

    std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(byte() << 8 | byte()); }

    std::span<const std::byte> take(std::size_t n) noexcept {
        const auto taken = rest_.first(std::min(n, rest_.size()));
        rest_ = rest_.subspan(taken.size());
        return taken;
    }

    std::span<const std::byte> rest() noexcept { return take(rest_.size()); }
    bool empty() const noexcept { return rest_.empty(); }

private:
    std::span<const std::byte> rest_;
};

// How the bytes are cut into transport reads: a count byte (0-7), then that many lengths (1-256
// bytes each), used in turn. No lengths: everything in one piece.
class chunking {
public:
    explicit chunking(input& in) {
        lengths_.resize(in.byte() % 8);
        for (auto& length : lengths_)
            length = std::size_t{in.byte()} + 1;
    }

    std::size_t next(std::size_t left) noexcept {
        if (lengths_.empty())
            return left;
        const std::size_t n = lengths_[turn_++ % lengths_.size()];
        return std::min(n, left);
    }

private:
    std::vector<std::size_t> lengths_;
    std::size_t turn_ = 0;
};

// A recorded flight edited by the input: 4 bytes an edit (offset, operation, value). The edits
// keep most of the flight valid, so the engine gets past the messages before the edited one.
inline bytes mutate(std::span<const std::byte> recorded, input& edits) {
    bytes out(recorded.begin(), recorded.end());
    while (!edits.empty() && !out.empty()) {
        const std::size_t at = edits.u16() % out.size();
        const std::uint8_t operation = edits.byte();
        const auto value = std::byte{edits.byte()};
        switch (operation % 4) {
        case 0:
            out[at] ^= value;
            break;
        case 1:
            out[at] = value;
            break;
        case 2:
            out.erase(out.begin() + static_cast<std::ptrdiff_t>(at));
            break;
        case 3:
            out.resize(at);
            break;
        }
    }
    return out;
}

} // namespace secctx::fuzz
