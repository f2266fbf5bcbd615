// credentials::server and credentials::client built from arbitrary bytes for the certificate
// chain, the private key and the trust anchors: a bad configuration is an error code, never a
// crash or an exception.
//
// Input: an options byte (bit 0: a server's credentials, else a client's; bits 1-3: each of
// chain, key and CA is wrapped as a PEM block around the bytes, base64-encoded, so the DER parsers
// get them directly), the chain's and the key's lengths (16 bits each), then the chain, the key and
// the CA.
#include "common.hpp"

#include <string>

using namespace secctx;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The deterministic generator, for the ticket keys a server's credentials make.
    fuzz::environment::get();
    fuzz::input in(data, size);
    const std::uint8_t options = in.byte();
    const std::size_t chain_size = in.u16();
    const std::size_t key_size = in.u16();
    const std::string chain =
        fuzz::pem_text(in.take(chain_size), (options & 2) != 0, "CERTIFICATE");
    const std::string key = fuzz::pem_text(in.take(key_size), (options & 4) != 0, "PRIVATE KEY");
    const std::string ca = fuzz::pem_text(in.rest(), (options & 8) != 0, "CERTIFICATE");

    std::error_code ec;
    std::string detail;
    credentials made;
    if ((options & 1) != 0) {
        server_config config;
        config.certificate_chain = pem_source::from_memory(chain);
        config.private_key = pem_source::from_memory(key);
        if (!ca.empty())
            config.trust.certificates = pem_source::from_memory(ca);
        config.verify_clients =
            ca.empty() ? client_certificates::none : client_certificates::required;
        made = credentials::server(config, ec, &detail);
    } else {
        client_config config;
        config.trust.certificates = pem_source::from_memory(ca);
        if (!chain.empty())
            config.certificate_chain = pem_source::from_memory(chain);
        if (!key.empty())
            config.private_key = pem_source::from_memory(key);
        made = credentials::client(config, ec, &detail);
    }
    fuzz::check(static_cast<bool>(made) != static_cast<bool>(ec),
                "credentials are either made or an error says why");
    fuzz::check(!ec || ec.category() == secctx::error_category(),
                "a configuration failure is one of secctx's own errors");
    return 0;
}
