// The GnuTLS provider's server and client handshakes fed arbitrary peer bytes, cut into reads as
// the input says, or a real peer's bytes (recorded from an OpenSSL handshake in this process)
// edited by the input. The same layout and the same checks as server_handshake and
// client_handshake (fuzz/common.hpp), with one more option bit: bit 4, the client's side instead of
// the server's. GnuTLS draws its own randomness, so the recorded bytes start a handshake rather
// than replay one.
#include "common.hpp"

#include "secctx/gnutls.hpp"

namespace {

using namespace secctx;

struct gnutls_environment {
    gnutls::credentials client_creds = gnutls::credentials::client(fuzz::fuzz_client_config());
    gnutls::credentials server13 =
        gnutls::credentials::server(fuzz::fuzz_server_config(tls_version::tls1_3));
    gnutls::credentials server12 =
        gnutls::credentials::server(fuzz::fuzz_server_config(tls_version::tls1_2));

    static const gnutls_environment& get() {
        static const gnutls_environment instance;
        return instance;
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace secctx::fuzz;
    const auto& env = environment::get();
    const auto& engines = gnutls_environment::get();
    reset_streams();
    input in(data, size);
    const std::uint8_t options = in.byte();
    chunking split(in);
    const tls_version version = version_from(options);
    const bool is_client = (options & 16) != 0;
    const conversation& recorded = env.recorded(version);
    const bytes payload = (options & 2) != 0
                              ? mutate(is_client ? recorded.to_client : recorded.to_server, in)
                              : bytes(in.rest().begin(), in.rest().end());
    const bool close = (options & 8) != 0;
    const auto run = [&](auto buffers) {
        if (is_client)
            handshake_with(gnutls::client{engines.client_creds, "localhost"}, std::move(buffers),
                           payload, split, close);
        else
            handshake_with(gnutls::server{version == tls_version::tls1_3 ? engines.server13
                                                                         : engines.server12},
                           std::move(buffers), payload, split, close);
    };
    if ((options & 4) != 0) {
        static buffer_pool pool(4, 4096);
        run(pooled_buffer(pool));
        check(pool.in_use() == 0, "a finished handshake holds no pooled block");
    } else {
        run(dynamic_buffer());
    }
    return 0;
}
