// A server handshake fed arbitrary client bytes, cut into reads as the input says, or a real
// client's recorded bytes edited by the input (unedited, they complete the handshake: the server
// draws the same randomness on every run). Input layout: fuzz/common.hpp, handshake_target.
#include "common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return secctx::fuzz::handshake_target<secctx::role_kind::server>(data, size);
}
