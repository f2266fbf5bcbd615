// A provider that cannot pause its handshake for a verdict has no pending(): asking for a deferred
// verdict does not compile, and the diagnostic names the missing capability.
// expect: deferred_verdicts
#include "secctx/buffer/dynamic.hpp"
#include "secctx/handshake.hpp"
#include "secctx/roles.hpp"
#include "secctx/transport/memory.hpp"

#include <string>
#include <string_view>

struct no_credentials {};

// Every requirement of security_provider, and no verdicts().
struct provider_without_verdicts {
    using credentials_type = no_credentials;
    static constexpr std::size_t token_header_size = 2;
    provider_without_verdicts(const no_credentials&, secctx::role_kind,
                              std::string_view = {}) noexcept {}
    template <class B>
    secctx::provider_result handshake(B&) noexcept {
        return {};
    }
    void abandon(std::error_code) noexcept {}
    template <class B>
    secctx::provider_result reject_record(B&, std::error_code) noexcept {
        return {};
    }
    std::string error_detail() const { return {}; }
    std::string_view protocol() const noexcept { return {}; }
    std::string_view cipher() const noexcept { return {}; }
    std::string_view alpn() const noexcept { return {}; }
    bool resumed() const noexcept { return false; }
};

int main() {
    secctx::memory_link link;
    secctx::basic_handshake<secctx::basic_server<provider_without_verdicts>,
                            secctx::memory_transport, secctx::dynamic_buffer>
        h{secctx::basic_server<provider_without_verdicts>{no_credentials{}}, link.server_end()};
    (void)h.pending();
}
