// The role policy: which side of the handshake this end plays, over which provider.
//
// Requirements, for a role r of type R:
//   R::kind             role_kind::client (speaks first: InitializeSecurityContext) or
//                       role_kind::server (waits for the client's token: AcceptSecurityContext).
//   R::provider_type    the security provider this role drives (see secctx/tls/provider.hpp).
//   r.provider()        -> R::provider_type& (const& on a const role): the per-connection
//                       context, configured for the role (a client has its server name and
//                       verification set; a server has accept state). The role owns it;
//                       basic_handshake owns the role.
#pragma once

#include <concepts>

namespace secctx {

enum class role_kind { client, server };

// clang-format off
template <class R>
concept role = std::movable<R> && requires(R& r, const R& cr) {
    typename R::provider_type;
    { R::kind } -> std::convertible_to<role_kind>;
    { r.provider() } noexcept -> std::same_as<typename R::provider_type&>;
    { cr.provider() } noexcept -> std::same_as<const typename R::provider_type&>;
};
// clang-format on

} // namespace secctx
