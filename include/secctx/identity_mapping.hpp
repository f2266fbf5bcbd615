// Certificate-to-identity mapping on a server (Schannel's certificate mapping): which account a
// client certificate stands for. A policy the application replaces at will: any callable from
// the client's chain to an identity; certificate_map.hpp has Schannel's three kinds of rules.
//
// The mapper runs on the thread running the handshake, once the client's certificate has been
// accepted (by the engine, and by the validator if there is one), and again on a resumption, from
// the chain the session keeps. Its identity is in the connection's attributes; with `required`,
// a certificate it does not map ends the handshake with errc::identity_unmapped.
#pragma once

#include "secctx/attributes.hpp"

#include <functional>
#include <optional>
#include <vector>

namespace secctx {

// The client's chain, its own certificate first, to an identity (peer_identity, attributes.hpp), or
// nullopt. An exception it throws counts as no identity.
using identity_mapper =
    std::function<std::optional<peer_identity>(const std::vector<certificate_info>& chain)>;

struct identity_mapping {
    identity_mapper mapper; // empty: no mapping
    // A client certificate that maps to no identity is refused during the handshake
    // (errc::identity_unmapped). Needs verify_clients = required: a client that sends no
    // certificate could not be mapped either.
    bool required = false;

    bool enabled() const noexcept { return static_cast<bool>(mapper); }
};

} // namespace secctx
