// A client handshake fed arbitrary server bytes, cut into reads as the input says, or the bytes of
// a real server recorded in this process, edited by the input. With the random generator reset,
// the client says the same ClientHello on every run, so the unedited recording completes the
// handshake and edits reach the certificate, its verification and Finished. Input layout:
// fuzz/common.hpp, handshake_target.
#include "common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return secctx::fuzz::handshake_target<secctx::role_kind::client>(data, size);
}
