// Certificate revocation lists from arbitrary bytes, loaded by both engines' credentials
// (tls_config::revocation): a CRL that does not parse is an error code (invalid_credentials), never
// a crash, an exception or credentials made anyway.
//
// Input: an options byte (bit 0: the bytes are wrapped as a PEM "X509 CRL" block, base64-encoded,
// so the DER parser gets them directly; bit 1: the whole chain is checked, else the leaf; bit 2:
// CRLs not required), then the CRL bytes.
#include "common.hpp"

#include "secctx/gnutls.hpp"

#include <string>

using namespace secctx;

namespace {

template <class Credentials>
void load(const client_config& config) {
    std::error_code ec;
    std::string detail;
    const Credentials made = Credentials::client(config, ec, &detail);
    fuzz::check(static_cast<bool>(made) != static_cast<bool>(ec),
                "credentials are either made or an error says why");
    fuzz::check(!ec || ec == errc::invalid_credentials,
                "a CRL that cannot be loaded is invalid_credentials");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::environment::get();
    // One trust anchor for every input: what the CRLs' signatures would be checked against.
    static const std::string anchor = openssl::throwaway_ca().certificate_pem();
    fuzz::input in(data, size);
    const std::uint8_t options = in.byte();
    client_config config;
    config.trust.certificates = pem_source::from_memory(anchor);
    config.revocation.check = (options & 2) != 0 ? revocation_scope::chain : revocation_scope::leaf;
    config.revocation.require_crl = (options & 4) == 0;
    config.revocation.crls =
        pem_source::from_memory(fuzz::pem_text(in.rest(), (options & 1) != 0, "X509 CRL"));
    load<openssl::credentials>(config);
    load<gnutls::credentials>(config);
    return 0;
}
