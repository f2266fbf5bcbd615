// Lowercase hexadecimal, as certificate fingerprints are shown and compared.
#pragma once

#include <cstddef>
#include <string>

namespace secctx::detail {

inline std::string to_hex(const unsigned char* data, std::size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text(2 * size, '0');
    for (std::size_t i = 0; i < size; ++i) {
        text[2 * i] = digits[data[i] >> 4];
        text[2 * i + 1] = digits[data[i] & 0x0f];
    }
    return text;
}

} // namespace secctx::detail
