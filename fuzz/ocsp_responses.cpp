// OCSP responses from arbitrary bytes, loaded by both engines' server credentials
// (server_config::ocsp_response_file): a response that does not parse, failed, or is not about the
// server's certificate is an error code (invalid_credentials), never a crash, an exception or
// credentials made anyway; one that loads is about the certificate.
//
// Input: an options byte. Bit 0 clear: the rest is the response file. Bit 0 set: the rest is a
// list of edits (a two-byte offset and a byte XORed in there) to a good response for the
// server's certificate, so that the parsers meet responses that are nearly right.
#include "common.hpp"

#include "secctx/gnutls.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

using namespace secctx;

namespace {

struct fixture {
    openssl::throwaway_ca ca;
    issued_certificate leaf = ca.issue({});
    std::string good = ca.ocsp_response({leaf.certificate_pem});
    std::string path = "/tmp/secctx-fuzz-ocsp-" + std::to_string(::getpid()) + ".der";

    ~fixture() { std::remove(path.c_str()); }
};

template <class Credentials>
void load(const server_config& config) {
    std::error_code ec;
    std::string detail;
    const Credentials made = Credentials::server(config, ec, &detail);
    fuzz::check(static_cast<bool>(made) != static_cast<bool>(ec),
                "credentials are either made or an error says why");
    fuzz::check(!ec || ec == errc::invalid_credentials,
                "a response that cannot be stapled is invalid_credentials");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::environment::get();
    static const fixture f;
    fuzz::input in(data, size);
    const std::uint8_t options = in.byte();
    std::string der;
    if ((options & 1) == 0) {
        const auto bytes = in.rest();
        der.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    } else {
        der = f.good;
        while (!in.empty()) {
            const std::size_t at = in.u16() % der.size();
            der[at] = static_cast<char>(der[at] ^ static_cast<char>(in.byte()));
        }
    }
    std::ofstream(f.path, std::ios::binary | std::ios::trunc) << der;
    server_config config;
    config.certificate_chain = pem_source::from_memory(f.leaf.certificate_pem);
    config.private_key = pem_source::from_memory(f.leaf.private_key_pem);
    config.ocsp_response_file = f.path;
    load<openssl::credentials>(config);
    load<gnutls::credentials>(config);
    return 0;
}
